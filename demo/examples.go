package demo

import (
	"net/netip"

	"github.com/simguard/simguard"
)

// Example is one request against the demo fleet with the decision the
// demo policy gives it, and the CLI flags that ask the same question.
type Example struct {
	Title   string
	Request simguard.Request
	Want    simguard.Reason
}

var home = simguard.PLMN{MCC: 1, MNC: 1}

// Examples returns one request per kind of decision. Time is left zero:
// the caller sets it to now.
func Examples() []Example {
	meter := func(i int) simguard.Request {
		return simguard.Request{Kind: simguard.KindDataSession, IMSI: IMSI(i), IMEI: IMEI(i), APN: "meters.iot",
			RAT: simguard.RATNBIoT, Location: simguard.Location{PLMN: home}}
	}
	ex := []Example{
		{Title: "meter opens a data session from its own device at home", Request: meter(0), Want: simguard.ReasonAllowed},
	}
	add := func(title string, want simguard.Reason, edit func(*simguard.Request)) {
		r := meter(1)
		edit(&r)
		ex = append(ex, Example{Title: title, Request: r, Want: want})
	}
	add("unknown SIM asks for a session", simguard.ReasonSIMUnknown, func(r *simguard.Request) { r.IMSI = "001019999999999" })
	add("suspended SIM asks for a session", simguard.ReasonSIMSuspended, func(r *simguard.Request) {
		r.IMSI, r.IMEI = IMSI(951), IMEI(951) // 951 % 3 == 0 → suspended
	})
	add("SIM still in inventory", simguard.ReasonSIMInactive, func(r *simguard.Request) { r.IMSI, r.IMEI = IMSI(952), IMEI(952) })
	add("meter SIM moved into another meter (SIM swap)", simguard.ReasonIMEIMismatch, func(r *simguard.Request) { r.IMEI = IMEI(2) })
	add("roaming outside the allowed networks", simguard.ReasonLocationDenied, func(r *simguard.Request) {
		r.Location.PLMN = simguard.PLMN{MCC: 310, MNC: 260, MNC3: true}
	})
	add("meter on 2G, which its group does not allow", simguard.ReasonRATDenied, func(r *simguard.Request) { r.RAT = simguard.RAT2G })
	add("meter asks for the wrong APN", simguard.ReasonAPNDenied, func(r *simguard.Request) { r.APN = "internet" })
	add("meter SIM talking to an unknown server", simguard.ReasonDestinationDenied, func(r *simguard.Request) {
		*r = simguard.Request{Kind: simguard.KindFlow, IMSI: IMSI(1), Flow: simguard.Flow{Remote: mustAddr("198.18.0.66"), Proto: 6, Port: 23}}
	})
	add("tracker's first device is learned (learn lock) while roaming in 262-01", simguard.ReasonAllowed, func(r *simguard.Request) {
		*r = simguard.Request{Kind: simguard.KindDataSession, IMSI: IMSI(600), IMEI: "86000000000001", APN: "track.iot",
			RAT: simguard.RAT4G, Location: simguard.Location{PLMN: simguard.PLMN{MCC: 262, MNC: 1}}}
	})
	add("camera pilot after its window ended", simguard.ReasonOutsideWindow, func(r *simguard.Request) {
		*r = simguard.Request{Kind: simguard.KindDataSession, IMSI: IMSI(900), APN: "video.iot"}
	})
	add("meter receives an SMS (not enabled for meters)", simguard.ReasonServiceDisabled, func(r *simguard.Request) {
		*r = simguard.Request{Kind: simguard.KindSMSMT, MSISDN: MSISDN(1), Peer: "12345"}
	})
	add("tracker gets an SMS from an unknown number", simguard.ReasonSMSPeerDenied, func(r *simguard.Request) {
		*r = simguard.Request{Kind: simguard.KindSMSMT, MSISDN: MSISDN(601), Peer: "447700900123"}
	})
	add("tracker gets a binary OTA SMS (Simjacker-style)", simguard.ReasonSMSBinaryDenied, func(r *simguard.Request) {
		*r = simguard.Request{Kind: simguard.KindSMSMT, MSISDN: MSISDN(601), Peer: "12345", SMS: simguard.SMSInfo{Binary: true}}
	})
	add("tracker texts a premium-rate number", simguard.ReasonSMSPeerDenied, func(r *simguard.Request) {
		*r = simguard.Request{Kind: simguard.KindSMSMO, MSISDN: MSISDN(601), Peer: "9001234"}
	})
	add("unlocked meter SIM in an unknown device model", simguard.ReasonDeviceModelDenied, func(r *simguard.Request) {
		r.IMSI, r.IMEI = IMSI(590), "35332509123456"
	})
	return ex
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
