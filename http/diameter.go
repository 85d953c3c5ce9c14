package http

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/netip"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/control"
)

// Diameter: the peers (MMEs) allowed to connect, and the operator's
// device list (stolen / blocked / watched IMEIs).

type diameterPeerInput struct {
	OriginHost string       `json:"origin_host"`
	Realm      string       `json:"realm"`
	Prefix     netip.Prefix `json:"prefix"`
	PLMNs      []string     `json:"plmns"`
}

type devicesInput struct {
	Items []deviceInput `json:"items"`
}

type deviceInput struct {
	IMEI   string                `json:"imei"`
	Status simguard.DeviceStatus `json:"status"`
	Note   string                `json:"note"`
}

func (s *Server) diameterRoutes(api func(string, func(http.ResponseWriter, *http.Request))) {
	api("GET /api/v1/diameter/peers", s.listDiameterPeers)
	api("POST /api/v1/diameter/peers", s.createDiameterPeer)
	api("DELETE /api/v1/diameter/peers/{id}", s.deleteDiameterPeer)
	api("GET /api/v1/devices", s.listDevices)
	api("POST /api/v1/devices", s.putDevices)
	api("DELETE /api/v1/devices/{imei}", s.deleteDevice)
}

func (s *Server) listDiameterPeers(w http.ResponseWriter, r *http.Request) {
	list, err := s.svc.ListDiameterPeers(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": nonNil(list)})
}

func (s *Server) createDiameterPeer(w http.ResponseWriter, r *http.Request) {
	var in diameterPeerInput
	if err := decodeJSON(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	p, err := s.svc.CreateDiameterPeer(r.Context(), simguard.DiameterPeer{OriginHost: in.OriginHost, Realm: in.Realm, Prefix: in.Prefix, PLMNs: in.PLMNs})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, p)
}

func (s *Server) deleteDiameterPeer(w http.ResponseWriter, r *http.Request) {
	id, ok := simguard.ParseDigits(r.PathValue("id"))
	if !ok || id == 0 || id > 1<<62 {
		s.writeError(w, r, simguard.FieldError("id", "must be the numeric ID of the Diameter peer"))
		return
	}
	if err := s.svc.DeleteDiameterPeer(r.Context(), int64(id)); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listDevices(w http.ResponseWriter, r *http.Request) {
	list, err := s.svc.ListDevices(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": nonNil(list)})
}

// putDevices adds or replaces devices: JSON {"items": […]} or CSV
// (text/csv, header imei,status[,note]) for bulk imports.
func (s *Server) putDevices(w http.ResponseWriter, r *http.Request) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var devs []simguard.Device
	var err error
	switch mt {
	case "text/csv":
		body := http.MaxBytesReader(w, r.Body, s.maxImp)
		devs, err = control.ParseDevicesCSV(body)
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			err = simguard.Errorf(simguard.EINVALID, "the import is larger than %d MiB; split it", s.maxImp>>20)
		}
		if err != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(body, 1<<20))
		}
	case "application/json", "":
		var in devicesInput
		if err = decodeJSON(r, &in); err == nil {
			for _, d := range in.Items {
				devs = append(devs, simguard.Device{IMEI: d.IMEI, Status: d.Status, Note: d.Note})
			}
		}
	default:
		err = simguard.FieldError("Content-Type", "send application/json or text/csv, got %q", mt)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	stored, err := s.svc.PutDevices(r.Context(), devs)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"stored": len(stored)})
}

func (s *Server) deleteDevice(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.DeleteDevice(r.Context(), r.PathValue("imei")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
