// Package storetest is the conformance suite that defines a scim.Store:
// every backend's tests run it, so they behave identically.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/scimd/scimd/scim"
	"github.com/scimd/scimd/scim/filter"
	"github.com/scimd/scimd/scim/schema"
)

// Run runs the suite. open returns a new, empty store; it registers its
// own cleanup.
func Run(t *testing.T, open func(t *testing.T) scim.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s scim.Store)
	}{
		{"CreateGet", testCreateGet},
		{"GetByName", testGetByName},
		{"Uniqueness", testUniqueness},
		{"ConcurrentCreates", testConcurrentCreates},
		{"Update", testUpdate},
		{"UpdateNoop", testUpdateNoop},
		{"UpdateIfMatch", testUpdateIfMatch},
		{"Rename", testRename},
		{"Delete", testDelete},
		{"Members", testMembers},
		{"MemberChanges", testMemberChanges},
		{"UnknownMember", testUnknownMember},
		{"NestedGroups", testNestedGroups},
		{"DeleteCascades", testDeleteCascades},
		{"ListFilter", testListFilter},
		{"Query", testQuery},
		{"Differential", testDifferential},
		{"Tokens", testTokens},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, open(t))
		})
	}
}

var ctx = context.Background()

func decode(t *testing.T, rt *schema.ResourceType, body map[string]any) *scim.Resource {
	t.Helper()
	attrs, err := rt.Decode(body)
	if err != nil {
		t.Fatalf("decode %v: %v", body, err)
	}
	r := &scim.Resource{Type: rt, Attrs: attrs}
	if raw, ok := attrs["members"].([]any); ok {
		delete(attrs, "members")
		for _, e := range raw {
			m := e.(map[string]any)
			r.Members = append(r.Members, scim.Member{Value: m["value"].(string)})
		}
	}
	return r
}

// User creates a user with the given userName and extra attributes.
func User(t *testing.T, s scim.Store, userName string, extra ...map[string]any) *scim.Resource {
	t.Helper()
	body := map[string]any{"userName": userName}
	for _, e := range extra {
		for k, v := range e {
			body[k] = v
		}
	}
	r, err := s.Create(ctx, decode(t, schema.UserType, body))
	if err != nil {
		t.Fatalf("create user %q: %v", userName, err)
	}
	return r
}

// Group creates a group with the given displayName and member values.
func Group(t *testing.T, s scim.Store, name string, members ...string) *scim.Resource {
	t.Helper()
	r := &scim.Resource{Type: schema.GroupType, Attrs: map[string]any{"displayName": name}}
	for _, m := range members {
		r.Members = append(r.Members, scim.Member{Value: m})
	}
	out, err := s.Create(ctx, r)
	if err != nil {
		t.Fatalf("create group %q: %v", name, err)
	}
	return out
}

func testCreateGet(t *testing.T, s scim.Store) {
	before := time.Now().Add(-time.Second)
	u := User(t, s, "bjensen@example.com", map[string]any{
		"name":                   map[string]any{"givenName": "Barbara", "familyName": "Jensen"},
		"emails":                 []any{map[string]any{"value": "bjensen@example.com", "type": "work", "primary": true}},
		"externalId":             "ext-1",
		"active":                 true,
		schema.EnterpriseUserURN: map[string]any{"department": "Tour Operations", "manager": map[string]any{"value": "boss"}},
	})
	if u.ID == "" || u.Meta.Version != 1 || u.Meta.Created.Before(before) || !u.Meta.Created.Equal(u.Meta.LastModified) {
		t.Fatalf("created resource has bad id/meta: %+v", u)
	}
	got, err := s.Get(ctx, schema.UserType, u.ID, scim.Load{Groups: true})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(u.Attrs, got.Attrs); diff != "" {
		t.Errorf("stored attributes differ (-created +got):\n%s", diff)
	}
	if got.ID != u.ID || got.Meta.Version != 1 || !got.Meta.Created.Equal(u.Meta.Created) {
		t.Errorf("got id %s meta %+v, want id %s meta %+v", got.ID, got.Meta, u.ID, u.Meta)
	}
	if !got.GroupsLoaded || len(got.Groups) != 0 {
		t.Errorf("groups = %v (loaded %v), want loaded and empty", got.Groups, got.GroupsLoaded)
	}
	if _, err := s.Get(ctx, schema.UserType, "no-such-id", scim.Load{}); !errors.Is(err, scim.ErrNotFound) {
		t.Errorf("Get unknown id: err = %v, want ErrNotFound", err)
	}
	if _, err := s.Get(ctx, schema.GroupType, u.ID, scim.Load{}); !errors.Is(err, scim.ErrNotFound) {
		t.Errorf("Get a user id as a group: err = %v, want ErrNotFound", err)
	}
}

