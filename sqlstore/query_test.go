package sqlstore_test

import (
	"math/rand/v2"
	"testing"

	"github.com/scimd/scimd/scim/schema"
	"github.com/scimd/scimd/storetest"
)

// FuzzFilterSQL runs arbitrary filters through SQLite and through
// filter.Match over the seeded corpus, and compares the results (filters
// that do not parse are skipped). The seed corpus holds generated filters.
func FuzzFilterSQL(f *testing.F) {
	c := storetest.Seed(f, openSQLite(f))
	g := &storetest.Gen{R: rand.New(rand.NewPCG(5, 6)), C: c}
	for range 200 {
		f.Add(g.Filter(schema.UserType, 2))
		f.Add(g.Filter(schema.GroupType, 2))
	}
	for _, s := range []string{
		`emails[type eq "work"].value eq "bjensen@example.com"`, `userName eq "STRASSE@example.org"`,
		`meta.created gt "2026-01-01T00:00:00.0005Z"`, `not (emails[not (value pr)])`, `members[type eq "group"]`,
		`groups[type eq "indirect"].display co "a"`, `schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`,
		`userName sw "\u00e4"`, `title ew "\u00df"`, `userName gt "\U0010ffff"`, `userName sw "\xff"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, rt := range []*schema.ResourceType{schema.UserType, schema.GroupType} {
			c.Check(t, rt, s)
		}
	})
}
