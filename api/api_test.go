package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimd/scimd/api"
)

var alice = map[string]any{
	"schemas":    []any{"urn:ietf:params:scim:schemas:core:2.0:User"},
	"userName":   "Alice@Example.com",
	"externalId": "ext-alice",
	"name":       map[string]any{"givenName": "Alice", "familyName": "Liddell"},
	"emails":     []any{map[string]any{"value": "alice@example.com", "type": "work", "primary": true}},
	"active":     true,
}

func TestUserLifecycle(t *testing.T) {
	ts := newServer(t)
	c := ts.do(t, "POST", "/Users", alice).must(t, http.StatusCreated)
	id := c.str("id")
	if id == "" || c.Header.Get("Location") != ts.Base+"/Users/"+id {
		t.Fatalf("id %q, Location %q", id, c.Header.Get("Location"))
	}
	if c.Header.Get("ETag") != `W/"1"` || c.str("meta.version") != `W/"1"` {
		t.Errorf("ETag %q, meta.version %q", c.Header.Get("ETag"), c.str("meta.version"))
	}
	if ct := c.Header.Get("Content-Type"); ct != api.MediaType {
		t.Errorf("Content-Type %q", ct)
	}
	for _, k := range []string{"meta.created", "meta.lastModified", "meta.location", "meta.resourceType"} {
		if c.str(k) == "" {
			t.Errorf("%s missing: %s", k, c.Raw)
		}
	}

	// Get by id, and JFrog-style by userName in any case.
	for _, x := range []string{id, "alice@example.com", "ALICE@EXAMPLE.COM"} {
		g := ts.do(t, "GET", "/Users/"+x, nil).must(t, http.StatusOK)
		if g.str("id") != id || g.str("userName") != "Alice@Example.com" || g.str("name.givenName") != "Alice" {
			t.Errorf("GET /Users/%s = %s", x, g.Raw)
		}
	}
	// The conventional prefix serves the same data, with its own locations.
	g := ts.do(t, "GET", ts.URL+"/scim/v2/Users/"+id, nil).must(t, http.StatusOK)
	if g.str("meta.location") != ts.URL+"/scim/v2/Users/"+id {
		t.Errorf("location under /scim/v2 = %q", g.str("meta.location"))
	}

	// Find, with + and %20 and raw quotes for spaces.
	for _, q := range []string{
		`?filter=userName+eq+%22alice@example.com%22`,
		`?filter=userName%20eq%20%22ALICE@example.com%22`,
		`?filter=externalId+eq+"ext-alice"&unknownParam=1`,
	} {
		l := ts.do(t, "GET", "/Users"+q, nil).must(t, http.StatusOK)
		if l.str("totalResults") != "1" || l.str("Resources.0.id") != id {
			t.Errorf("GET /Users%s = %s", q, l.Raw)
		}
	}

	// Replace: absent attributes are cleared, renames allowed, version bumps.
	put := ts.do(t, "PUT", "/Users/"+id, map[string]any{"userName": "alice.liddell@example.com", "active": "False", "id": "ignored", "meta": map[string]any{"version": "x"}}).must(t, http.StatusOK)
	if put.str("userName") != "alice.liddell@example.com" || put.get("active") != false || put.get("name") != nil || put.get("emails") != nil {
		t.Errorf("after PUT: %s", put.Raw)
	}
	if put.str("id") != id || put.Header.Get("ETag") != `W/"2"` || put.str("externalId") != "" {
		t.Errorf("after PUT: id %s ETag %s externalId %q", put.str("id"), put.Header.Get("ETag"), put.str("externalId"))
	}
	if put.str("meta.created") != c.str("meta.created") {
		t.Errorf("PUT changed meta.created")
	}
	ts.do(t, "GET", "/Users/alice@example.com", nil).scimError(t, http.StatusNotFound, "")

	// Delete: 204, then 404.
	d := ts.do(t, "DELETE", "/Users/"+id, nil).must(t, http.StatusNoContent)
	if len(d.Raw) != 0 {
		t.Errorf("204 with a body: %s", d.Raw)
	}
	ts.do(t, "GET", "/Users/"+id, nil).scimError(t, http.StatusNotFound, "")
	ts.do(t, "DELETE", "/Users/"+id, nil).scimError(t, http.StatusNotFound, "")
}

