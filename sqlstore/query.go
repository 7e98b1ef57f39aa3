package sqlstore

import (
	"database/sql/driver"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scimd/scimd/scim/filter"
	"github.com/scimd/scimd/scim/schema"
	sqlite "modernc.org/sqlite"
)

// Filters are translated to one SQL condition on the resource row "r",
// with exactly filter.Match's semantics over the document scim.Resource.Doc
// builds (see scim/filter/doc.go):
//
//   - id, externalId, userName (users), displayName (groups), meta.created
//     and meta.lastModified read their indexed columns; case-insensitive
//     names compare their folded columns, so eq and sw use the unique
//     indexes. emails.value eq, and emails[…] filters made of eq on value
//     and type, use the folded email table and its index.
//   - other attributes are read from the JSON document; multi-valued ones
//     with EXISTS over their elements, value filters with EXISTS over the
//     elements satisfying the inner filter.
//   - members (groups) and groups (users, nested memberships included) are
//     read from scim_members, never from the document.
//   - meta.resourceType is a constant, meta.version is built from the
//     version column, meta.location and $ref from the base URL and the id.
//   - schemas holds the core schema and every extension the resource has
//     (the URNs the response lists).
//   - strings compare bytewise, after scim_fold (schema.Fold in SQL) on
//     both sides unless the attribute is caseExact; dateTimes compare as
//     instants; "" and missing values are absent; ne is NOT eq, so absent
//     values are ne anything. Every condition produced is two-valued (never
//     NULL), so NOT is exact.
//
// The schema has no integer or decimal attributes and no dateTime outside
// meta; filters on such attributes (none today) are answered with
// invalidFilter rather than guessed.

func init() {
	// scim_fold is schema.Fold inside SQLite, so that SQL compares folded
	// strings exactly as Go does.
	sqlite.MustRegisterDeterministicScalarFunction("scim_fold", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		switch v := args[0].(type) {
		case string:
			return schema.Fold(v), nil
		case []byte:
			return schema.Fold(string(v)), nil
		}
		return args[0], nil
	})
}

// sqlBuilder accumulates the numbered arguments of a statement. SQL text
// must be assembled in the order arg is called, so that placeholders are
// numbered in order of first appearance.
type sqlBuilder struct {
	args []any
}

// arg adds v as an argument and returns its placeholder.
func (b *sqlBuilder) arg(v any) string {
	b.args = append(b.args, v)
	return fmt.Sprintf("$%d", len(b.args))
}

const (
	sqlTrue  = "(1=1)"
	sqlFalse = "(1=0)"
)

// translator turns one filter into SQL for one resource type.
type translator struct {
	qd   *queryDialect
	b    *sqlBuilder
	rt   *schema.ResourceType
	base string // SCIM base URL, for meta.location and $ref
	n    int    // alias counter
}

func (t *translator) alias(prefix string) string {
	t.n++
	return fmt.Sprintf("%s%d", prefix, t.n)
}

func unsupported(e filter.Expr, why string) error {
	return schema.Errorf("invalidFilter", "filter %s is not supported: %s", e, why)
}

// cond translates e (nil: everything) into a two-valued condition.
func (t *translator) cond(e filter.Expr) (string, error) {
	return t.condIn(e, nil)
}

// condIn translates e, inside a value filter when el is not nil.
func (t *translator) condIn(e filter.Expr, el *element) (string, error) {
	switch e := e.(type) {
	case nil:
		return sqlTrue, nil
	case *filter.And, *filter.Or:
		var l, r filter.Expr
		op := " AND "
		if a, ok := e.(*filter.And); ok {
			l, r = a.Left, a.Right
		} else {
			o := e.(*filter.Or)
			l, r, op = o.Left, o.Right, " OR "
		}
		ls, err := t.condIn(l, el)
		if err != nil {
			return "", err
		}
		rs, err := t.condIn(r, el)
		if err != nil {
			return "", err
		}
		return "(" + ls + op + rs + ")", nil
	case *filter.Not:
		x, err := t.condIn(e.X, el)
		if err != nil {
			return "", err
		}
		return "(NOT " + x + ")", nil
	case *filter.Compare:
		if el != nil {
			if e.Path.Sub == nil {
				return t.compareVal(element{}.whole(), e)
			}
			return t.compareVal(el.sub(e.Path.Sub), e)
		}
		return t.compare(e)
	case *filter.ValuePath:
		if el != nil {
			return sqlFalse, nil // value filters do not nest
		}
		return t.valuePath(e)
	}
	return "", schema.Errorf("invalidFilter", "unknown filter expression %T", e)
}

