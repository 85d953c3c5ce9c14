package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.yaml.in/yaml/v3"

	"github.com/simguard/simguard/enforce"
	"github.com/simguard/simguard/node"
	"github.com/simguard/simguard/radius"
)

// radiusNodeConfig is the configuration of "simguard radius --server URL":
// a RADIUS enforcement node away from the control plane. Its radius
// section is serve's, so that it can be copied; enabled is ignored.
type radiusNodeConfig struct {
	Server string `yaml:"server"`
	// Metrics is where /metrics and /healthz are served; empty: nowhere.
	Metrics string `yaml:"metrics"`
	// NASPoll is how often the NAS clients are re-read (a 304 when
	// nothing changed).
	NASPoll time.Duration `yaml:"nas_poll"`
	Log     logConfig     `yaml:"log"`
	RADIUS  radiusConfig  `yaml:"radius"`
}

func radiusNodeUsage() (usage, summary string) {
	return "--server URL [flags]   (token in SIMGUARD_TOKEN)",
		"Run a RADIUS enforcement node: the RADIUS AAA server, away from the control plane. It mirrors\n" +
			"the policy, reads the NAS clients and their shared secrets, keeps sessions and address leases\n" +
			"on the control plane, and sends its events and what it learns there. It needs a node token\n" +
			"(simguard token create --role node). The API carries the NAS shared secrets to the node:\n" +
			"serve it over TLS (https://) in production."
}

func radiusNode(ctx context.Context, env *cliEnv, args []string) error {
	usage, summary := radiusNodeUsage()
	fs := newFlags(env, "radius", usage, summary)
	cfg := radiusNodeConfig{Server: env.getenv("SIMGUARD_SERVER"), NASPoll: 5 * time.Second, Log: logConfig{Level: "info", Format: "text"}}
	if cfg.Server == "" {
		cfg.Server = "http://127.0.0.1:8080"
	}
	// Only --config: SIMGUARD_CONFIG names serve's file.
	if file := configFileArg(args, &cliEnv{getenv: func(string) string { return "" }}); file != "" {
		if err := decodeYAMLFile(file, &cfg); err != nil {
			return err
		}
	}
	fs.String("config", "", "YAML config file: server, metrics, nas_poll, log and a radius section as in serve's")
	fs.StringVar(&cfg.Server, "server", cfg.Server, "control plane URL (env SIMGUARD_SERVER); use https:// in production")
	fs.StringVar(&cfg.Metrics, "metrics", cfg.Metrics, "serve /metrics and /healthz on this address, e.g. 127.0.0.1:9812")
	fs.DurationVar(&cfg.NASPoll, "nas-poll", cfg.NASPoll, "how often to re-read the NAS clients from the control plane")
	fs.StringVar(&cfg.Log.Level, "log-level", cfg.Log.Level, "debug, info, warn or error")
	fs.StringVar(&cfg.Log.Format, "log-format", cfg.Log.Format, "text or json")
	fs.Func("auth", "RADIUS authentication addresses, comma-separated (default :1812)", func(s string) error {
		cfg.RADIUS.AuthAddrs = strings.Split(s, ",")
		return nil
	})
	fs.Func("acct", "RADIUS accounting addresses, comma-separated (default :1813)", func(s string) error {
		cfg.RADIUS.AcctAddrs = strings.Split(s, ",")
		return nil
	})
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("unknown command %q (simguard radius --server URL runs a node; see simguard radius --help)", pos[0])}
	}
	if _, err := parseLevel(cfg.Log.Level); err != nil {
		return err
	}
	if cfg.NASPoll < time.Second {
		return fmt.Errorf("nas_poll: at least 1s, got %s", cfg.NASPoll)
	}
	n, err := openRADIUSNode(ctx, cfg, newLogger(cfg.Log, env), env)
	if err != nil {
		return err
	}
	defer n.close()
	return n.run(ctx)
}

func decodeYAMLFile(file string, v any) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config %s: %v", file, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return nil
}

// radiusNodeProc is a running RADIUS node.
type radiusNodeProc struct {
	cfg      radiusNodeConfig
	log      *slog.Logger
	env      *cliEnv
	follower *node.Follower
	nas      *node.NASClients
	events   *enforce.EventWriter
	srv      *radius.Server
	reg      *prometheus.Registry
	metrics  *nodeMetrics
	closers  []func()
}