func testGetByName(t *testing.T, s scim.Store) {
	u := User(t, s, "Alice.Smith@Example.com")
	for _, name := range []string{"Alice.Smith@Example.com", "alice.smith@example.com", "ALICE.SMITH@EXAMPLE.COM"} {
		got, err := s.Get(ctx, schema.UserType, name, scim.Load{})
		if err != nil || got.ID != u.ID {
			t.Errorf("Get(%q) = %v, %v; want user %s", name, got, err, u.ID)
		}
	}
	g := Group(t, s, "Engineering")
	got, err := s.Get(ctx, schema.GroupType, "engineering", scim.Load{})
	if err != nil || got.ID != g.ID {
		t.Errorf("Get group by name = %v, %v; want %s", got, err, g.ID)
	}
}

func testUniqueness(t *testing.T, s scim.Store) {
	User(t, s, "José.García@example.com")
	User(t, s, "straße")
	for _, name := range []string{
		"josé.garcía@example.com",             // case
		"JOSÉ.GARCÍA@EXAMPLE.COM",             // case
		"Jose\u0301.Garci\u0301a@example.com", // decomposed accents
		"STRASSE",                             // full case folding: ß → ss
	} {
		_, err := s.Create(ctx, decode(t, schema.UserType, map[string]any{"userName": name}))
		if !errors.Is(err, scim.ErrConflict) {
			t.Errorf("create %q: err = %v, want ErrConflict", name, err)
		}
	}
	Group(t, s, "Admins")
	_, err := s.Create(ctx, &scim.Resource{Type: schema.GroupType, Attrs: map[string]any{"displayName": "ADMINS"}})
	if !errors.Is(err, scim.ErrConflict) {
		t.Errorf("create group ADMINS: err = %v, want ErrConflict", err)
	}
	// A user and a group may share a name.
	User(t, s, "admins")
}

func testConcurrentCreates(t *testing.T, s scim.Store) {
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := "race@example.com"
			if i%2 == 1 {
				name = "RACE@example.com"
			}
			_, errs[i] = s.Create(ctx, &scim.Resource{Type: schema.UserType, Attrs: map[string]any{"userName": name}})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, scim.ErrConflict):
			t.Errorf("concurrent create: unexpected error %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d concurrent creates succeeded, want exactly 1", ok, n)
	}
	page, err := s.List(ctx, schema.UserType, scim.Query{Count: 10})
	if err != nil || page.Total != 1 {
		t.Errorf("after the race: %d users stored (err %v), want 1", page.Total, err)
	}
}

