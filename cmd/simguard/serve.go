package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/simguard/simguard/audit"
	"github.com/simguard/simguard/control"
	"github.com/simguard/simguard/enforce"
	sghttp "github.com/simguard/simguard/http"
	"github.com/simguard/simguard/radius"
	"github.com/simguard/simguard/sealed"
	"github.com/simguard/simguard/sqlite"
)

const (
	dbFile         = "simguard.db"
	auditKeyFile   = "audit-signing.key"
	secretsKeyFile = "secrets.key"
)

func serveCommand() *command {
	return &command{name: "serve", summary: "run the control plane (API, console, enforcement points)", run: serve}
}

func serve(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "serve", "[flags]",
		"Run the control plane on an embedded SQLite store in --data. On first start it prints a\none-time admin token; with --demo it also loads a demo fleet of about 1,000 SIMs.")
	cfg, err := loadServeConfig(fs, args, env)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, env)
	cp, err := openControlPlane(ctx, cfg, log, env)
	if err != nil {
		return err
	}
	defer cp.close()
	return cp.run(ctx)
}

// controlPlane is a running "simguard serve": every component and the
// order to start and stop them in.
type controlPlane struct {
	cfg    serveConfig
	log    *slog.Logger
	env    *cliEnv
	db     *sqlite.DB
	signer *audit.Signer
	// secrets seals the secrets the store keeps for us (RADIUS shared
	// secrets, SMSC passwords, webhook keys).
	secrets  *sealed.Box
	reg      *prometheus.Registry
	events   *enforce.EventWriter
	svc      *control.Service
	api      *sghttp.Server
	listener net.Listener
	// components run beside the API until shutdown (enforcement points,
	// detection …); closers run at close, last added first.
	components []component
	closers    []func()
	// radius is the RADIUS server when radius.enabled (radius.go).
	radius *radius.Server
	// apiHooks add a feature's routes once the API server exists.
	apiHooks []func(*sghttp.Server)
	// alerts are detection's alerts when detect.enabled (for the console).
	alerts sghttp.AlertService
	// URL is where the API answers, once listening.
	URL string
}

func openControlPlane(ctx context.Context, cfg serveConfig, log *slog.Logger, env *cliEnv) (_ *controlPlane, err error) {
	cp := &controlPlane{cfg: cfg, log: log, env: env, reg: prometheus.NewRegistry()}
	defer func() {
		if err != nil {
			cp.close()
		}
	}()
	cp.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return nil, fmt.Errorf("data directory %s: %w", cfg.Data, err)
	}
	if cp.db, err = sqlite.Open(ctx, filepath.Join(cfg.Data, dbFile), sqlite.Options{Logger: log}); err != nil {
		return nil, err
	}
	if cp.signer, err = audit.LoadOrCreateKey(filepath.Join(cfg.Data, auditKeyFile)); err != nil {
		return nil, err
	}
	if cp.secrets, err = sealed.LoadOrCreateKey(filepath.Join(cfg.Data, secretsKeyFile)); err != nil {
		return nil, err
	}
	if err := cp.verifyAudit(ctx); err != nil {
		return nil, err
	}
	cp.events = enforce.NewEventWriter(cp.db, enforce.EventWriterConfig{}, log, time.Now, cp.reg)
	if cp.svc, err = control.New(ctx, cp.db, control.Config{Log: log, Registerer: cp.reg, Events: cp.events, Secrets: cp.secrets}); err != nil {
		return nil, err
	}
	secret, err := cp.svc.Bootstrap(ctx, cfg.Tenant)
	if err != nil {
		return nil, fmt.Errorf("first start: %w", err)
	}
	if secret != "" {
		fmt.Fprintf(env.stdout, "\nFirst start: created tenant %q and an admin token. It is shown only now; keep it safe:\n\n  export SIMGUARD_TOKEN=%s\n\n", cfg.Tenant, secret)
	}
	if cfg.Demo {
		if err := loadDemo(ctx, cp.svc, env.stdout, log); err != nil {
			return nil, fmt.Errorf("demo fleet: %w", err)
		}
	}
	for _, f := range features {
		if err := f.attach(cp); err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
	}
	cp.api, err = sghttp.New(sghttp.Config{
		Service: cp.svc, Log: log, Registerer: cp.reg, Gatherer: cp.reg, AuditKey: cp.signer.PublicKey(),
		Ready: func(ctx context.Context) error { return cp.db.Ping(ctx) },
	})
	if err != nil {
		return nil, err
	}
	for _, hook := range cp.apiHooks {
		hook(cp.api)
	}
	if cp.listener, err = net.Listen("tcp", cfg.Listen); err != nil {
		return nil, fmt.Errorf("listen on %s: %w (is another simguard running? use --listen)", cfg.Listen, err)
	}
	cp.URL = "http://" + cp.listener.Addr().String()
	return cp, nil
}

