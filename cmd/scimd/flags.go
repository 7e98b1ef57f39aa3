package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/scimd/scimd/sqlstore"
)

// errUsage means the flag package has already explained the mistake.
var errUsage = errors.New("usage")

// defaultDB is where the SQLite database lives unless --db or SCIMD_DB say
// otherwise.
const defaultDB = "scimd-data/scimd.db"

// env returns the environment variable, or def if it is unset or empty.
func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// newFlags returns a FlagSet that reports errors to stderr.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("scimd "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errUsage
		}
		return errUsage
	}
	return nil
}

// parseInterspersed parses flags that may come before or after positional
// arguments ("scimd token revoke okta --db x") and returns the positionals.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parse(fs, args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func dbFlag(fs *flag.FlagSet) *dbConfig {
	return addDBFlags(fs)
}

// openStore opens the database c names.
func openStore(ctx context.Context, c dbConfig, logger *slog.Logger) (*sqlstore.Store, error) {
	opts := c.Options
	opts.Logger = logger
	s, err := sqlstore.Open(ctx, c.DSN, opts)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", sqlstore.RedactDSN(c.DSN), err)
	}
	return s, nil
}
