package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/scimd/scimd/scim"
	"github.com/scimd/scimd/scim/filter"
	"github.com/scimd/scimd/scim/schema"
)

// querySeed creates, over HTTP, the users and groups the query tests
// filter: it returns the server and the ids by userName/displayName.
func querySeed(t *testing.T, ts *testServer) map[string]string {
	t.Helper()
	ids := map[string]string{}
	users := []map[string]any{
		{"userName": "bjensen@example.com", "externalId": "jyoung", "name": map[string]any{"givenName": "Barbara", "familyName": "Jensen"},
			"title": "Tour Guide", "active": true, "displayName": "Babs Jensen",
			"emails":                 []any{map[string]any{"value": "bjensen@example.com", "type": "work", "primary": true}, map[string]any{"value": "babs@jensen.org", "type": "home"}},
			schema.EnterpriseUserURN: map[string]any{"department": "Tour Operations", "employeeNumber": "701"}},
		{"userName": "JSmith", "externalId": "JYOUNG", "name": map[string]any{"givenName": "Jim", "familyName": "Smith"},
			"active": false, "emails": []any{map[string]any{"value": "JSmith@Example.COM", "type": "Work"}},
			schema.EnterpriseUserURN: map[string]any{"department": "sales"}},
		{"userName": "Straße", "title": "tour guide", "emails": []any{map[string]any{"value": "strasse@example.org"}}},
		{"userName": "zoë", "nickName": "Zoe\u0308", "emails": []any{map[string]any{"type": "work"}}},
	}
	for _, u := range users {
		r := ts.do(t, "POST", "/Users", u).must(t, http.StatusCreated)
		ids[u["userName"].(string)] = r.str("id")
	}
	// A manager reference to bjensen.
	ts.do(t, "PUT", "/Users/"+ids["JSmith"], map[string]any{"userName": "JSmith", "externalId": "JYOUNG", "active": false,
		"name":                   map[string]any{"givenName": "Jim", "familyName": "Smith"},
		"emails":                 []any{map[string]any{"value": "JSmith@Example.COM", "type": "Work"}},
		schema.EnterpriseUserURN: map[string]any{"department": "sales", "manager": map[string]any{"value": ids["bjensen@example.com"]}}}).must(t, http.StatusOK)
	g := ts.do(t, "POST", "/Groups", map[string]any{"displayName": "Tour Guides", "members": []any{map[string]any{"value": ids["bjensen@example.com"]}, map[string]any{"value": ids["Straße"]}}}).must(t, http.StatusCreated)
	ids["Tour Guides"] = g.str("id")
	g = ts.do(t, "POST", "/Groups", map[string]any{"displayName": "Everyone", "members": []any{map[string]any{"value": ids["Tour Guides"]}, map[string]any{"value": ids["JSmith"]}}}).must(t, http.StatusCreated)
	ids["Everyone"] = g.str("id")
	ts.do(t, "POST", "/Groups", map[string]any{"displayName": "Nobody"}).must(t, http.StatusCreated)
	return ids
}

// names returns the userNames (or displayNames) of a list response.
func names(r *response) []string {
	out := []string{}
	res, _ := r.get("Resources").([]any)
	for _, x := range res {
		m := x.(map[string]any)
		n, _ := m["userName"].(string)
		if n == "" {
			n, _ = m["displayName"].(string)
		}
		out = append(out, n)
	}
	return out
}

