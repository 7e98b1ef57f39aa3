package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/scimd/scimd/admin"
	"github.com/scimd/scimd/scim"
)

// adminCmd is "scimd admin password": set an administrator's password
// from standard input, ending its sessions.
func adminCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "password" {
		fmt.Fprintln(stderr, "usage: scimd admin password [--db PATH] [--user admin] < new-password")
		return errUsage
	}
	fs := newFlags("admin password", stderr)
	db := dbFlag(fs)
	user := fs.String("user", admin.AdminName, "administrator whose password to set (created if missing)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "New password for %s (one line on standard input, %d to %d characters):\n", *user, admin.MinPassword, admin.MaxPassword)
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return fmt.Errorf("read password: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return fmt.Errorf("no password on standard input")
	}
	ctx = scim.WithActor(ctx, scim.Actor{Name: "cli", Kind: "cli"})
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := openStore(ctx, *db, logger)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := admin.SetPassword(ctx, st, *user, pw, admin.DefaultBcryptCost); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "password of %s set; its console sessions have ended\n", *user)
	return nil
}

// retentionFlag is --audit-retention: "90d", "12w", "720h"; 0 keeps the
// audit trail forever.
func retentionFlag(fs *flag.FlagSet) *time.Duration {
	d := 90 * 24 * time.Hour
	if v, err := admin.ParseExpiry(env("SCIMD_AUDIT_RETENTION", "")); err == nil && env("SCIMD_AUDIT_RETENTION", "") != "" {
		d = v
	}
	fs.Func("audit-retention", "how long audit records are kept, e.g. 90d, 52w; 0 keeps them forever (env SCIMD_AUDIT_RETENTION; default 90d)", func(s string) error {
		v, err := admin.ParseExpiry(s)
		if err != nil {
			return err
		}
		d = v
		return nil
	})
	return &d
}

// firstAdmin creates the console administrator on first start and prints
// its password, once.
func firstAdmin(ctx context.Context, st admin.Store, base string, stdout io.Writer) error {
	pw, err := admin.EnsureAdmin(scim.WithActor(ctx, scim.Actor{Name: "first start", Kind: "system"}), st, admin.DefaultBcryptCost)
	if err != nil {
		return fmt.Errorf("create console administrator: %w", err)
	}
	if pw != "" {
		console := strings.TrimSuffix(base, admin.SCIMPath) + "/admin/"
		fmt.Fprintf(stdout, "Admin console: %s\nConsole user %q, password (shown only this once; change it with \"scimd admin password\"):\n%s\n", console, admin.AdminName, pw)
	}
	return nil
}

// mountConsole registers the admin console on mux.
func mountConsole(mux *http.ServeMux, st admin.Store, publicURL string, logger *slog.Logger) *admin.Server {
	c := admin.New(st, publicURL, logger)
	c.Routes(mux)
	return c
}
