package http

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/simguard/simguard"
)

var statusByCode = map[string]int{
	simguard.EINVALID:      http.StatusBadRequest,
	simguard.ENOTFOUND:     http.StatusNotFound,
	simguard.ECONFLICT:     http.StatusConflict,
	simguard.EPRECONDITION: http.StatusPreconditionFailed,
	simguard.EUNAUTHORIZED: http.StatusUnauthorized,
	simguard.EFORBIDDEN:    http.StatusForbidden,
	simguard.EUNAVAILABLE:  http.StatusServiceUnavailable,
	simguard.EINTERNAL:     http.StatusInternalServerError,
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string              `json:"code"`
	Field   string              `json:"field,omitempty"`
	Message string              `json:"message"`
	Rows    []simguard.RowError `json:"rows,omitempty"`
}

// writeError answers with err's status and user-facing message. Errors
// without a code are internal: they are logged, and the caller sees only
// "internal error".
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := simguard.ErrorCode(err)
	status, ok := statusByCode[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	d := errorDetail{Code: code, Message: simguard.ErrorMessage(err)}
	var se *simguard.Error
	if errors.As(err, &se) {
		d.Field, d.Message, d.Rows = se.Field, se.Message, se.Rows
	}
	if status >= 500 {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="simguard"`)
	}
	writeJSON(w, status, errorBody{Error: d})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		slog.Debug("writing a response failed", "err", err)
	}
}
