package sqlstore_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scimd/scimd/scim"
	"github.com/scimd/scimd/scim/schema"
	"github.com/scimd/scimd/sqlstore"
	"github.com/scimd/scimd/storetest"
)

// snapshot is everything a store holds, read through its API.
type snapshot struct {
	Users, Groups []*scim.Resource
	Tokens        []*scim.Token
	Audit         []scim.AuditRecord
}

func snap(t *testing.T, s *sqlstore.Store) snapshot {
	t.Helper()
	ctx := context.Background()
	var out snapshot
	for _, rt := range []*schema.ResourceType{schema.UserType, schema.GroupType} {
		p, err := s.List(ctx, rt, scim.Query{Count: 1000, Load: scim.Load{Members: true, Groups: true}})
		if err != nil {
			t.Fatal(err)
		}
		if rt == schema.UserType {
			out.Users = p.Resources
		} else {
			out.Groups = p.Resources
		}
	}
	var err error
	if out.Tokens, err = s.ListTokens(ctx); err != nil {
		t.Fatal(err)
	}
	if out.Audit, err = s.ListAudit(ctx, scim.AuditQuery{Limit: 1000}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCopy copies SQLite to PostgreSQL and back, and compares what each
// store answers.
func TestCopy(t *testing.T) {
	ctx := context.Background()
	lite := openSQLite(t)
	ann := storetest.User(t, lite, "ann@example.com", map[string]any{"active": true, "title": "Ms", "emails": []any{map[string]any{"value": "ann@example.com", "type": "work"}}})
	bob := storetest.User(t, lite, "Bob@example.com", map[string]any{"active": false})
	inner := storetest.Group(t, lite, "Inner", bob.ID)
	storetest.Group(t, lite, "Outer", ann.ID, inner.ID)
	secret, hash := scim.NewTokenSecret()
	_ = secret
	if err := lite.CreateToken(ctx, &scim.Token{Name: "okta", Hash: hash}); err != nil {
		t.Fatal(err)
	}
	if _, err := lite.RevokeToken(ctx, "okta"); err != nil {
		t.Fatal(err)
	}
	want := snap(t, lite)

	pg := openPostgres(t)
	stats, err := sqlstore.Copy(ctx, lite, pg)
	if err != nil {
		t.Fatal(err)
	}
	if stats["scim_users"] != 2 || stats["scim_groups"] != 2 || stats["scim_members"] != 3 || stats["scim_tokens"] != 1 {
		t.Errorf("copy stats %v", stats)
	}
	if diff := cmp.Diff(want, snap(t, pg)); diff != "" {
		t.Errorf("PostgreSQL copy differs (-SQLite +PostgreSQL):\n%s", diff)
	}
	// The copy is a working store: names stay unique, audit ids go on.
	if _, err := pg.Create(ctx, &scim.Resource{Type: schema.UserType, Attrs: map[string]any{"userName": "BOB@example.com"}}); err == nil {
		t.Error("copied userName not unique on PostgreSQL")
	}
	storetest.User(t, pg, "carol@example.com")
	// A second copy into a non-empty store is refused.
	if _, err := sqlstore.Copy(ctx, lite, pg); err == nil {
		t.Error("copy into a non-empty database succeeded")
	}

	back, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "back.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	if _, err := sqlstore.Copy(ctx, pg, back); err != nil {
		t.Fatal(err)
	}
	got, wantBack := snap(t, back), snap(t, pg)
	if diff := cmp.Diff(wantBack, got); diff != "" {
		t.Errorf("SQLite copy back differs (-PostgreSQL +SQLite):\n%s", diff)
	}
	if len(got.Users) != 3 || len(got.Audit) != len(want.Audit)+1 {
		t.Errorf("copied back %d users, %d audit records", len(got.Users), len(got.Audit))
	}
}