// verifyAudit checks the chain at start: a server that cannot prove its
// history does not start unless told to.
func (cp *controlPlane) verifyAudit(ctx context.Context) error {
	start := time.Now()
	rep, err := audit.Verify(ctx, cp.db, cp.signer.PublicKey())
	if err != nil {
		return fmt.Errorf("verify audit log: %w", err)
	}
	if rep.OK {
		cp.log.Info("audit log verified", "records", rep.Records, "checkpoints", rep.Checkpoints, "took", time.Since(start).Round(time.Millisecond))
		return nil
	}
	for _, p := range rep.Problems {
		cp.log.Error("AUDIT LOG TAMPERED", "seq", p.Seq, "kind", p.Kind, "problem", p.Message)
	}
	if cp.cfg.Audit.AcceptBroken {
		cp.log.Error("starting with a broken audit log because audit.accept_broken is set")
		return nil
	}
	return errors.New("the audit log does not verify (see the errors above); investigate with 'simguard audit verify --data DIR', or set audit.accept_broken: true in the config to start anyway")
}

// run serves until ctx ends, then shuts down in order: stop taking
// requests, write the buffered events, sign a last checkpoint.
func (cp *controlPlane) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	evCtx, stopEvents := context.WithCancel(context.Background())
	wg.Add(1)
	go func() { defer wg.Done(); _ = cp.events.Run(evCtx) }()
	bgCtx, stopBG := context.WithCancel(context.Background())
	wg.Add(2)
	go func() { defer wg.Done(); cp.svc.RunCheckpoints(bgCtx, cp.signer, cp.cfg.Audit.CheckpointEvery) }()
	go func() { defer wg.Done(); cp.runRetention(bgCtx) }()
	compCtx, stopComponents := context.WithCancel(context.Background())
	compErr := make(chan error, len(cp.components))
	var compWG sync.WaitGroup
	for _, c := range cp.components {
		compWG.Add(1)
		go func() {
			defer compWG.Done()
			if err := c.run(compCtx); err != nil && compCtx.Err() == nil {
				cp.log.Error("component stopped", "component", c.name, "err", err)
				compErr <- fmt.Errorf("%s: %w", c.name, err)
			}
		}()
	}

	srv := &http.Server{Handler: cp.api.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(cp.listener) }()
	fmt.Fprintf(cp.env.stdout, "simguard %s serving on %s  (API %s/api/v1, metrics %s/metrics, data %s)\n", version, cp.URL, cp.URL, cp.URL, cp.cfg.Data)
	if cp.cfg.Console.Enabled {
		fmt.Fprintf(cp.env.stdout, "Web console: %s/console/ (log in with an API token)\n", cp.URL)
	}
	cp.log.Info("serving", "url", cp.URL, "data", cp.cfg.Data)

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	case serveErr = <-compErr:
	}
	cp.log.Info("shutting down")
	shutCtx, cancelShut := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancelShut()
	if err := srv.Shutdown(shutCtx); err != nil {
		cp.log.Error("http shutdown", "err", err)
	}
	// Enforcement points stop first (answering what is in flight), then
	// the event writer drains what they emitted.
	stopComponents()
	compWG.Wait()
	stopEvents()
	stopBG()
	wg.Wait()
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	return serveErr
}

// runRetention deletes events older than the retention period, hourly.
func (cp *controlPlane) runRetention(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		n, err := cp.db.DeleteEventsBefore(ctx, time.Now().Add(-cp.cfg.Events.Retention))
		if err != nil && ctx.Err() == nil {
			cp.log.Error("event retention failed", "err", err)
		} else if n > 0 {
			cp.log.Info("old events removed", "count", n, "retention", cp.cfg.Events.Retention)
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

// component is something serve runs until shutdown.
type component struct {
	name string
	run  func(ctx context.Context) error
}

func (cp *controlPlane) close() {
	for i := len(cp.closers) - 1; i >= 0; i-- {
		cp.closers[i]()
	}
	if cp.listener != nil {
		cp.listener.Close()
	}
	if cp.db != nil {
		if err := cp.db.Close(); err != nil {
			cp.log.Error("closing the store", "err", err)
		}
	}
}
