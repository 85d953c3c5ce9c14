package console

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/demo"
)

const testPolicy = `services: [data]
apns:
  - meters.iot
location:
  plmns:
    - 001-01
    - 26x-01
egress:
  - cidr: 203.0.113.10/32
    proto: tcp
    ports: ["8883"]
  - cidr: 203.0.113.53/32
    proto: udp
    ports:
      - "53"
      - "99999"
`

func TestYAMLLine(t *testing.T) {
	cases := []struct {
		name, path string
		line       int
	}{
		{"flow list key", "services", 1},
		{"list element", "apns[0]", 3},
		{"nested list element", "location.plmns[1]", 7},
		{"nested key", "location.plmns", 5},
		{"element of a list of maps", "egress[1]", 12},
		{"field of an element", "egress[1].proto", 13},
		{"deep element", "egress[1].ports[1]", 16},
		{"flow list element", "egress[0].ports[0]", 11},
		{"missing key: where the search stopped", "location.cells[0]", 4},
		{"index out of range", "apns[5]", 2},
		{"unknown top key", "quotas.period", 0},
		{"malformed path", "egress[x].proto", 8},
		{"empty path", "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := yamlLine(testPolicy, c.path); got != c.line {
				t.Errorf("yamlLine(%q) = %d, want %d", c.path, got, c.line)
			}
		})
	}
	if got := yamlLine("services: [data\n", "services"); got != 0 {
		t.Errorf("unparsable YAML: line %d", got)
	}
}

func TestDecodePolicy(t *testing.T) {
	cases := []struct {
		name, text, want string
	}{
		{"valid", "services: [data]\napns: [x.iot]\n", ""},
		{"empty: allows nothing", "", ""},
		{"unknown key names its line", "services: [data]\nlocaton:\n  plmns: [001-01]\n", "line 2: field locaton not found in Policy"},
		{"wrong type", "services: data\n", "line 1: cannot unmarshal"},
		{"two documents", "services: [data]\n---\nservices: [sms_mo]\n", "more than one YAML document"},
		{"bad port range", "egress:\n  - cidr: 10.0.0.0/8\n    proto: tcp\n    ports: [\"0\"]\n", "port range"},
		{"too long", "# " + strings.Repeat("x", maxPolicyText), "longer than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := decodePolicy(c.text)
			if c.want == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err == nil || errorField(err) != "policy" || !strings.Contains(simguard.ErrorMessage(err), c.want) {
				t.Fatalf("err = %v, want a policy error with %q", err, c.want)
			}
		})
	}
	// What the editor shows round-trips.
	for _, g := range demo.Groups() {
		p, err := decodePolicy(policyYAML(g.Policy))
		if err != nil {
			t.Fatalf("%s: %v", g.Name, err)
		}
		if policyYAML(p) != policyYAML(g.Policy) {
			t.Errorf("%s does not round-trip", g.Name)
		}
	}
}

