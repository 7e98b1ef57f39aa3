package sqlstore_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/scimd/scimd/scim"
	"github.com/scimd/scimd/sqlstore"
	"github.com/scimd/scimd/storetest"
)

// openSQLite opens a store on a new SQLite database in a temp folder.
func openSQLite(t testing.TB) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "db", "scimd.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) scim.Store { return openSQLite(t) })
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scimd.db")
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, path, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	u := storetest.User(t, s, "persist@example.com")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Migrations are applied once; data survives.
	s, err = sqlstore.Open(ctx, path, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Get(ctx, u.Type, "PERSIST@example.com", scim.Load{})
	if err != nil || got.ID != u.ID {
		t.Fatalf("after reopen: %v, %v", got, err)
	}
}
