package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// serveConfig is the control plane's configuration. Precedence: flags,
// then SIMGUARD_* environment variables, then the config file, then these
// defaults.
type serveConfig struct {
	Data   string    `yaml:"data"`
	Listen string    `yaml:"listen"`
	Demo   bool      `yaml:"demo"`
	Tenant string    `yaml:"tenant"` // name of the provider tenant made on first start
	Log    logConfig `yaml:"log"`
	Events struct {
		Retention time.Duration `yaml:"retention"`
	} `yaml:"events"`
	Detect detectConfig `yaml:"detect"`
	Audit  struct {
		CheckpointEvery time.Duration `yaml:"checkpoint_every"`
		// AcceptBroken starts even when the chain does not verify (after
		// an incident, to investigate with the server up).
		AcceptBroken bool `yaml:"accept_broken"`
	} `yaml:"audit"`
	RADIUS   radiusConfig   `yaml:"radius"`
	Console  consoleConfig  `yaml:"console"`
	SMPP     smppConfig     `yaml:"smpp"`
	Scan     scanConfig     `yaml:"scan"`
	Diameter diameterConfig `yaml:"diameter"`
	Gateway  gatewayConfig  `yaml:"gateway"`
}

type logConfig struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

func defaultServeConfig() serveConfig {
	var c serveConfig
	c.Data = "./simguard-data"
	c.Listen = "127.0.0.1:8080"
	c.Tenant = "provider"
	c.Log = logConfig{Level: "info", Format: "text"}
	c.Events.Retention = 30 * 24 * time.Hour
	c.Audit.CheckpointEvery = time.Minute
	c.Detect.Enabled = true
	c.Console.defaults()
	return c
}

// loadServeConfig reads the file named by --config (or SIMGUARD_CONFIG),
// then the environment, then the flags, each overriding the one before.
// Every component registers its own flags through the features list.
func loadServeConfig(fs *flag.FlagSet, args []string, env *cliEnv) (serveConfig, error) {
	cfg := defaultServeConfig()
	file := configFileArg(args, env)
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return cfg, err
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
			return cfg, fmt.Errorf("config %s: %v", file, strings.TrimPrefix(err.Error(), "yaml: "))
		}
	}
	for name, dst := range map[string]*string{
		"SIMGUARD_DATA": &cfg.Data, "SIMGUARD_LISTEN": &cfg.Listen,
		"SIMGUARD_LOG_LEVEL": &cfg.Log.Level, "SIMGUARD_LOG_FORMAT": &cfg.Log.Format,
	} {
		if v := env.getenv(name); v != "" {
			*dst = v
		}
	}
	fs.String("config", file, "YAML config file (env SIMGUARD_CONFIG); flags override it")
	fs.StringVar(&cfg.Data, "data", cfg.Data, "data directory (env SIMGUARD_DATA)")
	fs.StringVar(&cfg.Listen, "listen", cfg.Listen, "HTTP address for the API, console and metrics (env SIMGUARD_LISTEN)")
	fs.BoolVar(&cfg.Demo, "demo", cfg.Demo, "load the demo fleet on first start and print an example of each decision")
	fs.StringVar(&cfg.Log.Level, "log-level", cfg.Log.Level, "debug, info, warn or error (env SIMGUARD_LOG_LEVEL)")
	fs.StringVar(&cfg.Log.Format, "log-format", cfg.Log.Format, "text or json (env SIMGUARD_LOG_FORMAT)")
	fs.DurationVar(&cfg.Events.Retention, "event-retention", cfg.Events.Retention, "how long events are kept")
	for _, f := range features {
		if f.flags != nil {
			f.flags(fs, &cfg)
		}
	}
	if _, err := parse(fs, args); err != nil {
		return cfg, err
	}
	return cfg, cfg.validate()
}

// configFileArg finds --config FILE (or -config=FILE) before the flags are
// parsed, because the file's values become the flags' defaults.
func configFileArg(args []string, env *cliEnv) string {
	file := env.getenv("SIMGUARD_CONFIG")
	for i, a := range args {
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "config" {
			continue
		}
		if hasVal {
			file = val
		} else if i+1 < len(args) {
			file = args[i+1]
		}
	}
	return file
}

func (c *serveConfig) validate() error {
	if c.Data == "" {
		return fmt.Errorf("data: give a data directory")
	}
	if c.Listen == "" {
		return fmt.Errorf("listen: give an address such as 127.0.0.1:8080")
	}
	if _, err := parseLevel(c.Log.Level); err != nil {
		return err
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		return fmt.Errorf("log.format: must be text or json, got %q", c.Log.Format)
	}
	if c.Events.Retention < time.Hour {
		return fmt.Errorf("events.retention: keep events at least 1h, got %s", c.Events.Retention)
	}
	if c.Audit.CheckpointEvery < time.Second {
		return fmt.Errorf("audit.checkpoint_every: at least 1s, got %s", c.Audit.CheckpointEvery)
	}
	return nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("log.level: must be debug, info, warn or error, got %q", s)
	}
	return l, nil
}

func newLogger(c logConfig, env *cliEnv) *slog.Logger {
	level, _ := parseLevel(c.Level)
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(env.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(env.stderr, opts))
}