// val is one attribute value as SQL sees it.
type val struct {
	leaf *schema.Attribute
	// text is a SQL expression holding the value's text: a string column
	// (NULL or "" when absent) when json is empty, else the text of a
	// JSON string at json/keys.
	text string
	// json and keys, when json is set, say where the JSON value lies.
	json string
	keys []string
	// folded: text is already folded (a fold column).
	folded bool
	// ms is set for dateTime columns: a non-NULL integer of unix ms.
	ms string
	// konst is a value known in Go (isConst).
	konst   any
	isConst bool
	// index: text is an indexed column (sw becomes a range).
	index bool
}

// present returns the condition "the value is present".
func (t *translator) present(v val) string {
	switch {
	case v.isConst:
		if filter.Present(v.konst) {
			return sqlTrue
		}
		return sqlFalse
	case v.ms != "":
		return sqlTrue
	case v.json == "":
		return "(" + v.text + " IS NOT NULL AND " + v.text + " <> '')"
	}
	typ := t.qd.jsonType(v.json, v.keys...)
	return "(CASE WHEN " + typ + " IS NULL THEN 0=1" +
		" WHEN " + typ + " = 'string' THEN " + v.text + " <> ''" +
		" WHEN " + typ + " = 'object' THEN NOT " + t.qd.jsonObjectEmpty(v.json, v.keys...) +
		" WHEN " + typ + " = 'array' THEN NOT " + t.qd.jsonArrayEmpty(v.json, v.keys...) +
		" WHEN " + typ + " = 'null' THEN 0=1 ELSE 1=1 END)"
}

// compareVal translates a comparison on a single value v.
func (t *translator) compareVal(v val, c *filter.Compare) (string, error) {
	switch {
	case c.Op == filter.Pr, c.Op == filter.Ne && c.Value == nil:
		return t.present(v), nil
	case c.Op == filter.Eq && c.Value == nil:
		return "(NOT " + t.present(v) + ")", nil
	case c.Op == filter.Ne:
		eq, err := t.opVal(v, filter.Eq, c.Value, c)
		if err != nil {
			return "", err
		}
		return "(NOT " + eq + ")", nil
	}
	return t.opVal(v, c.Op, c.Value, c)
}

