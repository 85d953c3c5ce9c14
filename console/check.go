package console

import (
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/simguard/simguard"
)

// checkForm is a "would this be allowed?" question as the form asks it.
type checkForm struct {
	Kind, IMSI, MSISDN, IP, IMEI, PLMN, Area, Cell, RAT, APN, Peer, Time string
	Binary, Silent, Inbound                                              bool
	Remote, Proto, Port                                                  string
}

type checkData struct {
	Form   checkForm
	Fields []checkField
	Kinds  []string
	RATs   []simguard.RAT
	Asked  bool
	Error  string
	Field  string
	// ErrorShown is true when the error is shown next to its field.
	ErrorShown bool
	Result     *simguard.Explanation
}

// checkField is one text input of the form.
type checkField struct {
	Name, Label, Placeholder, Value string
}

func (f checkForm) fields() []checkField {
	return []checkField{
		{"imsi", "IMSI", "001010000000001", f.IMSI},
		{"msisdn", "MSISDN", "", f.MSISDN},
		{"ip", "Device IP", "", f.IP},
		{"imei", "IMEI or IMEISV", "", f.IMEI},
		{"plmn", "Network (MCC-MNC)", "001-01", f.PLMN},
		{"area", "Area (MCC-MNC-TAC)", "", f.Area},
		{"cell", "Cell (MCC-MNC-ECI)", "", f.Cell},
		{"apn", "APN", "", f.APN},
		{"peer", "SMS peer number", "", f.Peer},
		{"remote", "Flow: remote address", "", f.Remote},
		{"proto", "Flow: protocol", "tcp", f.Proto},
		{"port", "Flow: port", "", f.Port},
		{"time", "At (RFC 3339, empty: now)", "", f.Time},
	}
}

var checkKinds = []string{"data_session", "sms_mo", "sms_mt", "attach", "imei_check", "flow"}

func readCheckForm(q url.Values) checkForm {
	g := func(k string) string { return strings.TrimSpace(q.Get(k)) }
	return checkForm{
		Kind: g("kind"), IMSI: g("imsi"), MSISDN: g("msisdn"), IP: g("ip"), IMEI: g("imei"), PLMN: g("plmn"),
		Area: g("area"), Cell: g("cell"), RAT: g("rat"), APN: g("apn"), Peer: g("peer"), Time: g("time"),
		Binary: q.Get("binary") == "on", Silent: q.Get("silent") == "on", Inbound: q.Get("inbound") == "on",
		Remote: g("remote"), Proto: g("proto"), Port: g("port"),
	}
}

var protoNumbers = map[string]uint8{"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58}

// request turns the form into the engine's Request, naming the form field
// at fault when something does not parse.
func (f checkForm) request(now time.Time) (simguard.Request, error) {
	k, ok := simguard.ParseRequestKind(f.Kind)
	if !ok {
		return simguard.Request{}, simguard.FieldError("kind", "choose what is asked: %s", strings.Join(checkKinds, ", "))
	}
	r := simguard.Request{Kind: k, Time: now, IMSI: f.IMSI, MSISDN: strings.TrimPrefix(f.MSISDN, "+"), IMEI: f.IMEI,
		RAT: simguard.RAT(f.RAT), APN: f.APN, Peer: f.Peer, SMS: simguard.SMSInfo{Binary: f.Binary, Silent: f.Silent}}
	if f.IMSI == "" && f.MSISDN == "" && f.IP == "" {
		return r, simguard.FieldError("imsi", "name the SIM by IMSI, MSISDN or IP address")
	}
	if f.Time != "" {
		t, err := time.Parse(time.RFC3339, f.Time)
		if err != nil {
			return r, simguard.FieldError("time", "give a time like 2026-11-25T10:00:00Z, or leave it empty for now")
		}
		r.Time = t
	}
	if f.IP != "" {
		ip, err := netip.ParseAddr(f.IP)
		if err != nil {
			return r, simguard.FieldError("ip", "%q is not an IP address", clip(f.IP))
		}
		r.IP = ip
	}
	if f.PLMN != "" {
		p, err := simguard.ParsePLMN(f.PLMN)
		if err != nil {
			return r, simguard.FieldError("plmn", "%v", err)
		}
		r.Location.PLMN = p
	}
	if f.Area != "" {
		p, a, err := simguard.ParseArea(f.Area)
		if err != nil {
			return r, simguard.FieldError("area", "%v", err)
		}
		r.Location.PLMN, r.Location.Area, r.Location.HasArea = p, a, true
	}
	if f.Cell != "" {
		p, c, err := simguard.ParseCell(f.Cell)
		if err != nil {
			return r, simguard.FieldError("cell", "%v", err)
		}
		r.Location.PLMN, r.Location.Cell, r.Location.HasCell = p, c, true
	}
	if k == simguard.KindFlow {
		remote, err := netip.ParseAddr(f.Remote)
		if err != nil {
			return r, simguard.FieldError("remote", "a flow needs the remote address, got %q", clip(f.Remote))
		}
		proto, ok := protoNumbers[strings.ToLower(f.Proto)]
		if !ok {
			return r, simguard.FieldError("proto", "must be tcp, udp, icmp or icmpv6")
		}
		var port uint64
		if f.Port != "" {
			if port, err = strconv.ParseUint(f.Port, 10, 16); err != nil {
				return r, simguard.FieldError("port", "must be a port 0-65535")
			}
		}
		r.Flow = simguard.Flow{Inbound: f.Inbound, Remote: remote, Proto: proto, Port: uint16(port)}
	}
	return r, nil
}

// checkPage asks the policy engine to explain a decision. It changes
// nothing, so it is a GET: the question can be bookmarked and shared.
func (c *Console) checkPage(x *call) error {
	q := x.r.URL.Query()
	d := checkData{Form: readCheckForm(q), Kinds: checkKinds, RATs: simguard.RATs}
	d.Fields = d.Form.fields()
	status := http.StatusOK
	if d.Form.Kind == "" {
		d.Form.Kind = "data_session"
	} else {
		d.Asked = true
		req, err := d.Form.request(c.now())
		if err == nil {
			var ex simguard.Explanation
			if ex, err = c.svc.Check(x.ctx, req); err == nil {
				d.Result = &ex
			}
		}
		if err != nil {
			if simguard.ErrorCode(err) != simguard.EINVALID {
				return err
			}
			var se *simguard.Error
			asError(err, &se)
			d.Field, d.Error, status = se.Field, se.Message, formErrorStatus
			for _, f := range d.Fields {
				d.ErrorShown = d.ErrorShown || f.Name == d.Field
			}
			if !d.ErrorShown && d.Field != "" && d.Field != "kind" {
				d.Error = se.Field + ": " + se.Message
			}
		}
	}
	return c.page(x, status, "check", "Would this be allowed?", "check", d)
}
