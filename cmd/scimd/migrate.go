package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/scimd/scimd/sqlstore"
)

// migrate applies pending migrations and reports the schema version.
// serve does the same at start (under a lock, so replicas may start
// together); this lets an operator do it as a separate deployment step,
// for instance with a role that may change the schema when the replicas'
// role may not.
func migrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("migrate", stderr)
	db := dbFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "scimd migrate: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	st, err := openStore(ctx, *db, logger)
	if err != nil {
		return err
	}
	defer st.Close()
	v, err := st.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s database %s is at migration %d\n", st.Dialect(), sqlstore.RedactDSN(db.DSN), v)
	return nil
}
