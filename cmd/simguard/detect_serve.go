package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/simguard/simguard"
	"github.com/simguard/simguard/control"
	"github.com/simguard/simguard/detect"
	sghttp "github.com/simguard/simguard/http"
	"github.com/simguard/simguard/notify"
	"github.com/simguard/simguard/sqlite"
)

// detectConfig is the "detect:" section of the serve config.
type detectConfig struct {
	Enabled bool `yaml:"enabled"`
	// Rules is a directory of the operator's rule files; they add to the
	// built-in rules and replace those of the same name.
	Rules string `yaml:"rules"`
	// SuspensionsPerHour caps automatic suspend_sim and quarantine actions
	// (0: the default 100; -1: none at all).
	SuspensionsPerHour int `yaml:"suspensions_per_hour"`
	// Shards is how many detectors run the rules in parallel, each owning
	// a share of the keys (0: one per core).
	Shards   int             `yaml:"shards"`
	Webhooks []detectWebhook `yaml:"webhooks"`
	Syslog   *detectSyslog   `yaml:"syslog"`
	// JSONL appends every alert notice to this file ("-": stdout).
	JSONL string `yaml:"jsonl"`
}

type detectWebhook struct {
	Name string `yaml:"name"`
	URL  string `yaml:"url"`
	// Secret signs the bodies; SecretEnv names an environment variable
	// holding it instead, to keep it out of the file.
	Secret      string   `yaml:"secret"`
	SecretEnv   string   `yaml:"secret_env"`
	MinSeverity string   `yaml:"min_severity"`
	Kinds       []string `yaml:"kinds"`
	// MaxAttempts and Backoff tune retries (defaults 6 and 1s, doubling).
	MaxAttempts int           `yaml:"max_attempts"`
	Backoff     time.Duration `yaml:"backoff"`
}

type detectSyslog struct {
	Network     string `yaml:"network"`
	Address     string `yaml:"address"`
	Facility    string `yaml:"facility"`
	MinSeverity string `yaml:"min_severity"`
}

var detectFeature = feature{name: "detect", flags: detectFlags, attach: attachDetect}

func filterOf(minSeverity string, kinds []string) notify.Filter {
	f := notify.Filter{MinSeverity: simguard.Severity(minSeverity)}
	for _, k := range kinds {
		f.Kinds = append(f.Kinds, simguard.AlertNoticeKind(k))
	}
	return f
}

// attachDetect runs the engine on the events the event writer has stored
// (with their IDs), delivers notices, and acts through the control
// service.
func attachDetect(cp *controlPlane) error {
	cfg := cp.cfg.Detect
	if !cfg.Enabled {
		return nil
	}
	rules, err := loadRules(cfg.Rules)
	if err != nil {
		return ruleErrors(err)
	}
	var notifiers []detect.Notifier
	hooks := webhookService{db: cp.db, hooks: map[string]*notify.Webhook{}}
	for i, w := range cfg.Webhooks {
		secret := w.Secret
		if w.SecretEnv != "" {
			secret = cp.env.getenv(w.SecretEnv)
		}
		hook, err := notify.NewWebhook(notify.WebhookConfig{Name: w.Name, URL: w.URL, Secret: secret,
			Filter: filterOf(w.MinSeverity, w.Kinds), MaxAttempts: w.MaxAttempts, Backoff: w.Backoff},
			notify.WebhookDeps{DeadLetters: cp.db, Logger: cp.log, Registerer: cp.reg})
		if err != nil {
			return fmt.Errorf("detect.webhooks[%d]: %s", i, simguard.ErrorMessage(err))
		}
		if _, dup := hooks.hooks[w.Name]; dup {
			return fmt.Errorf("detect.webhooks[%d].name: %q is used twice", i, w.Name)
		}
		hooks.hooks[w.Name] = hook
		notifiers = append(notifiers, hook)
		cp.components = append(cp.components, component{name: "webhook " + w.Name, run: hook.Run})
	}
	if s := cfg.Syslog; s != nil {
		sl, err := notify.NewSyslog(notify.SyslogConfig{Network: s.Network, Address: s.Address, Facility: s.Facility,
			Filter: filterOf(s.MinSeverity, nil)}, notify.SyslogDeps{Logger: cp.log, Registerer: cp.reg})
		if err != nil {
			return fmt.Errorf("detect.%s", simguard.ErrorMessage(err))
		}
		notifiers = append(notifiers, sl)
		cp.components = append(cp.components, component{name: "syslog", run: sl.Run})
	}
	if cfg.JSONL != "" {
		j, err := notify.OpenJSONLines(cfg.JSONL, notify.Filter{})
		if err != nil {
			return fmt.Errorf("detect.jsonl: %w", err)
		}
		notifiers = append(notifiers, j)
		cp.closers = append(cp.closers, func() { _ = j.Close() })
	}
	eng, err := detect.New(detect.Config{SuspensionsPerHour: cfg.SuspensionsPerHour, Shards: cfg.Shards}, detect.Deps{
		Rules: rules, Alerts: cp.db, Responder: controlResponder{cp.svc}, Notifiers: notifiers,
		Logger: cp.log.With("component", "detect"), Clock: time.Now, Registerer: cp.reg,
	})
	if err != nil {
		return err
	}
	cp.events.Subscribe(eng.EmitBatch)
	cp.svc.OnNodeEvents(eng.EmitBatch)
	cp.components = append(cp.components, component{name: "detect", run: eng.Run},
		component{name: "detect rules reload", run: func(ctx context.Context) error {
			reloadRulesOnHangup(ctx, cfg.Rules, eng, cp.log)
			return nil
		}})
	cp.alerts = alertService{cp.db, eng}
	cp.apiHooks = append(cp.apiHooks, func(api *sghttp.Server) {
		api.HandleAlerts(alertService{cp.db, eng})
		api.HandleWebhooks(hooks)
	})
	cp.log.Info("detection on", "rules", len(rules.Rules()), "webhooks", len(cfg.Webhooks))
	return nil
}