func TestCreateUserLiberalInput(t *testing.T) {
	ts := newServer(t)
	// Entra's create, with client meta, an empty roles array, the extension
	// URN without an object, a string boolean and a bare-string manager.
	r := ts.do(t, "POST", "/Users", `{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","urn:example:unknown"],
		"id": "client-id", "externalId": "0a21f0f2", "userName": "Test_User_00aa",
		"active": "True", "meta": {"resourceType": "User"}, "roles": [], "title": null,
		"PASSWORD": "hunter2", "nickname": "tt", "unknownAttr": 5,
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": "boss-id", "department": "Eng"},
		"urn:example:unknown": {"x": 1},
		"groups": [{"value": "g"}]
	}`, "Content-Type: application/json").must(t, http.StatusCreated)
	if r.get("active") != true || r.str("id") == "client-id" || r.str("nickName") != "tt" {
		t.Errorf("coercion: %s", r.Raw)
	}
	ent := "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	ext, _ := r.Body[ent].(map[string]any)
	if m, _ := ext["manager"].(map[string]any); m["value"] != "boss-id" || ext["department"] != "Eng" {
		t.Errorf("enterprise extension: %s", r.Raw)
	}
	if strings.Contains(string(r.Raw), "hunter2") || r.get("password") != nil || r.get("roles") != nil || r.get("groups") != nil {
		t.Errorf("password, empty roles or client groups echoed: %s", r.Raw)
	}
	if got := r.get("schemas").([]any); len(got) != 2 || got[1] != ent {
		t.Errorf("schemas = %v", got)
	}
	// Booleans come back as JSON booleans, and curl's default Content-Type works.
	r = ts.do(t, "POST", "/Users", `{"userName":"curl-user","active":"false"}`, "Content-Type: application/x-www-form-urlencoded").must(t, http.StatusCreated)
	if !strings.Contains(string(r.Raw), `"active":false`) {
		t.Errorf("active not a boolean: %s", r.Raw)
	}
}

func TestUniquenessConflict(t *testing.T) {
	ts := newServer(t)
	ts.do(t, "POST", "/Users", alice).must(t, http.StatusCreated)
	for _, name := range []string{"alice@example.com", "ALICE@EXAMPLE.COM"} {
		detail := ts.do(t, "POST", "/Users", map[string]any{"userName": name}).scimError(t, http.StatusConflict, "uniqueness")
		if !strings.Contains(detail, name) {
			t.Errorf("409 detail %q does not name %q", detail, name)
		}
	}
	ts.do(t, "POST", "/Groups", map[string]any{"displayName": "Eng"}).must(t, http.StatusCreated)
	ts.do(t, "POST", "/Groups", map[string]any{"displayName": "ENG"}).scimError(t, http.StatusConflict, "uniqueness")

	// Racing creates over HTTP: one 201, the rest 409.
	var wg sync.WaitGroup
	statuses := make([]int, 12)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = ts.do(t, "POST", "/Users", map[string]any{"userName": fmt.Sprintf("%s@race.example", []string{"bob", "BOB", "Bob"}[i%3])}).Status
		}()
	}
	wg.Wait()
	created := 0
	for _, s := range statuses {
		switch s {
		case http.StatusCreated:
			created++
		case http.StatusConflict:
		default:
			t.Errorf("racing create answered %d", s)
		}
	}
	if created != 1 {
		t.Errorf("%d racing creates succeeded, want 1 (statuses %v)", created, statuses)
	}
}