func TestFilterCorpus(t *testing.T) {
	ts := newServer(t)
	ids := querySeed(t, ts)
	start := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
	future := time.Now().UTC().Add(time.Hour).Format(time.RFC3339Nano)
	const b, j, s, z = "bjensen@example.com", "JSmith", "Straße", "zoë"
	for _, tc := range []struct {
		filter string
		want   []string // userNames, in id (creation) order
	}{
		// eq and case rules: userName is case-insensitive, externalId and id exact.
		{`userName eq "BJENSEN@example.com"`, []string{b}},
		{`USERNAME EQ "jsmith"`, []string{j}},
		{`userName eq "STRASSE"`, []string{s}},   // full case folding: ß folds to ss
		{`userName eq "zoe\u0308"`, []string{z}}, // NFC
		{`externalId eq "jyoung"`, []string{b}},
		{`externalId eq jyoung`, []string{b}}, // the bare word of Entra's old example
		{`externalId eq "JYOUNG"`, []string{j}},
		{`id eq "` + ids[j] + `"`, []string{j}},
		{`id eq "` + strings.ToUpper(ids[j]) + `"`, nil},
		// ne is not eq: absent attributes are ne anything.
		{`title ne "tour guide"`, []string{j, z}},
		{`externalId ne "jyoung"`, []string{j, s, z}},
		// co sw ew gt ge lt le.
		{`userName co "SMI"`, []string{j}},
		{`userName sw "b"`, []string{b}},
		{`userName ew "@EXAMPLE.COM"`, []string{b}},
		{`name.familyName gt "K"`, []string{j}},
		{`name.familyName ge "jensen"`, []string{b, j}},
		{`name.givenName lt "C"`, []string{b}},
		{`name.givenName le "jim"`, []string{b, j}},
		// pr, null.
		{`title pr`, []string{b, s}},
		{`title eq null`, []string{j, z}},
		{`nickName ne null`, []string{z}},
		{`emails.value pr`, []string{b, j, s}},
		{`emails pr`, []string{b, j, s, z}},
		// booleans.
		{`active eq true`, []string{b}},
		{`active eq "False"`, []string{j}},
		{`active ne true`, []string{j, s, z}},
		// and, or, not, precedence: and binds tighter than or.
		{`title pr and userName sw "s" or active eq false`, []string{j, s}},
		{`title pr and (userName sw "s" or active eq false)`, []string{s}},
		{`not (title pr) and not(active eq false)`, []string{z}},
		// multi-valued and value paths.
		{`emails co "example.com"`, []string{b, j}},
		{`emails.type eq "work"`, []string{b, j, z}},
		{`emails[type eq "work"].value eq "jsmith@example.com"`, []string{j}},
		{`emails[type eq "home"].value eq "jsmith@example.com"`, nil},
		{`emails[type eq "work" and value co "@example.com"]`, []string{b, j}},
		{`emails[type eq "work" and primary eq true]`, []string{b}},
		{`emails[not (type pr)]`, []string{s}},
		{`emails[type eq "work"] and not (emails[value pr and type eq "work"])`, []string{z}},
		// schema-qualified paths and the extension.
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "jsmith"`, []string{j}},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "TOUR OPERATIONS"`, []string{b}},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "` + ids[b] + `"`, []string{j}},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber pr`, []string{b}},
		{`schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`, []string{b, j}},
		// meta: dateTimes as instants, resourceType, location.
		{`meta.lastModified gt "` + start + `"`, []string{b, j, s, z}},
		{`meta.created ge "` + future + `"`, nil},
		{`meta.resourceType eq "User"`, []string{b, j, s, z}},
		{`meta.location eq "` + ts.Base + `/Users/` + ids[s] + `"`, []string{s}},
		// groups, derived from membership, nested ones included.
		{`groups.value eq "` + ids["Tour Guides"] + `"`, []string{b, s}},
		{`groups.display eq "everyone"`, []string{b, j, s}},
		{`groups[display eq "Everyone" and type eq "direct"]`, []string{j}},
		{`groups pr`, []string{b, j, s}},
	} {
		for _, enc := range []func(string) string{url.QueryEscape, func(s string) string { return strings.ReplaceAll(url.PathEscape(s), "&", "%26") }} {
			r := ts.do(t, "GET", "/Users?filter="+enc(tc.filter), nil)
			if r.Status != http.StatusOK {
				t.Errorf("%s: status %d: %s", tc.filter, r.Status, r.Raw)
				continue
			}
			want := tc.want
			if want == nil {
				want = []string{}
			}
			if diff := cmp.Diff(want, names(r)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.filter, diff)
			}
			if r.str("totalResults") != fmt.Sprint(len(want)) || r.str("itemsPerPage") != fmt.Sprint(len(want)) {
				t.Errorf("%s: totalResults %s itemsPerPage %s, want %d", tc.filter, r.str("totalResults"), r.str("itemsPerPage"), len(want))
			}
		}
	}
	for _, tc := range []struct {
		filter string
		want   []string
	}{
		{`displayName eq "tour guides"`, []string{"Tour Guides"}},
		{`members.value eq "` + ids[j] + `"`, []string{"Everyone"}},
		{`members[type eq "Group"]`, []string{"Everyone"}},
		{`members.display eq "straße"`, []string{"Tour Guides"}},
		{`members pr`, []string{"Tour Guides", "Everyone"}},
		{`not (members pr)`, []string{"Nobody"}},
		{`meta.resourceType eq "Group" and displayName co "o"`, []string{"Tour Guides", "Everyone", "Nobody"}},
	} {
		r := ts.do(t, "GET", "/Groups?excludedAttributes=members&filter="+url.QueryEscape(tc.filter), nil).must(t, http.StatusOK)
		if diff := cmp.Diff(tc.want, names(r)); diff != "" {
			t.Errorf("groups %s (-want +got):\n%s", tc.filter, diff)
		}
	}
	// Entra's raw form: + for spaces, raw quotes.
	r := ts.do(t, "GET", `/Users?filter=userName+eq+"jsmith"`, nil).must(t, http.StatusOK)
	if diff := cmp.Diff([]string{j}, names(r)); diff != "" {
		t.Errorf("raw quotes (-want +got):\n%s", diff)
	}
}