// opVal is "v op want" for op in eq co sw ew gt ge lt le and want not nil.
func (t *translator) opVal(v val, op filter.Op, want any, c *filter.Compare) (string, error) {
	a := v.leaf
	switch a.Type {
	case schema.Complex:
		return sqlFalse, nil
	case schema.Boolean:
		w, ok := want.(bool)
		if !ok || op != filter.Eq || v.json == "" {
			return sqlFalse, nil
		}
		if w {
			return "(COALESCE(" + t.qd.jsonType(v.json, v.keys...) + " = 'boolean-true', 0=1))", nil
		}
		return "(COALESCE(" + t.qd.jsonType(v.json, v.keys...) + " = 'boolean-false', 0=1))", nil
	case schema.DateTime:
		w, ok := want.(string)
		if !ok {
			return sqlFalse, nil
		}
		if v.ms == "" {
			return "", unsupported(c, "dateTime attributes outside meta cannot be filtered on")
		}
		wt, err := time.Parse(time.RFC3339Nano, w)
		if err != nil {
			return sqlFalse, nil
		}
		return t.msCond(v.ms, op, wt), nil
	case schema.Integer, schema.Decimal:
		return "", unsupported(c, "numeric attributes cannot be filtered on")
	}
	w, ok := want.(string)
	if !ok {
		return sqlFalse, nil
	}
	if v.isConst {
		got, _ := v.konst.(string)
		if got != "" && goStringOp(a.CaseExact, op, got, w) {
			return sqlTrue, nil
		}
		return sqlFalse, nil
	}
	x := v.text
	if !a.CaseExact {
		w = schema.Fold(w)
		if !v.folded {
			x = "scim_fold(" + x + ")"
		}
	}
	guard := ""
	if v.json != "" {
		guard = t.qd.jsonType(v.json, v.keys...) + " = 'string' AND "
	}
	nonEmpty := v.text + " <> '' AND "
	var cond string
	switch op {
	case filter.Eq:
		if w == "" {
			return sqlFalse, nil
		}
		cond = x + " = " + t.b.arg(w)
		nonEmpty = ""
	case filter.Co, filter.Sw, filter.Ew:
		if w == "" {
			return t.present(v), nil
		}
		nonEmpty = ""
		switch {
		case op == filter.Sw && v.index && utf8.ValidString(w):
			// A range on the index: exact for valid UTF-8 (see successor).
			if succ, ok := successor(w); ok {
				cond = x + t.qd.binary + " >= " + t.b.arg(w) + " AND " + x + t.qd.binary + " < " + t.b.arg(succ)
			} else {
				cond = x + t.qd.binary + " >= " + t.b.arg(w)
			}
		case op == filter.Co:
			cond = t.qd.contains(x, t.b.arg(w))
		case op == filter.Sw:
			cond = t.qd.hasPrefix(x, t.b.arg(w))
		default:
			cond = t.qd.hasSuffix(x, t.b.arg(w))
		}
	case filter.Gt, filter.Ge, filter.Lt, filter.Le:
		sqlOp := map[filter.Op]string{filter.Gt: " > ", filter.Ge: " >= ", filter.Lt: " < ", filter.Le: " <= "}[op]
		cond = x + t.qd.binary + sqlOp + t.b.arg(w)
	default:
		return "", unsupported(c, "unknown operator")
	}
	if v.json == "" {
		// A column: two-valued without COALESCE, which would hide the
		// comparison from the index.
		return "(" + v.text + " IS NOT NULL AND " + nonEmpty + cond + ")", nil
	}
	return "(COALESCE(" + guard + nonEmpty + cond + ", 0=1))", nil
}

// msCond compares a millisecond column with the instant w exactly, although
// w may be finer than a millisecond.
func (t *translator) msCond(col string, op filter.Op, w time.Time) string {
	floor := w.UnixMilli() // floor: the nanoseconds are never negative
	exact := w.Nanosecond()%int(time.Millisecond) == 0
	switch op {
	case filter.Eq:
		if !exact {
			return sqlFalse
		}
		return "(" + col + " = " + t.b.arg(floor) + ")"
	case filter.Gt:
		return "(" + col + " > " + t.b.arg(floor) + ")"
	case filter.Ge:
		if !exact {
			return "(" + col + " > " + t.b.arg(floor) + ")"
		}
		return "(" + col + " >= " + t.b.arg(floor) + ")"
	case filter.Lt:
		if !exact {
			return "(" + col + " <= " + t.b.arg(floor) + ")"
		}
		return "(" + col + " < " + t.b.arg(floor) + ")"
	case filter.Le:
		return "(" + col + " <= " + t.b.arg(floor) + ")"
	}
	return sqlFalse
}

// successor returns the smallest string greater than every string that
// has prefix p (for valid UTF-8, bytewise): p with its last code point
// incremented, dropping trailing U+10FFFF.
func successor(p string) (string, bool) {
	for p != "" {
		r, size := utf8.DecodeLastRuneInString(p)
		p = p[:len(p)-size]
		switch {
		case r == utf8.MaxRune:
			continue
		case r == 0xD7FF:
			r = 0xE000 // skip the surrogates
		default:
			r++
		}
		return p + string(r), true
	}
	return "", false
}

