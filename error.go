package simguard

import (
	"errors"
	"fmt"
)

// Error codes. They are mapped to transport status (HTTP, RADIUS, SMPP …)
// only at the edges.
const (
	EINVALID      = "invalid"      // the input is malformed or breaks a rule
	ENOTFOUND     = "not_found"    // the object does not exist (or is not visible to the caller)
	ECONFLICT     = "conflict"     // a duplicate, or a state that does not allow the change
	EPRECONDITION = "precondition" // an If-Match version did not match: someone else changed it
	EUNAUTHORIZED = "unauthorized" // no or unknown credentials
	EFORBIDDEN    = "forbidden"    // known credentials without the right role
	EUNAVAILABLE  = "unavailable"  // a dependency is down or overloaded; retry later
	EINTERNAL     = "internal"     // a bug or an unexpected failure; details are only in the logs
)

// Error is the one error type that carries a code and a message meant for the
// user. Field names the input field at fault, when there is one.
type Error struct {
	Code    string
	Field   string
	Message string
	// Rows holds per-row problems of a bulk operation.
	Rows []RowError
}

// RowError is one rejected row of a bulk import: Line is 1-based and counts
// the CSV header (the first data row of a CSV file is line 2) or, for JSON,
// the 1-based index of the element.
type RowError struct {
	Line    int    `json:"line"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("simguard: %s: %s: %s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("simguard: %s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an EINVALID error that names the field at fault.
func FieldError(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other error and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err. Errors without a
// code never leak their text: they read "internal error".
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		if e.Field != "" {
			return e.Field + ": " + e.Message
		}
		return e.Message
	}
	return "internal error"
}