func TestGroupLifecycle(t *testing.T) {
	ts := newServer(t)
	u := ts.do(t, "POST", "/Users", alice).must(t, http.StatusCreated)
	b := ts.do(t, "POST", "/Users", map[string]any{"userName": "bob"}).must(t, http.StatusCreated)
	inner := ts.do(t, "POST", "/Groups", map[string]any{"displayName": "Inner", "members": []any{map[string]any{"value": b.str("id")}}}).must(t, http.StatusCreated)
	// Members by id, by userName (JFrog style) and a nested group.
	g := ts.do(t, "POST", "/Groups", map[string]any{
		"schemas":     []any{"urn:ietf:params:scim:schemas:core:2.0:Group"},
		"displayName": "Engineering",
		"members": []any{
			map[string]any{"value": "ALICE@example.com", "display": "ignored"},
			map[string]any{"value": inner.str("id"), "type": "Group"},
		},
	}).must(t, http.StatusCreated)
	gid := g.str("id")
	members := map[string]string{}
	for _, m := range g.get("members").([]any) {
		mm := m.(map[string]any)
		members[mm["value"].(string)] = mm["type"].(string) + ":" + mm["display"].(string)
		if !strings.HasPrefix(mm["$ref"].(string), ts.Base+"/"+mm["type"].(string)+"s/") {
			t.Errorf("member $ref %v", mm["$ref"])
		}
	}
	want := map[string]string{u.str("id"): "User:Alice@Example.com", inner.str("id"): "Group:Inner"}
	if fmt.Sprint(members) != fmt.Sprint(want) {
		t.Errorf("members = %v, want %v", members, want)
	}
	// A user's groups: direct and indirect, read-only.
	ub := ts.do(t, "GET", "/Users/bob", nil).must(t, http.StatusOK)
	types := map[string]string{}
	for _, e := range ub.get("groups").([]any) {
		m := e.(map[string]any)
		types[m["display"].(string)] = m["type"].(string)
	}
	if types["Inner"] != "direct" || types["Engineering"] != "indirect" || len(types) != 2 {
		t.Errorf("bob's groups = %v", types)
	}
	// Get by displayName, filter by displayName (any case), excludedAttributes=members.
	ts.do(t, "GET", "/Groups/engineering", nil).must(t, http.StatusOK)
	l := ts.do(t, "GET", `/Groups?filter=displayName+eq+"ENGINEERING"&excludedAttributes=members`, nil).must(t, http.StatusOK)
	if l.str("totalResults") != "1" || l.get("Resources.0.members") != nil || l.str("Resources.0.displayName") != "Engineering" {
		t.Errorf("group filter: %s", l.Raw)
	}
	// PUT replaces the member list and may rename.
	p := ts.do(t, "PUT", "/Groups/"+gid, map[string]any{"displayName": "Platform", "members": []any{map[string]any{"value": b.str("id")}}}).must(t, http.StatusOK)
	if p.str("displayName") != "Platform" || len(p.get("members").([]any)) != 1 || p.str("members.0.value") != b.str("id") {
		t.Errorf("after PUT: %s", p.Raw)
	}
	// Unknown members: 400 invalidValue naming the member; nothing applied.
	detail := ts.do(t, "PUT", "/Groups/"+gid, map[string]any{"displayName": "Renamed", "members": []any{map[string]any{"value": "ghost-id"}}}).scimError(t, http.StatusBadRequest, "invalidValue")
	if !strings.Contains(detail, "ghost-id") {
		t.Errorf("detail %q does not name the member", detail)
	}
	ts.do(t, "GET", "/Groups/Platform", nil).must(t, http.StatusOK)
	// Deleting a user removes it from groups.
	ts.do(t, "DELETE", "/Users/bob", nil).must(t, http.StatusNoContent)
	p = ts.do(t, "GET", "/Groups/Platform", nil).must(t, http.StatusOK)
	if p.get("members") != nil {
		t.Errorf("deleted user still a member: %s", p.Raw)
	}
	ts.do(t, "DELETE", "/Groups/"+gid, nil).must(t, http.StatusNoContent)
	ts.do(t, "GET", "/Groups/"+gid, nil).scimError(t, http.StatusNotFound, "")
}

