package api_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/scimd/scimd/scim"
	"github.com/scimd/scimd/sqlstore"
	"github.com/scimd/scimd/sqlstore/pgtest"
)

// onPostgres is set while TestMain runs the tests a second time, on
// PostgreSQL.
var onPostgres bool

// openSQL opens a new, empty store on the backend the tests run on: a
// SQLite file in a temp folder, or a schema of its own on the PostgreSQL
// test server.
func openSQL(t testing.TB) (*sqlstore.Store, error) {
	t.Helper()
	dsn := filepath.Join(t.TempDir(), "scimd.db")
	if onPostgres {
		dsn = pgtest.DSN(t)
	}
	return sqlstore.Open(context.Background(), dsn, sqlstore.Options{})
}

// TestMain runs every API test on SQLite, then, when a PostgreSQL test
// server is configured (SCIMD_TEST_POSTGRES), all of them again on it: the
// API must behave identically on both.
func TestMain(m *testing.M) {
	code := m.Run()
	switch {
	case code != 0:
	case os.Getenv(pgtest.Env) != "":
		onPostgres = true
		openStore = func(t testing.TB) scim.Store {
			t.Helper()
			s, err := openSQL(t)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
		fmt.Println("=== the API tests again, on PostgreSQL")
		code = m.Run()
	case os.Getenv("SCIMD_CI") == "1":
		fmt.Printf("FAIL: %s is not set, and CI requires the API tests on PostgreSQL\n", pgtest.Env)
		code = 1
	default:
		fmt.Printf("API tests on PostgreSQL skipped: set %s=postgres://… (scripts/test starts a server)\n", pgtest.Env)
	}
	os.Exit(code)
}
