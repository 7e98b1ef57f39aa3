// Package pgtest gives tests a PostgreSQL database of their own on the
// server named by SCIMD_TEST_POSTGRES (scripts/test starts one). Without
// it, tests that need PostgreSQL skip, saying how to run them, unless
// SCIMD_CI=1, where they fail: CI must run them.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	"github.com/scimd/scimd/sqlstore"
)

// Env is the variable naming the test server.
const Env = "SCIMD_TEST_POSTGRES"

// ServerDSN returns the test server's DSN, skipping t if there is none
// (failing it under SCIMD_CI=1).
func ServerDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(Env)
	if dsn == "" {
		if os.Getenv("SCIMD_CI") == "1" {
			t.Fatalf("%s is not set, and CI requires the PostgreSQL tests (scripts/test starts a server)", Env)
		}
		t.Skipf("PostgreSQL tests skipped: set %s=postgres://user@host:port/db, or run scripts/test, which starts a throwaway server", Env)
	}
	return dsn
}

// DSN returns a DSN for a new, empty schema on the test server, dropped
// when t ends. Stores opened on it see only that schema, so tests (and
// test binaries) can run at the same time on one server.
func DSN(t testing.TB) string {
	t.Helper()
	server := ServerDSN(t)
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	schema := "t_" + hex.EncodeToString(b[:])
	db, err := sql.Open("pgx", server)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := db.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		db.Close()
		t.Fatalf("create schema on %s: %v", sqlstore.RedactDSN(server), err)
	}
	t.Cleanup(func() {
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := db.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Logf("drop schema %s: %v", schema, err)
		}
	})
	return WithParam(server, "search_path", schema)
}

// WithParam returns dsn with the query parameter k set to v.
func WithParam(dsn, k, v string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		return dsn + sep + url.QueryEscape(k) + "=" + url.QueryEscape(v)
	}
	q := u.Query()
	q.Set(k, v)
	u.RawQuery = q.Encode()
	return u.String()
}

// Open opens a store on a new schema (see DSN), closed when t ends.
func Open(t testing.TB, opts sqlstore.Options) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), DSN(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
