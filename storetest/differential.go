package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scimd/scimd/scim"
	"github.com/scimd/scimd/scim/filter"
	"github.com/scimd/scimd/scim/schema"
)

// Base is the SCIM base URL the differential test renders documents under.
const Base = "https://scim.example/scim/v2"

// Corpus is a seeded store and the documents filter.Match sees for it.
type Corpus struct {
	Store scim.Store
	Docs  map[*schema.ResourceType][]Doc
	// Strings holds every string value in the documents, for generating
	// filters that match something.
	Strings []string
	// ByName holds the string values by the name of the (sub-)attribute
	// holding them.
	ByName map[string][]string
	Times  []time.Time
}

// Doc is one resource's full document, as the server would filter it.
type Doc struct {
	ID  string
	Doc map[string]any
}

// Seed fills s with users and groups that exercise the filter language:
// case and Unicode variants of names, multi-valued attributes with and
// without types and primaries, missing values, the enterprise extension,
// nested groups. It returns the corpus.
func Seed(t testing.TB, s scim.Store) *Corpus {
	t.Helper()
	names := []string{
		"bjensen@example.com", "BJensen2@Example.COM", "Ärger@example.com", "straße@example.com", "STRASSE@example.org",
		"jsmith", "j.smith", "zoë", "zoe\u0308@example.com", "Ωmega", "ab", "AB_c", "mary-Ann", "o'brien", "日本@example.jp",
	}
	for i := len(names); i < 36; i++ {
		names = append(names, fmt.Sprintf("user%02d@Example.com", i))
	}
	titles := []string{"Tour Guide", "tour guide", "Manager", "", "Straße", "CEO"}
	types := []string{"work", "home", "Work", "other", ""}
	var users []*scim.Resource
	for i, n := range names {
		body := map[string]any{"userName": n}
		if i%4 != 3 {
			body["name"] = map[string]any{"givenName": []string{"Barbara", "barbara", "Jim", "Zoë", "Ann"}[i%5], "familyName": []string{"Jensen", "jensen", "Smith", "O'Brien"}[i%4]}
		}
		if i%3 == 0 {
			body["displayName"] = []string{"Babs Jensen", "BABS", "Ärger Ä", "Ωmega Man"}[i%4]
		}
		if t := titles[i%len(titles)]; t != "" {
			body["title"] = t
		}
		switch i % 3 {
		case 0:
			body["active"] = true
		case 1:
			body["active"] = false
		}
		if i%5 != 4 {
			body["externalId"] = []string{"ext-1", "EXT-1", "ext-2", "Ext-3"}[i%4] + strconv.Itoa(i%7)
		}
		var emails []any
		for j := 0; j < i%4; j++ {
			e := map[string]any{"value": fmt.Sprintf("%s.%d@%s", strings.ToLower(n[:min(len(n), 3)]), j, []string{"example.com", "Example.COM", "mail.example.org"}[(i+j)%3])}
			if ty := types[(i+j)%len(types)]; ty != "" {
				e["type"] = ty
			}
			if j == 1 && i%2 == 0 {
				e["primary"] = true
			}
			if j == 2 && i%3 == 0 {
				delete(e, "value") // an email with a type but no value
			}
			emails = append(emails, e)
		}
		if len(emails) > 0 {
			body["emails"] = emails
		}
		if i%6 == 1 {
			body["phoneNumbers"] = []any{map[string]any{"value": "+1 555 010" + strconv.Itoa(i%10), "type": "mobile"}}
		}
		if i%7 == 2 {
			body["roles"] = []any{map[string]any{"value": "admin", "primary": true}, map[string]any{"value": "Reader"}}
			body["addresses"] = []any{map[string]any{"locality": "Hollywood", "country": "US", "type": "work"}}
			body["x509Certificates"] = []any{map[string]any{"value": "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAw"}}
		}
		if i%5 == 1 {
			body["nickName"] = []string{"Babs", "babs", "ZOË"}[i%3]
			body["profileUrl"] = "https://login.example.com/" + n
		}
		ent := map[string]any{}
		if i%3 != 2 {
			ent["department"] = []string{"Tour Operations", "tour operations", "Sales"}[i%3]
			ent["employeeNumber"] = strconv.Itoa(700 + i)
		}
		if i > 0 && i%4 == 0 {
			ent["manager"] = map[string]any{"value": users[i-1].ID}
		}
		if len(ent) > 0 {
			body[schema.EnterpriseUserURN] = ent
		}
		users = append(users, create(t, s, schema.UserType, body, nil))
	}
	group := func(name string, members ...string) *scim.Resource {
		return create(t, s, schema.GroupType, map[string]any{"displayName": name, "externalId": "g-" + name}, members)
	}
	g1 := group("Admins", users[0].ID, users[1].ID, users[2].ID)
	g2 := group("admins-2", users[3].ID, g1.ID)
	group("Straße Team", users[4].ID, users[5].ID, g2.ID)
	group("Empty")
	group("ΩMEGA", users[9].ID)
	group("Tour Guides", users[0].ID, users[6].ID, users[12].ID, users[18].ID)

	c := &Corpus{Store: s, Docs: map[*schema.ResourceType][]Doc{}, ByName: map[string][]string{}}
	seen := map[string]bool{}
	for _, rt := range []*schema.ResourceType{schema.UserType, schema.GroupType} {
		p, err := s.List(ctx, rt, scim.Query{StartIndex: 1, Count: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Resources {
			full, err := s.Get(ctx, rt, r.ID, scim.Load{Members: true, Groups: true})
			if err != nil {
				t.Fatal(err)
			}
			d := FilterDoc(full)
			c.Docs[rt] = append(c.Docs[rt], Doc{ID: r.ID, Doc: d})
			c.Times = append(c.Times, full.Meta.Created, full.Meta.LastModified)
			walkStrings(d, "", func(name, s string) {
				if !seen[name+"\x00"+s] {
					seen[name+"\x00"+s] = true
					c.ByName[strings.ToLower(name)] = append(c.ByName[strings.ToLower(name)], s)
				}
				if !seen[s] {
					seen[s] = true
					c.Strings = append(c.Strings, s)
				}
			})
		}
	}
	sort.Strings(c.Strings)
	return c
}

// create stores a resource decoded from body, with members.
func create(t testing.TB, s scim.Store, rt *schema.ResourceType, body map[string]any, members []string) *scim.Resource {
	t.Helper()
	attrs, err := rt.Decode(body)
	if err != nil {
		t.Fatalf("decode %v: %v", body, err)
	}
	r := &scim.Resource{Type: rt, Attrs: attrs}
	for _, m := range members {
		r.Members = append(r.Members, scim.Member{Value: m})
	}
	out, err := s.Create(ctx, r)
	if err != nil {
		t.Fatalf("create %s %v: %v", rt.ID, body, err)
	}
	return out
}

// FilterDoc is the document filters see: Resource.Doc under Base, plus
// "schemas" as responses list it.
func FilterDoc(r *scim.Resource) map[string]any {
	d := r.Doc(Base)
	schemas := []any{r.Type.Schema.ID}
	for _, e := range r.Type.Extensions {
		if m, ok := d[e.Schema.ID].(map[string]any); ok && len(m) > 0 {
			schemas = append(schemas, e.Schema.ID)
		}
	}
	d["schemas"] = schemas
	return d
}

func walkStrings(v any, name string, fn func(name, s string)) {
	switch v := v.(type) {
	case string:
		fn(name, v)
	case []any:
		for _, e := range v {
			walkStrings(e, name, fn)
		}
	case map[string]any:
		for k, e := range v {
			walkStrings(e, k, fn)
		}
	}
}

// Check runs filter f on rt through the store and through filter.Match
// over every document, and reports any difference. A filter that does not
// parse is skipped (reported as false).
func (c *Corpus) Check(t testing.TB, rt *schema.ResourceType, f string) bool {
	t.Helper()
	e, err := filter.Parse(rt, f)
	if err != nil {
		return false
	}
	var want []string
	for _, d := range c.Docs[rt] {
		if filter.Match(rt, e, d.Doc) {
			want = append(want, d.ID)
		}
	}
	p, err := c.Store.List(ctx, rt, scim.Query{Filter: e, StartIndex: 1, Count: 1000, Base: Base})
	if err != nil {
		t.Errorf("%s filter %s: %v", rt.ID, f, err)
		return true
	}
	var got []string
	for _, r := range p.Resources {
		got = append(got, r.ID)
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(want, got) || p.Total != len(want) {
		t.Errorf("%s filter %s\n(parsed %s)\nSQL matched %d (total %d), Match %d\nonly SQL: %v\nonly Match: %v",
			rt.ID, f, e, len(got), p.Total, len(want), minus(got, want), minus(want, got))
	}
	return true
}

func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// Gen generates random filters from the grammar over the real schema,
// with values drawn from the corpus (and variants of them) so that many
// match something.
type Gen struct {
	R *rand.Rand
	C *Corpus
}

// leafPaths lists the filterable attribute paths of rt: every simple
// attribute and sub-attribute, complex ones as wholes, spelled
// canonically or with odd case and URN qualification.
func leafPaths(rt *schema.ResourceType) []schema.Path {
	var out []schema.Path
	add := func(s *schema.Schema, a *schema.Attribute) {
		if a.Returned == schema.Never {
			return
		}
		out = append(out, schema.Path{Schema: s, Attr: a})
		for _, sub := range a.SubAttributes {
			if sub.Returned != schema.Never {
				out = append(out, schema.Path{Schema: s, Attr: a, Sub: sub})
			}
		}
	}
	for _, a := range []*schema.Attribute{schema.IDAttr, schema.ExternalIDAttr, schema.MetaAttr, schema.SchemasAttr} {
		add(nil, a)
	}
	for _, a := range rt.Schema.Attributes {
		add(rt.Schema, a)
	}
	for _, e := range rt.Extensions {
		for _, a := range e.Schema.Attributes {
			add(e.Schema, a)
		}
	}
	return out
}

// Filter returns a random filter for rt, of at most depth levels.
func (g *Gen) Filter(rt *schema.ResourceType, depth int) string {
	r := g.R
	if depth > 0 {
		switch r.IntN(7) {
		case 0:
			return "(" + g.Filter(rt, depth-1) + " and " + g.Filter(rt, depth-1) + ")"
		case 1:
			return g.Filter(rt, depth-1) + " or " + g.Filter(rt, depth-1)
		case 2:
			return "not (" + g.Filter(rt, depth-1) + ")"
		case 3:
			return g.Filter(rt, depth-1) + " AND " + g.Filter(rt, depth-1)
		}
	}
	paths := leafPaths(rt)
	p := paths[r.IntN(len(paths))]
	if p.Attr.MultiValued && p.Attr.Type == schema.Complex && r.IntN(3) == 0 {
		// A value filter, bracket-only or with a trailing comparison.
		whole := schema.Path{Schema: p.Schema, Attr: p.Attr}
		var inner []string
		for range 1 + r.IntN(2) {
			sub := p.Attr.SubAttributes[r.IntN(len(p.Attr.SubAttributes))]
			inner = append(inner, g.comparison(rt, sub.Name, sub))
		}
		join := " and "
		if r.IntN(3) == 0 {
			join = " or "
		}
		in := strings.Join(inner, join)
		if r.IntN(4) == 0 {
			in = "not (" + in + ")"
		}
		out := g.spell(rt, whole) + "[" + in + "]"
		if r.IntN(2) == 0 {
			sub := p.Attr.SubAttributes[r.IntN(len(p.Attr.SubAttributes))]
			out += "." + g.comparison(rt, sub.Name, sub)
		}
		return out
	}
	return g.comparison(rt, g.spell(rt, p), p.Leaf())
}

// spell writes p as a client might: canonical, lower-case, or
// URN-qualified.
func (g *Gen) spell(rt *schema.ResourceType, p schema.Path) string {
	s := p.String()
	switch g.R.IntN(6) {
	case 0:
		s = strings.ToLower(s)
	case 1:
		if p.Schema == rt.Schema {
			s = rt.Schema.ID + ":" + s
		}
	}
	return s
}

var ops = []string{"eq", "ne", "co", "sw", "ew", "pr", "gt", "ge", "lt", "le"}

// comparison returns "path op value" for attribute a.
func (g *Gen) comparison(rt *schema.ResourceType, path string, a *schema.Attribute) string {
	r := g.R
	op := ops[r.IntN(len(ops))]
	if r.IntN(3) == 0 {
		op = "eq"
	}
	if op == "pr" {
		return path + " pr"
	}
	if r.IntN(12) == 0 && (op == "eq" || op == "ne") {
		return path + " " + op + " null"
	}
	if a.Type == schema.Complex {
		if v := a.Sub("value"); v != nil && a.MultiValued {
			a = v
		} else {
			return path + " pr"
		}
	}
	switch a.Type {
	case schema.Boolean:
		if op != "ne" {
			op = "eq"
		}
		return path + " " + op + " " + []string{"true", "false", `"True"`, `"false"`}[r.IntN(4)]
	case schema.DateTime:
		if op == "co" || op == "sw" || op == "ew" {
			op = "gt"
		}
		t := g.C.Times[r.IntN(len(g.C.Times))]
		switch r.IntN(5) {
		case 0:
			t = t.Add(time.Duration(r.IntN(3)-1) * time.Millisecond)
		case 1:
			t = t.Add(time.Duration(r.IntN(2000)-1000) * time.Microsecond)
		case 2:
			return path + " " + op + " " + strconv.Quote(t.In(time.FixedZone("", 2*3600)).Format(time.RFC3339Nano))
		}
		return path + " " + op + ` "` + t.UTC().Format("2006-01-02T15:04:05.999999Z07:00") + `"`
	case schema.Binary:
		if op == "gt" || op == "ge" || op == "lt" || op == "le" {
			op = "eq"
		}
	}
	return path + " " + op + " " + g.value(a.Name)
}

// value returns a string literal: a corpus value (preferably of an
// attribute with that name) or a variant of one.
func (g *Gen) value(name string) string {
	r := g.R
	s := ""
	if vs := g.C.ByName[strings.ToLower(name)]; len(vs) > 0 && r.IntN(4) != 0 {
		s = vs[r.IntN(len(vs))]
	} else if len(g.C.Strings) > 0 {
		s = g.C.Strings[r.IntN(len(g.C.Strings))]
	}
	rs := []rune(s)
	switch r.IntN(9) {
	case 0:
		s = strings.ToUpper(s)
	case 1:
		if len(rs) > 2 {
			s = string(rs[:1+r.IntN(len(rs)-1)])
		}
	case 2:
		if len(rs) > 2 {
			s = string(rs[r.IntN(len(rs)-1):])
		}
	case 3:
		if len(rs) > 3 {
			i := r.IntN(len(rs) - 2)
			s = string(rs[i : i+2])
		}
	case 4:
		s = []string{"", "a", "Z", "ß", "SS", "ö", "o\u0308", "@", "work", "WORK", "User", "Group", "direct", "indirect", `W/"1"`, "ext-1"}[r.IntN(16)]
	}
	return strconv.Quote(s)
}

// testDifferential runs random filters through the store and through
// filter.Match and compares.
func testDifferential(t *testing.T, s scim.Store) {
	c := Seed(t, s)
	g := &Gen{R: rand.New(rand.NewPCG(1, 2)), C: c}
	n := 0
	for i := 0; i < 1500 && !t.Failed(); i++ {
		rt := schema.UserType
		if i%3 == 2 {
			rt = schema.GroupType
		}
		if c.Check(t, rt, g.Filter(rt, 2)) {
			n++
		}
	}
	if n < 1000 && !t.Failed() {
		t.Errorf("only %d of 1500 generated filters parsed", n)
	}
}
