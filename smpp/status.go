package smpp

import (
	"github.com/simguard/simguard"
	"github.com/simguard/simguard/smpp/pdu"
)

// mtStatus answers a denied submit_sm or data_sm from an ESME. The table
// in doc.go documents it; TestStatusMapping keeps the two in step.
var mtStatus = map[simguard.Reason]pdu.Status{
	simguard.ReasonSIMUnknown:        pdu.ESME_RINVDSTADR,
	simguard.ReasonSIMInactive:       pdu.ESME_RINVDSTADR,
	simguard.ReasonSIMTerminated:     pdu.ESME_RINVDSTADR,
	simguard.ReasonBadRequest:        pdu.ESME_RINVDSTADR,
	simguard.ReasonSIMSuspended:      pdu.ESME_RSUBMITFAIL,
	simguard.ReasonServiceDisabled:   pdu.ESME_RSUBMITFAIL,
	simguard.ReasonOutsideWindow:     pdu.ESME_RSUBMITFAIL,
	simguard.ReasonIMEIMissing:       pdu.ESME_RSUBMITFAIL,
	simguard.ReasonIMEIMismatch:      pdu.ESME_RSUBMITFAIL,
	simguard.ReasonDeviceModelDenied: pdu.ESME_RSUBMITFAIL,
	simguard.ReasonDeviceBlocked:     pdu.ESME_RSUBMITFAIL,
	simguard.ReasonLocationDenied:    pdu.ESME_RSUBMITFAIL,
	simguard.ReasonRATDenied:         pdu.ESME_RSUBMITFAIL,
	simguard.ReasonSMSSilentDenied:   pdu.ESME_RSUBMITFAIL,
	simguard.ReasonSMSPeerDenied:     pdu.ESME_RINVSRCADR,
	simguard.ReasonSMSBinaryDenied:   pdu.ESME_RINVESMCLASS,
	simguard.ReasonQuotaExceeded:     pdu.ESME_RMSGQFUL,
	simguard.ReasonRateLimited:       pdu.ESME_RTHROTTLED,
}

// moStatus answers a denied deliver_sm or data_sm from the SMSC. Permanent
// denials use ESME_RX_P_APPN so that the SMSC does not retry them.
var moStatus = map[simguard.Reason]pdu.Status{
	simguard.ReasonSIMUnknown:    pdu.ESME_RINVSRCADR,
	simguard.ReasonSIMInactive:   pdu.ESME_RINVSRCADR,
	simguard.ReasonSIMTerminated: pdu.ESME_RINVSRCADR,
	simguard.ReasonBadRequest:    pdu.ESME_RINVSRCADR,
	simguard.ReasonSMSPeerDenied: pdu.ESME_RINVDSTADR,
	simguard.ReasonRateLimited:   pdu.ESME_RTHROTTLED,
}

const (
	mtDefaultStatus = pdu.ESME_RSUBMITFAIL
	moDefaultStatus = pdu.ESME_RX_P_APPN
)

// StatusFor returns the command_status that answers a message of kind
// (KindSMSMT or KindSMSMO) denied for reason. Reasons without an entry
// (new ones included) get ESME_RSUBMITFAIL for MT and ESME_RX_P_APPN for MO.
func StatusFor(kind simguard.RequestKind, reason simguard.Reason) pdu.Status {
	if kind == simguard.KindSMSMO {
		if s, ok := moStatus[reason]; ok {
			return s
		}
		return moDefaultStatus
	}
	if s, ok := mtStatus[reason]; ok {
		return s
	}
	return mtDefaultStatus
}