// alertService serves the alert routes: reads from the store, state
// changes through the engine.
type alertService struct {
	*sqlite.DB
	*detect.Engine
}

// webhookService lists dead letters from the store and replays them
// through the configured webhook of that name.
type webhookService struct {
	db    *sqlite.DB
	hooks map[string]*notify.Webhook
}

func (w webhookService) DeadLetters(ctx context.Context, webhook string, limit int) ([]simguard.DeadLetter, error) {
	return w.db.DeadLetters(ctx, webhook, limit)
}

func (w webhookService) ReplayDeadLetters(ctx context.Context, name string) (int, error) {
	hook, ok := w.hooks[name]
	if !ok {
		return 0, simguard.Errorf(simguard.ENOTFOUND, "no webhook %q is configured", name)
	}
	n, err := hook.ReplayDeadLetters(ctx)
	if err != nil {
		return n, simguard.Errorf(simguard.EUNAVAILABLE, "delivered %d, then stopped: %v", n, err)
	}
	return n, nil
}

// controlResponder carries out rule actions through the control service,
// exactly like an operator's request made by the rule's actor: validated,
// audited and pushed into the next policy snapshot.
type controlResponder struct{ svc *control.Service }

func (r controlResponder) simRef(ctx context.Context, actor simguard.Actor, simID int64) (string, error) {
	sim, err := r.svc.Store().GetSIM(ctx, actor.TenantID, simID)
	if err != nil {
		return "", err
	}
	return sim.ICCID, nil
}

// SuspendSIM suspends the SIM. The control service keeps no reason; the
// alert that holds the action says why.
func (r controlResponder) SuspendSIM(ctx context.Context, simID int64, actor simguard.Actor, _ string) error {
	ref, err := r.simRef(ctx, actor, simID)
	if err != nil {
		return err
	}
	_, err = r.svc.SuspendSIM(simguard.WithActor(ctx, actor), ref, 0)
	return err
}

func (r controlResponder) MoveSIMToGroup(ctx context.Context, simID int64, group string, actor simguard.Actor) error {
	ref, err := r.simRef(ctx, actor, simID)
	if err != nil {
		return err
	}
	_, err = r.svc.PatchSIM(simguard.WithActor(ctx, actor), ref, 0, control.SIMPatch{Group: &group})
	return err
}

// BlockDestination narrows the group's egress allowlist so that it no
// longer covers cidr (see control.Service.BlockDestination).
func (r controlResponder) BlockDestination(ctx context.Context, tenantID int64, group string, cidr netip.Prefix, actor simguard.Actor) error {
	if actor.TenantID != tenantID {
		return simguard.Errorf(simguard.EFORBIDDEN, "rule actor of tenant %d cannot change tenant %d", actor.TenantID, tenantID)
	}
	_, err := r.svc.BlockDestination(simguard.WithActor(ctx, actor), group, cidr)
	return err
}

// reloadRulesOnHangup loads the rules again on every SIGHUP, so that an
// operator's new or changed rule files take effect without a restart.
// Rules that fail to load change nothing: the engine keeps the rules it
// runs, and every problem is logged with its file, line and field.
func reloadRulesOnHangup(ctx context.Context, dir string, eng *detect.Engine, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			rs, err := loadRules(dir)
			if err != nil {
				for _, e := range unjoin(err) {
					log.Error("detect: rules not reloaded, the running rules stay", "err", e)
				}
				continue
			}
			eng.SetRules(rs)
			log.Info("detect: SIGHUP, rules loaded", "rules", len(rs.Rules()), "dir", dir)
		}
	}
}