func TestCheckForm(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name  string
		q     string
		field string
		check func(r simguard.Request) bool
	}{
		{"data session", "kind=data_session&imsi=001010000000001&plmn=001-01&rat=nb-iot", "", func(r simguard.Request) bool {
			return r.Kind == simguard.KindDataSession && r.Location.PLMN.MCC == 1 && r.RAT == simguard.RATNBIoT && r.Time.Equal(now)
		}},
		{"cell", "kind=attach&imsi=1&cell=262-01-257", "", func(r simguard.Request) bool { return r.Location.HasCell && r.Location.Cell == 257 }},
		{"CGI cell", "kind=attach&imsi=1&cell=262-01-1-257", "", func(r simguard.Request) bool { return r.Location.Cell == simguard.CGICell(1, 257) }},
		{"sms", "kind=sms_mt&msisdn=%2B491510000001&peer=12345&binary=on", "", func(r simguard.Request) bool {
			return r.MSISDN == "491510000001" && r.SMS.Binary && !r.SMS.Silent
		}},
		{"flow", "kind=flow&ip=10.64.0.10&remote=198.18.0.66&proto=TCP&port=23&inbound=on", "", func(r simguard.Request) bool {
			return r.Flow.Proto == 6 && r.Flow.Port == 23 && r.Flow.Inbound && r.IP.String() == "10.64.0.10"
		}},
		{"at a time", "kind=data_session&imsi=1&time=2026-01-02T03:04:05Z", "", func(r simguard.Request) bool { return r.Time.Year() == 2026 && r.Time.Month() == 1 }},
		{"no kind", "imsi=1", "kind", nil},
		{"no identity", "kind=data_session", "imsi", nil},
		{"bad PLMN", "kind=data_session&imsi=1&plmn=26201x", "plmn", nil},
		{"bad area", "kind=data_session&imsi=1&area=262-01", "area", nil},
		{"bad cell", "kind=data_session&imsi=1&cell=a-b-c", "cell", nil},
		{"bad IP", "kind=data_session&ip=10.0.0", "ip", nil},
		{"bad time", "kind=data_session&imsi=1&time=tomorrow", "time", nil},
		{"flow without remote", "kind=flow&imsi=1&proto=tcp", "remote", nil},
		{"flow with a bad protocol", "kind=flow&imsi=1&remote=1.2.3.4&proto=sctp", "proto", nil},
		{"flow with a bad port", "kind=flow&imsi=1&remote=1.2.3.4&proto=tcp&port=70000", "port", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q, err := url.ParseQuery(c.q)
			if err != nil {
				t.Fatal(err)
			}
			r, err := readCheckForm(q).request(now)
			if c.field != "" {
				if errorField(err) != c.field {
					t.Fatalf("err = %v, want one for field %s", err, c.field)
				}
				return
			}
			if err != nil || !c.check(r) {
				t.Fatalf("request = %+v, %v", r, err)
			}
		})
	}
}

func FuzzYAMLLine(f *testing.F) {
	f.Add(testPolicy, "egress[1].ports[1]")
	f.Add("a: [1, {b: [2]}]", "a[1].b[0]")
	f.Add("- x\n- y", "[1]")
	f.Add("a: &x [1]\nb: *x", "b[0]")
	f.Fuzz(func(t *testing.T, text, path string) {
		line := yamlLine(text, path)
		if line < 0 || line > strings.Count(text, "\n")+1 {
			t.Fatalf("line %d outside a text of %d lines", line, strings.Count(text, "\n")+1)
		}
	})
}

func FuzzDecodePolicy(f *testing.F) {
	for _, g := range demo.Groups() {
		f.Add(policyYAML(g.Policy))
	}
	f.Add("services: [data]\nwindows:\n  - daily: 22:00-06:00\n")
	f.Fuzz(func(t *testing.T, text string) {
		p, err := decodePolicy(text)
		if err != nil {
			if errorField(err) != "policy" {
				t.Fatalf("error without the policy field: %v", err)
			}
			return
		}
		// Whatever decodes must render and decode again (validation is
		// the control service's job and may still refuse it).
		if _, err := decodePolicy(policyYAML(p)); err != nil {
			t.Fatalf("rendered policy does not decode: %v\n%s", err, policyYAML(p))
		}
	})
}

func FuzzCheckForm(f *testing.F) {
	f.Add("kind=flow&imsi=1&remote=198.18.0.66&proto=tcp&port=23")
	f.Add("kind=attach&imsi=1&cell=262-01-1-257&area=262-01-5")
	f.Add("kind=sms_mo&msisdn=%2B4915&peer=%2B1&silent=on")
	f.Fuzz(func(t *testing.T, query string) {
		q, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		r, err := readCheckForm(q).request(time.Unix(0, 0))
		if err != nil {
			if simguard.ErrorCode(err) != simguard.EINVALID || errorField(err) == "" {
				t.Fatalf("error without a field: %v", err)
			}
			return
		}
		if r.Kind == 0 {
			t.Fatal("a request without a kind")
		}
	})
}

func FuzzSafeNext(f *testing.F) {
	f.Add("/console/sims?q=1")
	f.Add("//evil.example")
	f.Add("/console//evil.example")
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		u, err := url.Parse(got)
		if err != nil || u.Host != "" || u.Scheme != "" || !strings.HasPrefix(u.Path, "/console/") && got != "/console/" {
			t.Fatalf("safeNext(%q) = %q leaves the console", next, got)
		}
	})
}