func TestFilterErrors(t *testing.T) {
	ts := newServer(t)
	for _, tc := range []struct {
		filter, scimType, detail string
	}{
		{`userName eq`, "invalidFilter", "offset"},
		{`userName xx "a"`, "invalidFilter", "operator"},
		{`noSuchAttr eq "a"`, "invalidFilter", "noSuchAttr"},
		{`password eq "x"`, "invalidFilter", "password"},
		{`active gt true`, "invalidFilter", "gt"},
		{`meta.created eq "yesterday"`, "invalidFilter", "date-time"},
		{`emails[type eq "work"`, "invalidFilter", "]"},
		{`name eq "x"`, "invalidFilter", "complex"},
		{`userName eq "a" and`, "invalidFilter", "offset"},
		{strings.Repeat("(", 40) + `userName pr` + strings.Repeat(")", 40), "invalidFilter", "deep"},
		{`userName eq "` + strings.Repeat("x", filter.MaxLength) + `"`, "invalidFilter", "long"},
	} {
		r := ts.do(t, "GET", "/Users?filter="+url.QueryEscape(tc.filter), nil)
		d := r.scimError(t, http.StatusBadRequest, tc.scimType)
		if !strings.Contains(strings.ToLower(d), strings.ToLower(tc.detail)) {
			t.Errorf("%.60s: detail %q does not mention %q", tc.filter, d, tc.detail)
		}
		// The same through .search.
		ts.do(t, "POST", "/Users/.search", map[string]any{"filter": tc.filter}).scimError(t, http.StatusBadRequest, tc.scimType)
	}
	for _, q := range []string{"sortBy=nope", "sortBy=name", "sortOrder=sideways", "attributes=nope", "excludedAttributes=emails.nope"} {
		ts.do(t, "GET", "/Users?"+q, nil).scimError(t, http.StatusBadRequest, "invalidValue")
	}
}