func testUpdate(t *testing.T, s scim.Store) {
	u := User(t, s, "upd@example.com", map[string]any{"title": "Engineer"})
	out, err := s.Update(ctx, schema.UserType, u.ID, scim.UpdateOptions{}, func(r *scim.Resource) error {
		r.Attrs["title"] = "Manager"
		r.Attrs["active"] = false
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.Meta.Version != 2 || out.String("title") != "Manager" || out.Active() {
		t.Errorf("after update: version %d title %q active %v", out.Meta.Version, out.String("title"), out.Active())
	}
	if !out.Meta.Created.Equal(u.Meta.Created) {
		t.Errorf("update changed meta.created")
	}
	got, _ := s.Get(ctx, schema.UserType, u.ID, scim.Load{})
	if got.String("title") != "Manager" || got.Meta.Version != 2 {
		t.Errorf("stored after update: title %q version %d", got.String("title"), got.Meta.Version)
	}
	// An update function's error aborts the update.
	boom := errors.New("boom")
	if _, err := s.Update(ctx, schema.UserType, u.ID, scim.UpdateOptions{}, func(r *scim.Resource) error {
		r.Attrs["title"] = "Lost"
		return boom
	}); !errors.Is(err, boom) {
		t.Errorf("err = %v, want the update function's", err)
	}
	got, _ = s.Get(ctx, schema.UserType, u.ID, scim.Load{})
	if got.String("title") != "Manager" {
		t.Errorf("a failed update was written: title %q", got.String("title"))
	}
	// Required attributes stay required.
	if _, err := s.Update(ctx, schema.UserType, u.ID, scim.UpdateOptions{}, func(r *scim.Resource) error {
		delete(r.Attrs, "userName")
		return nil
	}); err == nil {
		t.Error("removing userName succeeded")
	}
	if _, err := s.Update(ctx, schema.UserType, "missing", scim.UpdateOptions{}, func(*scim.Resource) error { return nil }); !errors.Is(err, scim.ErrNotFound) {
		t.Errorf("update of a missing user: err = %v, want ErrNotFound", err)
	}
}

func testUpdateNoop(t *testing.T, s scim.Store) {
	u := User(t, s, "noop@example.com", map[string]any{"title": "Same"})
	g := Group(t, s, "noop-group", u.ID)
	out, err := s.Update(ctx, schema.UserType, u.ID, scim.UpdateOptions{}, func(r *scim.Resource) error {
		r.Attrs["title"] = "Same"
		return nil
	})
	if err != nil || out.Meta.Version != 1 || !out.Meta.LastModified.Equal(u.Meta.LastModified) {
		t.Errorf("no-op update: version %d lastModified %v (err %v); want unchanged", out.Meta.Version, out.Meta.LastModified, err)
	}
	out, err = s.Update(ctx, schema.GroupType, g.ID, scim.UpdateOptions{}, func(r *scim.Resource) error {
		r.MemberChanges = &scim.MemberChanges{Add: []scim.Member{{Value: u.ID}}}
		return nil
	})
	if err != nil || out.Meta.Version != 1 {
		t.Errorf("re-adding a member: version %d (err %v); want 1", out.Meta.Version, err)
	}
}

func testUpdateIfMatch(t *testing.T, s scim.Store) {
	u := User(t, s, "etag@example.com")
	if _, err := s.Update(ctx, schema.UserType, u.ID, scim.UpdateOptions{IfMatch: 7}, func(r *scim.Resource) error {
		r.Attrs["title"] = "x"
		return nil
	}); !errors.Is(err, scim.ErrPrecondition) {
		t.Errorf("stale If-Match: err = %v, want ErrPrecondition", err)
	}
	if _, err := s.Update(ctx, schema.UserType, u.ID, scim.UpdateOptions{IfMatch: 1}, func(r *scim.Resource) error {
		r.Attrs["title"] = "x"
		return nil
	}); err != nil {
		t.Errorf("current If-Match: %v", err)
	}
	if err := s.Delete(ctx, schema.UserType, u.ID, 1); !errors.Is(err, scim.ErrPrecondition) {
		t.Errorf("delete with stale If-Match: err = %v, want ErrPrecondition", err)
	}
	// Concurrent writers with the same version: exactly one wins.
	const n = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Update(ctx, schema.UserType, u.ID, scim.UpdateOptions{IfMatch: 2}, func(r *scim.Resource) error {
				r.Attrs["title"] = fmt.Sprint("writer ", i)
				return nil
			})
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				wins++
			} else if !errors.Is(err, scim.ErrPrecondition) {
				t.Errorf("concurrent If-Match update: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d concurrent If-Match updates won, want 1", wins)
	}
}

func testRename(t *testing.T, s scim.Store) {
	u := User(t, s, "old@example.com")
	User(t, s, "taken@example.com")
	out, err := s.Update(ctx, schema.UserType, u.ID, scim.UpdateOptions{}, func(r *scim.Resource) error {
		r.Attrs["userName"] = "new@example.com"
		return nil
	})
	if err != nil || out.Name() != "new@example.com" || out.ID != u.ID {
		t.Fatalf("rename: %v, %v", out, err)
	}
	if _, err := s.Get(ctx, schema.UserType, "NEW@example.com", scim.Load{}); err != nil {
		t.Errorf("get by new name: %v", err)
	}
	if _, err := s.Get(ctx, schema.UserType, "old@example.com", scim.Load{}); !errors.Is(err, scim.ErrNotFound) {
		t.Errorf("get by old name: err = %v, want ErrNotFound", err)
	}
	// The old name is free again.
	User(t, s, "OLD@example.com")
	if _, err := s.Update(ctx, schema.UserType, u.ID, scim.UpdateOptions{}, func(r *scim.Resource) error {
		r.Attrs["userName"] = "Taken@Example.com"
		return nil
	}); !errors.Is(err, scim.ErrConflict) {
		t.Errorf("rename onto a taken name: err = %v, want ErrConflict", err)
	}
	// A case-only rename of oneself is fine.
	if _, err := s.Update(ctx, schema.UserType, u.ID, scim.UpdateOptions{}, func(r *scim.Resource) error {
		r.Attrs["userName"] = "NEW@example.com"
		return nil
	}); err != nil {
		t.Errorf("case-only rename: %v", err)
	}
}

func testDelete(t *testing.T, s scim.Store) {
	u := User(t, s, "del@example.com")
	if err := s.Delete(ctx, schema.UserType, u.ID, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, schema.UserType, u.ID, scim.Load{}); !errors.Is(err, scim.ErrNotFound) {
		t.Errorf("get after delete: err = %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, schema.UserType, u.ID, 0); !errors.Is(err, scim.ErrNotFound) {
		t.Errorf("second delete: err = %v, want ErrNotFound", err)
	}
	// The name is free again.
	User(t, s, "del@example.com")
}

func memberIDs(ms []scim.Member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Value
	}
	sort.Strings(out)
	return out
}

func sorted(ids ...string) []string {
	sort.Strings(ids)
	return ids
}

func testMembers(t *testing.T, s scim.Store) {
	a := User(t, s, "a@example.com")
	b := User(t, s, "b@example.com")
	c := User(t, s, "c@example.com")
	// Members by id and (JFrog style) by userName, any case.
	g := Group(t, s, "team", a.ID, "B@EXAMPLE.COM")
	if diff := cmp.Diff(sorted(a.ID, b.ID), memberIDs(g.Members)); diff != "" {
		t.Errorf("members after create (-want +got):\n%s", diff)
	}
	got, err := s.Get(ctx, schema.GroupType, g.ID, scim.Load{Members: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range got.Members {
		want := map[string]string{a.ID: "a@example.com", b.ID: "b@example.com"}[m.Value]
		if m.Type != "User" || m.Display != want {
			t.Errorf("member %+v: want type User, display %q", m, want)
		}
	}
	// Without Load.Members, members are not loaded.
	got, _ = s.Get(ctx, schema.GroupType, g.ID, scim.Load{})
	if got.MembersLoaded || got.Members != nil {
		t.Errorf("members loaded without being asked for")
	}
	// Replacing the member list writes the difference.
	out, err := s.Update(ctx, schema.GroupType, g.ID, scim.UpdateOptions{Load: scim.Load{Members: true}}, func(r *scim.Resource) error {
		r.Members, r.MembersLoaded = []scim.Member{{Value: b.ID}, {Value: c.ID}}, true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sorted(b.ID, c.ID), memberIDs(out.Members)); diff != "" {
		t.Errorf("members after replace (-want +got):\n%s", diff)
	}
	if out.Meta.Version != 2 {
		t.Errorf("version after member replace = %d, want 2", out.Meta.Version)
	}
	// Derived groups.
	u, _ := s.Get(ctx, schema.UserType, c.ID, scim.Load{Groups: true})
	if diff := cmp.Diff([]scim.GroupRef{{Value: g.ID, Display: "team", Type: "direct"}}, u.Groups); diff != "" {
		t.Errorf("groups of c (-want +got):\n%s", diff)
	}
	u, _ = s.Get(ctx, schema.UserType, a.ID, scim.Load{Groups: true})
	if len(u.Groups) != 0 {
		t.Errorf("a is still in groups %v", u.Groups)
	}
}

func testMemberChanges(t *testing.T, s scim.Store) {
	var ids []string
	for i := range 5 {
		ids = append(ids, User(t, s, fmt.Sprintf("m%d@example.com", i)).ID)
	}
	g := Group(t, s, "changes", ids[0], ids[1], ids[2])
	apply := func(c *scim.MemberChanges) *scim.Resource {
		t.Helper()
		_, err := s.Update(ctx, schema.GroupType, g.ID, scim.UpdateOptions{}, func(r *scim.Resource) error {
			if r.MembersLoaded {
				t.Error("update function saw members it did not ask for")
			}
			r.MemberChanges = c
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		out, err := s.Get(ctx, schema.GroupType, g.ID, scim.Load{Members: true})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	// Adding "m1" again (by userName) and a new one; removing a non-member.
	out := apply(&scim.MemberChanges{Add: []scim.Member{{Value: "M1@example.com"}, {Value: ids[3]}}, Remove: []string{ids[4], "nobody"}})
	if diff := cmp.Diff(sorted(ids[0], ids[1], ids[2], ids[3]), memberIDs(out.Members)); diff != "" {
		t.Errorf("after add (-want +got):\n%s", diff)
	}
	out = apply(&scim.MemberChanges{Remove: []string{ids[0], "m2@example.com"}})
	if diff := cmp.Diff(sorted(ids[1], ids[3]), memberIDs(out.Members)); diff != "" {
		t.Errorf("after remove (-want +got):\n%s", diff)
	}
	out = apply(&scim.MemberChanges{RemoveAll: true, Add: []scim.Member{{Value: ids[4]}}})
	if diff := cmp.Diff([]string{ids[4]}, memberIDs(out.Members)); diff != "" {
		t.Errorf("after remove-all + add (-want +got):\n%s", diff)
	}
}

func testUnknownMember(t *testing.T, s scim.Store) {
	a := User(t, s, "known@example.com")
	_, err := s.Create(ctx, &scim.Resource{Type: schema.GroupType, Attrs: map[string]any{"displayName": "bad"},
		Members: []scim.Member{{Value: a.ID}, {Value: "no-such-member"}}})
	var se *scim.Error
	if !errors.As(err, &se) || se.Status != 400 || se.ScimType != "invalidValue" {
		t.Fatalf("create with unknown member: err = %v, want 400 invalidValue", err)
	}
	if _, err := s.Get(ctx, schema.GroupType, "bad", scim.Load{}); !errors.Is(err, scim.ErrNotFound) {
		t.Errorf("the group was created anyway: %v", err)
	}
	g := Group(t, s, "good", a.ID)
	_, err = s.Update(ctx, schema.GroupType, g.ID, scim.UpdateOptions{}, func(r *scim.Resource) error {
		r.Attrs["displayName"] = "renamed"
		r.MemberChanges = &scim.MemberChanges{Add: []scim.Member{{Value: "ghost"}}}
		return nil
	})
	if !errors.As(err, &se) || se.ScimType != "invalidValue" {
		t.Errorf("adding an unknown member: err = %v, want invalidValue", err)
	}
	got, _ := s.Get(ctx, schema.GroupType, g.ID, scim.Load{})
	if got.Name() != "good" || got.Meta.Version != 1 {
		t.Errorf("a failed update was partly applied: %q v%d", got.Name(), got.Meta.Version)
	}
}

func testNestedGroups(t *testing.T, s scim.Store) {
	u := User(t, s, "nested@example.com")
	inner := Group(t, s, "inner", u.ID)
	middle := Group(t, s, "middle", inner.ID)
	outer := Group(t, s, "outer", middle.ID)
	got, _ := s.Get(ctx, schema.UserType, u.ID, scim.Load{Groups: true})
	want := []scim.GroupRef{
		{Value: inner.ID, Display: "inner", Type: "direct"},
		{Value: middle.ID, Display: "middle", Type: "indirect"},
		{Value: outer.ID, Display: "outer", Type: "indirect"},
	}
	sort.Slice(want, func(i, j int) bool { return want[i].Value < want[j].Value })
	if diff := cmp.Diff(want, got.Groups); diff != "" {
		t.Errorf("derived groups (-want +got):\n%s", diff)
	}
	// A page of users gets the same derived groups as each user alone
	// (the store may load them for the whole page at once).
	other := User(t, s, "nested-other@example.com")
	Group(t, s, "other-only", other.ID)
	User(t, s, "nested-none@example.com")
	page, err := s.List(ctx, schema.UserType, scim.Query{StartIndex: 1, Count: 100, Load: scim.Load{Groups: true}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range page.Resources {
		one, err := s.Get(ctx, schema.UserType, r.ID, scim.Load{Groups: true})
		if err != nil {
			t.Fatal(err)
		}
		if !r.GroupsLoaded {
			t.Errorf("list did not load groups of %s", r.Name())
		}
		if diff := cmp.Diff(one.Groups, r.Groups); diff != "" {
			t.Errorf("groups of %s in a list differ from Get (-get +list):\n%s", r.Name(), diff)
		}
	}
	if len(page.Resources) != 3 {
		t.Errorf("listed %d users, want 3", len(page.Resources))
	}
	g, _ := s.Get(ctx, schema.GroupType, middle.ID, scim.Load{Members: true})
	if len(g.Members) != 1 || g.Members[0].Type != "Group" || g.Members[0].Display != "inner" {
		t.Errorf("middle's members = %+v, want the group inner", g.Members)
	}
	// Cycles are refused: outer into inner, and a group into itself.
	for _, c := range []struct{ group, member string }{{inner.ID, outer.ID}, {inner.ID, inner.ID}} {
		_, err := s.Update(ctx, schema.GroupType, c.group, scim.UpdateOptions{}, func(r *scim.Resource) error {
			r.MemberChanges = &scim.MemberChanges{Add: []scim.Member{{Value: c.member}}}
			return nil
		})
		var se *scim.Error
		if !errors.As(err, &se) || se.ScimType != "invalidValue" {
			t.Errorf("cycle %s into %s: err = %v, want invalidValue", c.member, c.group, err)
		}
	}
}

func testDeleteCascades(t *testing.T, s scim.Store) {
	u := User(t, s, "gone@example.com")
	v := User(t, s, "stays@example.com")
	inner := Group(t, s, "c-inner", u.ID, v.ID)
	outer := Group(t, s, "c-outer", inner.ID, u.ID)
	if err := s.Delete(ctx, schema.UserType, u.ID, 0); err != nil {
		t.Fatal(err)
	}
	g, _ := s.Get(ctx, schema.GroupType, inner.ID, scim.Load{Members: true})
	if diff := cmp.Diff([]string{v.ID}, memberIDs(g.Members)); diff != "" {
		t.Errorf("inner members after user delete (-want +got):\n%s", diff)
	}
	if err := s.Delete(ctx, schema.GroupType, inner.ID, 0); err != nil {
		t.Fatal(err)
	}
	g, _ = s.Get(ctx, schema.GroupType, outer.ID, scim.Load{Members: true})
	if len(g.Members) != 0 {
		t.Errorf("outer still lists %v", g.Members)
	}
	got, _ := s.Get(ctx, schema.UserType, v.ID, scim.Load{Groups: true})
	if len(got.Groups) != 0 {
		t.Errorf("v is still in %v", got.Groups)
	}
}

func testListFilter(t *testing.T, s scim.Store) {
	for i := range 25 {
		User(t, s, fmt.Sprintf("List%02d@Example.com", i), map[string]any{
			"externalId": fmt.Sprintf("ext-%02d", i),
			"emails":     []any{map[string]any{"value": fmt.Sprintf("list%02d@mail.example.com", i), "type": "work"}},
		})
	}
	list := func(f string, start, count int) *scim.Page {
		t.Helper()
		q := scim.Query{StartIndex: start, Count: count}
		if f != "" {
			e, err := filter.Parse(schema.UserType, f)
			if err != nil {
				t.Fatalf("parse %q: %v", f, err)
			}
			q.Filter = e
		}
		p, err := s.List(ctx, schema.UserType, q)
		if err != nil {
			t.Fatalf("list %q: %v", f, err)
		}
		return p
	}
	// The unfiltered total (which a store may keep rather than count)
	// agrees with a count of every user, also after deletes.
	extra := User(t, s, "list-extra@example.com")
	if err := s.Delete(ctx, schema.UserType, extra.ID, 0); err != nil {
		t.Fatal(err)
	}
	if all, counted := list("", 1, 0).Total, list(`userName pr`, 1, 0).Total; all != 25 || counted != 25 {
		t.Errorf("unfiltered total %d, counted %d; want 25", all, counted)
	}
	if p := list("", 1, 10); p.Total != 25 || len(p.Resources) != 10 {
		t.Errorf("page 1: total %d, %d items; want 25, 10", p.Total, len(p.Resources))
	}
	if p := list("", 21, 10); p.Total != 25 || len(p.Resources) != 5 {
		t.Errorf("last page: total %d, %d items; want 25, 5", p.Total, len(p.Resources))
	}
	if p := list("", 1, 0); p.Total != 25 || len(p.Resources) != 0 {
		t.Errorf("count=0: total %d, %d items; want 25, 0", p.Total, len(p.Resources))
	}
	// Pages are disjoint and cover everything.
	seen := map[string]bool{}
	for start := 1; start <= 25; start += 7 {
		for _, r := range list("", start, 7).Resources {
			if seen[r.ID] {
				t.Errorf("%s on two pages", r.ID)
			}
			seen[r.ID] = true
		}
	}
	if len(seen) != 25 {
		t.Errorf("pages covered %d users, want 25", len(seen))
	}
	for _, c := range []struct {
		filter string
		want   int
	}{
		{`userName eq "list07@example.com"`, 1},
		{`userName eq "LIST07@EXAMPLE.COM"`, 1},
		{`externalId eq "ext-07"`, 1},
		{`externalId eq "EXT-07"`, 0}, // externalId is caseExact
		{`emails.value eq "LIST08@mail.example.com"`, 1},
		{`emails[type eq "work"].value eq "list09@mail.example.com"`, 1},
		{`emails[type eq "home"].value eq "list09@mail.example.com"`, 0},
		{`userName eq "list07@example.com" and externalId eq "ext-07"`, 1},
		{`userName eq "list07@example.com" and externalId eq "ext-08"`, 0},
		{`userName eq "nobody"`, 0},
	} {
		if p := list(c.filter, 1, 100); p.Total != c.want || len(p.Resources) != c.want {
			t.Errorf("%s: total %d, %d items; want %d", c.filter, p.Total, len(p.Resources), c.want)
		}
	}
}

func testTokens(t *testing.T, s scim.Store) {
	_, hash := scim.NewTokenSecret()
	tok := &scim.Token{Name: "okta", Hash: hash, ExpiresAt: time.Now().Add(time.Hour).Truncate(time.Millisecond)}
	if err := s.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if tok.ID == "" || tok.CreatedAt.IsZero() {
		t.Fatalf("token not assigned id/created: %+v", tok)
	}
	got, err := s.TokenByHash(ctx, hash)
	if err != nil || got.ID != tok.ID || got.Name != "okta" || !got.ExpiresAt.Equal(tok.ExpiresAt) || got.State(time.Now()) != "active" {
		t.Fatalf("TokenByHash = %+v, %v", got, err)
	}
	_, other := scim.NewTokenSecret()
	if _, err := s.TokenByHash(ctx, other); !errors.Is(err, scim.ErrNotFound) {
		t.Errorf("unknown hash: err = %v, want ErrNotFound", err)
	}
	if err := s.CreateToken(ctx, &scim.Token{Name: "okta", Hash: other}); !errors.Is(err, scim.ErrConflict) {
		t.Errorf("second active token named okta: err = %v, want ErrConflict", err)
	}
	used := time.Now().Truncate(time.Millisecond)
	if err := s.TouchTokens(ctx, map[string]time.Time{tok.ID: used}); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchTokens(ctx, map[string]time.Time{tok.ID: used.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.TokenByHash(ctx, hash)
	if !got.LastUsed.Equal(used) {
		t.Errorf("last used = %v, want %v (never moved backwards)", got.LastUsed, used)
	}
	rev, err := s.RevokeToken(ctx, "okta")
	if err != nil || rev.ID != tok.ID || rev.RevokedAt.IsZero() {
		t.Fatalf("revoke by name: %+v, %v", rev, err)
	}
	got, _ = s.TokenByHash(ctx, hash)
	if got.State(time.Now()) != "revoked" {
		t.Errorf("state after revoke = %s", got.State(time.Now()))
	}
	// The name is free for a new active token; revoking by id works.
	tok2 := &scim.Token{Name: "okta", Hash: other}
	if err := s.CreateToken(ctx, tok2); err != nil {
		t.Fatalf("new token with a revoked token's name: %v", err)
	}
	if _, err := s.RevokeToken(ctx, tok2.ID); err != nil {
		t.Errorf("revoke by id: %v", err)
	}
	if _, err := s.RevokeToken(ctx, "nope"); !errors.Is(err, scim.ErrNotFound) {
		t.Errorf("revoke unknown: err = %v, want ErrNotFound", err)
	}
	ts, err := s.ListTokens(ctx)
	if err != nil || len(ts) != 2 {
		t.Errorf("ListTokens = %d tokens, %v; want 2", len(ts), err)
	}
	expired := &scim.Token{ExpiresAt: time.Now().Add(-time.Second)}
	if expired.State(time.Now()) != "expired" {
		t.Errorf("expired token state = %s", expired.State(time.Now()))
	}
}
