package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.yaml.in/yaml/v3"

	"github.com/simguard/simguard/client"
	"github.com/simguard/simguard/enforce"
	"github.com/simguard/simguard/node"
	"github.com/simguard/simguard/smpp"
)

// smppNode runs the SMS firewall as a node of a remote control plane: it
// follows the policy over the sync API (and keeps enforcing the last one
// it had when the control plane is away), checks binds and reports usage
// and events through the API, with a node token.
func smppNode(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "smpp", "[--server URL] [--config FILE] [flags]  |  simguard smpp account …",
		"Run the SMS firewall as a separate node of the control plane at --server, with a node token in\n"+
			"SIMGUARD_TOKEN (simguard token create --role node). The smpp: section of the config file (the\n"+
			"same format as serve's) or the --smpp-* flags configure it. 'simguard smpp account' manages\n"+
			"the ESME accounts.")
	server, metrics, cfg, err := nodeFlags(fs, env, args, "smpp", "127.0.0.1:9275")
	if err != nil {
		return err
	}
	recheck := fs.Duration("account-check", 30*time.Second, "how often the accounts of live binds are re-checked with the control plane")
	smppFlags(fs, &cfg.SMPP)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if cfg.SMPP.Listen == "" {
		return usageError{"set smpp.listen in the config file or --smpp-listen"}
	}
	if _, err := parseLevel(cfg.Log.Level); err != nil {
		return err
	}
	pcfg, err := cfg.SMPP.proxyConfig(env.getenv)
	if err != nil {
		return err
	}
	c, err := nodeClient(env, *server, "smpp-1")
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, env)
	reg := nodeRegistry()
	follower, err := node.Start(ctx, c, log, reg)
	if err != nil {
		return err
	}
	events := enforce.NewEventWriter(node.NewEvents(c, log), enforce.EventWriterConfig{}, log, time.Now, reg)
	srv, err := smpp.New(pcfg, smpp.Deps{
		Logger: log, Registerer: reg, Clock: time.Now,
		Evaluator: follower.Policy(), Events: events, Feedback: node.NewFeedback(c),
		Auth: c, Accounts: c, QuotaBlocks: smsQuotaBlocks(follower.Policy()),
	})
	if err != nil {
		return err
	}
	m, err := listenMetrics(*metrics, "--metrics-listen", reg)
	if err != nil {
		return err
	}
	defer m.Close()
	ln, err := net.Listen("tcp", cfg.SMPP.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (set smpp.listen or --smpp-listen)", cfg.SMPP.Listen, err)
	}
	fmt.Fprintf(env.stdout, "SMS firewall node (SMPP) listening on %s, relaying to %s, following %s\n", ln.Addr(), routeNames(pcfg.Upstreams), *server)

	var wg sync.WaitGroup
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	evCtx, stopEvents := context.WithCancel(context.WithoutCancel(ctx))
	wg.Add(3)
	go func() { defer wg.Done(); _ = follower.Run(bg) }()
	go func() { defer wg.Done(); _ = events.Run(evCtx) }()
	go func() { defer wg.Done(); recheckAccounts(bg, srv, *recheck) }()
	serveErr := srv.Serve(ctx, ln)
	// The proxy has answered what it had in flight; its events go out
	// before the node exits.
	stopEvents()
	stopBG()
	wg.Wait()
	return serveErr
}

// recheckAccounts re-checks the accounts of live binds every interval: a
// node hears of account changes only by asking.
func recheckAccounts(ctx context.Context, srv *smpp.Server, every time.Duration) {
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cctx, cancel := context.WithTimeout(ctx, every)
		srv.AccountsChanged(cctx)
		cancel()
	}
}

// nodeConfig reads the config file of a node: serve's format, strictly,
// of which the node uses the smpp: and log: sections.
// nodeFlags registers the flags every separate enforcement node shares
// (--server, --config, --metrics-listen, --log-level, --log-format) and
// reads the config file's sections, so that the node's own flags can then
// bind to cfg. section names the config section the node reads.
func nodeFlags(fs *flag.FlagSet, env *cliEnv, args []string, section, metricsExample string) (server, metrics *string, cfg *serveConfig, err error) {
	def := env.getenv("SIMGUARD_SERVER")
	if def == "" {
		def = "http://127.0.0.1:8080"
	}
	server = fs.String("server", def, "control plane URL (env SIMGUARD_SERVER)")
	file := configFileArg(args, env)
	fs.String("config", file, "YAML config file (env SIMGUARD_CONFIG): its "+section+": and log: sections")
	metrics = fs.String("metrics-listen", "", "serve Prometheus metrics on this address, e.g. "+metricsExample+" (empty: none)")
	c, err := nodeConfig(file)
	if err != nil {
		return nil, nil, nil, err
	}
	fs.StringVar(&c.Log.Level, "log-level", c.Log.Level, "debug, info, warn or error")
	fs.StringVar(&c.Log.Format, "log-format", c.Log.Format, "text or json")
	return server, metrics, &c, nil
}

// nodeClient is the API client of a separate node, with the node token
// from SIMGUARD_TOKEN; name is an example token name for the error.
func nodeClient(env *cliEnv, server, name string) (*client.Client, error) {
	token := env.getenv("SIMGUARD_TOKEN")
	if token == "" {
		return nil, fmt.Errorf("no token: export SIMGUARD_TOKEN=<a node token> (simguard token create --name %s --role node)", name)
	}
	return client.New(server, token, nil)
}

// nodeMetrics serves a node's /metrics.
type nodeMetrics struct {
	addr net.Addr
	srv  *http.Server
	done chan struct{}
}

// listenMetrics serves reg's metrics on addr at /metrics, and /healthz
// (nil for ""). setting names where addr came from, for the error. A node
// told to serve metrics that cannot bind the address does not start: a
// start that fails is seen at once, a scrape target that is missing only
// when it is needed.
func listenMetrics(addr, setting string, reg *prometheus.Registry) (*nodeMetrics, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen on %s: %w (set %s)", addr, err, setting)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	m := &nodeMetrics{
		addr: ln.Addr(),
		srv:  &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
		done: make(chan struct{}),
	}
	go func() { defer close(m.done); _ = m.srv.Serve(ln) }()
	return m, nil
}

// Close stops serving the metrics; a nil m serves none.
func (m *nodeMetrics) Close() {
	if m == nil {
		return
	}
	m.srv.Close()
	<-m.done
}

// nodeRegistry is a node's Prometheus registry, with the Go runtime and
// process collectors.
func nodeRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

func nodeConfig(file string) (serveConfig, error) {
	cfg := defaultServeConfig()
	if file == "" {
		return cfg, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return cfg, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return cfg, fmt.Errorf("config %s: %v", file, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return cfg, nil
}
