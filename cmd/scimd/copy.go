package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/scimd/scimd/sqlstore"
)

// copyDB copies one scimd database into another, new one: SQLite to
// PostgreSQL when outgrowing one machine, or back.
func copyDB(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("copy", stderr)
	from := fs.String("from", "", "the database to copy: a SQLite file path or postgres://… (required)")
	to := addDBFlags(fs)
	fs.Lookup("db").Usage = "unused; give the destination with --to"
	toDSN := fs.String("to", "", "the new database to copy into; created and migrated if needed, and it must hold no data (required)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *from == "" || *toDSN == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: scimd copy --from DSN --to DSN")
		return errUsage
	}
	if *from == *toDSN {
		return fmt.Errorf("--from and --to name the same database")
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	src, err := openStore(ctx, dbConfig{DSN: *from, Options: to.Options}, logger)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := openStore(ctx, dbConfig{DSN: *toDSN, Options: to.Options}, logger)
	if err != nil {
		return err
	}
	defer dst.Close()
	stats, err := sqlstore.Copy(ctx, src, dst)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "copied %s (%s) to %s (%s):\n", sqlstore.RedactDSN(*from), src.Dialect(), sqlstore.RedactDSN(*toDSN), dst.Dialect())
	for _, t := range []string{"scim_users", "scim_groups", "scim_members", "scim_tokens", "scim_audit", "scim_admins"} {
		fmt.Fprintf(stdout, "  %-13s %d\n", t, stats[t])
	}
	return nil
}
