package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/scimd/scimd/scim"
)

func token(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: scimd token create|list|revoke [flags]")
		return errUsage
	}
	ctx = scim.WithActor(ctx, scim.Actor{Name: "cli", Kind: "cli"})
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	switch args[0] {
	case "create":
		fs := newFlags("token create", stderr)
		db := dbFlag(fs)
		name := fs.String("name", "", "token name, e.g. okta or entra (required)")
		expires := fs.String("expires", "", "lifetime, e.g. 90d, 2w, 12h (default: never)")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		if *name == "" {
			fmt.Fprintln(stderr, "scimd token create: --name is required")
			return errUsage
		}
		ttl, err := scim.ParseLifetime(*expires)
		if err != nil {
			return err
		}
		st, err := openStore(ctx, *db, logger)
		if err != nil {
			return err
		}
		defer st.Close()
		secret, err := createToken(ctx, st, *name, ttl, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, secret)
		return nil
	case "list":
		fs := newFlags("token list", stderr)
		db := dbFlag(fs)
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		st, err := openStore(ctx, *db, logger)
		if err != nil {
			return err
		}
		defer st.Close()
		ts, err := st.ListTokens(ctx)
		if err != nil {
			return err
		}
		now := time.Now()
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tCREATED\tLAST USED\tEXPIRES\tSTATE")
		for _, t := range ts {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, when(t.CreatedAt, "-"), when(t.LastUsed, "never"), when(t.ExpiresAt, "never"), t.State(now))
		}
		return tw.Flush()
	case "revoke":
		fs := newFlags("token revoke", stderr)
		db := dbFlag(fs)
		pos, err := parseInterspersed(fs, args[1:])
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			fmt.Fprintln(stderr, "usage: scimd token revoke [--db PATH] NAME_OR_ID")
			return errUsage
		}
		st, err := openStore(ctx, *db, logger)
		if err != nil {
			return err
		}
		defer st.Close()
		t, err := st.RevokeToken(ctx, pos[0])
		if errors.Is(err, scim.ErrNotFound) {
			return fmt.Errorf("no token with id or active name %q", pos[0])
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "revoked token %s (%s)\n", t.Name, t.ID)
		return nil
	}
	fmt.Fprintf(stderr, "scimd token: unknown subcommand %q (create, list, revoke)\n", args[0])
	return errUsage
}

// createToken stores a new token and returns its secret.
func createToken(ctx context.Context, st scim.Tokens, name string, ttl time.Duration, now time.Time) (string, error) {
	_, secret, err := scim.IssueToken(ctx, st, name, ttl, now)
	if errors.Is(err, scim.ErrConflict) {
		return "", fmt.Errorf("an active token named %q exists already; revoke it or choose another name", name)
	}
	return secret, err
}

func when(t time.Time, zero string) string {
	if t.IsZero() {
		return zero
	}
	return t.Local().Format("2006-01-02 15:04")
}