// openRADIUSNode syncs the policy and the NAS clients from the control
// plane and binds the RADIUS sockets; a wrong URL, token or address
// fails here, before anything runs.
func openRADIUSNode(ctx context.Context, cfg radiusNodeConfig, log *slog.Logger, env *cliEnv) (_ *radiusNodeProc, err error) {
	n := &radiusNodeProc{cfg: cfg, log: log, env: env, reg: nodeRegistry()}
	defer func() {
		if err != nil {
			n.close()
		}
	}()
	c, err := nodeClient(env, cfg.Server, "radius-1")
	if err != nil {
		return nil, err
	}
	if n.follower, err = node.Start(ctx, c, log, n.reg); err != nil {
		return nil, err
	}
	n.nas = node.NewNASClients(c, log, cfg.NASPoll)
	clients, _, err := n.nas.Fetch(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the NAS clients from the control plane: %w", err)
	}
	// Events wait here while the control plane is unreachable; when the
	// buffer is full, enforcement waits too (no event is dropped). A
	// quarter million is minutes of a busy gateway.
	n.events = enforce.NewEventWriter(node.NewEvents(c, log), enforce.EventWriterConfig{Buffer: 1 << 18}, log, time.Now, n.reg)
	store := node.NewRADIUSStore(c)
	n.srv, err = radius.New(cfg.RADIUS.Config, radius.Deps{
		Evaluator: n.follower.Policy(), Feedback: node.NewFeedback(c), Events: n.events,
		Sessions: store, Leases: store, Clients: clients, StaticIPTaken: staticIPTaken(n.follower.Policy()),
		Logger: log.With("component", "radius"), Registerer: n.reg,
	})
	if err != nil {
		return nil, err
	}
	if err := n.srv.Listen(); err != nil {
		return nil, err
	}
	n.closers = append(n.closers, func() { _ = n.srv.Close() })
	if n.metrics, err = listenMetrics(cfg.Metrics, "--metrics or metrics: in the config", n.reg); err != nil {
		return nil, err
	}
	return n, nil
}

// run serves until ctx ends. The RADIUS server stops first (answering
// what is in flight), then the event writer sends what it holds.
func (n *radiusNodeProc) run(ctx context.Context) error {
	bg, stopBG := context.WithCancel(context.Background())
	defer stopBG()
	var wg sync.WaitGroup
	unsubscribe := n.follower.Policy().Subscribe(radiusPolicyHook(bg, n.srv, n.log))
	defer unsubscribe()
	wg.Go(func() { _ = n.follower.Run(bg) })
	wg.Go(func() { n.nas.Run(bg, n.srv.SetClients) })
	evCtx, stopEvents := context.WithCancel(context.Background())
	evDone := make(chan struct{})
	go func() { defer close(evDone); _ = n.events.Run(evCtx) }()
	srvErr := make(chan error, 1)
	srvCtx, stopSrv := context.WithCancel(context.Background())
	go func() { srvErr <- n.srv.Serve(srvCtx) }()
	fmt.Fprintf(n.env.stdout, "simguard %s RADIUS node following %s  (auth %s; accounting %s)\n", version, n.cfg.Server,
		joinAddrs(n.srv.AuthAddrs()), joinAddrs(n.srv.AcctAddrs()))
	n.log.Info("radius node serving", "server", n.cfg.Server, "auth", n.srv.AuthAddrs(), "acct", n.srv.AcctAddrs())

	var err error
	select {
	case <-ctx.Done():
		stopSrv()
		err = <-srvErr
	case err = <-srvErr:
		stopSrv()
	}
	stopEvents()
	<-evDone
	stopBG()
	wg.Wait()
	return err
}

func (n *radiusNodeProc) close() {
	for i := len(n.closers) - 1; i >= 0; i-- {
		n.closers[i]()
	}
	n.metrics.Close()
}

func joinAddrs(list []netip.AddrPort) string {
	s := make([]string, len(list))
	for i, a := range list {
		s[i] = a.String()
	}
	return strings.Join(s, " ")
}
