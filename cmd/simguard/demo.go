package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/control"
	"github.com/simguard/simguard/demo"
)

// loadDemo loads the demo fleet into the provider tenant unless it is
// there already, then prints one example of each decision.
func loadDemo(ctx context.Context, svc *control.Service, out io.Writer, log *slog.Logger) error {
	a := simguard.Actor{TenantID: simguard.ProviderTenantID, Role: simguard.RoleAdmin, Name: "system:demo", Provider: true}
	ctx = simguard.WithActor(ctx, a)
	if _, err := svc.GetGroup(ctx, "smart-meters"); err == nil {
		log.Info("demo fleet already loaded")
	} else {
		for _, g := range demo.Groups() {
			if _, err := svc.CreateGroup(ctx, g); err != nil {
				return fmt.Errorf("group %s: %w", g.Name, err)
			}
		}
		sims := demo.SIMs()
		rows := make([]control.ImportRow, len(sims))
		for i, s := range sims {
			rows[i] = control.ImportRow{Line: i + 1, SIM: s}
		}
		if _, err := svc.ImportSIMs(ctx, rows); err != nil {
			return err
		}
		fmt.Fprintf(out, "Demo fleet loaded: %d groups, %d SIMs.\n", len(demo.Groups()), len(sims))
	}
	fmt.Fprintln(out, "\nWhat the demo policy decides (ask the same with 'simguard policy check'):")
	for _, ex := range demo.Examples() {
		r := ex.Request
		r.Time = time.Now()
		got, err := svc.Check(ctx, r)
		if err != nil {
			return err
		}
		verdict := "ALLOW"
		if !got.Decision.Allow {
			verdict = "DENY "
		}
		fmt.Fprintf(out, "  %s %-20s %s\n        simguard policy check %s\n", verdict, got.Decision.Reason, ex.Title, checkFlags(r))
		if got.Decision.Reason != ex.Want {
			log.Warn("demo example decided differently than documented", "example", ex.Title, "want", ex.Want, "got", got.Decision.Reason)
		}
	}
	fmt.Fprintln(out)
	return nil
}

// checkFlags writes r as "simguard policy check" flags.
func checkFlags(r simguard.Request) string {
	var f []string
	add := func(name, v string) {
		if v != "" {
			f = append(f, "--"+name+" "+v)
		}
	}
	if r.Kind != simguard.KindDataSession {
		add("kind", r.Kind.String())
	}
	add("imsi", r.IMSI)
	add("msisdn", r.MSISDN)
	add("imei", r.IMEI)
	if !r.Location.PLMN.IsZero() {
		add("plmn", r.Location.PLMN.String())
	}
	add("rat", string(r.RAT))
	add("apn", r.APN)
	add("peer", r.Peer)
	if r.SMS.Binary {
		f = append(f, "--binary")
	}
	if r.Flow.Remote.IsValid() {
		add("remote", r.Flow.Remote.String())
		add("port", fmt.Sprint(r.Flow.Port))
	}
	return strings.Join(f, " ")
}