// goStringOp applies a string comparison in Go, as filter.Match does.
func goStringOp(caseExact bool, op filter.Op, got, w string) bool {
	if !caseExact {
		got, w = schema.Fold(got), schema.Fold(w)
	}
	switch op {
	case filter.Eq:
		return got == w
	case filter.Co:
		return strings.Contains(got, w)
	case filter.Sw:
		return strings.HasPrefix(got, w)
	case filter.Ew:
		return strings.HasSuffix(got, w)
	case filter.Gt:
		return got > w
	case filter.Ge:
		return got >= w
	case filter.Lt:
		return got < w
	case filter.Le:
		return got <= w
	}
	return false
}

// element is the set of elements of a multi-valued attribute, as rows.
type element struct {
	with  string // a WITH clause the FROM needs, or ""
	from  string
	where string // correlation with r; elements that are present objects
	pos   string // order of the elements ("first")
	// sub returns a sub-attribute's value in the element.
	sub func(a *schema.Attribute) val
	// primary is the "primary" sub-attribute, if any.
	primary *schema.Attribute
}

// whole is the element itself, compared as a complex value: present
// (rows only exist for present elements), equal to nothing.
func (element) whole() val {
	return val{leaf: &schema.Attribute{Type: schema.Complex}, isConst: true, konst: map[string]any{"": true}}
}

// exists returns EXISTS over the elements satisfying cond.
func (el *element) exists(cond string) string {
	return "EXISTS (" + el.with + "SELECT 1 FROM " + el.from + " WHERE " + el.where + " AND " + cond + ")"
}

// elements returns the element set of the multi-valued attribute of path.
func (t *translator) elements(p schema.Path) *element {
	a := p.Attr
	switch {
	case t.rt == schema.GroupType && p.Schema == schema.Group && a.Name == "members":
		m, u, g := t.alias("m"), t.alias("mu"), t.alias("mg")
		el := &element{
			from: "scim_members " + m + " LEFT JOIN scim_users " + u + " ON " + m + ".member_type = 'User' AND " + u + ".id = " + m + ".member_id" +
				" LEFT JOIN scim_groups " + g + " ON " + m + ".member_type = 'Group' AND " + g + ".id = " + m + ".member_id",
			where: m + ".group_id = r.id",
			pos:   m + ".member_id",
		}
		el.sub = func(s *schema.Attribute) val {
			switch s.Name {
			case "value":
				return val{leaf: s, text: m + ".member_id"}
			case "type":
				return val{leaf: s, text: m + ".member_type"}
			case "display":
				return val{leaf: s, text: "COALESCE(" + u + ".user_name, " + g + ".display_name)"}
			case "$ref":
				return val{leaf: s, text: "(" + t.b.arg(t.base+"/") + " || " + m + ".member_type || 's/' || " + m + ".member_id)"}
			}
			return val{leaf: s, isConst: true}
		}
		return el
	case t.rt == schema.UserType && p.Schema == schema.User && a.Name == "groups":
		anc, ga, g := t.alias("anc"), t.alias("ga"), t.alias("g")
		el := &element{
			with: "WITH RECURSIVE " + anc + "(gid, depth) AS (SELECT group_id, 0 FROM scim_members WHERE member_id = r.id" +
				" UNION SELECT m.group_id, a.depth + 1 FROM scim_members m JOIN " + anc + " a ON m.member_id = a.gid WHERE a.depth < 64) ",
			from:  "(SELECT gid, MIN(depth) AS depth FROM " + anc + " GROUP BY gid) " + ga + " JOIN scim_groups " + g + " ON " + g + ".id = " + ga + ".gid",
			where: sqlTrue,
			pos:   g + ".id",
		}
		el.sub = func(s *schema.Attribute) val {
			switch s.Name {
			case "value":
				return val{leaf: s, text: g + ".id"}
			case "display":
				return val{leaf: s, text: g + ".display_name"}
			case "type":
				return val{leaf: s, text: "(CASE WHEN " + ga + ".depth = 0 THEN 'direct' ELSE 'indirect' END)"}
			case "$ref":
				return val{leaf: s, text: "(" + t.b.arg(t.base+"/Groups/") + " || " + g + ".id)"}
			}
			return val{leaf: s, isConst: true}
		}
		return el
	}
	alias := t.alias("e")
	from, elem, pos := t.qd.jsonEach(alias, "r.doc", docKeys(t.rt, p)...)
	return &element{
		from:    from,
		where:   "(" + elem + " IS NOT NULL AND NOT " + t.qd.jsonObjectEmpty(elem) + ")",
		pos:     pos,
		primary: a.Sub("primary"),
		sub: func(s *schema.Attribute) val {
			return val{leaf: s, text: t.qd.jsonText(elem, s.Name), json: elem, keys: []string{s.Name}}
		},
	}
}

