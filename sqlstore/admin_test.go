package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimd/scimd/scim"
	"github.com/scimd/scimd/scim/schema"
	"github.com/scimd/scimd/sqlstore"
	"github.com/scimd/scimd/sqlstore/pgtest"
)

// The console's store methods (sqlstore/admin.go), on both databases.

func TestAdminSQLite(t *testing.T) {
	testAdmin(t, func(t *testing.T, opts sqlstore.Options) *sqlstore.Store {
		s, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "scimd.db"), opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestAdminPostgres(t *testing.T) {
	pgtest.ServerDSN(t)
	testAdmin(t, func(t *testing.T, opts sqlstore.Options) *sqlstore.Store { return pgtest.Open(t, opts) })
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func testAdmin(t *testing.T, open func(*testing.T, sqlstore.Options) *sqlstore.Store) {
	ctx := context.Background()
	setup := func(t *testing.T) (*sqlstore.Store, *testClock) {
		c := &testClock{t: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
		return open(t, sqlstore.Options{Now: c.now}), c
	}

	t.Run("admins and sessions", func(t *testing.T) {
		s, c := setup(t)
		if _, err := s.AdminByName(ctx, "admin"); !errors.Is(err, scim.ErrNotFound) {
			t.Fatalf("no admin yet: %v", err)
		}
		a := &scim.Admin{Name: "admin", PasswordHash: "h1"}
		if err := s.CreateAdmin(ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateAdmin(ctx, &scim.Admin{Name: "admin", PasswordHash: "x"}); !errors.Is(err, scim.ErrConflict) {
			t.Fatalf("duplicate admin: %v", err)
		}
		if n, _ := s.CountAdmins(ctx); n != 1 {
			t.Fatalf("CountAdmins = %d", n)
		}
		ss := &scim.Session{Hash: []byte("hash-1"), AdminID: a.ID, CreatedAt: c.now(), LastSeen: c.now()}
		if err := s.CreateSession(ctx, ss); err != nil {
			t.Fatal(err)
		}
		got, err := s.SessionByHash(ctx, []byte("hash-1"))
		if err != nil || got.AdminName != "admin" || !got.LastSeen.Equal(c.now()) {
			t.Fatalf("SessionByHash: %+v %v", got, err)
		}
		c.add(time.Minute)
		if err := s.TouchSession(ctx, []byte("hash-1"), c.now()); err != nil {
			t.Fatal(err)
		}
		if err := s.TouchSession(ctx, []byte("hash-1"), c.now().Add(-time.Hour)); err != nil { // never backwards
			t.Fatal(err)
		}
		if got, _ := s.SessionByHash(ctx, []byte("hash-1")); !got.LastSeen.Equal(c.now()) {
			t.Fatalf("last seen %v, want %v", got.LastSeen, c.now())
		}
		// A new password ends every session.
		if err := s.SetAdminPassword(ctx, "admin", "h2"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionByHash(ctx, []byte("hash-1")); !errors.Is(err, scim.ErrNotFound) {
			t.Fatalf("session after a password change: %v", err)
		}
		if a2, _ := s.AdminByName(ctx, "admin"); a2.PasswordHash != "h2" {
			t.Fatalf("password hash %q", a2.PasswordHash)
		}
		if err := s.SetAdminPassword(ctx, "nobody", "h"); !errors.Is(err, scim.ErrNotFound) {
			t.Fatalf("unknown admin: %v", err)
		}
		if err := s.CreateSession(ctx, &scim.Session{Hash: []byte("hash-2"), AdminID: a.ID, CreatedAt: c.now(), LastSeen: c.now()}); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteSession(ctx, []byte("hash-2")); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteSession(ctx, []byte("hash-2")); !errors.Is(err, scim.ErrNotFound) {
			t.Fatalf("second delete: %v", err)
		}
		// Pruning: idle and too old sessions go.
		for i, created := range []time.Duration{0, -13 * time.Hour} {
			at := c.now().Add(created)
			if err := s.CreateSession(ctx, &scim.Session{Hash: []byte(fmt.Sprint("p", i)), AdminID: a.ID, CreatedAt: at, LastSeen: c.now()}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.CreateSession(ctx, &scim.Session{Hash: []byte("idle"), AdminID: a.ID, CreatedAt: c.now(), LastSeen: c.now().Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
		n, err := s.PruneSessions(ctx, c.now().Add(-30*time.Minute), c.now().Add(-12*time.Hour))
		if err != nil || n != 2 {
			t.Fatalf("PruneSessions = %d, %v; want 2", n, err)
		}
		if _, err := s.SessionByHash(ctx, []byte("p0")); err != nil {
			t.Fatalf("the live session was pruned: %v", err)
		}
		recs, _ := s.ListAudit(ctx, scim.AuditQuery{Resource: "admin"})
		var actions []string
		for _, r := range recs {
			actions = append(actions, r.Action)
		}
		want := "admin.signin,admin.signin,admin.signin,admin.signout,admin.signin,admin.password,admin.signin,admin.create"
		if strings.Join(actions, ",") != want {
			t.Fatalf("audit actions %v, want %s", actions, want)
		}
	})

	t.Run("audit queries", func(t *testing.T) {
		s, c := setup(t)
		tok := scim.WithActor(ctx, scim.Actor{Name: "Okta", Kind: "token", Source: "10.0.0.1", RequestID: "r1"})
		u, err := s.Create(tok, &scim.Resource{Type: schema.UserType, Attrs: map[string]any{"userName": "Alice_100%@example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		c.add(time.Hour)
		if err := s.RecordAudit(tok, scim.AuditRecord{Action: "create", ResourceType: "User", Outcome: "failure: 409 uniqueness"}); err != nil {
			t.Fatal(err)
		}
		c.add(time.Hour)
		if err := s.RecordAudit(ctx, scim.AuditRecord{Actor: "admin", ActorKind: "admin", Source: "10.0.0.2", Action: "admin.signin", Outcome: "failure: wrong password"}); err != nil {
			t.Fatal(err)
		}
		all, err := s.ListAudit(ctx, scim.AuditQuery{})
		if err != nil || len(all) != 3 {
			t.Fatalf("all: %d %v", len(all), err)
		}
		if all[1].Actor != "Okta" || all[1].Source != "10.0.0.1" || all[1].RequestID != "r1" || all[1].Outcome != "failure: 409 uniqueness" {
			t.Fatalf("actor from context: %+v", all[1])
		}
		for _, tc := range []struct {
			name string
			q    scim.AuditQuery
			want int
		}{
			{"actor, any case, substring", scim.AuditQuery{Actor: "OKT"}, 2},
			{"resource id", scim.AuditQuery{Resource: u.ID}, 1},
			{"resource name part with LIKE characters", scim.AuditQuery{Resource: "_100%"}, 1},
			{"LIKE characters are literal", scim.AuditQuery{Resource: "%"}, 1},
			{"underscore is literal", scim.AuditQuery{Resource: "e_x"}, 0},
			{"action", scim.AuditQuery{Action: "admin.signin"}, 1},
			{"since", scim.AuditQuery{Since: c.now().Add(-time.Hour)}, 2},
			{"until", scim.AuditQuery{Until: c.now().Add(-time.Hour)}, 1},
			{"before (paging)", scim.AuditQuery{Before: all[0].ID}, 2},
			{"limit", scim.AuditQuery{Limit: 1}, 1},
		} {
			got, err := s.ListAudit(ctx, tc.q)
			if err != nil || len(got) != tc.want {
				t.Errorf("%s: %d records (%v), want %d", tc.name, len(got), err, tc.want)
			}
		}
		// Failed sign-ins count per source, since a time, and reset on success.
		if n, _ := s.CountFailedSignIns(ctx, "10.0.0.2", c.now().Add(-time.Minute)); n != 1 {
			t.Fatalf("failures from 10.0.0.2: %d", n)
		}
		if n, _ := s.CountFailedSignIns(ctx, "10.0.0.9", c.now().Add(-time.Minute)); n != 0 {
			t.Fatalf("failures from another address: %d", n)
		}
		a := &scim.Admin{Name: "admin", PasswordHash: "h"}
		if err := s.CreateAdmin(ctx, a); err != nil {
			t.Fatal(err)
		}
		c.add(time.Millisecond)
		if err := s.CreateSession(scim.WithActor(ctx, scim.Actor{Name: "admin", Kind: "admin", Source: "10.0.0.2"}), &scim.Session{Hash: []byte("h"), AdminID: a.ID, CreatedAt: c.now(), LastSeen: c.now()}); err != nil {
			t.Fatal(err)
		}
		if n, _ := s.CountFailedSignIns(ctx, "10.0.0.2", c.now().Add(-time.Minute)); n != 0 {
			t.Fatalf("failures after a success: %d", n)
		}
		// Pruning by age.
		n, err := s.PruneAudit(ctx, c.now().Add(-90*time.Minute))
		if err != nil || n != 1 {
			t.Fatalf("PruneAudit = %d, %v; want 1", n, err)
		}
	})

	t.Run("browse by name and paged members", func(t *testing.T) {
		s, c := setup(t)
		var ms []scim.Member
		for _, n := range []string{"Carol", "alice", "Bob", "dave_x", "dave%y"} {
			u, err := s.Create(ctx, &scim.Resource{Type: schema.UserType, Attrs: map[string]any{"userName": n + "@example.com",
				"emails": []any{map[string]any{"value": strings.ToLower(n) + "@mail.test"}}}})
			if err != nil {
				t.Fatal(err)
			}
			ms = append(ms, scim.Member{Value: u.ID})
			c.add(time.Second)
		}
		names := func(q scim.NameQuery) string {
			t.Helper()
			p, err := s.ListByName(ctx, schema.UserType, q)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, r := range p.Resources {
				out = append(out, strings.TrimSuffix(r.Name(), "@example.com"))
			}
			return fmt.Sprintf("%d:%s", p.Total, strings.Join(out, ","))
		}
		for _, tc := range []struct {
			q    scim.NameQuery
			want string
		}{
			{scim.NameQuery{Count: 10}, "5:alice,Bob,Carol,dave%y,dave_x"},
			{scim.NameQuery{Count: 10, Descending: true}, "5:dave_x,dave%y,Carol,Bob,alice"},
			{scim.NameQuery{Count: 10, SortBy: "created"}, "5:Carol,alice,Bob,dave_x,dave%y"},
			{scim.NameQuery{Count: 2, StartIndex: 2, SortBy: "created"}, "5:alice,Bob"},
			{scim.NameQuery{Count: 10, Contains: "ALI"}, "1:alice"},
			{scim.NameQuery{Count: 10, Contains: "_"}, "1:dave_x"},
			{scim.NameQuery{Count: 10, Contains: "%"}, "1:dave%y"},
			{scim.NameQuery{Count: 10, Contains: "mail.test"}, "5:alice,Bob,Carol,dave%y,dave_x"},
			{scim.NameQuery{Count: 10, Contains: ms[0].Value}, "1:Carol"},
			{scim.NameQuery{Count: 0, Contains: "a"}, "5:"},
		} {
			if got := names(tc.q); got != tc.want {
				t.Errorf("%+v: %s, want %s", tc.q, got, tc.want)
			}
		}
		g, err := s.Create(ctx, &scim.Resource{Type: schema.GroupType, Attrs: map[string]any{"displayName": "All"}, Members: ms, MembersLoaded: true})
		if err != nil {
			t.Fatal(err)
		}
		page, total, err := s.GroupMembers(ctx, g.ID, 4, 3)
		if err != nil || total != 5 || len(page) != 2 || page[0].Display == "" || page[0].Type != "User" {
			t.Fatalf("GroupMembers(4, 3) = %+v, %d, %v", page, total, err)
		}
		if page, total, _ := s.GroupMembers(ctx, "no such group", 1, 10); total != 0 || len(page) != 0 {
			t.Fatalf("unknown group: %v %d", page, total)
		}
	})
}
