package main

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/bench/radius/internal/benchsim"
	"github.com/simguard/simguard/control"
	"github.com/simguard/simguard/sealed"
	"github.com/simguard/simguard/sqlite"
)

// fillData makes a "simguard serve" data directory holding the bench
// policy (the group and n SIMs of buildEvaluator) and a NAS client for
// 127.0.0.0/8 with secret, so that serve itself can be measured with the
// same load generator. It prints the admin token.
func fillData(dir string, n int, secret string) error {
	ctx := context.Background()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	db, err := sqlite.Open(ctx, filepath.Join(dir, "simguard.db"), sqlite.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	box, err := sealed.LoadOrCreateKey(filepath.Join(dir, "secrets.key"))
	if err != nil {
		return err
	}
	svc, err := control.New(ctx, db, control.Config{Secrets: box})
	if err != nil {
		return err
	}
	token, err := svc.Bootstrap(ctx, "provider")
	if err != nil {
		return err
	}
	a, _, err := svc.Authenticate(ctx, token)
	if err != nil {
		return err
	}
	admin := simguard.WithActor(ctx, a)
	if _, err := svc.CreateGroup(admin, simguard.Group{Name: "bench", Policy: simguard.Policy{
		Services: []simguard.Service{simguard.ServiceData}, APNs: []string{benchsim.APN}}}); err != nil {
		return err
	}
	start := time.Now()
	const batch = 100_000
	for first := 0; first < n; first += batch {
		sims := make([]simguard.SIM, 0, batch)
		for i := first; i < min(n, first+batch); i++ {
			imei, err := simguard.NormalizeIMEI(benchsim.IMEISV(i))
			if err != nil {
				return err
			}
			sims = append(sims, simguard.SIM{ICCID: iccid(i), IMSI: benchsim.IMSI(i), State: simguard.SIMActive, Group: "bench",
				IMEILock: simguard.IMEILock{Mode: simguard.IMEILockExplicit, IMEI: imei}})
		}
		if err := db.CreateSIMs(ctx, simguard.ProviderTenantID, sims, simguard.Change{Actor: a, Action: "sim.import"}); err != nil {
			return fmt.Errorf("SIMs from %d: %w", first, err)
		}
	}
	if _, err := svc.CreateNASClient(admin, simguard.NASClient{Name: "bench", Prefix: netip.MustParsePrefix("127.0.0.0/8"), Secret: secret}); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "simguard-server: %d SIMs written to %s in %s\n", n, dir, time.Since(start).Round(time.Second))
	fmt.Println(token)
	return nil
}
