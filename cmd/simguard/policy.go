package main

import (
	"context"
	"fmt"
	"strings"
	"time"
)

func policyCommand() *command {
	return &command{name: "policy", summary: "ask the policy engine", subs: []*command{
		{name: "check", summary: "would this request be allowed, and why? (dry run)", run: policyCheck},
	}}
}

func policyCheck(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "policy check", "[flags]",
		"Ask the policy engine what it would decide, with the trace of every check. Nothing is\nchanged and no IMEI is learned. Example:\n  simguard policy check --imsi 001010000000001 --imei 35209900000001 --plmn 001-01 --rat nb-iot --apn meters.iot")
	api := addAPIFlags(fs, env)
	kind := fs.String("kind", "data_session", "data_session, sms_mo, sms_mt, attach, imei_check or flow")
	in := map[string]*string{}
	for _, f := range []struct{ name, help string }{
		{"imsi", "the SIM's IMSI"}, {"msisdn", "the SIM's MSISDN (instead of --imsi)"}, {"ip", "the device IP (flows)"},
		{"imei", "the device's IMEI or IMEISV"}, {"plmn", "serving network MCC-MNC, e.g. 262-01"},
		{"area", "tracking/location area MCC-MNC-TAC"}, {"cell", "cell MCC-MNC-ECI or MCC-MNC-LAC-CI"},
		{"rat", "radio type: 2g, 3g, 4g, nb-iot, lte-m, 5g"}, {"apn", "APN of a data session"},
		{"peer", "SMS source (sms_mt) or destination (sms_mo)"},
	} {
		in[f.name] = fs.String(f.name, "", f.help)
	}
	at := fs.String("time", "", "decide as of this RFC 3339 time (default now)")
	binary := fs.Bool("binary", false, "the SMS is binary (UDH, 8-bit, OTA)")
	silent := fs.Bool("silent", false, "the SMS is silent (PID 0x40)")
	remote := fs.String("remote", "", "flow: the other end's IP")
	proto := fs.String("proto", "tcp", "flow: tcp, udp, icmp")
	port := fs.Uint("port", 0, "flow: destination port")
	inbound := fs.Bool("inbound", false, "flow: from the outside to the device")
	exitCode := fs.Bool("exit-code", false, "exit 3 when the request would be denied")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	body := map[string]any{"kind": *kind}
	for k, v := range in {
		if *v != "" {
			body[k] = *v
		}
	}
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			return usageError{"--time must be RFC 3339, e.g. 2026-11-25T14:00:00Z"}
		}
		body["time"] = t
	}
	if *binary {
		body["binary"] = true
	}
	if *silent {
		body["silent"] = true
	}
	if *remote != "" {
		body["flow"] = map[string]any{"inbound": *inbound, "remote": *remote, "proto": *proto, "port": *port}
	}
	c, err := api.client(env)
	if err != nil {
		return err
	}
	ex, err := c.Check(ctx, body)
	if err != nil {
		return err
	}
	if api.json {
		if err := printJSON(env.stdout, ex); err != nil {
			return err
		}
	} else {
		d := ex.Decision
		verdict := "ALLOW"
		if !d.Allow {
			verdict = "DENY"
		}
		fmt.Fprintf(env.stdout, "%s  reason=%s  rule=%s\n", verdict, d.Reason, d.Rule)
		if d.Group != "" {
			fmt.Fprintf(env.stdout, "group=%s", d.Group)
			if !d.ValidUntil.IsZero() {
				fmt.Fprintf(env.stdout, "  valid until %s", d.ValidUntil.Format(time.RFC3339))
			}
			if d.StaticIP.IsValid() {
				fmt.Fprintf(env.stdout, "  static ip %s", d.StaticIP)
			}
			if d.LearnIMEI {
				fmt.Fprint(env.stdout, "  (would bind this IMEI)")
			}
			fmt.Fprintln(env.stdout)
		}
		tw := table(env.stdout)
		for _, s := range ex.Steps {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", strings.ToUpper(s.Result), s.Check, s.Detail)
		}
		tw.Flush()
	}
	if *exitCode && !ex.Decision.Allow {
		return exitError{3}
	}
	return nil
}

// exitError ends the program with a code and no message.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }
