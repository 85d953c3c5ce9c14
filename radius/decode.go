package radius

import (
	"net/netip"
	"strings"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/radius/uli"
)

// attrs is what the server reads from a request, in one pass over its
// attributes. Strings are raw; building the Request normalizes them.
type attrs struct {
	userName, callingStation, calledStation string
	nasIdentifier                           string
	nasIP                                   netip.Addr
	imsi, imeisv, sgsnMCCMNC                string
	rat                                     byte
	hasRAT                                  bool
	uli                                     []byte
	class                                   string

	// accounting
	statusType, terminateCause, delay, sessionTime uint32
	hasStatus, hasDelay, hasSessionTime            bool
	sessionID                                      string
	inOctets, outOctets, inGiga, outGiga           uint32
	inPackets, outPackets                          uint32
	eventTime                                      uint32
	framedIP                                       netip.Addr
}

func decodeAttrs(r *request) (attrs, error) {
	var a attrs
	var err error
	for rest := r.raw[20:]; len(rest) > 0; {
		var typ byte
		var v []byte
		typ, v, rest = next(rest)
		switch typ {
		case attrUserName:
			a.userName = string(v)
		case attrCallingStationID:
			a.callingStation = string(v)
		case attrCalledStationID:
			a.calledStation = string(v)
		case attrNASIdentifier:
			a.nasIdentifier = string(v)
		case attrNASIPAddress:
			if len(v) == 4 {
				a.nasIP = netip.AddrFrom4([4]byte(v))
			}
		case attrFramedIPAddress:
			if len(v) == 4 {
				a.framedIP = netip.AddrFrom4([4]byte(v))
			}
		case attrFramedIPv6Address:
			if len(v) == 16 {
				a.framedIP = netip.AddrFrom16([16]byte(v))
			}
		case attrClass:
			a.class = string(v)
		case attrAcctSessionID:
			a.sessionID = string(v)
		case attrVendorSpecific:
			err = vsa3GPP(v, a.set3GPP)
		case attrAcctStatusType:
			a.statusType, a.hasStatus = u32(v)
		case attrAcctDelayTime:
			a.delay, a.hasDelay = u32(v)
		case attrAcctSessionTime:
			a.sessionTime, a.hasSessionTime = u32(v)
		case attrAcctTerminateCause:
			a.terminateCause, _ = u32(v)
		case attrAcctInputOctets:
			a.inOctets, _ = u32(v)
		case attrAcctOutputOctets:
			a.outOctets, _ = u32(v)
		case attrAcctInputGiga:
			a.inGiga, _ = u32(v)
		case attrAcctOutputGiga:
			a.outGiga, _ = u32(v)
		case attrAcctInputPackets:
			a.inPackets, _ = u32(v)
		case attrAcctOutputPackets:
			a.outPackets, _ = u32(v)
		case attrEventTimestamp:
			a.eventTime, _ = u32(v)
		}
		if err != nil {
			return a, err
		}
	}
	return a, nil
}

func (a *attrs) set3GPP(typ byte, v []byte) {
	switch typ {
	case vsaIMSI:
		a.imsi = string(v)
	case vsaIMEISV:
		a.imeisv = string(v)
	case vsaSGSNMCCMNC:
		a.sgsnMCCMNC = string(v)
	case vsaRATType:
		if len(v) == 1 {
			a.rat, a.hasRAT = v[0], true
		}
	case vsaUserLocationInf:
		a.uli = v // decoded before the buffer is reused
	}
}

// ratNames maps 3GPP-RAT-Type (TS 29.061 §16.4.7.2) to policy radio types.
// Types the policy has no name for (WLAN, GAN, Virtual, non-3GPP) keep a
// name of their own, never an empty one: an unknown radio must fail an
// allow-list of radio types, not skip it.
var ratNames = [...]simguard.RAT{
	1: simguard.RAT3G, 2: simguard.RAT2G, 3: "wlan", 4: "gan", 5: simguard.RAT3G,
	6: simguard.RAT4G, 7: "virtual", 8: simguard.RATNBIoT, 9: simguard.RATLTEM, 10: simguard.RAT5G,
}

func ratFromType(t byte) simguard.RAT {
	if int(t) < len(ratNames) && ratNames[t] != "" {
		return ratNames[t]
	}
	return simguard.RAT("rat-" + itoa(uint64(t)))
}

// decoded is a request as the policy sees it, and what the event shows
// about how it was read.
type decoded struct {
	req      simguard.Request
	identity simguard.IdentitySource // which attribute named the SIM; "" none
	uliType  string                  // "" when no ULI was sent
	uliErr   error                   // the ULI was sent but did not decode
	imeiBad  bool                    // an IMEISV was sent but is not digits
}

// toRequest builds the policy request from a's attributes, trying the NAS's
// identity sources in order.
func (a *attrs) toRequest(order []simguard.IdentitySource) decoded {
	d := decoded{req: simguard.Request{Kind: simguard.KindDataSession}}
	r := &d.req
	for _, src := range order {
		switch src {
		case simguard.IdentityIMSI:
			if len(a.imsi) == 15 && isDigits(a.imsi) { // as simguard.ValidateIMSI
				r.IMSI = a.imsi
			}
		case simguard.IdentityUserName:
			name, _, _ := strings.Cut(a.userName, "@")
			if len(name) == 15 && isDigits(name) {
				r.IMSI = name
			} else if m, err := simguard.NormalizeMSISDN(name); err == nil {
				r.MSISDN = m
			}
		case simguard.IdentityCallingStationID:
			if m, err := simguard.NormalizeMSISDN(a.callingStation); err == nil {
				r.MSISDN = m
			}
		}
		if r.IMSI != "" || r.MSISDN != "" {
			d.identity = src
			break
		}
	}
	if a.imeisv != "" {
		if isDigits(a.imeisv) && len(a.imeisv) >= 14 && len(a.imeisv) <= 16 {
			r.IMEI = a.imeisv
		} else {
			d.imeiBad = true
		}
	}
	r.APN = strings.ToLower(strings.TrimSpace(a.calledStation))
	if a.hasRAT {
		r.RAT = ratFromType(a.rat)
	}
	if a.sgsnMCCMNC != "" {
		if p, err := simguard.ParsePLMN(a.sgsnMCCMNC); err == nil {
			r.Location.PLMN = p
		}
	}
	if a.uli != nil {
		u, err := uli.Decode(a.uli)
		if err != nil {
			d.uliErr = err
			d.uliType = "invalid"
		} else {
			d.uliType = u.Type.String()
			r.Location = u.Location()
		}
	}
	return d
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func itoa(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[i:])
		}
	}
}
