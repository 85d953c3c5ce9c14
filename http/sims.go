package http

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/control"
)

// simView is a SIM as the API shows it: with its lock's derived state.
type simView struct {
	simguard.SIM
	IMEILockState simguard.IMEILockState `json:"imei_lock_state"`
}

func viewSIM(s simguard.SIM) simView {
	return simView{SIM: s, IMEILockState: s.IMEILock.State()}
}

func (s *Server) writeSIM(w http.ResponseWriter, status int, sim simguard.SIM) {
	w.Header().Set("ETag", etag(sim.Version))
	writeJSON(w, status, viewSIM(sim))
}

func (s *Server) listSIMs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	after, err := queryInt(r, "after")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if limit > 10000 {
		s.writeError(w, r, simguard.FieldError("limit", "at most 10000"))
		return
	}
	if limit == 0 {
		limit = 100
	}
	sims, err := s.svc.ListSIMs(r.Context(), simguard.SIMFilter{
		State: simguard.SIMState(q.Get("state")), Group: q.Get("group"), Label: q.Get("label"),
		Query: q.Get("q"), AfterID: after, Limit: int(limit),
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	views := make([]simView, len(sims))
	for i, sim := range sims {
		views[i] = viewSIM(sim)
	}
	writePage(w, views, int(limit), func(v simView) int64 { return v.ID })
}

func (s *Server) getSIM(w http.ResponseWriter, r *http.Request) {
	sim, err := s.svc.GetSIM(r.Context(), r.PathValue("ref"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeSIM(w, http.StatusOK, sim)
}

// simInput is what a client may set when creating one SIM.
type simInput struct {
	ICCID    string            `json:"iccid"`
	IMSI     string            `json:"imsi"`
	MSISDN   string            `json:"msisdn"`
	Group    string            `json:"group"`
	State    simguard.SIMState `json:"state"`
	Labels   map[string]string `json:"labels"`
	StaticIP string            `json:"static_ip"`
	IMEILock struct {
		Mode simguard.IMEILockMode `json:"mode"`
		IMEI string                `json:"imei"`
	} `json:"imei_lock"`
}

func (s *Server) createSIM(w http.ResponseWriter, r *http.Request) {
	var in simInput
	if err := decodeJSON(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	sim := simguard.SIM{ICCID: in.ICCID, IMSI: in.IMSI, MSISDN: in.MSISDN, Group: in.Group, State: in.State, Labels: in.Labels,
		IMEILock: simguard.IMEILock{Mode: in.IMEILock.Mode, IMEI: in.IMEILock.IMEI}}
	if in.StaticIP != "" {
		ip, err := parseAddr("static_ip", in.StaticIP)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		sim.StaticIP = ip
	}
	created, err := s.svc.CreateSIM(r.Context(), sim)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeSIM(w, http.StatusCreated, created)
}

// importSIMs takes CSV (text/csv) or a JSON array (application/json).
// Query parameters give defaults for empty cells: group, state, imei_lock.
func (s *Server) importSIMs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	opt := control.ImportOptions{Group: q.Get("group"), State: simguard.SIMState(q.Get("state")), IMEILock: simguard.IMEILockMode(q.Get("imei_lock"))}
	if opt.IMEILock != "" && !opt.IMEILock.Valid() {
		s.writeError(w, r, simguard.FieldError("imei_lock", "must be off, explicit or learn"))
		return
	}
	body := http.MaxBytesReader(w, r.Body, s.maxImp)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var rows []control.ImportRow
	var err error
	switch mt {
	case "text/csv":
		rows, err = control.ParseCSV(body, opt)
	case "application/json":
		rows, err = control.ParseJSON(body, opt)
	default:
		err = simguard.FieldError("Content-Type", "send text/csv or application/json, got %q", mt)
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		err = simguard.Errorf(simguard.EINVALID, "the import is larger than %d MiB; split it", s.maxImp>>20)
	}
	if err != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(body, 1<<20))
		s.writeError(w, r, err)
		return
	}
	start := time.Now()
	n, err := s.svc.ImportSIMs(r.Context(), rows)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.log.Info("sims imported", "count", n, "took", time.Since(start).Round(time.Millisecond))
	writeJSON(w, http.StatusCreated, map[string]int{"imported": n})
}

func (s *Server) patchSIM(w http.ResponseWriter, r *http.Request) {
	var p control.SIMPatch
	if err := decodeJSON(r, &p); err != nil {
		s.writeError(w, r, err)
		return
	}
	version, err := ifMatch(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	sim, err := s.svc.PatchSIM(r.Context(), r.PathValue("ref"), version, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeSIM(w, http.StatusOK, sim)
}

// actionInput is the optional body of a SIM action.
type actionInput struct {
	For string `json:"for"` // activate, repair: a duration
	// From and Until schedule an activation (RFC 3339 times); instead of For.
	From  string                `json:"from"`
	Until string                `json:"until"`
	IMEI  string                `json:"imei"` // bind-imei
	Mode  simguard.IMEILockMode `json:"mode"` // unbind-imei: learn (default) or off
}

func (s *Server) action(w http.ResponseWriter, r *http.Request, do func(ref string, version int64, in actionInput) (simguard.SIM, error)) {
	var in actionInput
	if err := decodeOptionalJSON(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	version, err := ifMatch(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	sim, err := do(r.PathValue("ref"), version, in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeSIM(w, http.StatusOK, sim)
}

func (s *Server) activateSIM(w http.ResponseWriter, r *http.Request) {
	s.action(w, r, func(ref string, v int64, in actionInput) (simguard.SIM, error) {
		if in.From != "" || in.Until != "" {
			if in.For != "" {
				return simguard.SIM{}, simguard.FieldError("for", "give either for, or from and until")
			}
			from, err := parseTime("from", in.From)
			if err != nil {
				return simguard.SIM{}, err
			}
			until, err := parseTime("until", in.Until)
			if err != nil {
				return simguard.SIM{}, err
			}
			return s.svc.ActivateSIMBetween(r.Context(), ref, v, from, until)
		}
		d, err := parseDuration("for", in.For)
		if err != nil {
			return simguard.SIM{}, err
		}
		return s.svc.ActivateSIM(r.Context(), ref, v, d)
	})
}

func (s *Server) suspendSIM(w http.ResponseWriter, r *http.Request) {
	s.action(w, r, func(ref string, v int64, _ actionInput) (simguard.SIM, error) {
		return s.svc.SuspendSIM(r.Context(), ref, v)
	})
}

func (s *Server) terminateSIM(w http.ResponseWriter, r *http.Request) {
	s.action(w, r, func(ref string, v int64, _ actionInput) (simguard.SIM, error) {
		return s.svc.TerminateSIM(r.Context(), ref, v)
	})
}

func (s *Server) bindIMEI(w http.ResponseWriter, r *http.Request) {
	s.action(w, r, func(ref string, v int64, in actionInput) (simguard.SIM, error) {
		if in.IMEI == "" {
			return simguard.SIM{}, simguard.FieldError("imei", "is required: the device's IMEI (15 digits) or IMEISV")
		}
		return s.svc.BindIMEI(r.Context(), ref, v, in.IMEI)
	})
}

func (s *Server) unbindIMEI(w http.ResponseWriter, r *http.Request) {
	s.action(w, r, func(ref string, v int64, in actionInput) (simguard.SIM, error) {
		return s.svc.UnbindIMEI(r.Context(), ref, v, in.Mode)
	})
}

func (s *Server) openRepair(w http.ResponseWriter, r *http.Request) {
	s.action(w, r, func(ref string, v int64, in actionInput) (simguard.SIM, error) {
		d, err := parseDuration("for", in.For)
		if err != nil {
			return simguard.SIM{}, err
		}
		return s.svc.OpenRepair(r.Context(), ref, v, d)
	})
}

func (s *Server) stats(w http.ResponseWriter, r *http.Request) {
	counts, err := s.svc.CountSIMs(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	byState := map[simguard.SIMState]int64{}
	var total int64
	for _, st := range []simguard.SIMState{simguard.SIMInventory, simguard.SIMActive, simguard.SIMSuspended, simguard.SIMTerminated} {
		byState[st] = counts[st]
		total += counts[st]
	}
	writeJSON(w, http.StatusOK, map[string]any{"sims_by_state": byState, "sims_total": total})
}