func TestList(t *testing.T) {
	ts := newServer(t)
	for i := range 5 {
		ts.do(t, "POST", "/Users", map[string]any{"userName": fmt.Sprintf("u%d", i)}).must(t, http.StatusCreated)
	}
	l := ts.do(t, "GET", "/Users?startIndex=2&count=2", nil).must(t, http.StatusOK)
	if l.str("totalResults") != "5" || l.str("itemsPerPage") != "2" || l.str("startIndex") != "2" || len(l.get("Resources").([]any)) != 2 {
		t.Errorf("page: %s", l.Raw)
	}
	if !strings.Contains(string(l.Raw), `"totalResults":5`) {
		t.Errorf("totalResults is not an integer: %s", l.Raw)
	}
	l = ts.do(t, "GET", "/Users?count=0", nil).must(t, http.StatusOK)
	if l.str("totalResults") != "5" || len(l.get("Resources").([]any)) != 0 || l.str("itemsPerPage") != "0" {
		t.Errorf("count=0: %s", l.Raw)
	}
	l = ts.do(t, "GET", "/Users?startIndex=-3&count=100000", nil).must(t, http.StatusOK)
	if l.str("startIndex") != "1" || len(l.get("Resources").([]any)) != 5 {
		t.Errorf("startIndex<1 and a huge count: %s", l.Raw)
	}
	// Nothing found: 200, empty Resources, never 404 (Entra's Test Connection).
	l = ts.do(t, "GET", `/Users?filter=userName+eq+%2200aa00aa-bb11%22`, nil).must(t, http.StatusOK)
	if l.str("totalResults") != "0" || l.get("Resources") == nil || len(l.get("Resources").([]any)) != 0 {
		t.Errorf("empty result: %s", l.Raw)
	}
	ts.do(t, "GET", "/Users?startIndex=abc", nil).scimError(t, http.StatusBadRequest, "invalidValue")
	ts.do(t, "GET", "/Users?count=x", nil).scimError(t, http.StatusBadRequest, "invalidValue")
}