func TestSortAndPaging(t *testing.T) {
	ts := newServer(t)
	querySeed(t, ts)
	r := ts.do(t, "GET", "/Users?sortBy=userName&sortOrder=descending", nil).must(t, http.StatusOK)
	if diff := cmp.Diff([]string{"zoë", "Straße", "JSmith", "bjensen@example.com"}, names(r)); diff != "" {
		t.Errorf("sortBy userName descending (-want +got):\n%s", diff)
	}
	r = ts.do(t, "GET", "/Users?sortBy=title", nil).must(t, http.StatusOK)
	if got := names(r); got[0] != "bjensen@example.com" || got[1] != "Straße" { // equal folded titles: by id; missing last
		t.Errorf("sortBy title: %v", got)
	}
	r = ts.do(t, "GET", "/Users?sortBy=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department&count=1&startIndex=2", nil).must(t, http.StatusOK)
	if diff := cmp.Diff([]string{"bjensen@example.com"}, names(r)); diff != "" || r.str("totalResults") != "4" || r.str("startIndex") != "2" || r.str("itemsPerPage") != "1" {
		t.Errorf("sortBy department, page 2 of 1: %s", r.Raw)
	}
	for _, tc := range []struct {
		query             string
		start, items, all string
	}{
		{"startIndex=0&count=2", "1", "2", "4"},
		{"startIndex=4&count=2", "4", "1", "4"},
		{"startIndex=5&count=2", "5", "0", "4"},
		{"count=0", "1", "0", "4"},
		{"count=-1", "1", "0", "4"},
		{"count=100000", "1", "4", "4"},
		{"filter=" + url.QueryEscape(`title pr`) + "&count=1", "1", "1", "2"},
	} {
		r := ts.do(t, "GET", "/Users?"+tc.query, nil).must(t, http.StatusOK)
		if r.str("startIndex") != tc.start || r.str("itemsPerPage") != tc.items || r.str("totalResults") != tc.all || fmt.Sprint(len(names(r))) != tc.items {
			t.Errorf("%s: %s", tc.query, r.Raw)
		}
	}
	// ServiceProviderConfig says so.
	spc := ts.do(t, "GET", "/ServiceProviderConfig", nil).must(t, http.StatusOK)
	if spc.get("sort.supported") != true || spc.str("filter.maxResults") != "1000" {
		t.Errorf("ServiceProviderConfig: %s", spc.Raw)
	}
}

