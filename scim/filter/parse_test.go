package filter

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/scimd/scimd/scim/schema"
)

const entURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// parseCases are valid filters and their canonical rendering, which shows
// the parsed structure: grouping, canonical names and value types.
var parseCases = []struct {
	rt   *schema.ResourceType
	in   string
	want string
}{
	// Every operator.
	{schema.UserType, `userName eq "bjensen"`, `userName eq "bjensen"`},
	{schema.UserType, `userName ne "bjensen"`, `userName ne "bjensen"`},
	{schema.UserType, `name.familyName co "O'Malley"`, `name.familyName co "O'Malley"`},
	{schema.UserType, `userName sw "J"`, `userName sw "J"`},
	{schema.UserType, `userName ew "son"`, `userName ew "son"`},
	{schema.UserType, `title pr`, `title pr`},
	{schema.UserType, `meta.lastModified gt "2011-05-13T04:42:34Z"`, `meta.lastModified gt "2011-05-13T04:42:34Z"`},
	{schema.UserType, `meta.lastModified ge "2011-05-13T04:42:34Z"`, `meta.lastModified ge "2011-05-13T04:42:34Z"`},
	{schema.UserType, `meta.lastModified lt "2011-05-13T04:42:34.5+02:00"`, `meta.lastModified lt "2011-05-13T04:42:34.5+02:00"`},
	{schema.UserType, `meta.lastModified le "2011-05-13T04:42:34Z"`, `meta.lastModified le "2011-05-13T04:42:34Z"`},
	{schema.UserType, `userName gt "m"`, `userName gt "m"`},
	// Operators, keywords and attribute names are case-insensitive.
	{schema.UserType, `USERNAME EQ "x" AND Title PR OR NOT (Active Eq TRUE)`, `((userName eq "x" and title pr) or not (active eq true))`},
	{schema.UserType, `username Co "x"`, `userName co "x"`},
	// Precedence: not > and > or, left-associative.
	{schema.UserType, `title pr or userName pr and nickName pr`, `(title pr or (userName pr and nickName pr))`},
	{schema.UserType, `title pr and userName pr or nickName pr`, `((title pr and userName pr) or nickName pr)`},
	{schema.UserType, `title pr and userName pr and nickName pr`, `(title pr and userName pr and nickName pr)`},
	{schema.UserType, `title pr or userName pr or nickName pr`, `(title pr or userName pr or nickName pr)`},
	{schema.UserType, `title pr and (userName pr or nickName pr)`, `(title pr and (userName pr or nickName pr))`},
	{schema.UserType, `title pr and (userName pr and nickName pr)`, `(title pr and (userName pr and nickName pr))`},
	{schema.UserType, `(title pr)`, `title pr`},
	{schema.UserType, `((((title pr))))`, `title pr`},
	{schema.UserType, `not (title pr) and userName pr`, `(not (title pr) and userName pr)`},
	{schema.UserType, `not(title pr or userName pr)`, `not (title pr or userName pr)`},
	{schema.UserType, `not (not (title pr))`, `not (not (title pr))`},
	{schema.UserType, "\t userName  eq\n\"x\"  ", `userName eq "x"`},
	{schema.UserType, `userName eq "x"and title pr`, `(userName eq "x" and title pr)`},
	// RFC 7644 §3.4.2.2 examples.
	{schema.UserType, `userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`,
		`(userType eq "Employee" and (emails.value co "example.com" or emails.value co "example.org"))`},
	{schema.UserType, `userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`,
		`(userType ne "Employee" and not (emails.value co "example.com" or emails.value co "example.org"))`},
	{schema.UserType, `userType eq "Employee" and (emails.type eq "work")`, `(userType eq "Employee" and emails.type eq "work")`},
	{schema.UserType, `userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`,
		`(userType eq "Employee" and emails[type eq "work" and value co "@example.com"])`},
	{schema.UserType, `emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
		`(emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"])`},
	// Value paths.
	{schema.UserType, `emails[type eq "work"]`, `emails[type eq "work"]`},
	{schema.UserType, `emails[ type eq "work" ]`, `emails[type eq "work"]`},
	{schema.UserType, `emails[not (primary eq true)]`, `emails[not (primary eq true)]`},
	{schema.UserType, `emails[type eq "work" or (type eq "home" and primary eq true)]`, `emails[type eq "work" or (type eq "home" and primary eq true)]`},
	{schema.UserType, `emails[type eq "work"].value eq "x@example.com"`, `emails[type eq "work" and value eq "x@example.com"]`},
	{schema.UserType, `emails[type eq "work" or type eq "home"].value co "@x"`, `emails[(type eq "work" or type eq "home") and value co "@x"]`},
	{schema.UserType, `emails[type eq "work"].value pr`, `emails[type eq "work" and value pr]`},
	{schema.UserType, `EMAILS[TYPE EQ "work"].VALUE EQ "x"`, `emails[type eq "work" and value eq "x"]`},
	{schema.UserType, `addresses[type eq "work" and postalCode sw "9"]`, `addresses[type eq "work" and postalCode sw "9"]`},
	{schema.UserType, `groups[value eq "g1"]`, `groups[value eq "g1"]`},
	{schema.UserType, `groups[$ref pr]`, `groups[$ref pr]`},
	{schema.GroupType, `members[value eq "2819c223-7f76-453a-919d-413861904646"]`, `members[value eq "2819c223-7f76-453a-919d-413861904646"]`},
	{schema.GroupType, `members[type eq "Group"].display sw "Adm"`, `members[type eq "Group" and display sw "Adm"]`},
	// URN-qualified paths.
	{schema.UserType, entURN + `:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`, entURN + `:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`},
	{schema.UserType, strings.ToLower(entURN) + `:employeeNumber eq "701984"`, entURN + `:employeeNumber eq "701984"`},
	{schema.UserType, entURN + `:manager pr`, entURN + `:manager pr`},
	{schema.UserType, `urn:ietf:params:scim:schemas:core:2.0:User:name.givenName eq "Barbara"`, `name.givenName eq "Barbara"`},
	{schema.UserType, `urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"]`, `emails[type eq "work"]`},
	{schema.GroupType, `urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq "Admins"`, `displayName eq "Admins"`},
	// Common attributes.
	{schema.UserType, `id eq "2819c223"`, `id eq "2819c223"`},
	{schema.UserType, `externalId eq "x"`, `externalId eq "x"`},
	{schema.UserType, `meta.resourceType eq "User"`, `meta.resourceType eq "User"`},
	{schema.GroupType, `meta.created lt 2026-01-02T15:04:05.123456789Z`, `meta.created lt "2026-01-02T15:04:05.123456789Z"`},
	{schema.UserType, `schemas eq "` + entURN + `"`, `schemas eq "` + entURN + `"`},
	// Multi-valued complex attributes compared without a sub-attribute.
	{schema.UserType, `emails eq "bjensen@example.com"`, `emails.value eq "bjensen@example.com"`},
	{schema.UserType, `phoneNumbers sw "+1"`, `phoneNumbers.value sw "+1"`},
	{schema.UserType, `emails pr`, `emails pr`},
	{schema.UserType, `emails eq null`, `emails eq null`},
	{schema.UserType, `name pr`, `name pr`},
	{schema.UserType, `name ne null`, `name ne null`},
	// Values.
	{schema.UserType, `userName eq "a \"quoted\" \\ name"`, `userName eq "a \"quoted\" \\ name"`},
	{schema.UserType, `userName eq "\u00e9t\u00E9\n"`, `userName eq "été\n"`},
	{schema.UserType, `userName eq "<&>"`, `userName eq "<&>"`},
	{schema.UserType, `userName eq ""`, `userName eq ""`},
	{schema.UserType, `userName eq "and or not ) ( ] ["`, `userName eq "and or not ) ( ] ["`},
	{schema.UserType, `externalId eq jyoung`, `externalId eq "jyoung"`},
	{schema.UserType, `userName eq john.doe@example.com and title pr`, `(userName eq "john.doe@example.com" and title pr)`},
	{schema.UserType, `(userName eq bjensen)`, `userName eq "bjensen"`},
	{schema.UserType, `emails[value eq b@x.org]`, `emails[value eq "b@x.org"]`},
	{schema.UserType, `userName eq and`, `userName eq "and"`},
	{schema.UserType, `externalId eq 12345`, `externalId eq "12345"`},
	{schema.UserType, `externalId eq -1.5e3`, `externalId eq "-1.5e3"`},
	{schema.UserType, `externalId eq 007`, `externalId eq "007"`},
	{schema.UserType, `title eq true`, `title eq "true"`},
	{schema.UserType, `title eq "true"`, `title eq "true"`},
	{schema.UserType, `title eq NULL`, `title eq "NULL"`},
	{schema.UserType, `title eq null`, `title eq null`},
	{schema.UserType, `title ne null`, `title ne null`},
	{schema.UserType, `active eq true`, `active eq true`},
	{schema.UserType, `active eq false`, `active eq false`},
	{schema.UserType, `active ne "False"`, `active ne false`},
	{schema.UserType, `active eq True`, `active eq true`},
	{schema.UserType, `active eq "TRUE"`, `active eq true`},
	{schema.UserType, `active eq null`, `active eq null`},
	{schema.UserType, `emails[primary eq true]`, `emails[primary eq true]`},
	{schema.UserType, `x509Certificates.value eq "TUlJRE9E"`, `x509Certificates.value eq "TUlJRE9E"`},
	{schema.UserType, `profileUrl sw "https://"`, `profileUrl sw "https://"`},
	{schema.UserType, `meta.lastModified eq 2011-05-13T04:42:34+00:00`, `meta.lastModified eq "2011-05-13T04:42:34+00:00"`},
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		e, err := Parse(tc.rt, tc.in)
		if err != nil {
			t.Errorf("Parse(%s, %q): %v", tc.rt.ID, tc.in, err)
			continue
		}
		if got := e.String(); got != tc.want {
			t.Errorf("Parse(%s, %q).String()\n got %s\nwant %s", tc.rt.ID, tc.in, got, tc.want)
		}
	}
}

// TestRoundTrip checks that the rendering of every parsed filter parses to
// an equal expression, with the public limits.
func TestRoundTrip(t *testing.T) {
	for _, tc := range parseCases {
		e, err := Parse(tc.rt, tc.in)
		if err != nil {
			continue // reported by TestParse
		}
		e2, err := Parse(tc.rt, e.String())
		if err != nil {
			t.Errorf("Parse(%q) (rendering of %q): %v", e.String(), tc.in, err)
			continue
		}
		if !reflect.DeepEqual(e, e2) {
			t.Errorf("round trip of %q changed the expression:\n got %s\nwant %s", tc.in, e2, e)
		}
	}
}

// mustPath resolves an attribute path of the User type.
func mustPath(t *testing.T, rt *schema.ResourceType, s string) schema.Path {
	t.Helper()
	p, err := rt.ParsePath(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestParseAST checks exact trees where the rendering could hide a
// difference: node shapes, the value path normalisation and value types.
func TestParseAST(t *testing.T) {
	rt := schema.UserType
	c := func(path string, op Op, v any) *Compare {
		return &Compare{Path: mustPath(t, rt, path), Op: op, Value: v}
	}
	emails := mustPath(t, rt, "emails")
	tests := []struct {
		in   string
		want Expr
	}{
		{`title pr or userName pr and nickName pr`,
			&Or{c("title", Pr, nil), &And{c("userName", Pr, nil), c("nickName", Pr, nil)}}},
		{`title pr and userName pr and nickName pr`,
			&And{&And{c("title", Pr, nil), c("userName", Pr, nil)}, c("nickName", Pr, nil)}},
		{`not (title pr)`, &Not{c("title", Pr, nil)}},
		{`emails[type eq "work"].value eq "x"`,
			&ValuePath{Path: emails, Filter: &And{c("emails.type", Eq, "work"), c("emails.value", Eq, "x")}}},
		{`emails[type eq "work"].value pr`,
			&ValuePath{Path: emails, Filter: &And{c("emails.type", Eq, "work"), c("emails.value", Pr, nil)}}},
		{`emails co "@x"`, c("emails.value", Co, "@x")},
		{`emails pr`, c("emails", Pr, nil)},
		{`active eq "true"`, c("active", Eq, true)},
		{`externalId eq 12`, c("externalId", Eq, "12")},
		{`title eq null`, c("title", Eq, nil)},
		{entURN + `:manager.value eq "m"`, c(entURN+":manager.value", Eq, "m")},
		{`meta.created gt 2026-01-02T15:04:05Z`, c("meta.created", Gt, "2026-01-02T15:04:05Z")},
	}
	for _, tc := range tests {
		got, err := Parse(rt, tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Parse(%q)\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
}

// numberRT is a resource type with integer and decimal attributes, which
// the RFC schemas lack.
var numberRT = &schema.ResourceType{ID: "Thing", Endpoint: "/Things", Schema: &schema.Schema{
	ID: "urn:example:Thing",
	Attributes: []*schema.Attribute{
		{Name: "count", Type: schema.Integer},
		{Name: "ratio", Type: schema.Decimal},
		{Name: "tags", Type: schema.Integer, MultiValued: true},
		{Name: "label", Type: schema.String, CaseExact: true},
	},
}}

func TestParseNumbers(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{`count eq 3`, json.Number("3")},
		{`count gt -12`, json.Number("-12")},
		{`ratio le 1.5e-3`, json.Number("1.5e-3")},
		{`ratio eq 2`, json.Number("2")},
		{`tags eq 7`, json.Number("7")},
		{`label eq 1.0`, "1.0"},
	}
	for _, tc := range tests {
		e, err := Parse(numberRT, tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		c, ok := e.(*Compare)
		if !ok || !reflect.DeepEqual(c.Value, tc.want) {
			t.Errorf("Parse(%q) = %s, want value %#v", tc.in, e, tc.want)
		}
		if e2, err := Parse(numberRT, e.String()); err != nil || !reflect.DeepEqual(e, e2) {
			t.Errorf("round trip of %q: %v, %v", tc.in, e2, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		rt   *schema.ResourceType
		in   string
		want string // a substring of the detail
	}{
		{schema.UserType, ``, "empty filter"},
		{schema.UserType, `   `, "empty filter"},
		{schema.UserType, `foo eq "x"`, `no attribute "foo"`},
		{schema.UserType, `userName.x eq "x"`, `"userName" has no sub-attributes`},
		{schema.UserType, `name.nope eq "x"`, `no sub-attribute "nope"`},
		{schema.UserType, `urn:example:nope:foo eq "x"`, "unknown schema"},
		{schema.UserType, entURN + ` pr`, "whole extension"},
		{schema.UserType, entURN + `:nope eq "x"`, `no attribute "nope"`},
		{schema.GroupType, `userName eq "x"`, `no attribute "userName" in Group`},
		{schema.GroupType, `urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x"`, "unknown schema"},
		{schema.UserType, `password eq "x"`, `"password" at offset 0 cannot be used in a filter`},
		// Syntax.
		{schema.UserType, `userName`, "expected an operator"},
		{schema.UserType, `userName "x"`, "expected an operator"},
		{schema.UserType, `userName == "x"`, `at offset 9, found "=="`},
		{schema.UserType, `userName="x"`, "expected an operator"},
		{schema.UserType, `userName equals "x"`, `found "equals"`},
		{schema.UserType, `userName eq`, "expected a value after eq at offset 11, found end of filter"},
		{schema.UserType, `userName eq )`, "expected a value after eq"},
		{schema.UserType, `userName eq "x`, "unterminated string starting at offset 12"},
		{schema.UserType, `userName eq "x\"`, "unterminated string"},
		{schema.UserType, `userName eq "\x"`, "invalid string at offset 12"},
		{schema.UserType, "userName eq \"a\tb\"", "invalid string"},
		{schema.UserType, `userName eq "x" title pr`, `expected "and", "or" or the end of the filter at offset 16, found "title"`},
		{schema.UserType, `userName eq "x" and`, "expected an attribute path at offset 19, found end of filter"},
		{schema.UserType, `userName eq "x" or or title pr`, `no attribute "or" in User (at offset 19)`},
		{schema.UserType, `and title pr`, "no attribute \"and\""},
		{schema.UserType, `(userName pr`, `expected "and", "or" or ")" (closing "(" at offset 0) at offset 12`},
		{schema.UserType, `userName pr)`, "unbalanced ) at offset 11"},
		{schema.UserType, `()`, "expected an attribute path at offset 1"},
		{schema.UserType, `not userName pr`, `expected "(" after "not" at offset 4`},
		{schema.UserType, `not`, `expected "(" after "not"`},
		{schema.UserType, `userName pr and not title pr`, `expected "(" after "not"`},
		{schema.UserType, `userName eq "x" and (title pr`, `closing "(" at offset 20`},
		{schema.UserType, "userName eq \x01", "expected a value after eq"},
		{schema.UserType, "userName eq \"\xff\"", "not valid UTF-8"},
		// Value paths.
		{schema.UserType, `emails[type eq "work"`, `"]" (closing "[" at offset 6) at offset 21, found end of filter`},
		{schema.UserType, `emails[]`, "empty value filter"},
		{schema.UserType, `emails[nope eq "x"]`, `no sub-attribute "nope" of "emails" at offset 7`},
		{schema.UserType, `emails[emails.type eq "x"]`, `no sub-attribute "emails.type"`},
		{schema.UserType, `emails[type[value eq "x"] eq "y"]`, "nested value filter"},
		{schema.UserType, `emails[type eq "work"].nope eq "x"`, `no sub-attribute "nope" of "emails" at offset 23`},
		{schema.UserType, `emails[type eq "work"].`, `no sub-attribute "" of "emails"`},
		{schema.UserType, `emails[type eq "work"].value`, "expected an operator"},
		{schema.UserType, `emails[type eq "work"] eq "x"`, `expected "and", "or" or the end of the filter`},
		{schema.UserType, `name[givenName eq "x"]`, `needs a multi-valued complex attribute, and "name" is not one`},
		{schema.UserType, `userName[value eq "x"]`, `"userName" is not one`},
		{schema.UserType, `schemas[value eq "x"]`, `"schemas" is not one`},
		{schema.UserType, `emails.value[value eq "x"]`, `"emails.value" is not one`},
		// Types.
		{schema.UserType, `name eq "x"`, `attribute "name" at offset 0 is complex`},
		{schema.UserType, `name co "x"`, "is complex"},
		{schema.UserType, `addresses eq "x"`, `"addresses" at offset 0 is complex`},
		{schema.UserType, `name eq "x"`, "is complex"},
		{schema.UserType, `active eq "yes"`, `attribute "active" is a boolean: expected true or false at offset 10, found the string "yes"`},
		{schema.UserType, `active eq 1`, "found the number 1"},
		{schema.UserType, `active gt true`, `operator gt at offset 7 is not supported for boolean attribute "active"`},
		{schema.UserType, `active co "t"`, "operator co"},
		{schema.UserType, `emails[primary lt true]`, `operator lt at offset 15 is not supported for boolean attribute "emails.primary"`},
		{schema.UserType, `x509Certificates.value gt "a"`, "operator gt at offset 23 is not supported for binary attribute"},
		{schema.UserType, `meta.created gt "yesterday"`, `attribute "meta.created" is a dateTime: expected an RFC 3339 date-time`},
		{schema.UserType, `meta.created gt "2026-13-01T00:00:00Z"`, "is a dateTime"},
		{schema.UserType, `meta.created gt 2026`, "found the number 2026"},
		{schema.UserType, `meta.created gt true`, "is a dateTime"},
		{schema.UserType, `meta.created co "2026"`, "operator co"},
		{schema.UserType, `title gt null`, "null at offset 9 can only be compared with eq or ne, not gt"},
		{schema.UserType, `title co null`, "can only be compared with eq or ne"},
		{numberRT, `count eq "3"`, `count" is an integer: expected a number at offset 9, found the string "3"`},
		{numberRT, `count eq 1.5`, "expected an integer"},
		{numberRT, `count eq 99999999999999999999`, "expected an integer"},
		{numberRT, `ratio eq 1e999`, "within range"},
		{numberRT, `ratio co 1`, "operator co"},
		{numberRT, `count sw 1`, "operator sw"},
		{numberRT, `ratio eq abc`, `found "abc"`},
	}
	for _, tc := range tests {
		e, err := Parse(tc.rt, tc.in)
		if err == nil {
			t.Errorf("Parse(%q) = %s, want error containing %q", tc.in, e, tc.want)
			continue
		}
		checkErr(t, tc.in, err, "invalidFilter", tc.want)
	}
}

func checkErr(t *testing.T, in string, err error, scimType, want string) {
	t.Helper()
	se, ok := errors.AsType[*schema.Error](err)
	if !ok {
		t.Errorf("%q: error %v is %T, want *schema.Error", in, err, err)
		return
	}
	if se.ScimType != scimType {
		t.Errorf("%q: scimType %q, want %q (detail %q)", in, se.ScimType, scimType, se.Detail)
	}
	if !strings.Contains(se.Detail, want) {
		t.Errorf("%q: detail %q does not contain %q", in, se.Detail, want)
	}
}

func TestLimits(t *testing.T) {
	rt := schema.UserType
	nest := func(n int) string {
		return strings.Repeat("(", n) + "title pr" + strings.Repeat(")", n)
	}
	terms := func(n int) string {
		return strings.Repeat("title pr or ", n-1) + "title pr"
	}
	long := `userName eq "` + strings.Repeat("x", MaxLength-len(`userName eq ""`)) + `"`
	ok := []string{
		nest(MaxDepth),
		strings.Repeat("not (", MaxDepth) + "title pr" + strings.Repeat(")", MaxDepth),
		strings.Repeat("(", MaxDepth-1) + `emails[type pr]` + strings.Repeat(")", MaxDepth-1),
		terms(MaxTerms),
		long,
	}
	for _, in := range ok {
		if _, err := Parse(rt, in); err != nil {
			t.Errorf("Parse(%.40q…): %v", in, err)
		}
	}
	bad := []struct{ in, want string }{
		{nest(MaxDepth + 1), "nests deeper than 32 levels at offset 32"},
		{nest(100000)[:MaxLength], "nests deeper than 32"},
		{strings.Repeat("not (", MaxDepth+1), "nests deeper than 32"},
		{strings.Repeat("(", MaxDepth) + `emails[type pr]` + strings.Repeat(")", MaxDepth), "nests deeper than 32 levels at offset 38"},
		{terms(MaxTerms + 1), "more than 256 comparisons"},
		{long + " ", "longer than the limit of 4096"},
		{strings.Repeat("(", 1<<20), "longer than the limit"},
	}
	for _, tc := range bad {
		_, err := Parse(rt, tc.in)
		if err == nil {
			t.Errorf("Parse(%.40q…) succeeded, want error %q", tc.in, tc.want)
			continue
		}
		checkErr(t, tc.in[:min(len(tc.in), 40)], err, "invalidFilter", tc.want)
	}
}