func TestErrors(t *testing.T) {
	ts := newServer(t)
	ts.do(t, "POST", "/Users", alice).must(t, http.StatusCreated)
	for _, c := range []struct {
		name           string
		method, path   string
		body           any
		status         int
		scimType       string
		detailContains string
	}{
		{"malformed JSON", "POST", "/Users", `{"userName": `, 400, "invalidSyntax", "JSON"},
		{"not an object", "POST", "/Users", `["userName"]`, 400, "invalidSyntax", "object"},
		{"empty body", "POST", "/Users", ``, 400, "invalidSyntax", "empty"},
		{"trailing data", "POST", "/Users", `{"userName":"x"} {}`, 400, "invalidSyntax", "after"},
		{"missing userName", "POST", "/Users", map[string]any{"name": map[string]any{"givenName": "x"}}, 400, "invalidValue", "userName"},
		{"empty userName", "POST", "/Users", map[string]any{"userName": ""}, 400, "invalidValue", "userName"},
		{"wrong type", "POST", "/Users", map[string]any{"userName": "x", "active": "maybe"}, 400, "invalidValue", "active"},
		{"array for single", "POST", "/Users", map[string]any{"userName": "x", "title": []any{"a", "b"}}, 400, "invalidValue", "title"},
		{"object for string", "POST", "/Users", map[string]any{"userName": map[string]any{"a": 1}}, 400, "invalidValue", "userName"},
		{"wrong sub-attribute type", "POST", "/Users", `{"userName":"x","emails":[{"value":"a@b","primary":"yes"}]}`, 400, "invalidValue", "primary"},
		{"missing displayName", "POST", "/Groups", map[string]any{"members": []any{}}, 400, "invalidValue", "displayName"},
		{"bad filter", "GET", "/Users?filter=userName+eq", nil, 400, "invalidFilter", "offset"},
		{"unknown filter attribute", "GET", `/Users?filter=shoeSize+eq+"9"`, nil, 400, "invalidFilter", "shoeSize"},
		{"bad attributes", "GET", "/Users?attributes=shoeSize", nil, 400, "invalidValue", "shoeSize"},
		{"unknown id", "GET", "/Users/3f2c7a4e-0000-7000-8000-000000000000", nil, 404, "", "not found"},
		{"unknown id odd shape", "GET", "/Users/%20..%2F..%2Fetc", nil, 404, "", "not found"},
		{"unknown group", "PUT", "/Groups/nope", map[string]any{"displayName": "x"}, 404, "", "not found"},
		{"method not allowed", "DELETE", "/Users", nil, 405, "", "DELETE"},
		{"method not allowed on discovery", "POST", "/Schemas", `{}`, 405, "", "POST"},
		{"unknown endpoint", "GET", "/Widgets", nil, 404, "", "Widgets"},
		{"bulk", "POST", "/Bulk", `{}`, 501, "", "Bulk"},
	} {
		t.Run(c.name, func(t *testing.T) {
			detail := ts.do(t, c.method, c.path, c.body).scimError(t, c.status, c.scimType)
			if !strings.Contains(strings.ToLower(detail), strings.ToLower(c.detailContains)) {
				t.Errorf("detail %q does not mention %q", detail, c.detailContains)
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	ts := newServer(t)
	ts.API.MaxBody = 1024
	ts.do(t, "POST", "/Users", `{"userName":"big","title":"`+strings.Repeat("x", 2048)+`"}`).scimError(t, http.StatusRequestEntityTooLarge, "")
	ts.do(t, "POST", "/Users", `{"userName":"small"}`).must(t, http.StatusCreated)
}

func TestAuthentication(t *testing.T) {
	ts := newServer(t)
	for _, c := range []struct {
		name, auth string
	}{
		{"missing", ""},
		{"wrong scheme", "Basic " + ts.Token},
		{"unknown token", "Bearer scimd_nope"},
		{"empty bearer", "Bearer "},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := ts.doAuth(t, c.auth, "GET", "/Users", nil)
			r.scimError(t, http.StatusUnauthorized, "")
			if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate = %q", r.Header.Get("WWW-Authenticate"))
			}
		})
	}
	// The scheme is case-insensitive (RFC 7235).
	for _, scheme := range []string{"bearer", "BEARER", "Bearer"} {
		ts.doAuth(t, scheme+" "+ts.Token, "GET", "/Users", nil).must(t, http.StatusOK)
	}
	// Every endpoint is protected, discovery included.
	for _, p := range []string{"/Users", "/Groups", "/Schemas", "/ServiceProviderConfig", "/ResourceTypes", "/Users/x"} {
		ts.doAuth(t, "", "GET", p, nil).must(t, http.StatusUnauthorized)
	}

	// Revocation takes effect on the very next request.
	tok := ts.newToken(t, "okta", 0)
	ts.doAuth(t, "Bearer "+tok, "GET", "/Users", nil).must(t, http.StatusOK)
	if _, err := ts.Store.RevokeToken(t.Context(), "okta"); err != nil {
		t.Fatal(err)
	}
	if d := ts.doAuth(t, "Bearer "+tok, "GET", "/Users", nil).scimError(t, http.StatusUnauthorized, ""); !strings.Contains(d, "revoked") {
		t.Errorf("detail %q", d)
	}
	// Expiry too: a token within its lifetime works, one past it is refused.
	live := ts.newToken(t, "live", time.Hour)
	ts.doAuth(t, "Bearer "+live, "GET", "/Users", nil).must(t, http.StatusOK)
	past := ts.newToken(t, "past", -time.Second)
	if d := ts.doAuth(t, "Bearer "+past, "GET", "/Users", nil).scimError(t, http.StatusUnauthorized, ""); !strings.Contains(d, "expired") {
		t.Errorf("detail %q", d)
	}

	// Last use is recorded by the batched flush, not per request.
	before, _ := ts.Store.ListTokens(t.Context())
	for _, tk := range before {
		if tk.Name == "test" && !tk.LastUsed.IsZero() {
			t.Errorf("last used written before a flush")
		}
	}
	if err := ts.API.FlushTouches(t.Context()); err != nil {
		t.Fatal(err)
	}
	after, _ := ts.Store.ListTokens(t.Context())
	for _, tk := range after {
		if tk.Name == "test" && tk.LastUsed.IsZero() {
			t.Errorf("last used not recorded after the flush")
		}
	}
}

func TestRequestID(t *testing.T) {
	ts := newServer(t)
	r := ts.do(t, "GET", "/Users", nil, "X-Request-Id: abc-123")
	if r.Header.Get("X-Request-Id") != "abc-123" {
		t.Errorf("X-Request-Id = %q", r.Header.Get("X-Request-Id"))
	}
	r = ts.do(t, "GET", "/Users", nil, "X-Request-Id: <bad id>")
	if id := r.Header.Get("X-Request-Id"); id == "" || strings.Contains(id, "<") {
		t.Errorf("X-Request-Id = %q", id)
	}
}
