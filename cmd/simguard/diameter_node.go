package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/simguard/simguard/diameter"
	"github.com/simguard/simguard/enforce"
	"github.com/simguard/simguard/node"
)

// diameterNode runs the S13 EIR / S6a guard as a node of a remote control
// plane: it follows the policy (device list included) over the sync API,
// keeps enforcing the last policy when the control plane is away, reads
// its peers from the API, and reports learned IMEIs and events through it.
func diameterNode(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "diameter", "[--server URL] [--config FILE] [flags]  |  simguard diameter peers …",
		"Run the Diameter S13 EIR and S6a guard as a separate node of the control plane at --server, with a\n"+
			"node token in SIMGUARD_TOKEN (simguard token create --role node). The diameter: section of the config\n"+
			"file (the same format as serve's) or the --diameter-* flags configure it.")
	server, metrics, cfg, err := nodeFlags(fs, env, args, "diameter", "127.0.0.1:9276")
	if err != nil {
		return err
	}
	peerEvery := fs.Duration("peer-check", 30*time.Second, "how often the peers are re-read from the control plane")
	diameterNetFlags(fs, &cfg.Diameter.Config)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if _, err := parseLevel(cfg.Log.Level); err != nil {
		return err
	}
	c, err := nodeClient(env, *server, "diameter-1")
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
	srv, err := diameter.New(cfg.Diameter.Config, diameter.Deps{
		Evaluator: follower.Policy(), Feedback: node.NewFeedback(c), Events: events,
		Logger: log.With("component", "diameter"), Registerer: reg,
	})
	if err != nil {
		return err
	}
	peers, err := c.DiameterPeers(ctx)
	if err != nil {
		return fmt.Errorf("read the Diameter peers from the control plane: %w", err)
	}
	srv.SetPeers(peers)
	m, err := listenMetrics(*metrics, "--metrics-listen", reg)
	if err != nil {
		return err
	}
	defer m.Close()
	if err := srv.Listen(); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "Diameter node listening on %s (%d peers), following %s\n", srv.Addr(), len(peers), *server)

	var wg sync.WaitGroup
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	evCtx, stopEvents := context.WithCancel(context.WithoutCancel(ctx))
	wg.Add(3)
	go func() { defer wg.Done(); _ = follower.Run(bg) }()
	go func() { defer wg.Done(); _ = events.Run(evCtx) }()
	go func() {
		defer wg.Done()
		t := time.NewTicker(*peerEvery)
		defer t.Stop()
		for {
			select {
			case <-bg.Done():
				return
			case <-t.C:
			}
			cctx, cancel := context.WithTimeout(bg, *peerEvery)
			list, err := c.DiameterPeers(cctx)
			cancel()
			if err != nil {
				log.Warn("diameter: re-read peers; keeping the last ones", "err", err)
				continue
			}
			srv.SetPeers(list)
		}
	}()
	runErr := srv.Run(ctx)
	stopEvents()
	stopBG()
	wg.Wait()
	return runErr
}
