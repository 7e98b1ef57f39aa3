package filter

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/scimd/scimd/scim/schema"
)

// Documents as stores hand them to Match: canonical keys, meta, groups or
// members, extensions under their URN.
var (
	userFull = map[string]any{
		"id":         "u-full",
		"externalId": "701984",
		"userName":   "bjensen@example.com",
		"name": map[string]any{
			"formatted":  "Ms. Barbara J Jensen, III",
			"familyName": "Jensen",
			"givenName":  "Barbara",
		},
		"displayName": "Babs Jensen",
		"title":       "Tour Guide",
		"userType":    "Employee",
		"active":      true,
		"emails": []any{
			map[string]any{"value": "bjensen@example.com", "type": "work", "primary": true},
			map[string]any{"value": "babs@jensen.org", "type": "home"},
		},
		"phoneNumbers": []any{
			map[string]any{"value": "555-555-5555", "type": "work"},
			map[string]any{"value": "555-555-4444", "type": "mobile"},
		},
		"addresses": []any{
			map[string]any{"streetAddress": "100 Universal City Plaza", "postalCode": "91608", "type": "work"},
		},
		"groups": []any{
			map[string]any{"value": "g1", "display": "Tour Guides", "type": "direct"},
		},
		entURN: map[string]any{
			"employeeNumber": "701984",
			"manager":        map[string]any{"value": "26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith"},
		},
		"meta": map[string]any{
			"resourceType": "User",
			"created":      "2010-01-23T04:56:22Z",
			"lastModified": "2011-05-13T04:42:34Z",
			"location":     "https://example.com/v2/Users/u-full",
			"version":      `W/"a330bc54f0671c9"`,
		},
	}
	userMin = map[string]any{
		"id":       "u-min",
		"userName": "JYoung",
		"active":   false,
		"emails":   []any{map[string]any{"value": "Jo.Young@Example.COM"}},
		"meta": map[string]any{
			"resourceType": "User",
			"created":      "2024-03-01T10:00:00Z",
			"lastModified": "2024-03-01T10:00:00Z",
		},
	}
	// userOdd has Unicode names, an empty string and array, a timestamp with an offset
	// (the same instant as userFull's lastModified), an unparsable one and
	// a value of the wrong type.
	userOdd = map[string]any{
		"id":          "u-odd",
		"userName":    "Straße",
		"displayName": "ÉCOLE",
		"nickName":    "true",
		"title":       "",
		"emails":      []any{},
		"active":      "true",
		"meta": map[string]any{
			"resourceType": "User",
			"created":      "last tuesday",
			"lastModified": "2011-05-13T06:42:34+02:00",
		},
	}
	users = []map[string]any{userFull, userMin, userOdd}

	group1 = map[string]any{
		"id":          "g1",
		"displayName": "Tour Guides",
		"members": []any{
			map[string]any{"value": "u-full", "display": "Babs Jensen", "type": "User"},
			map[string]any{"value": "g2", "display": "Night Guides", "type": "Group"},
		},
		"meta": map[string]any{"resourceType": "Group", "created": "2020-01-01T00:00:00Z", "lastModified": "2020-01-01T00:00:00Z"},
	}
	groupEmpty = map[string]any{
		"id":          "g3",
		"displayName": "Empty",
		"meta":        map[string]any{"resourceType": "Group", "created": "2020-01-01T00:00:00Z", "lastModified": "2020-01-01T00:00:00Z"},
	}
	groups = []map[string]any{group1, groupEmpty}

	things = []map[string]any{
		{"id": "t1", "count": json.Number("3"), "ratio": json.Number("0.5"), "tags": []any{json.Number("1"), json.Number("5")}, "label": "Abc"},
		{"id": "t2", "count": 10.0, "ratio": json.Number("1e2"), "label": "abc"},
		{"id": "t3", "count": "3"},
	}
)

