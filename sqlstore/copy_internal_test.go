package sqlstore

import (
	"context"
	"path/filepath"
	"testing"
)

// TestCopyCoversEveryTable fails when a migration adds a table that scimd
// copy neither copies nor leaves behind on purpose.
func TestCopyCoversEveryTable(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "scimd.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.r.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	known := map[string]bool{}
	for _, c := range copyTables {
		known[c.name] = true
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		if !known[name] && !notCopied[name] {
			t.Errorf("table %s is not copied by scimd copy: add it to copyTables (or notCopied)", name)
		}
	}
}
