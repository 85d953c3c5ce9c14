package notify

import (
	"fmt"

	"github.com/simguard/simguard"
)

// Filter selects the notices a deliverer sends. The zero Filter sends
// every notice.
type Filter struct {
	// Kinds are the notice kinds to send (opened, acknowledged,
	// resolved); empty sends all.
	Kinds []simguard.AlertNoticeKind
	// MinSeverity drops alerts below it; empty sends all.
	MinSeverity simguard.Severity
}

func (f Filter) validate(field string) error {
	for i, k := range f.Kinds {
		if k != simguard.NoticeOpened && k != simguard.NoticeAcknowledged && k != simguard.NoticeResolved {
			return simguard.FieldError(fmt.Sprintf("%s.kinds[%d]", field, i), "must be opened, acknowledged or resolved, got %q", k)
		}
	}
	if f.MinSeverity != "" && !f.MinSeverity.Valid() {
		return simguard.FieldError(field+".min_severity", "must be one of info, low, medium, high, critical, got %q", f.MinSeverity)
	}
	return nil
}

// Match reports whether n passes the filter.
func (f Filter) Match(n simguard.AlertNotice) bool {
	if f.MinSeverity != "" && n.Alert.Severity.Rank() < f.MinSeverity.Rank() {
		return false
	}
	if len(f.Kinds) == 0 {
		return true
	}
	for _, k := range f.Kinds {
		if k == n.Kind {
			return true
		}
	}
	return false
}
