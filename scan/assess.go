package scan

import (
	"crypto/tls"
	"fmt"
	"net/netip"
	"slices"
	"strconv"

	"github.com/simguard/simguard"
)

// plaintextServices carry logins or device data unencrypted when they run
// without TLS. DNS and NTP are left out: they carry no device data, and
// their problems are reported as info leaks.
var plaintextServices = map[string]bool{
	"telnet": true, "ftp": true, "http": true, "tr069": true, "mqtt": true, "rtsp": true,
	"modbus": true, "smtp": true, "vnc": true, "coap": true, "snmp": true, "mqtt-sn": true,
}

func plaintextService(name string, isTLS bool) bool { return !isTLS && plaintextServices[name] }

// serviceIssues are the problems a service has by what it is and how it
// answered, before credentials and policy are looked at.
func serviceIssues(proto string, svc service) []simguard.Issue {
	var out []simguard.Issue
	add := func(k simguard.IssueKind, s simguard.Severity, format string, args ...any) {
		out = append(out, simguard.Issue{Kind: k, Severity: s, Detail: fmt.Sprintf(format, args...)})
	}
	name := svc.name
	if plaintextService(name, svc.tls) {
		switch {
		case name == "telnet" || name == "ftp":
			add(simguard.IssuePlaintextLogin, simguard.SeverityHigh, "%s sends user names, passwords and sessions in clear text; use SSH", name)
		case (name == "http" || name == "tr069") && svc.auth == "basic":
			add(simguard.IssuePlaintextLogin, simguard.SeverityHigh, "HTTP basic auth without TLS sends the password in clear text")
		case name == "mqtt" && svc.auth == "password":
			add(simguard.IssuePlaintextLogin, simguard.SeverityHigh, "MQTT without TLS sends the broker password in clear text; use MQTT over TLS (8883)")
		default:
			add(simguard.IssuePlaintextProtocol, simguard.SeverityMedium, "%s/%s carries device data unencrypted", name, proto)
		}
	}
	switch {
	case (name == "mqtt" || name == "mqtts") && svc.auth == "none":
		add(simguard.IssueAnonymousAccess, simguard.SeverityHigh, "the MQTT broker accepts clients without credentials: anyone reaching it can publish and subscribe")
	case name == "modbus":
		add(simguard.IssueAnonymousAccess, simguard.SeverityHigh, "Modbus/TCP has no authentication: anyone reaching the port can read and write registers")
	case name == "snmp":
		add(simguard.IssueDefaultCredential, simguard.SeverityCritical, "SNMP answers the default community \"public\"")
	case name == "rtsp" && svc.auth == "none":
		add(simguard.IssueAnonymousAccess, simguard.SeverityHigh, "the RTSP server answers without authentication")
	}
	if svc.tls && svc.tlsVersion != 0 && svc.tlsVersion < tls.VersionTLS12 {
		add(simguard.IssueWeakTLS, simguard.SeverityMedium, "negotiated %s; TLS 1.2 or later is required", tlsVersionName(svc.tlsVersion))
	}
	if svc.infoLeak != "" {
		add(simguard.IssueInfoLeak, simguard.SeverityLow, "%s", svc.infoLeak)
	}
	return out
}

func tlsVersionName(v uint16) string {
	switch v {
	case 0:
		return ""
	case tls.VersionTLS10:
		return "TLS 1.0"
	case tls.VersionTLS11:
		return "TLS 1.1"
	case tls.VersionTLS12:
		return "TLS 1.2"
	case tls.VersionTLS13:
		return "TLS 1.3"
	}
	return "0x" + strconv.FormatUint(uint64(v), 16)
}

// assess checks a finding against its group's inbound policy and the
// no-plaintext rule, and attaches the remediation when the port should be
// closed.
func (s *Scanner) assess(f *simguard.Finding) {
	var g simguard.Group
	haveGroup := false
	if f.Group != "" && s.deps.Inventory != nil {
		g, haveGroup = s.deps.Inventory.Group(f.TenantID, f.Group)
	}
	f.Compliant = true
	if !s.cfg.AllowPlaintext && f.Plaintext {
		f.Compliant = false
	}
	if !haveGroup {
		return
	}
	allowedBy := simguard.InboundAllowing(&g.Policy, f.Proto, f.Port)
	if len(allowedBy) == 0 {
		f.Compliant = false
		f.AddIssue(simguard.IssuePortNotAllowed, simguard.SeverityMedium,
			fmt.Sprintf("group %s allows no inbound %s/%d (policy.inbound), yet the device listens on it", g.Name, f.Proto, f.Port))
	}
	if !f.Compliant || f.Severity.Rank() >= simguard.SeverityHigh.Rank() {
		f.Remediation = &simguard.Remediation{
			Action: "close_port", Group: g.Name, Proto: f.Proto, Port: f.Port,
			AllowedBy: allowedBy, GroupVersion: g.Version,
		}
	}
}

// emit sends the events of a finished run: each newly opened port, and
// each default credential that works now and did not before.
func (s *Scanner) emit(rep *Report) {
	sink := s.deps.Events
	if sink == nil || rep.Run.Status != simguard.ScanDone {
		return
	}
	ev := func(typ string, f *simguard.Finding) {
		sink.Emit(simguard.Event{
			Time:     rep.Run.FinishedAt,
			TenantID: f.TenantID,
			SIMID:    f.SIMID,
			Source:   "scan",
			Type:     typ,
			Attrs: map[string]string{
				"scan_id":  strconv.FormatInt(rep.Run.ID, 10),
				"target":   f.Target.String(),
				"proto":    f.Proto,
				"port":     strconv.Itoa(int(f.Port)),
				"service":  f.Service,
				"severity": string(f.Severity),
				"group":    f.Group,
			},
		})
	}
	for i := range rep.Diff.Opened {
		ev("scan.port_opened", &rep.Diff.Opened[i])
	}
	for i := range rep.Diff.NewCredentials {
		ev("scan.default_credential", &rep.Diff.NewCredentials[i])
	}
	// A device with open findings that answered nothing: its findings stay
	// open (nothing proves them closed), and someone may want to know why
	// it went silent. One event per address, not per finding.
	kept := map[netip.Addr]int{}
	var order []*simguard.Finding
	for i := range rep.Diff.Unverified {
		f := &rep.Diff.Unverified[i]
		if _, silent := slices.BinarySearchFunc(rep.Run.Unreachable, f.Target, netip.Addr.Compare); !silent {
			continue
		}
		if kept[f.Target] == 0 {
			order = append(order, f)
		}
		kept[f.Target]++
	}
	for _, f := range order {
		sink.Emit(simguard.Event{
			Time:     rep.Run.FinishedAt,
			TenantID: f.TenantID,
			SIMID:    f.SIMID,
			Source:   "scan",
			Type:     "scan.host_unreachable",
			Attrs: map[string]string{
				"scan_id":       strconv.FormatInt(rep.Run.ID, 10),
				"target":        f.Target.String(),
				"group":         f.Group,
				"open_findings": strconv.Itoa(kept[f.Target]),
			},
		})
	}
}
