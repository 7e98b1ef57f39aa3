package sqlstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"unicode"

	"github.com/scimd/scimd/scim/schema"

	"github.com/scimd/scimd/scim"
	"github.com/scimd/scimd/sqlstore"
	"github.com/scimd/scimd/sqlstore/pgtest"
	"github.com/scimd/scimd/storetest"
)

// openPostgres opens a store on a new schema of the test server.
func openPostgres(t testing.TB) *sqlstore.Store {
	t.Helper()
	return pgtest.Open(t, sqlstore.Options{})
}

func TestPostgres(t *testing.T) {
	pgtest.ServerDSN(t)
	storetest.Run(t, func(t *testing.T) scim.Store { return openPostgres(t) })
}

// TestPostgresFold compares PostgreSQL's scim_fold with schema.Fold on
// every letter, mark, number and symbol (alone, and followed by a letter).
// Only the documented differences may remain (see foldExceptions).
func TestPostgresFold(t *testing.T) {
	s := openPostgres(t)
	db := s.DB()
	var in []string
	for r := rune(1); r <= 0x1FFFF; r++ {
		if !unicode.Is(unicode.L, r) && !unicode.Is(unicode.M, r) && !unicode.Is(unicode.N, r) && !unicode.Is(unicode.S, r) {
			continue
		}
		in = append(in, string(r), string(r)+"a")
	}
	var diffs []string
	for i := 0; i < len(in); i += 5000 {
		part := in[i:min(i+5000, len(in))]
		rows, err := db.QueryContext(context.Background(), `SELECT x, scim_fold(x) FROM unnest($1::text[]) AS x`, part)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var x, got string
			if err := rows.Scan(&x, &got); err != nil {
				t.Fatal(err)
			}
			if want := schema.Fold(x); got != want && !foldExceptions[[]rune(x)[0]] {
				diffs = append(diffs, fmt.Sprintf("%q (U+%04X): Go %q, PostgreSQL %q", x, []rune(x)[0], want, got))
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	if len(diffs) > 0 {
		t.Errorf("%d differences:\n%s", len(diffs), strings.Join(diffs, "\n"))
	}
}

// foldExceptions are the code points where scim_fold on PostgreSQL and
// schema.Fold differ, documented in the README: the Cherokee letters,
// whose case golang.org/x/text's folding swaps (Fold("Ꭰ") is "ꭰ" and
// Fold("ꭰ") is "Ꭰ"), which no function of lower() can reproduce.
var foldExceptions = func() map[rune]bool {
	m := map[rune]bool{}
	for r := rune(0x13A0); r <= 0x13FD; r++ {
		m[r] = true
	}
	for r := rune(0xAB70); r <= 0xABBF; r++ {
		m[r] = true
	}
	return m
}()
