package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/simguard/simguard/audit"
	"github.com/simguard/simguard/sqlite"
)

func auditCommand() *command {
	return &command{name: "audit", summary: "read and verify the tamper-evident audit log", subs: []*command{
		{name: "log", summary: "show who changed what, when", run: auditLog},
		{name: "verify", summary: "verify the hash chain and signed checkpoints", run: auditVerify},
	}}
}

func auditLog(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "audit log", "[flags]", "Show your tenant's audit log, oldest first.")
	api := addAPIFlags(fs, env)
	object := fs.String("object", "", "only this object, e.g. sim:8949… or group:meters")
	action := fs.String("action", "", "only this action, e.g. sim.suspend")
	limit := fs.Int("limit", 100, "records to show")
	after := fs.Int64("after", 0, "only records after this sequence number")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	c, err := api.client(env)
	if err != nil {
		return err
	}
	recs, _, err := c.Audit(ctx, *object, *action, *after, *limit)
	if err != nil {
		return err
	}
	if api.json {
		return printJSON(env.stdout, recs)
	}
	tw := table(env.stdout)
	fmt.Fprintln(tw, "SEQ\tTIME\tACTOR\tACTION\tOBJECT")
	for _, r := range recs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", r.Seq, r.Time.Format(time.RFC3339), r.Actor, r.Action, r.Object)
	}
	return tw.Flush()
}

func auditVerify(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "audit verify", "[flags]",
		"Verify the audit log: every record's hash, the chain's order and completeness, and the\nsigned checkpoints. With --data it reads the data directory directly (the server may be\nstopped); otherwise it asks the server. Exits 1 if anything is wrong, naming each record.")
	api := addAPIFlags(fs, env)
	data := fs.String("data", "", "verify this data directory offline instead of asking the server")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *data != "" {
		return auditVerifyOffline(ctx, env, *data, api.json)
	}
	c, err := api.client(env)
	if err != nil {
		return err
	}
	rep, err := c.VerifyAudit(ctx)
	if err != nil {
		return err
	}
	if api.json {
		if err := printJSON(env.stdout, rep); err != nil {
			return err
		}
	} else {
		printReportMap(env, rep)
	}
	if ok, _ := rep["ok"].(bool); !ok {
		return fmt.Errorf("the audit log has been tampered with")
	}
	return nil
}

func printReportMap(env *cliEnv, rep map[string]any) {
	ok, _ := rep["ok"].(bool)
	if ok {
		fmt.Fprintf(env.stdout, "audit log OK: %v records, last seq %v, %v checkpoints verified\n", rep["records"], rep["last_seq"], rep["checkpoints_verified"])
		return
	}
	fmt.Fprintln(env.stdout, "audit log NOT OK:")
	probs, _ := rep["problems"].([]any)
	for _, p := range probs {
		m, _ := p.(map[string]any)
		fmt.Fprintf(env.stdout, "  seq %v: %v: %v\n", m["seq"], m["kind"], m["message"])
	}
}

func auditVerifyOffline(ctx context.Context, env *cliEnv, dir string, asJSON bool) error {
	db, err := sqlite.Open(ctx, filepath.Join(dir, dbFile), sqlite.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	signer, err := audit.LoadKey(filepath.Join(dir, auditKeyFile))
	if err != nil {
		return err
	}
	rep, err := audit.Verify(ctx, db, signer.PublicKey())
	if err != nil {
		return err
	}
	if asJSON {
		if err := printJSON(env.stdout, rep); err != nil {
			return err
		}
	} else if rep.OK {
		fmt.Fprintf(env.stdout, "audit log OK: %d records, last seq %d, %d checkpoints verified\n", rep.Records, rep.LastSeq, rep.Checkpoints)
	} else {
		fmt.Fprintln(env.stdout, "audit log NOT OK:")
		for _, p := range rep.Problems {
			fmt.Fprintf(env.stdout, "  seq %d: %s: %s\n", p.Seq, p.Kind, strings.TrimSpace(p.Message))
		}
	}
	if !rep.OK {
		return fmt.Errorf("the audit log has been tampered with")
	}
	return nil
}
