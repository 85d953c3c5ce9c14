package main

import (
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/simguard/simguard"
)

// printReport writes a scan report as a table, JSON or CSV.
func printReport(w io.Writer, rep *simguard.ScanReport, format string) error {
	switch format {
	case "json":
		return rep.WriteJSON(w)
	case "csv":
		return simguard.WriteFindingsCSV(w, rep.Findings)
	}
	r := rep.Run
	took := "-"
	if !r.FinishedAt.IsZero() {
		took = r.FinishedAt.Sub(r.StartedAt).Round(10 * time.Millisecond).String()
	}
	fmt.Fprintf(w, "scan %d  %s  scope %s  by %s  %d hosts, %d probes, %d open, %d filtered, %d unknown, %d login attempts, took %s\n",
		r.ID, r.Status, r.Scope, r.Actor, r.Stats.Hosts, r.Stats.Probes, r.Stats.OpenPorts, r.Stats.Filtered, r.Stats.Unknown, r.Stats.Attempts, took)
	if r.Error != "" {
		fmt.Fprintf(w, "error: %s\n", r.Error)
	}
	if len(r.Unreachable) > 0 {
		// Their findings stay open: say why nothing closed.
		fmt.Fprintf(w, "%d addresses answered nothing (offline, or every port filtered); their findings stay open: %s\n",
			len(r.Unreachable), addrList(r.Unreachable, 8))
	}
	if r.Stats.Narrowed > 0 {
		fmt.Fprintf(w, "%d CIDR targets narrowed to your tenant's own SIMs' addresses\n", r.Stats.Narrowed)
	}
	if len(rep.Findings) > 0 {
		fmt.Fprintln(w)
		printFindings(w, rep.Findings)
	}
	d := rep.Diff
	if d.PrevScanID != 0 {
		fmt.Fprintf(w, "\nsince scan %d: %d opened, %d closed, %d unverified, %d new default credentials\n", d.PrevScanID, len(d.Opened), len(d.Closed), len(d.Unverified), len(d.NewCredentials))
		for _, x := range []struct {
			what string
			fs   []simguard.Finding
		}{{"opened", d.Opened}, {"closed", d.Closed}, {"unverified (no answer, kept open)", d.Unverified}, {"new default credential", d.NewCredentials}} {
			for _, f := range x.fs {
				fmt.Fprintf(w, "  %s  %s %d/%s %s\n", x.what, f.Target, f.Port, f.Proto, f.Service)
			}
		}
	}
	s := rep.Summary
	var sev []string
	for _, x := range []simguard.Severity{simguard.SeverityCritical, simguard.SeverityHigh, simguard.SeverityMedium, simguard.SeverityLow, simguard.SeverityInfo} {
		if n := s.BySeverity[x]; n > 0 {
			sev = append(sev, fmt.Sprintf("%d %s", n, x))
		}
	}
	fmt.Fprintf(w, "\n%d findings (%s); %d not compliant, %d plaintext, %d default credentials\n",
		s.Findings, orDash(strings.Join(sev, ", ")), s.NonCompliant, s.Plaintext, s.Credentials)
	return nil
}

// printFindings prints one line per finding; "simguard findings
// remediate ID" takes the ID.
func printFindings(w io.Writer, findings []simguard.Finding) {
	tw := table(w)
	fmt.Fprintln(tw, "ID\tTARGET\tPORT\tSERVICE\tSEVERITY\tSTATE\tSIM\tGROUP\tISSUES\tPRODUCT")
	for _, f := range findings {
		var issues []string
		for _, is := range f.Issues {
			issues = append(issues, string(is.Kind))
		}
		for _, c := range f.Credentials {
			issues = append(issues, "login "+c.Username+" ("+c.ListEntry+")")
		}
		sim := "-"
		if f.SIMID != 0 {
			sim = strconv.FormatInt(f.SIMID, 10)
		}
		id := "-"
		if f.ID != 0 {
			id = strconv.FormatInt(f.ID, 10)
		}
		svc := f.Service
		if f.TLS {
			svc += " (tls)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d/%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", id, f.Target, f.Port, f.Proto, svc, f.Severity,
			orDash(string(f.State)), sim, orDash(f.Group), orDash(strings.Join(issues, ", ")), orDash(clipCell(f.Product, 40)))
	}
	tw.Flush()
}

func clipCell(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// addrList prints at most n addresses.
func addrList(as []netip.Addr, n int) string {
	var parts []string
	for i, a := range as {
		if i == n {
			parts = append(parts, fmt.Sprintf("and %d more", len(as)-n))
			break
		}
		parts = append(parts, a.String())
	}
	return strings.Join(parts, ", ")
}
