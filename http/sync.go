package http

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/control"
)

// syncState streams the whole policy state as JSON lines: a header line
// {"epoch":…, "rev":…}, then one line per group and per SIM, so a node
// with a million SIMs never needs them all in one document.
func (s *Server) syncState(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	started := false
	epoch, rev, err := s.svc.SyncState(r.Context(), func(it control.SyncItem) error {
		started = true
		return enc.Encode(it)
	})
	if err != nil {
		if !started {
			s.writeError(w, r, err)
			return
		}
		// Mid-stream: the missing trailer tells the node the copy is bad.
		s.log.Error("sync state stream broken", "err", err)
		return
	}
	_ = enc.Encode(map[string]any{"end": true, "epoch": epoch, "rev": rev})
}

// syncChanges long-polls for changes after rev.
func (s *Server) syncChanges(w http.ResponseWriter, r *http.Request) {
	rev, err := queryInt(r, "rev")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	wait, err := parseDuration("wait", r.URL.Query().Get("wait"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	wait = min(max(wait, 0), 60*time.Second)
	items, next, resync, err := s.svc.SyncChanges(r.Context(), r.URL.Query().Get("epoch"), uint64(rev), wait)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if resync {
		writeJSON(w, http.StatusGone, map[string]any{"resync": true})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": nonNil(items), "rev": next})
}

// feedbackInput is one report from a remote enforcement node.
type feedbackInput struct {
	Kind      string `json:"kind"` // imei_learn, imei_mismatch, usage
	SIMID     int64  `json:"sim_id"`
	IMEI      string `json:"imei"`
	Source    string `json:"source"`
	DataBytes int64  `json:"data_bytes"`
	SMSCount  int64  `json:"sms_count"`
}

func (s *Server) syncFeedback(w http.ResponseWriter, r *http.Request) {
	fb, err := s.svc.NodeFeedback(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var in feedbackInput
	if err := decodeJSON(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := simguard.ValidateName(in.Source); err != nil && in.Kind != "usage" {
		s.writeError(w, r, simguard.FieldError("source", "name the enforcement point, e.g. radius"))
		return
	}
	switch in.Kind {
	case "imei_learn":
		err = fb.LearnIMEI(r.Context(), in.SIMID, in.IMEI, in.Source)
	case "imei_mismatch":
		err = fb.ReportIMEIMismatch(r.Context(), in.SIMID, in.IMEI, in.Source)
	case "usage":
		err = fb.AddUsage(r.Context(), in.SIMID, in.DataBytes, in.SMSCount)
	default:
		err = simguard.FieldError("kind", "must be imei_learn, imei_mismatch or usage")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// syncEvents takes a batch of events from a remote enforcement node.
func (s *Server) syncEvents(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Events []simguard.Event `json:"events"`
	}
	r.Body = http.MaxBytesReader(w, r.Body, 32<<20)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		s.writeError(w, r, jsonError(err))
		return
	}
	if err := s.svc.AppendNodeEvents(r.Context(), in.Events); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
