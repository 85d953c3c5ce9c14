package http

import (
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/simguard/simguard"
)

// checkInput is a "would this be allowed?" question in API terms.
type checkInput struct {
	Kind   string    `json:"kind"`
	Time   time.Time `json:"time"`
	IMSI   string    `json:"imsi"`
	MSISDN string    `json:"msisdn"`
	IP     string    `json:"ip"`
	IMEI   string    `json:"imei"`
	PLMN   string    `json:"plmn"` // "262-01"
	Area   string    `json:"area"` // "262-01-4711" (TAC or LAC)
	Cell   string    `json:"cell"` // "262-01-257" or "262-01-1-257"
	RAT    string    `json:"rat"`
	APN    string    `json:"apn"`
	Peer   string    `json:"peer"`
	Binary bool      `json:"binary"`
	Silent bool      `json:"silent"`
	Flow   *struct {
		Inbound bool   `json:"inbound"`
		Remote  string `json:"remote"`
		Proto   string `json:"proto"`
		Port    uint16 `json:"port"`
	} `json:"flow"`
}

var protoNumbers = map[string]uint8{"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58}

// request turns the question into the engine's Request, naming the field
// at fault when something does not parse.
func (in checkInput) request() (simguard.Request, error) {
	k, ok := simguard.ParseRequestKind(in.Kind)
	if !ok {
		return simguard.Request{}, simguard.FieldError("kind", "must be data_session, sms_mo, sms_mt, attach, imei_check or flow, got %q", in.Kind)
	}
	r := simguard.Request{
		Kind: k, Time: in.Time, IMSI: in.IMSI, MSISDN: strings.TrimPrefix(in.MSISDN, "+"), IMEI: in.IMEI,
		RAT: simguard.RAT(in.RAT), APN: in.APN, Peer: in.Peer,
		SMS: simguard.SMSInfo{Binary: in.Binary, Silent: in.Silent},
	}
	if in.IP != "" {
		ip, err := parseAddr("ip", in.IP)
		if err != nil {
			return r, err
		}
		r.IP = ip
	}
	if in.PLMN != "" {
		p, err := simguard.ParsePLMN(in.PLMN)
		if err != nil {
			return r, simguard.FieldError("plmn", "%v", err)
		}
		r.Location.PLMN = p
	}
	if in.Area != "" {
		p, a, err := simguard.ParseArea(in.Area)
		if err != nil {
			return r, simguard.FieldError("area", "%v", err)
		}
		r.Location.PLMN, r.Location.Area, r.Location.HasArea = p, a, true
	}
	if in.Cell != "" {
		p, c, err := simguard.ParseCell(in.Cell)
		if err != nil {
			return r, simguard.FieldError("cell", "%v", err)
		}
		r.Location.PLMN, r.Location.Cell, r.Location.HasCell = p, c, true
	}
	if in.Flow != nil {
		remote, err := netip.ParseAddr(in.Flow.Remote)
		if err != nil {
			return r, simguard.FieldError("flow.remote", "%q is not an IP address", in.Flow.Remote)
		}
		proto, ok := protoNumbers[strings.ToLower(in.Flow.Proto)]
		if !ok {
			return r, simguard.FieldError("flow.proto", "must be tcp, udp, icmp or icmpv6")
		}
		r.Flow = simguard.Flow{Inbound: in.Flow.Inbound, Remote: remote, Proto: proto, Port: in.Flow.Port}
	}
	return r, nil
}

func (s *Server) policyCheck(w http.ResponseWriter, r *http.Request) {
	var in checkInput
	if err := decodeJSON(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	req, err := in.request()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ex, err := s.svc.Check(r.Context(), req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ex)
}
