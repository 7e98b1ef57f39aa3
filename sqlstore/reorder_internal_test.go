package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/scimd/scimd/scim"
	"github.com/scimd/scimd/scim/schema"
)

// An import reading page after page keeps seeking from the last page's
// end while others append users or update them, walks the index again
// only after a delete, and always reads what OFFSET would give.
func TestPagingAcrossAppends(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "scimd.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := 0
	add := func() *scim.Resource {
		t.Helper()
		n++
		r, err := s.Create(ctx, &scim.Resource{Type: schema.UserType, Attrs: map[string]any{"userName": fmt.Sprintf("u%03d", n)}})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for range 50 {
		add()
	}
	ids := func(p *scim.Page) []string {
		out := []string{}
		for _, r := range p.Resources {
			out = append(out, r.ID)
		}
		return out
	}
	page := func(start int) *scim.Page {
		t.Helper()
		p, err := s.List(ctx, schema.UserType, scim.Query{StartIndex: start, Count: 10})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	// What OFFSET gives: the whole list, read at once.
	offset := func(start int) []string {
		t.Helper()
		all, err := s.List(ctx, schema.UserType, scim.Query{StartIndex: 1, Count: 1000})
		if err != nil {
			t.Fatal(err)
		}
		got := ids(all)
		return got[start-1 : min(start-1+10, len(got))]
	}
	check := func(start int, wantWalk bool) {
		t.Helper()
		before := s.walks.Load()
		p := page(start)
		if diff := cmp.Diff(offset(start), ids(p)); diff != "" {
			t.Errorf("page at %d differs from OFFSET (-want +got):\n%s", start, diff)
		}
		if walked := s.walks.Load() > before; walked != wantWalk {
			t.Errorf("page at %d: index walk %v, want %v", start, walked, wantWalk)
		}
	}
	check(1, false)  // page 1 needs no walk
	check(11, false) // seeks from page 1's end
	add()            // an append, and an update: positions don't move
	if _, err := s.Update(ctx, schema.UserType, "u005", scim.UpdateOptions{}, func(r *scim.Resource) error {
		r.Attrs["title"] = "moved nothing"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	check(21, false)
	if p := page(51); p.Total != 51 || len(p.Resources) != 1 {
		t.Errorf("last page after an append: total %d, %d items", p.Total, len(p.Resources))
	}
	// A delete moves every later row: the next page walks again.
	if err := s.Delete(ctx, schema.UserType, "u002", 0); err != nil {
		t.Fatal(err)
	}
	check(31, true)
	check(41, false)

	// A create whose id is not the greatest (another process's clock) is
	// no append: it moves rows, so it advances the counter.
	reorder := func() int64 {
		var n int64
		if err := s.r.QueryRow(`SELECT n FROM scim_reorder`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := reorder()
	if err := s.tx(ctx, func(tx *sql.Tx) error {
		return s.bumpReorder(ctx, tx, schema.UserType, scim.NewID(time.Now()))
	}); err != nil {
		t.Fatal(err)
	}
	if reorder() != before {
		t.Errorf("an append advanced the reorder counter")
	}
	if err := s.tx(ctx, func(tx *sql.Tx) error {
		return s.bumpReorder(ctx, tx, schema.UserType, "00000000-0000-7000-8000-000000000000")
	}); err != nil {
		t.Fatal(err)
	}
	if reorder() != before+1 {
		t.Errorf("a create before existing ids did not advance the reorder counter")
	}
}
