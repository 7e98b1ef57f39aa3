package filter

import (
	"reflect"
	"testing"

	"github.com/scimd/scimd/scim/schema"
)

// looseLimits re-parses renderings, which may be longer and more deeply
// parenthesised than the input they came from.
var looseLimits = limits{length: 4 * MaxLength, depth: 4*MaxDepth + 4, terms: MaxTerms}

func FuzzParse(f *testing.F) {
	for _, tc := range parseCases {
		f.Add(tc.in)
	}
	for _, s := range []string{
		`userName eq "x" or`, `emails[type eq "work"`, `((((`, `not(not(title pr))`,
		`emails[type eq "work"].value eq "x" and (title pr or not (active eq false))`,
		`meta.created gt 2026-01-02T15:04:05Z`, "userName eq \"\\ud800\"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, rt := range []*schema.ResourceType{schema.UserType, schema.GroupType} {
			e, err := Parse(rt, s)
			if err != nil {
				if _, ok := err.(*schema.Error); !ok {
					t.Fatalf("Parse(%q): error %T, want *schema.Error", s, err)
				}
				continue
			}
			r := e.String()
			e2, err := parse(rt, r, looseLimits)
			if err != nil {
				t.Fatalf("Parse(%q) rendered as %q, which does not parse: %v", s, r, err)
			}
			if !reflect.DeepEqual(e, e2) {
				t.Fatalf("Parse(%q) rendered as %q, which parses to %s", s, r, e2)
			}
			for _, d := range append(users, groups...) {
				Match(rt, e, d)
			}
		}
	})
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{
		`userName`, `name.familyName`, `emails[type eq "work"].value`, `members[value eq "x"]`,
		entURN, entURN + `:manager.value`, `urn:ietf:params:scim:schemas:core:2.0:User:name.givenName`,
		`emails[type eq "work"`, `emails[]`, `emails[type eq "work"].`, `addresses[type eq "work" or primary eq true].locality`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, rt := range []*schema.ResourceType{schema.UserType, schema.GroupType} {
			p, err := ParsePath(rt, s)
			if err != nil {
				if _, ok := err.(*schema.Error); !ok {
					t.Fatalf("ParsePath(%q): error %T, want *schema.Error", s, err)
				}
				continue
			}
			r := p.String()
			p2, err := parsePath(rt, r, looseLimits)
			if err != nil {
				t.Fatalf("ParsePath(%q) rendered as %q, which does not parse: %v", s, r, err)
			}
			if !reflect.DeepEqual(p, p2) {
				t.Fatalf("ParsePath(%q) rendered as %q, which parses to %s", s, r, p2)
			}
		}
	})
}
