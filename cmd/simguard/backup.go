package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/simguard/simguard/audit"
	"github.com/simguard/simguard/sqlite"
)

func backupCommand() *command {
	return &command{name: "backup", summary: "copy the data directory consistently, while serving", run: backup}
}

// backup writes a restorable copy of a data directory: a consistent copy
// of the database (taken online) and the two keys. The directory it writes
// is itself a data directory: restore by stopping simguard and pointing
// --data at it (or copying it in place).
func backup(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "backup", "--out DIR [flags]",
		"Back up a data directory: a consistent online copy of the database plus the audit signing\nkey and the secrets key (keep backups as safe as the server: the keys sign the audit log and\nopen the stored secrets). The result is a data directory; restore by serving from it.\nThe copy's audit chain is verified before the command succeeds.")
	data := fs.String("data", "./simguard-data", "data directory to back up")
	out := fs.String("out", "", "new directory to write the backup to")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usageError{"give --out DIR, a directory that does not exist yet"}
	}
	if _, err := os.Stat(filepath.Join(*data, dbFile)); err != nil {
		return fmt.Errorf("%s is not a simguard data directory: %w", *data, err)
	}
	if err := os.Mkdir(*out, 0o700); err != nil {
		return fmt.Errorf("backup directory: %w", err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(*data, dbFile), sqlite.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Backup(ctx, filepath.Join(*out, dbFile)); err != nil {
		return err
	}
	for _, k := range []string{auditKeyFile, secretsKeyFile} {
		if err := copyPrivate(filepath.Join(*data, k), filepath.Join(*out, k)); err != nil {
			return err
		}
	}
	copyDB, err := sqlite.Open(ctx, filepath.Join(*out, dbFile), sqlite.Options{})
	if err != nil {
		return err
	}
	defer copyDB.Close()
	signer, err := audit.LoadKey(filepath.Join(*out, auditKeyFile))
	if err != nil {
		return err
	}
	rep, err := audit.Verify(ctx, copyDB, signer.PublicKey())
	if err != nil {
		return err
	}
	if !rep.OK {
		return fmt.Errorf("the backup's audit chain does not verify (%d problems): the source is damaged; run 'simguard audit verify --data %s'", len(rep.Problems), *data)
	}
	fmt.Fprintf(env.stdout, "backup written to %s: %d audit records verified, last seq %d\n", *out, rep.Records, rep.LastSeq)
	return nil
}

func copyPrivate(src, dst string) error {
	in, err := os.Open(src)
	if os.IsNotExist(err) {
		return nil // a key not made yet (e.g. no secrets stored so far)
	}
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