// docKeys is the JSON path of p's attribute (not its sub-attribute) in
// the stored document.
func docKeys(rt *schema.ResourceType, p schema.Path) []string {
	if k := p.Key(rt); k != "" {
		return []string{k, p.Attr.Name}
	}
	return []string{p.Attr.Name}
}

// single returns the value of a path that is not multi-valued.
func (t *translator) single(p schema.Path) val {
	a, leaf := p.Attr, p.Leaf()
	switch {
	case a == schema.IDAttr:
		return val{leaf: leaf, text: "r.id", index: true}
	case a == schema.ExternalIDAttr:
		return val{leaf: leaf, text: "r.external_id", index: true}
	case a == schema.MetaAttr:
		if p.Sub == nil {
			return val{leaf: leaf, isConst: true, konst: map[string]any{"resourceType": t.rt.ID}}
		}
		switch p.Sub.Name {
		case "resourceType":
			return val{leaf: leaf, isConst: true, konst: t.rt.ID}
		case "created":
			return val{leaf: leaf, ms: "r.created"}
		case "lastModified":
			return val{leaf: leaf, ms: "r.last_modified"}
		case "location":
			return val{leaf: leaf, text: "(" + t.b.arg(t.base+t.rt.Endpoint+"/") + " || r.id)"}
		case "version":
			return val{leaf: leaf, text: `('W/"' || r.version || '"')`}
		}
		return val{leaf: leaf, isConst: true}
	case t.rt == schema.UserType && p.Schema == schema.User && a.Name == "userName":
		return val{leaf: leaf, text: "r.user_name_fold", folded: true, index: true}
	case t.rt == schema.GroupType && p.Schema == schema.Group && a.Name == "displayName":
		return val{leaf: leaf, text: "r.display_name_fold", folded: true, index: true}
	case t.rt == schema.UserType && p.Schema == schema.User && a.Name == "displayName":
		return val{leaf: leaf, text: "r.display_name"}
	}
	keys := docKeys(t.rt, p)
	if p.Sub != nil {
		keys = append(keys, p.Sub.Name)
	}
	return val{leaf: leaf, text: t.qd.jsonText("r.doc", keys...), json: "r.doc", keys: keys}
}

// compare translates a comparison outside value filters.
func (t *translator) compare(c *filter.Compare) (string, error) {
	p := c.Path
	if p.Attr == nil {
		return "", schema.Errorf("invalidFilter", "comparison without an attribute")
	}
	if p.Attr == schema.SchemasAttr {
		return t.schemas(c)
	}
	if fast, ok := t.emailLookup(p, []*filter.Compare{c}); ok && c.Op == filter.Eq {
		return fast, nil
	}
	if !p.Attr.MultiValued {
		return t.compareVal(t.single(p), c)
	}
	el := t.elements(p)
	if p.Sub == nil {
		// The attribute as a whole: pr, eq null, ne null.
		if c.Value != nil {
			return sqlFalse, nil
		}
		has := el.exists(sqlTrue)
		if c.Op == filter.Eq {
			return "(NOT " + has + ")", nil
		}
		return has, nil
	}
	switch {
	case c.Op == filter.Pr, c.Op == filter.Ne && c.Value == nil:
		return el.exists(t.present(el.sub(p.Sub))), nil
	case c.Op == filter.Eq && c.Value == nil:
		return "(NOT " + el.exists(t.present(el.sub(p.Sub))) + ")", nil
	case c.Op == filter.Ne:
		eq, err := t.opVal(el.sub(p.Sub), filter.Eq, c.Value, c)
		if err != nil {
			return "", err
		}
		return "(NOT " + el.exists(eq) + ")", nil
	}
	cond, err := t.opVal(el.sub(p.Sub), c.Op, c.Value, c)
	if err != nil {
		return "", err
	}
	return el.exists(cond), nil
}