func TestProjection(t *testing.T) {
	ts := newServer(t)
	ids := querySeed(t, ts)
	keys := func(m any) []string {
		var out []string
		for k := range m.(map[string]any) {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	user := map[string]any{"userName": "proj", "password": "hunter2", "title": "T", "emails": []any{map[string]any{"value": "p@x.org", "type": "work"}}}
	// create, replace, get, list, search: the same rules everywhere.
	created := ts.do(t, "POST", "/Users?attributes=userName,emails.value", user).must(t, http.StatusCreated)
	id := created.str("id")
	for _, r := range []*response{
		created,
		ts.do(t, "PUT", "/Users/"+id+"?attributes=userName,emails.value", user).must(t, http.StatusOK),
		ts.do(t, "GET", "/Users/"+id+"?attributes=userName,emails.value", nil).must(t, http.StatusOK),
	} {
		if diff := cmp.Diff([]string{"emails", "id", "meta", "schemas", "userName"}, keys(r.Body)); diff != "" {
			t.Errorf("attributes=userName,emails.value (-want +got):\n%s\n%s", diff, r.Raw)
		}
		if diff := cmp.Diff([]string{"value"}, keys(r.get("emails.0"))); diff != "" {
			t.Errorf("emails.value only (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"resourceType"}, keys(r.get("meta"))); diff != "" {
			t.Errorf("meta: returned always is only resourceType (-want +got):\n%s", diff)
		}
	}
	for _, r := range []*response{
		ts.do(t, "GET", "/Users?filter=userName+eq+%22proj%22&attributes=title", nil).must(t, http.StatusOK),
		ts.do(t, "POST", "/Users/.search", map[string]any{"filter": `userName eq "proj"`, "attributes": []any{"title"}}).must(t, http.StatusOK),
		ts.do(t, "POST", "/.search", map[string]any{"filter": `userName eq "proj"`, "attributes": []any{"title"}}).must(t, http.StatusOK),
	} {
		if diff := cmp.Diff([]string{"id", "meta", "schemas", "title"}, keys(r.get("Resources.0"))); diff != "" {
			t.Errorf("list attributes=title (-want +got):\n%s\n%s", diff, r.Raw)
		}
	}
	for _, r := range []*response{
		ts.do(t, "GET", "/Users/"+id+"?excludedAttributes=emails,title,id,meta", nil).must(t, http.StatusOK),
		ts.do(t, "GET", "/Users?filter=userName+eq+%22proj%22&excludedAttributes=emails,title,id,meta", nil).must(t, http.StatusOK).resource0(),
	} {
		// id is returned always; meta.resourceType too.
		if diff := cmp.Diff([]string{"groups", "id", "meta", "schemas", "userName"}, keys(r.Body)); diff != "" && !slices.Equal(keys(r.Body), []string{"id", "meta", "schemas", "userName"}) {
			t.Errorf("excludedAttributes (-want +got):\n%s\n%s", diff, r.Raw)
		}
	}
	// password is never returned, even when asked for.
	for _, r := range []*response{
		created,
		ts.do(t, "GET", "/Users/"+id+"?attributes=password", nil).must(t, http.StatusOK),
		ts.do(t, "GET", "/Users?attributes=password", nil).must(t, http.StatusOK),
	} {
		if strings.Contains(string(r.Raw), "password") || strings.Contains(string(r.Raw), "hunter2") {
			t.Errorf("password returned: %s", r.Raw)
		}
	}
	// Groups: excludedAttributes=members leaves members out.
	g := ts.do(t, "GET", "/Groups/"+ids["Everyone"]+"?excludedAttributes=members", nil).must(t, http.StatusOK)
	if g.get("members") != nil || g.str("displayName") != "Everyone" {
		t.Errorf("group without members: %s", g.Raw)
	}
	g = ts.do(t, "GET", "/Groups/"+ids["Everyone"], nil).must(t, http.StatusOK)
	if len(g.get("members").([]any)) != 2 {
		t.Errorf("group with members: %s", g.Raw)
	}
}

// resource0 returns the first resource of a list response as a response.
func (r *response) resource0() *response {
	m, _ := r.get("Resources.0").(map[string]any)
	return &response{Status: r.Status, Header: r.Header, Raw: r.Raw, Body: m}
}

// loadRecorder records what the API asks the store to load.
type loadRecorder struct {
	scim.Store
	mu    sync.Mutex
	loads []scim.Load
}

func (l *loadRecorder) record(ld scim.Load) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.loads = append(l.loads, ld)
}

func (l *loadRecorder) Get(ctx context.Context, rt *schema.ResourceType, id string, load scim.Load) (*scim.Resource, error) {
	l.record(load)
	return l.Store.Get(ctx, rt, id, load)
}

func (l *loadRecorder) List(ctx context.Context, rt *schema.ResourceType, q scim.Query) (*scim.Page, error) {
	l.record(q.Load)
	return l.Store.List(ctx, rt, q)
}

func (l *loadRecorder) Search(ctx context.Context, q scim.Search) (*scim.Page, error) {
	for _, p := range q.Parts {
		l.record(p.Load)
	}
	return l.Store.Search(ctx, q)
}

func (l *loadRecorder) Update(ctx context.Context, rt *schema.ResourceType, id string, opts scim.UpdateOptions, fn func(*scim.Resource) error) (*scim.Resource, error) {
	l.record(opts.Load)
	return l.Store.Update(ctx, rt, id, opts, fn)
}

// TestExcludedMembersNotLoaded checks that excludedAttributes=members (and
// attributes without members) never ask the store for members, so that
// the membership table is not read.
func TestExcludedMembersNotLoaded(t *testing.T) {
	ts := newServer(t)
	ids := querySeed(t, ts)
	rec := &loadRecorder{Store: ts.Store}
	ts.API.Store = rec
	for _, req := range []struct{ method, path string }{
		{"GET", "/Groups?excludedAttributes=members"},
		{"GET", "/Groups?attributes=displayName"},
		{"GET", "/Groups/" + ids["Everyone"] + "?excludedAttributes=members"},
		{"GET", "/Groups?filter=" + url.QueryEscape(`displayName eq "Everyone"`) + "&excludedAttributes=members"},
		{"POST", "/Groups/.search"},
		{"POST", "/.search"},
	} {
		rec.loads = nil
		var body any
		switch req.path {
		case "/Groups/.search":
			body = map[string]any{"excludedAttributes": []any{"members"}}
		case "/.search":
			body = map[string]any{"excludedAttributes": []any{"members", "groups"}}
		}
		r := ts.do(t, req.method, req.path, body).must(t, http.StatusOK)
		if strings.Contains(string(r.Raw), `"members"`) {
			t.Errorf("%s %s: members in the response: %s", req.method, req.path, r.Raw)
		}
		if len(rec.loads) == 0 {
			t.Errorf("%s %s: the store was not called", req.method, req.path)
		}
		for _, ld := range rec.loads {
			if ld.Members || ld.Groups {
				t.Errorf("%s %s: loads %+v", req.method, req.path, ld)
			}
		}
	}
	rec.loads = nil
	ts.do(t, "GET", "/Groups/"+ids["Everyone"], nil).must(t, http.StatusOK)
	if len(rec.loads) != 1 || !rec.loads[0].Members {
		t.Errorf("a plain GET does not load members: %+v", rec.loads)
	}
}

func TestSearchRoot(t *testing.T) {
	ts := newServer(t)
	querySeed(t, ts)
	// displayName exists in both types: one merged order.
	r := ts.do(t, "POST", "/.search", map[string]any{
		"schemas": []any{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"},
		"filter":  `displayName pr`, "sortBy": "displayName", "attributes": []any{"displayName"},
	}).must(t, http.StatusOK)
	if diff := cmp.Diff([]string{"Babs Jensen", "Everyone", "Nobody", "Tour Guides"}, displayNames(r)); diff != "" {
		t.Errorf("root search by displayName (-want +got):\n%s\n%s", diff, r.Raw)
	}
	if r.str("Resources.0.meta.resourceType") != "User" || r.str("Resources.1.meta.resourceType") != "Group" {
		t.Errorf("resource types: %s", r.Raw)
	}
	// userName exists only for users: groups have no match, and sort last.
	r = ts.do(t, "POST", "/.search", map[string]any{"filter": `userName sw "j"`}).must(t, http.StatusOK)
	if diff := cmp.Diff([]string{"JSmith"}, names(r)); diff != "" {
		t.Errorf("root search, user-only filter (-want +got):\n%s", diff)
	}
	r = ts.do(t, "POST", "/.search", map[string]any{"sortBy": "userName", "sortOrder": "descending", "count": 3, "startIndex": 2}).must(t, http.StatusOK)
	if r.str("totalResults") != "7" || r.str("itemsPerPage") != "3" || r.str("startIndex") != "2" {
		t.Errorf("root search page: %s", r.Raw)
	}
	// Descending: missing keys (groups) first, by id descending; then users.
	if got := names(r); got[2] != "Everyone" && got[2] != "zoë" {
		t.Errorf("root search descending by userName: %v", got)
	}
	ts.do(t, "POST", "/.search", map[string]any{"filter": `nope eq "x"`}).scimError(t, http.StatusBadRequest, "invalidFilter")
	ts.do(t, "POST", "/.search", map[string]any{"sortBy": "nope"}).scimError(t, http.StatusBadRequest, "invalidValue")
	ts.do(t, "POST", "/.search", map[string]any{"attributes": "nope"}).scimError(t, http.StatusBadRequest, "invalidValue")
	ts.do(t, "POST", "/.search", "not json").scimError(t, http.StatusBadRequest, "invalidSyntax")
}

func displayNames(r *response) []string {
	out := []string{}
	res, _ := r.get("Resources").([]any)
	for _, x := range res {
		n, _ := x.(map[string]any)["displayName"].(string)
		out = append(out, n)
	}
	return out
}
