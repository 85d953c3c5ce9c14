package detect

import (
	"errors"
	"fmt"
	"strings"

	"github.com/simguard/simguard"
)

// RuleError is a problem in a rule file. It names the file, the position,
// the rule (when its name was read) and the field at fault, so that a user
// can go straight to the line.
type RuleError struct {
	File   string
	Line   int // 1-based; 0 when the problem is not at one place
	Column int
	Rule   string
	Field  string // path inside the rule, e.g. "trigger.window" or "actions[1].group"
	Msg    string
}

func (e *RuleError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	if e.Rule != "" {
		fmt.Fprintf(&b, ": rule %q", e.Rule)
	}
	if e.Field != "" {
		b.WriteString(": ")
		b.WriteString(e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap lets simguard.ErrorCode see an EINVALID error.
func (e *RuleError) Unwrap() error {
	return &simguard.Error{Code: simguard.EINVALID, Field: e.Field, Message: e.Msg}
}

// maxRuleErrors stops a broken directory from producing pages of errors.
const maxRuleErrors = 50

// errList collects rule errors; a load reports all of them, not just the
// first, so that a user fixes a file in one pass.
type errList struct {
	errs []error
}

func (l *errList) add(err error) {
	if err != nil && len(l.errs) < maxRuleErrors {
		l.errs = append(l.errs, err)
	}
}

func (l *errList) full() bool { return len(l.errs) >= maxRuleErrors }

func (l *errList) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	return errors.Join(l.errs...)
}