// schemas translates a comparison on "schemas": the core schema's URN,
// and each extension's when the resource has that extension.
func (t *translator) schemas(c *filter.Compare) (string, error) {
	switch {
	case c.Op == filter.Pr, c.Op == filter.Ne && c.Value == nil:
		return sqlTrue, nil
	case c.Op == filter.Eq && c.Value == nil:
		return sqlFalse, nil
	}
	op, neg := c.Op, false
	if op == filter.Ne {
		op, neg = filter.Eq, true
	}
	w, _ := c.Value.(string)
	var ors []string
	if goStringOp(true, op, t.rt.Schema.ID, w) {
		ors = append(ors, sqlTrue)
	}
	for _, e := range t.rt.Extensions {
		if goStringOp(true, op, e.Schema.ID, w) {
			ors = append(ors, t.present(val{json: "r.doc", keys: []string{e.Schema.ID}, text: t.qd.jsonText("r.doc", e.Schema.ID)}))
		}
	}
	cond := sqlFalse
	if len(ors) > 0 {
		cond = "(" + strings.Join(ors, " OR ") + ")"
	}
	if neg {
		return "(NOT " + cond + ")", nil
	}
	return cond, nil
}

// emailLookup uses the folded email table for eq comparisons on a user's
// emails.value and emails.type (cs, and-ed), when one is on value: then
// only elements with a value can match, and the table has a row for each.
func (t *translator) emailLookup(p schema.Path, cs []*filter.Compare) (string, bool) {
	if t.rt != schema.UserType || p.Schema != schema.User || p.Attr.Name != "emails" {
		return "", false
	}
	var value, typ []string
	for _, c := range cs {
		w, ok := c.Value.(string)
		if c.Op != filter.Eq || !ok || w == "" || c.Path.Sub == nil {
			return "", false
		}
		switch c.Path.Sub.Name {
		case "value":
			value = append(value, schema.Fold(w))
		case "type":
			typ = append(typ, schema.Fold(w))
		default:
			return "", false
		}
	}
	if len(value) == 0 {
		return "", false
	}
	var conds []string
	for _, v := range value {
		conds = append(conds, "value_fold = "+t.b.arg(v))
	}
	for _, v := range typ {
		conds = append(conds, "type_fold = "+t.b.arg(v))
	}
	return "r.id IN (SELECT user_id FROM scim_user_emails WHERE " + strings.Join(conds, " AND ") + ")", true
}

// conjuncts flattens a tree of And into its comparisons, if that is all
// it is.
func conjuncts(e filter.Expr) ([]*filter.Compare, bool) {
	switch e := e.(type) {
	case *filter.Compare:
		return []*filter.Compare{e}, true
	case *filter.And:
		l, ok1 := conjuncts(e.Left)
		r, ok2 := conjuncts(e.Right)
		return append(l, r...), ok1 && ok2
	}
	return nil, false
}

// valuePath translates attr[filter].
func (t *translator) valuePath(vp *filter.ValuePath) (string, error) {
	p := schema.Path{Schema: vp.Path.Schema, Attr: vp.Path.Attr}
	if p.Attr == nil || !p.Attr.MultiValued || p.Attr.Type != schema.Complex {
		return sqlFalse, nil
	}
	if cs, ok := conjuncts(vp.Filter); ok {
		if fast, ok := t.emailLookup(p, cs); ok {
			return fast, nil
		}
	}
	el := t.elements(p)
	cond, err := t.condIn(vp.Filter, el)
	if err != nil {
		return "", err
	}
	return el.exists(cond), nil
}