func TestMatch(t *testing.T) {
	user, group := schema.UserType, schema.GroupType
	tests := []struct {
		rt     *schema.ResourceType
		filter string
		want   []string // ids of the matching documents
	}{
		// Case rules: userName is case-insensitive, id and externalId exact.
		{user, `userName eq "BJENSEN@example.com"`, []string{"u-full"}},
		{user, `userName eq "jyoung"`, []string{"u-min"}},
		{user, `id eq "u-full"`, []string{"u-full"}},
		{user, `id eq "U-FULL"`, nil},
		{user, `externalId eq "701984"`, []string{"u-full"}},
		{user, `externalId ne "701984"`, []string{"u-min", "u-odd"}},
		{user, `meta.resourceType eq "user"`, nil},
		{user, `meta.resourceType eq "User"`, []string{"u-full", "u-min", "u-odd"}},
		// Case folding is Unicode case folding after NFC.
		{user, `userName eq "STRASSE"`, []string{"u-odd"}},
		{user, "displayName eq \"e\u0301cole\"", []string{"u-odd"}},
		{user, `displayName sw "É"`, []string{"u-odd"}},
		// Substrings and ordering on strings.
		{user, `userName co "young"`, []string{"u-min"}},
		{user, `userName sw "j"`, []string{"u-min"}},
		{user, `userName ew "EXAMPLE.COM"`, []string{"u-full"}},
		{user, `title co ""`, []string{"u-full"}},
		{user, `title eq ""`, nil},
		{user, `title ne ""`, []string{"u-full", "u-min", "u-odd"}},
		{user, `name.givenName gt "A"`, []string{"u-full"}},
		{user, `name.givenName ge "barbara"`, []string{"u-full"}},
		{user, `name.givenName gt "barbara"`, nil},
		{user, `name.givenName lt "b"`, nil},
		{user, `userName lt "k"`, []string{"u-full", "u-min"}},
		// Presence and null.
		{user, `title pr`, []string{"u-full"}},
		{user, `title ne null`, []string{"u-full"}},
		{user, `title eq null`, []string{"u-min", "u-odd"}},
		{user, `emails pr`, []string{"u-full", "u-min"}},
		{user, `emails eq null`, []string{"u-odd"}},
		{user, `name pr`, []string{"u-full"}},
		{user, `emails.type pr`, []string{"u-full"}},
		{user, `title ne "Tour Guide"`, []string{"u-min", "u-odd"}},
		{user, `not (title eq "Tour Guide")`, []string{"u-min", "u-odd"}},
		// Booleans; a stored value of the wrong type never matches.
		{user, `active eq true`, []string{"u-full"}},
		{user, `active eq false`, []string{"u-min"}},
		{user, `active ne true`, []string{"u-min", "u-odd"}},
		{user, `nickName eq true`, []string{"u-odd"}},
		// Multi-valued: any value.
		{user, `emails.value eq "jo.young@example.com"`, []string{"u-min"}},
		{user, `emails co "@example.com"`, []string{"u-full", "u-min"}},
		{user, `emails eq "babs@jensen.org"`, []string{"u-full"}},
		{user, `emails.type eq "work"`, []string{"u-full"}},
		{user, `emails.type ne "work"`, []string{"u-min", "u-odd"}},
		{user, `groups.display eq "tour guides"`, []string{"u-full"}},
		// Value paths: one element satisfies the whole inner filter.
		{user, `emails[type eq "work" and value co "@example.com"]`, []string{"u-full"}},
		{user, `emails[type eq "WORK"]`, []string{"u-full"}},
		{user, `emails[type eq "work"].value ew "jensen.org"`, nil},
		{user, `emails.type eq "work" and emails.value ew "jensen.org"`, []string{"u-full"}},
		{user, `emails[type eq "home"].value ew "jensen.org"`, []string{"u-full"}},
		{user, `emails[type ne "work"]`, []string{"u-full", "u-min"}},
		{user, `emails[primary eq true]`, []string{"u-full"}},
		{user, `emails[not (primary eq true)]`, []string{"u-full", "u-min"}},
		{user, `not (emails[primary eq true])`, []string{"u-min", "u-odd"}},
		{user, `emails[type pr]`, []string{"u-full"}},
		{user, `phoneNumbers[type eq "mobile"].value eq "555-555-4444"`, []string{"u-full"}},
		{user, `addresses[type eq "work"].postalCode sw "91"`, []string{"u-full"}},
		{user, `groups[type eq "direct" and display sw "Tour"]`, []string{"u-full"}},
		// Extensions.
		{user, entURN + `:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`, []string{"u-full"}},
		{user, entURN + `:manager pr`, []string{"u-full"}},
		{user, entURN + `:employeeNumber ne "1"`, []string{"u-full", "u-min", "u-odd"}},
		{user, entURN + `:manager.displayName eq "john smith"`, []string{"u-full"}},
		// dateTime compares instants; unparsable stored values never match.
		{user, `meta.lastModified eq "2011-05-13T04:42:34Z"`, []string{"u-full", "u-odd"}},
		{user, `meta.lastModified gt "2011-05-13T04:42:34Z"`, []string{"u-min"}},
		{user, `meta.lastModified ge "2011-05-13T04:42:34Z"`, []string{"u-full", "u-min", "u-odd"}},
		{user, `meta.lastModified lt "2011-05-13T04:42:34.000000001Z"`, []string{"u-full", "u-odd"}},
		{user, `meta.lastModified le "2011-05-13T01:42:34-03:00"`, []string{"u-full", "u-odd"}},
		{user, `meta.created lt "2100-01-01T00:00:00Z"`, []string{"u-full", "u-min"}},
		{user, `meta.created pr`, []string{"u-full", "u-min", "u-odd"}},
		{user, `meta.created ne "2010-01-23T04:56:22Z"`, []string{"u-min", "u-odd"}},
		// Logic and precedence.
		{user, `active eq false or userName sw "b" and title pr`, []string{"u-full", "u-min"}},
		{user, `(active eq false or userName sw "b") and title pr`, []string{"u-full"}},
		{user, `not (active eq false or userName sw "b") and userName pr`, []string{"u-odd"}},
		{user, `userName pr and not (userName pr)`, nil},
		// Groups.
		{group, `displayName eq "TOUR GUIDES"`, []string{"g1"}},
		{group, `members[value eq "u-full"]`, []string{"g1"}},
		{group, `members[value eq "U-FULL"]`, nil}, // member values are ids: caseExact in scimd, like id
		{group, `members.value eq "g2"`, []string{"g1"}},
		{group, `members eq "g2"`, []string{"g1"}},
		{group, `members[type eq "group"].display co "night"`, []string{"g1"}},
		{group, `members pr`, []string{"g1"}},
		{group, `members eq null`, []string{"g3"}},
		{group, `members.value ne "u-full"`, []string{"g3"}},
		// Numbers.
		{numberRT, `count eq 3`, []string{"t1"}},
		{numberRT, `count gt 3`, []string{"t2"}},
		{numberRT, `count ge 3`, []string{"t1", "t2"}},
		{numberRT, `count ne 3`, []string{"t2", "t3"}},
		{numberRT, `ratio lt 1`, []string{"t1"}},
		{numberRT, `ratio eq 100`, []string{"t2"}},
		{numberRT, `ratio ge 0.5e0`, []string{"t1", "t2"}},
		{numberRT, `tags eq 5`, []string{"t1"}},
		{numberRT, `tags lt 1`, nil},
		{numberRT, `label eq "abc"`, []string{"t2"}},
		{numberRT, `label gt "B"`, []string{"t2"}},
	}
	for _, tc := range tests {
		e, err := Parse(tc.rt, tc.filter)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.filter, err)
			continue
		}
		docs := users
		switch tc.rt {
		case group:
			docs = groups
		case numberRT:
			docs = things
		}
		var got []string
		for _, d := range docs {
			if Match(tc.rt, e, d) {
				got = append(got, d["id"].(string))
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s matches %q, want %q", tc.filter, got, tc.want)
		}
		// The rendering means the same.
		e2, err := Parse(tc.rt, e.String())
		if err != nil || !reflect.DeepEqual(e, e2) {
			t.Errorf("round trip of %q: %v, %v", tc.filter, e2, err)
		}
	}
}

// TestMatchOddTrees checks that expressions no parser produces do not
// panic Match or String.
func TestMatchOddTrees(t *testing.T) {
	vp := &ValuePath{Path: mustPath(t, schema.UserType, "emails"), Filter: &ValuePath{Path: mustPath(t, schema.UserType, "emails")}}
	for _, e := range []Expr{
		nil,
		&And{},
		&Or{},
		&Not{},
		&Compare{},
		&Compare{Path: mustPath(t, schema.UserType, "name"), Op: Eq, Value: "x"},
		&Compare{Path: mustPath(t, schema.UserType, "userName"), Op: "zz", Value: 3},
		&ValuePath{},
		vp,
		(*And)(nil),
		(*Compare)(nil),
	} {
		for _, d := range users {
			Match(schema.UserType, e, d)
		}
		Match(schema.UserType, e, nil)
		if e != nil {
			_ = e.String()
		}
	}
}
