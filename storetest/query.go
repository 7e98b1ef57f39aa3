package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scimd/scimd/scim"
	"github.com/scimd/scimd/scim/filter"
	"github.com/scimd/scimd/scim/schema"
)

// testQuery checks sorting, paging (and its bookmarks under concurrent
// writes) and searches across types.
func testQuery(t *testing.T, s scim.Store) {
	c := Seed(t, s)
	users := c.Docs[schema.UserType]
	path := func(rt *schema.ResourceType, p string) *schema.Path {
		t.Helper()
		sp, err := rt.ParsePath(p)
		if err != nil {
			t.Fatal(err)
		}
		return &sp
	}
	list := func(rt *schema.ResourceType, q scim.Query) *scim.Page {
		t.Helper()
		p, err := s.List(ctx, rt, q)
		if err != nil {
			t.Fatalf("List %+v: %v", q, err)
		}
		return p
	}
	ids := func(p *scim.Page) []string {
		out := []string{}
		for _, r := range p.Resources {
			out = append(out, r.ID)
		}
		return out
	}
	// want orders the documents by key (nil: absent, sorted last), then id.
	want := func(docs []Doc, key func(map[string]any) any, desc bool) []string {
		type row struct {
			k  any
			id string
		}
		var rows []row
		for _, d := range docs {
			rows = append(rows, row{key(d.Doc), d.ID})
		}
		slices.SortFunc(rows, func(a, b row) int {
			c := 0
			switch {
			case a.k == nil && b.k == nil:
			case a.k == nil:
				c = 1
			case b.k == nil:
				c = -1
			default:
				c = strings.Compare(fmt.Sprint(a.k), fmt.Sprint(b.k))
			}
			if c == 0 {
				c = strings.Compare(a.id, b.id)
			}
			if desc {
				c = -c
			}
			return c
		})
		out := []string{}
		for _, r := range rows {
			out = append(out, r.id)
		}
		return out
	}
	str := func(get func(map[string]any) any, fold bool) func(map[string]any) any {
		return func(d map[string]any) any {
			v, _ := get(d).(string)
			if v == "" {
				return nil
			}
			if fold {
				return schema.Fold(v)
			}
			return v
		}
	}
	primaryEmail := func(d map[string]any) any {
		es, _ := d["emails"].([]any)
		var first any
		for _, e := range es {
			m := e.(map[string]any)
			v, _ := m["value"].(string)
			if v == "" {
				continue
			}
			if m["primary"] == true {
				return v
			}
			if first == nil {
				first = v
			}
		}
		return first
	}
	ext := func(name string) func(map[string]any) any {
		return func(d map[string]any) any {
			m, _ := d[schema.EnterpriseUserURN].(map[string]any)
			return m[name]
		}
	}
	for _, tc := range []struct {
		sortBy string
		key    func(map[string]any) any
	}{
		{"", func(d map[string]any) any { return d["id"] }},
		{"userName", str(func(d map[string]any) any { return d["userName"] }, true)},
		{"USERNAME", str(func(d map[string]any) any { return d["userName"] }, true)},
		{"externalId", str(func(d map[string]any) any { return d["externalId"] }, false)},
		{"title", str(func(d map[string]any) any { return d["title"] }, true)},
		{"name.familyName", str(func(d map[string]any) any { m, _ := d["name"].(map[string]any); return m["familyName"] }, true)},
		{"emails", str(primaryEmail, true)},
		{"emails.value", str(primaryEmail, true)},
		{schema.EnterpriseUserURN + ":department", str(ext("department"), true)},
		{schema.EnterpriseUserURN + ":manager.value", func(d map[string]any) any { m, _ := ext("manager")(d).(map[string]any); return m["value"] }},
		{"active", func(d map[string]any) any {
			if b, ok := d["active"].(bool); ok {
				return b
			}
			return nil
		}},
		{"meta.created", func(d map[string]any) any { return d["meta"].(map[string]any)["created"] }},
	} {
		for _, desc := range []bool{false, true} {
			q := scim.Query{StartIndex: 1, Count: 1000, Descending: desc}
			if tc.sortBy != "" {
				q.SortBy = path(schema.UserType, tc.sortBy)
			}
			w := want(users, tc.key, desc)
			if diff := cmp.Diff(w, ids(list(schema.UserType, q))); diff != "" {
				t.Errorf("sortBy %q descending %v (-want +got):\n%s", tc.sortBy, desc, diff)
			}
			// Page by page, in odd sizes, through the bookmarks: the
			// same order.
			var got []string
			for start := 1; start <= len(w); start += 7 {
				q.StartIndex, q.Count = start, 7
				p := list(schema.UserType, q)
				if p.Total != len(w) {
					t.Errorf("sortBy %q page %d: total %d, want %d", tc.sortBy, start, p.Total, len(w))
				}
				got = append(got, ids(p)...)
			}
			if diff := cmp.Diff(w, got); diff != "" {
				t.Errorf("sortBy %q descending %v, in pages of 7 (-want +got):\n%s", tc.sortBy, desc, diff)
			}
		}
	}
	// Groups sort by their folded displayName.
	gw := want(c.Docs[schema.GroupType], str(func(d map[string]any) any { return d["displayName"] }, true), false)
	if diff := cmp.Diff(gw, ids(list(schema.GroupType, scim.Query{StartIndex: 1, Count: 100, SortBy: path(schema.GroupType, "displayName")}))); diff != "" {
		t.Errorf("groups by displayName (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"name", "addresses.locality"} {
		_, err := s.List(ctx, schema.UserType, scim.Query{StartIndex: 1, Count: 10, SortBy: path(schema.UserType, bad)})
		var se *schema.Error
		if bad == "name" && !errors.As(err, &se) {
			t.Errorf("sortBy %s: err = %v, want a *schema.Error", bad, err)
		}
	}

	t.Run("Paging", func(t *testing.T) {
		all := ids(list(schema.UserType, scim.Query{StartIndex: 1, Count: 1000}))
		n := len(all)
		for _, tc := range []struct {
			start, count int
			want         []string
		}{
			{1, 5, all[:5]},
			{0, 5, all[:5]},
			{-3, 5, all[:5]},
			{n - 2, 5, all[n-3:]},
			{n, 5, all[n-1:]},
			{n + 1, 5, []string{}},
			{3, 0, []string{}},
			{10, 10, all[9:19]},
			{2, 10, all[1:11]}, // from a bookmark at 11 back to 2
		} {
			p := list(schema.UserType, scim.Query{StartIndex: tc.start, Count: tc.count})
			if p.Total != n {
				t.Errorf("start %d count %d: total %d, want %d", tc.start, tc.count, p.Total, n)
			}
			if diff := cmp.Diff(tc.want, ids(p)); diff != "" {
				t.Errorf("start %d count %d (-want +got):\n%s", tc.start, tc.count, diff)
			}
		}
		// A filtered list pages over the matches only.
		f, err := filter.Parse(schema.UserType, `userName sw "user"`)
		if err != nil {
			t.Fatal(err)
		}
		p := list(schema.UserType, scim.Query{Filter: f, StartIndex: 3, Count: 4})
		if p.Total != 21 || len(p.Resources) != 4 {
			t.Errorf("filtered page: total %d, %d items; want 21, 4", p.Total, len(p.Resources))
		}
	})

	t.Run("BookmarksUnderWrites", func(t *testing.T) {
		// Read page 1, so the store remembers where page 2 starts; then
		// delete a user on page 1 and create one: page 2 must be what
		// OFFSET gives now, not what the bookmark remembered.
		q := scim.Query{StartIndex: 1, Count: 5, SortBy: path(schema.UserType, "userName")}
		p1 := list(schema.UserType, q)
		q.StartIndex = 6
		list(schema.UserType, q)
		if err := s.Delete(ctx, schema.UserType, p1.Resources[1].ID, 0); err != nil {
			t.Fatal(err)
		}
		create(t, s, schema.UserType, map[string]any{"userName": "0-first"}, nil)
		all := ids(list(schema.UserType, scim.Query{StartIndex: 1, Count: 1000, SortBy: q.SortBy}))
		p2 := list(schema.UserType, q)
		if diff := cmp.Diff(all[5:10], ids(p2)); diff != "" {
			t.Errorf("page 2 after writes (-want +got):\n%s", diff)
		}
		// An update that renames a user moves it.
		q.StartIndex = 11
		list(schema.UserType, q)
		if _, err := s.Update(ctx, schema.UserType, all[0], scim.UpdateOptions{}, func(r *scim.Resource) error {
			r.Attrs["userName"] = "zzzz-last"
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		all = ids(list(schema.UserType, scim.Query{StartIndex: 1, Count: 1000, SortBy: q.SortBy}))
		if diff := cmp.Diff(all[10:15], ids(list(schema.UserType, q))); diff != "" {
			t.Errorf("page 3 after a rename (-want +got):\n%s", diff)
		}
		// Membership changes count as writes too: groups.display filters
		// and their totals follow them.
		gf, err := filter.Parse(schema.UserType, `groups.display eq "Empty"`)
		if err != nil {
			t.Fatal(err)
		}
		if p := list(schema.UserType, scim.Query{Filter: gf, StartIndex: 1, Count: 10}); p.Total != 0 {
			t.Fatalf("members of Empty: %d", p.Total)
		}
		if _, err := s.Update(ctx, schema.GroupType, "Empty", scim.UpdateOptions{}, func(r *scim.Resource) error {
			r.MemberChanges = &scim.MemberChanges{Add: []scim.Member{{Value: all[3]}}}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if p := list(schema.UserType, scim.Query{Filter: gf, StartIndex: 1, Count: 10}); p.Total != 1 || len(p.Resources) != 1 || p.Resources[0].ID != all[3] {
			t.Errorf("after adding a member to Empty: total %d, %v", p.Total, ids(p))
		}
	})

	t.Run("Search", func(t *testing.T) {
		uf, err := filter.Parse(schema.UserType, `displayName pr`)
		if err != nil {
			t.Fatal(err)
		}
		gf, err := filter.Parse(schema.GroupType, `displayName pr`)
		if err != nil {
			t.Fatal(err)
		}
		q := scim.Search{StartIndex: 1, Count: 1000, Base: Base, Parts: []scim.SearchPart{
			{Type: schema.UserType, Filter: uf, SortBy: path(schema.UserType, "displayName")},
			{Type: schema.GroupType, Filter: gf, SortBy: path(schema.GroupType, "displayName")},
		}}
		p, err := s.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		type item struct{ name, typ string }
		var got, wantItems []item
		for _, r := range p.Resources {
			got = append(got, item{schema.Fold(r.String("displayName")), r.Type.ID})
		}
		for _, rt := range []*schema.ResourceType{schema.UserType, schema.GroupType} {
			lp := list(rt, scim.Query{Filter: map[*schema.ResourceType]filter.Expr{schema.UserType: uf, schema.GroupType: gf}[rt], StartIndex: 1, Count: 1000})
			for _, r := range lp.Resources {
				wantItems = append(wantItems, item{schema.Fold(r.String("displayName")), rt.ID})
			}
		}
		slices.SortStableFunc(wantItems, func(a, b item) int { return strings.Compare(a.name, b.name) })
		if p.Total != len(wantItems) {
			t.Errorf("search total %d, want %d", p.Total, len(wantItems))
		}
		gotNames, wantNames := []string{}, []string{}
		for i := range got {
			gotNames = append(gotNames, got[i].name)
		}
		for i := range wantItems {
			wantNames = append(wantNames, wantItems[i].name)
		}
		if diff := cmp.Diff(wantNames, gotNames); diff != "" {
			t.Errorf("search across types, by displayName (-want +got):\n%s", diff)
		}
		// Pages of the merged order.
		q.StartIndex, q.Count = 4, 3
		p2, err := s.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(p2.Resources) != 3 || p2.Total != p.Total || p2.Resources[0].ID != p.Resources[3].ID || p2.Resources[2].ID != p.Resources[5].ID {
			t.Errorf("search page 4..6: total %d, %d items", p2.Total, len(p2.Resources))
		}
		// Groups load their members when asked.
		q.StartIndex, q.Count = 1, 1000
		q.Parts[1].Load = scim.Load{Members: true}
		p3, err := s.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p3.Resources {
			if r.Type == schema.GroupType && !r.MembersLoaded {
				t.Errorf("group %s: members not loaded", r.ID)
			}
			if r.Type == schema.UserType && r.MembersLoaded {
				t.Errorf("user %s: members loaded", r.ID)
			}
		}
	})
}
