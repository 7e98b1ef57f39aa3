package filter

import (
	"reflect"
	"strings"
	"testing"

	"github.com/scimd/scimd/scim/schema"
)

func TestParsePath(t *testing.T) {
	user, group := schema.UserType, schema.GroupType
	tests := []struct {
		rt        *schema.ResourceType
		in        string
		want      string // rendering
		attr      string // Attr.String()
		hasFilter bool
		sub       string // Sub.Name, "" if none
	}{
		{user, `userName`, `userName`, `userName`, false, ""},
		{user, `USERNAME`, `userName`, `userName`, false, ""},
		{user, ` active `, `active`, `active`, false, ""},
		{user, `name.familyName`, `name.familyName`, `name.familyName`, false, ""},
		{user, `emails`, `emails`, `emails`, false, ""},
		{user, `password`, `password`, `password`, false, ""},
		{user, `externalId`, `externalId`, `externalId`, false, ""},
		{user, `emails[type eq "work"]`, `emails[type eq "work"]`, `emails`, true, ""},
		{user, `emails[type eq "work"].value`, `emails[type eq "work"].value`, `emails`, true, "value"},
		{user, `emails[type eq work and primary eq "True"].Display`, `emails[type eq "work" and primary eq true].display`, `emails`, true, "display"},
		{user, `addresses[type eq "work"].streetAddress`, `addresses[type eq "work"].streetAddress`, `addresses`, true, "streetAddress"},
		{user, `emails[not (type eq "work")]`, `emails[not (type eq "work")]`, `emails`, true, ""},
		{user, entURN, entURN, entURN, false, ""},
		{user, entURN + `:manager`, entURN + `:manager`, entURN + `:manager`, false, ""},
		{user, entURN + `:manager.value`, entURN + `:manager.value`, entURN + `:manager.value`, false, ""},
		{user, `urn:ietf:params:scim:schemas:core:2.0:User:name.givenName`, `name.givenName`, `name.givenName`, false, ""},
		{user, `urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"].value`, `emails[type eq "work"].value`, `emails`, true, "value"},
		{group, `members`, `members`, `members`, false, ""},
		{group, `members[value eq "2819c223-7f76-453a-919d-413861904646"]`, `members[value eq "2819c223-7f76-453a-919d-413861904646"]`, `members`, true, ""},
		{group, `members[value eq 2819c223]`, `members[value eq "2819c223"]`, `members`, true, ""},
		{group, `displayName`, `displayName`, `displayName`, false, ""},
	}
	for _, tc := range tests {
		p, err := ParsePath(tc.rt, tc.in)
		if err != nil {
			t.Errorf("ParsePath(%q): %v", tc.in, err)
			continue
		}
		sub := ""
		if p.Sub != nil {
			sub = p.Sub.Name
		}
		if got := p.String(); got != tc.want || p.Attr.String() != tc.attr || (p.Filter != nil) != tc.hasFilter || sub != tc.sub {
			t.Errorf("ParsePath(%q) = %s (attr %s, filter %v, sub %q), want %s (attr %s, filter %v, sub %q)",
				tc.in, got, p.Attr.String(), p.Filter != nil, sub, tc.want, tc.attr, tc.hasFilter, tc.sub)
		}
		p2, err := ParsePath(tc.rt, p.String())
		if err != nil || !reflect.DeepEqual(p, p2) {
			t.Errorf("round trip of %q: %s, %v", tc.in, p2, err)
		}
	}
}

func TestParsePathFilterAST(t *testing.T) {
	rt := schema.GroupType
	p, err := ParsePath(rt, `members[value eq "x"]`)
	if err != nil {
		t.Fatal(err)
	}
	want := Path{
		Attr:   mustPath(t, rt, "members"),
		Filter: &Compare{Path: mustPath(t, rt, "members.value"), Op: Eq, Value: "x"},
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("got %s, want %s", p, want)
	}
}

func TestParsePathErrors(t *testing.T) {
	tests := []struct {
		in, scimType, want string
	}{
		{``, "invalidPath", "empty path"},
		{`  `, "invalidPath", "empty path"},
		{`nope`, "invalidPath", `no attribute "nope" in User`},
		{`name.nope`, "invalidPath", `no sub-attribute "nope"`},
		{`userName.x`, "invalidPath", "has no sub-attributes"},
		{`urn:example:x:y`, "invalidPath", "unknown schema"},
		{`userName eq "x"`, "invalidPath", `unexpected "eq" at offset 9`},
		{`[type eq "x"]`, "invalidPath", `expected an attribute path at offset 0, found "[type"`},
		{`name[givenName eq "x"]`, "invalidPath", `"name" is not one`},
		{`userName[value eq "x"]`, "invalidPath", `"userName" is not one`},
		{`emails.value[value eq "x"]`, "invalidPath", `"emails.value" is not one`},
		{entURN + `[value eq "x"]`, "invalidPath", "is not one"},
		{`emails[type eq "work"].nope`, "invalidPath", `no sub-attribute "nope" of "emails" at offset 23`},
		{`emails[type eq "work"].`, "invalidPath", `no sub-attribute ""`},
		{`emails[type eq "work"].value.x`, "invalidPath", `no sub-attribute "value.x"`},
		{`emails[type eq "work"]x`, "invalidPath", `unexpected "x" at offset 22`},
		{`emails[type eq "work"] [type pr]`, "invalidPath", "unexpected"},
		{"emails\xff", "invalidPath", "not valid UTF-8"},
		{strings.Repeat("a", MaxLength+1), "invalidPath", "longer than the limit"},
		// Inside the brackets, RFC 7644 Table 9's invalidFilter.
		{`emails[type eq "work"`, "invalidFilter", `expected "and", "or" or "]" (closing "[" at offset 6) at offset 21, found end of path`},
		{`emails[]`, "invalidFilter", "empty value filter"},
		{`emails[nope eq "x"]`, "invalidFilter", `no sub-attribute "nope" of "emails"`},
		{`emails[type eq]`, "invalidFilter", "expected a value after eq"},
		{`emails[primary eq "maybe"]`, "invalidFilter", "is a boolean"},
	}
	for _, tc := range tests {
		p, err := ParsePath(schema.UserType, tc.in)
		if err == nil {
			t.Errorf("ParsePath(%q) = %s, want error", tc.in, p)
			continue
		}
		checkErr(t, tc.in, err, tc.scimType, tc.want)
	}
}
