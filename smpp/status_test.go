package smpp

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/smpp/pdu"
)

// TestStatusMapping pins the mapping from decision reason to
// command_status, for both directions.
func TestStatusMapping(t *testing.T) {
	tests := []struct {
		reason simguard.Reason
		mt, mo pdu.Status
	}{
		{simguard.ReasonSIMUnknown, pdu.ESME_RINVDSTADR, pdu.ESME_RINVSRCADR},
		{simguard.ReasonSIMInactive, pdu.ESME_RINVDSTADR, pdu.ESME_RINVSRCADR},
		{simguard.ReasonSIMTerminated, pdu.ESME_RINVDSTADR, pdu.ESME_RINVSRCADR},
		{simguard.ReasonBadRequest, pdu.ESME_RINVDSTADR, pdu.ESME_RINVSRCADR},
		{simguard.ReasonSIMSuspended, pdu.ESME_RSUBMITFAIL, pdu.ESME_RX_P_APPN},
		{simguard.ReasonServiceDisabled, pdu.ESME_RSUBMITFAIL, pdu.ESME_RX_P_APPN},
		{simguard.ReasonOutsideWindow, pdu.ESME_RSUBMITFAIL, pdu.ESME_RX_P_APPN},
		{simguard.ReasonIMEIMissing, pdu.ESME_RSUBMITFAIL, pdu.ESME_RX_P_APPN},
		{simguard.ReasonIMEIMismatch, pdu.ESME_RSUBMITFAIL, pdu.ESME_RX_P_APPN},
		{simguard.ReasonDeviceModelDenied, pdu.ESME_RSUBMITFAIL, pdu.ESME_RX_P_APPN},
		{simguard.ReasonDeviceBlocked, pdu.ESME_RSUBMITFAIL, pdu.ESME_RX_P_APPN},
		{simguard.ReasonLocationDenied, pdu.ESME_RSUBMITFAIL, pdu.ESME_RX_P_APPN},
		{simguard.ReasonRATDenied, pdu.ESME_RSUBMITFAIL, pdu.ESME_RX_P_APPN},
		{simguard.ReasonSMSSilentDenied, pdu.ESME_RSUBMITFAIL, pdu.ESME_RX_P_APPN},
		{simguard.ReasonSMSPeerDenied, pdu.ESME_RINVSRCADR, pdu.ESME_RINVDSTADR},
		{simguard.ReasonSMSBinaryDenied, pdu.ESME_RINVESMCLASS, pdu.ESME_RX_P_APPN},
		{simguard.ReasonQuotaExceeded, pdu.ESME_RMSGQFUL, pdu.ESME_RX_P_APPN},
		{simguard.ReasonRateLimited, pdu.ESME_RTHROTTLED, pdu.ESME_RTHROTTLED},
		{"some_future_reason", pdu.ESME_RSUBMITFAIL, pdu.ESME_RX_P_APPN},
	}
	for _, tc := range tests {
		t.Run(string(tc.reason), func(t *testing.T) {
			if got := StatusFor(simguard.KindSMSMT, tc.reason); got != tc.mt {
				t.Errorf("MT: %s, want %s", got, tc.mt)
			}
			if got := StatusFor(simguard.KindSMSMO, tc.reason); got != tc.mo {
				t.Errorf("MO: %s, want %s", got, tc.mo)
			}
		})
	}
}

// TestStatusMappingDocumented checks the table in doc.go against
// StatusFor, so the documentation cannot drift from the code.
func TestStatusMappingDocumented(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile(`^//\s+([a-z_]+)\s+(ESME_\w+)\s+0x([0-9A-F]{2})\s+(ESME_\w+)\s+0x([0-9A-F]{2})$`)
	rows := 0
	for _, line := range strings.Split(string(doc), "\n") {
		m := row.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		rows++
		reason := simguard.Reason(m[1])
		for _, c := range []struct {
			kind       simguard.RequestKind
			name, code string
		}{{simguard.KindSMSMT, m[2], m[3]}, {simguard.KindSMSMO, m[4], m[5]}} {
			got := StatusFor(c.kind, reason)
			code, _ := strconv.ParseUint(c.code, 16, 32)
			if got.String() != c.name || uint64(got) != code {
				t.Errorf("doc.go says %s %s → %s 0x%s, code says %s", c.kind, reason, c.name, c.code, got)
			}
		}
	}
	if rows < 18 {
		t.Errorf("found %d rows of the status table in doc.go", rows)
	}
}
