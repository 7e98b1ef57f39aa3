package patch

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"

	"github.com/scimd/scimd/scim"
	"github.com/scimd/scimd/scim/filter"
	"github.com/scimd/scimd/scim/schema"
)

// ErrMembersNotLoaded is returned by Apply when an operation needs a
// group's member list (see NeedsMembers) and res does not hold it. It is
// a programming error of the caller, not a client error.
var ErrMembersNotLoaded = errors.New("patch: operation needs the group's member list, which was not loaded")

// NeedsMembers reports whether applying ops to a resource of type rt needs
// its member list loaded (scim.Load{Members: true}). Adding members,
// removing listed members (by value, or by members[value eq "…"] filters
// joined with "or"), removing all members and replacing the whole list do
// not; anything else on members (other filters, sub-attribute paths) does.
func NeedsMembers(rt *schema.ResourceType, ops []Op) bool {
	for _, op := range ops {
		if isMembers(rt, op.Path) && !deltaShape(op) {
			return true
		}
	}
	return false
}

func isMembers(rt *schema.ResourceType, p *filter.Path) bool {
	return rt == schema.GroupType && p != nil && p.Attr.Attr != nil && p.Attr.Schema == rt.Schema && p.Attr.Attr.Name == "members"
}

// deltaShape reports whether a members operation can be expressed as
// scim.MemberChanges (or a whole-list replacement).
func deltaShape(op Op) bool {
	p := op.Path
	if p.Attr.Sub != nil || p.Sub != nil {
		return false
	}
	if p.Filter == nil {
		return true
	}
	_, ok := valueEqs(p.Filter)
	return op.Op == "remove" && ok
}

// valueEqs returns the values of a filter made only of `value eq "x"`
// joined by or.
func valueEqs(e filter.Expr) ([]string, bool) {
	switch e := e.(type) {
	case *filter.Compare:
		s, ok := e.Value.(string)
		if e.Op != filter.Eq || e.Path.Sub == nil || e.Path.Sub.Name != "value" || !ok {
			return nil, false
		}
		return []string{s}, true
	case *filter.Or:
		l, ok1 := valueEqs(e.Left)
		r, ok2 := valueEqs(e.Right)
		return append(l, r...), ok1 && ok2
	}
	return nil, false
}

// Apply applies ops to res in order, all or nothing: on error res is left
// as it was. It is meant to run inside scim.Store.Update's function.
//
// Attributes are edited in res.Attrs. Group membership is recorded in
// res.MemberChanges, or, after a replace of the whole list or when
// NeedsMembers(ops) (which requires res.MembersLoaded), in res.Members with
// res.MembersLoaded set; otherwise res.Members is cleared so that the store
// does not rewrite a list it loaded only for the response.
//
// The result is decoded again through the schema and checked for required
// attributes. Errors are *scim.Error with status 400 and scimType
// mutability (a read-only attribute, or an immutable one with a value),
// invalidValue (a value of the wrong type, a required attribute removed),
// noTarget (add or replace through a filter that matches nothing and from
// which no element can be built), or ErrMembersNotLoaded.
func Apply(rt *schema.ResourceType, res *scim.Resource, ops []Op) error {
	ap := &applier{rt: rt, res: res, doc: scim.CloneAttrs(res.Attrs),
		added: map[string]bool{}, removed: map[string]bool{}}
	if rt == schema.GroupType && NeedsMembers(rt, ops) {
		if !res.MembersLoaded {
			return ErrMembersNotLoaded
		}
		ap.loadMembers(res.Members)
	}
	if res.MemberChanges != nil {
		// Edits recorded by an earlier step of the same update come first.
		ap.removeAll = res.MemberChanges.RemoveAll
		for _, v := range res.MemberChanges.Remove {
			ap.removeMember(v)
		}
		for _, m := range res.MemberChanges.Add {
			ap.addMember(m)
		}
	}
	for _, op := range ops {
		if err := ap.apply(op); err != nil {
			return err
		}
	}
	members, hasMembers := ap.doc["members"]
	delete(ap.doc, "members")
	attrs, err := rt.Decode(ap.doc)
	if err != nil {
		return err
	}
	if err := rt.CheckRequired(attrs); err != nil {
		return err
	}
	res.Attrs = attrs
	if rt != schema.GroupType {
		return nil
	}
	if ap.loaded {
		res.Members, res.MembersLoaded, res.MemberChanges = membersFrom(members, hasMembers), true, nil
		return nil
	}
	res.Members, res.MembersLoaded = nil, false
	res.MemberChanges = ap.changes()
	return nil
}

// applier is the state of one Apply: a working copy of the attributes and
// the membership edits so far.
type applier struct {
	rt  *schema.ResourceType
	res *scim.Resource
	doc map[string]any

	// loaded: the member list is known and held in doc["members"] as an
	// ordinary multi-valued attribute.
	loaded bool
	// Otherwise, membership edits: removeAll, then remove, then add
	// (disjoint, in first-seen order).
	removeAll  bool
	addList    []scim.Member
	added      map[string]bool
	removeList []string
	removed    map[string]bool
}

func (ap *applier) loadMembers(ms []scim.Member) {
	ap.loaded = true
	delete(ap.doc, "members")
	list := make([]any, 0, len(ms))
	for _, m := range ms {
		e := map[string]any{"value": m.Value}
		if m.Type != "" {
			e["type"] = m.Type
		}
		if m.Display != "" {
			e["display"] = m.Display
		}
		list = append(list, e)
	}
	if len(list) > 0 {
		ap.doc["members"] = list
	}
}

func membersFrom(v any, ok bool) []scim.Member {
	out := []scim.Member{}
	if !ok {
		return out
	}
	list, _ := v.([]any)
	for _, e := range list {
		m, _ := e.(map[string]any)
		val, _ := m["value"].(string)
		if val == "" {
			continue
		}
		t, _ := m["type"].(string)
		out = append(out, scim.Member{Value: val, Type: t})
	}
	return out
}

func (ap *applier) addMember(m scim.Member) {
	if ap.removed[m.Value] {
		delete(ap.removed, m.Value)
		ap.removeList = without(ap.removeList, m.Value)
	}
	if !ap.added[m.Value] {
		ap.added[m.Value] = true
		ap.addList = append(ap.addList, m)
	}
}

func (ap *applier) removeMember(v string) {
	if ap.added[v] {
		delete(ap.added, v)
		out := ap.addList[:0]
		for _, m := range ap.addList {
			if m.Value != v {
				out = append(out, m)
			}
		}
		ap.addList = out
	}
	if !ap.removed[v] {
		ap.removed[v] = true
		ap.removeList = append(ap.removeList, v)
	}
}

func without(list []string, v string) []string {
	out := list[:0]
	for _, s := range list {
		if s != v {
			out = append(out, s)
		}
	}
	return out
}

func (ap *applier) changes() *scim.MemberChanges {
	c := &scim.MemberChanges{RemoveAll: ap.removeAll}
	if len(ap.removeList) > 0 {
		c.Remove = ap.removeList
	}
	if len(ap.addList) > 0 {
		c.Add = ap.addList
	}
	if c.Empty() {
		return nil
	}
	return c
}

func (ap *applier) errorf(op Op, scimType, format string, args ...any) error {
	args = append([]any{op.Index, op.String()}, args...)
	return errorf(scimType, "Operations[%d] (%s): "+format, args...)
}

// valueError rewraps a schema decoding error with the operation.
func (ap *applier) valueError(op Op, err error) error {
	var se *schema.Error
	if errors.As(err, &se) {
		return ap.errorf(op, se.ScimType, "%s", se.Detail)
	}
	return err
}

func (ap *applier) apply(op Op) error {
	if op.Path == nil {
		return ap.errorf(op, "noTarget", "no path")
	}
	fp := *op.Path
	sp := fp.Attr
	if sp.Attr == nil { // a whole extension (Parse has split add/replace with an object)
		if op.Op == "remove" || op.Value == nil {
			if op.Op != "add" {
				delete(ap.doc, sp.Schema.ID)
			}
			return nil
		}
		return ap.errorf(op, "invalidValue", "the value must be a JSON object")
	}
	a := sp.Attr
	sub := sp.Sub
	if fp.Sub != nil {
		sub = fp.Sub
	}
	leaf := a
	if sub != nil {
		leaf = sub
	}
	if a.Mutability == schema.ReadOnly || leaf.Mutability == schema.ReadOnly {
		return ap.readOnly(op, a, leaf)
	}
	if leaf.Mutability == schema.WriteOnly || leaf.Returned == schema.Never {
		// password: checked, then dropped; scimd never stores it.
		if op.Op != "remove" {
			if _, err := schema.DecodeValue(leaf, op.Value); err != nil {
				return ap.valueError(op, err)
			}
		}
		return nil
	}
	if isMembers(ap.rt, op.Path) && !ap.loaded {
		return ap.membersDelta(op)
	}
	container := ap.doc
	if key := sp.Key(ap.rt); key != "" {
		m, _ := ap.doc[key].(map[string]any)
		if m == nil {
			m = map[string]any{}
			ap.doc[key] = m
		}
		container = m
	}
	if a.MultiValued {
		return ap.multi(op, container, a, fp.Filter, sub)
	}
	if sub != nil {
		return ap.subAttr(op, container, a, sub)
	}
	return ap.single(op, container, a)
}

// readOnly handles an operation on a read-only attribute: refused, except
// what a client echoes back in a path-less value object (Okta sends the
// resource's own id) and an id set to itself.
func (ap *applier) readOnly(op Op, a, leaf *schema.Attribute) error {
	if a == schema.IDAttr && op.Op != "remove" {
		if s, ok := op.Value.(string); ok && s == ap.res.ID {
			return nil
		}
	}
	if op.implicit && a != schema.IDAttr {
		return nil // meta, schemas, groups echoed back in a value object
	}
	return ap.errorf(op, "mutability", "attribute %q is read-only", leaf.Name)
}

// membersDelta records an edit of a group's members without loading them.
func (ap *applier) membersDelta(op Op) error {
	fp := op.Path
	switch op.Op {
	case "add":
		ms, err := ap.decodeMembers(op)
		if err != nil {
			return err
		}
		for _, m := range ms {
			ap.addMember(m)
		}
	case "replace":
		ms, err := ap.decodeMembers(op)
		if err != nil {
			return err
		}
		// The whole list is known from here on.
		ap.removeAll, ap.addList, ap.removeList = false, nil, nil
		ap.added, ap.removed = map[string]bool{}, map[string]bool{}
		ap.loadMembers(ms)
	case "remove":
		switch {
		case fp.Filter != nil:
			vals, _ := valueEqs(fp.Filter)
			for _, v := range vals {
				ap.removeMember(v)
			}
		case op.HasValue:
			// Entra: remove exactly the listed members. A null or empty
			// list removes nothing; never all.
			ms, err := ap.decodeMembers(op)
			if err != nil {
				return err
			}
			for _, m := range ms {
				ap.removeMember(m.Value)
			}
		default:
			// RFC 7644 §3.5.2.2: "members" with no value and no filter.
			ap.removeAll, ap.addList, ap.removeList = true, nil, nil
			ap.added, ap.removed = map[string]bool{}, map[string]bool{}
		}
	}
	return nil
}

// decodeMembers decodes an operation's value as a list of members: objects
// with a "value", or bare id strings.
func (ap *applier) decodeMembers(op Op) ([]scim.Member, error) {
	a := op.Path.Attr.Attr
	if list, ok := op.Value.([]any); ok {
		for _, e := range list {
			if m, ok := e.(map[string]any); ok && !hasKey(m, "value") {
				return nil, ap.errorf(op, "invalidValue", `every member needs a "value" (the member's id)`)
			}
		}
	} else if m, ok := op.Value.(map[string]any); ok && !hasKey(m, "value") {
		return nil, ap.errorf(op, "invalidValue", `every member needs a "value" (the member's id)`)
	}
	dv, err := schema.DecodeValue(a, op.Value)
	if err != nil {
		return nil, ap.valueError(op, err)
	}
	list, _ := dv.([]any)
	out := make([]scim.Member, 0, len(list))
	for _, e := range list {
		m, _ := e.(map[string]any)
		v, _ := m["value"].(string)
		if v == "" {
			return nil, ap.errorf(op, "invalidValue", `every member needs a non-empty "value" (the member's id)`)
		}
		t, _ := m["type"].(string)
		out = append(out, scim.Member{Value: v, Type: t})
	}
	return out, nil
}

func hasKey(m map[string]any, name string) bool {
	for k, v := range m {
		if strings.EqualFold(k, name) && v != nil {
			return true
		}
	}
	return false
}

// single applies op to a single-valued attribute a in container.
func (ap *applier) single(op Op, container map[string]any, a *schema.Attribute) error {
	old := container[a.Name]
	if op.Op == "remove" {
		delete(container, a.Name)
		return nil
	}
	dv, err := schema.DecodeValue(a, op.Value)
	if err != nil {
		return ap.valueError(op, err)
	}
	if dv == nil {
		if op.Op == "replace" {
			delete(container, a.Name) // replace with null or "": unassigned
		}
		return nil
	}
	if a.Type == schema.Complex && a.Sub("value") == nil {
		// RFC 7644 §3.5.2.1 and .3: the given sub-attributes replace
		// theirs; the others are kept. A reference-like complex value
		// (manager: value and $ref) is replaced whole instead, so that a
		// new value never keeps the old $ref.
		m, _ := old.(map[string]any)
		merged := scim.CloneAttrs(m)
		for k, v := range dv.(map[string]any) {
			if err := ap.checkImmutable(op, a.Sub(k), merged[k], v); err != nil {
				return err
			}
			merged[k] = v
		}
		container[a.Name] = merged
		return nil
	}
	if err := ap.checkImmutable(op, a, old, dv); err != nil {
		return err
	}
	container[a.Name] = dv
	return nil
}

// subAttr applies op to sub-attribute sub of the single-valued complex
// attribute a.
func (ap *applier) subAttr(op Op, container map[string]any, a, sub *schema.Attribute) error {
	m, _ := container[a.Name].(map[string]any)
	if op.Op == "remove" {
		if m != nil {
			m = scim.CloneAttrs(m)
			delete(m, sub.Name)
			container[a.Name] = m
		}
		return nil
	}
	dv, err := schema.DecodeValue(sub, op.Value)
	if err != nil {
		return ap.valueError(op, err)
	}
	m = scim.CloneAttrs(m)
	if dv == nil {
		if op.Op == "replace" {
			delete(m, sub.Name)
			container[a.Name] = m
		}
		return nil
	}
	if err := ap.checkImmutable(op, sub, m[sub.Name], dv); err != nil {
		return err
	}
	m[sub.Name] = dv
	container[a.Name] = m
	return nil
}

// multi applies op to the multi-valued attribute a, optionally through a
// value filter f and down to sub-attribute sub.
func (ap *applier) multi(op Op, container map[string]any, a *schema.Attribute, f filter.Expr, sub *schema.Attribute) error {
	list, _ := container[a.Name].([]any)
	list = append([]any(nil), list...)
	if f == nil && sub == nil {
		switch op.Op {
		case "remove":
			if !op.HasValue {
				delete(container, a.Name)
				return nil
			}
			// Remove the listed values (as Entra removes members).
			dv, err := schema.DecodeValue(a, op.Value)
			if err != nil {
				return ap.valueError(op, err)
			}
			drop, _ := dv.([]any)
			out := list[:0]
			for _, e := range list {
				keep := true
				for _, d := range drop {
					if sameElement(a, e, d) {
						keep = false
						break
					}
				}
				if keep {
					out = append(out, e)
				}
			}
			return ap.store(container, a, out)
		case "replace":
			dv, err := schema.DecodeValue(a, op.Value)
			if err != nil {
				return ap.valueError(op, err)
			}
			if dv == nil {
				delete(container, a.Name)
				return nil
			}
			container[a.Name] = dv
			return nil
		}
		// add: append, merging into an element with the same value.
		dv, err := schema.DecodeValue(a, op.Value)
		if err != nil {
			return ap.valueError(op, err)
		}
		added, _ := dv.([]any)
		var touched []map[string]any
		for _, n := range added {
			found := false
			for i, e := range list {
				if sameElement(a, e, n) {
					em, nm := e.(map[string]any), n.(map[string]any)
					merged := scim.CloneAttrs(em)
					for k, v := range nm {
						if k == "value" {
							continue // the same value, perhaps in another case: kept as stored
						}
						if err := ap.checkImmutable(op, a.Sub(k), merged[k], v); err != nil {
							return err
						}
						merged[k] = v
					}
					list[i] = merged
					touched = append(touched, merged)
					found = true
					break
				}
			}
			if !found {
				list = append(list, n)
				if nm, ok := n.(map[string]any); ok {
					touched = append(touched, nm)
				}
			}
		}
		fixPrimary(list, touched)
		return ap.store(container, a, list)
	}

	// Through a filter (or, with only a sub-attribute, every element).
	var matched []int
	for i, e := range list {
		em, ok := e.(map[string]any)
		if ok && (f == nil || ap.match(op.Path.Attr, f, em)) {
			matched = append(matched, i)
		}
	}
	if op.Op == "remove" {
		if len(matched) == 0 {
			return nil // removing what is not there succeeds
		}
		out := make([]any, 0, len(list))
		next := 0
		for i, e := range list {
			if next < len(matched) && matched[next] == i {
				next++
				if sub == nil {
					continue
				}
				m := scim.CloneAttrs(e.(map[string]any))
				delete(m, sub.Name)
				e = m
			}
			out = append(out, e)
		}
		return ap.store(container, a, out)
	}

	// add or replace: the new sub-attribute value, or the sub-attributes
	// to set on each matching element.
	var set map[string]any
	if sub != nil {
		dv, err := schema.DecodeValue(sub, op.Value)
		if err != nil {
			return ap.valueError(op, err)
		}
		set = map[string]any{sub.Name: dv}
	} else {
		dv, err := schema.DecodeValue(a, op.Value)
		if err != nil {
			return ap.valueError(op, err)
		}
		elems, _ := dv.([]any)
		switch len(elems) {
		case 0:
			set = nil
		case 1:
			set = elems[0].(map[string]any)
		default:
			return ap.errorf(op, "invalidValue", "a filtered path selects elements to update with one value object, not an array of %d", len(elems))
		}
	}
	if len(matched) == 0 {
		if set == nil || (sub != nil && set[sub.Name] == nil) {
			return nil // nothing to add
		}
		// Entra: add or replace on emails[type eq "work"].value with no
		// work email creates it, built from the filter's equalities.
		tmpl, ok := template(f)
		if !ok {
			return ap.errorf(op, "noTarget", "the filter matches no value of %q, and no value can be built from it", a.Name)
		}
		for k, v := range set {
			tmpl[k] = v
		}
		dv, err := schema.DecodeValue(a, []any{tmpl})
		if err != nil {
			return ap.valueError(op, err)
		}
		elems, _ := dv.([]any)
		if len(elems) == 0 {
			return nil
		}
		list = append(list, elems[0])
		fixPrimary(list, []map[string]any{elems[0].(map[string]any)})
		return ap.store(container, a, list)
	}
	var touched []map[string]any
	for _, i := range matched {
		m := scim.CloneAttrs(list[i].(map[string]any))
		if set == nil {
			if op.Op == "replace" {
				list[i] = nil // replace with null: the element goes
			}
			continue
		}
		for k, v := range set {
			if v == nil {
				delete(m, k)
				continue
			}
			if err := ap.checkImmutable(op, a.Sub(k), m[k], v); err != nil {
				return err
			}
			m[k] = v
		}
		list[i] = m
		touched = append(touched, m)
	}
	out := list[:0]
	for _, e := range list {
		if e != nil {
			out = append(out, e)
		}
	}
	fixPrimary(out, touched)
	return ap.store(container, a, out)
}

func (ap *applier) store(container map[string]any, a *schema.Attribute, list []any) error {
	if len(list) == 0 {
		delete(container, a.Name)
		return nil
	}
	container[a.Name] = list
	return nil
}

// match reports whether element elem of the multi-valued attribute at sp
// satisfies the value filter f.
func (ap *applier) match(sp schema.Path, f filter.Expr, elem map[string]any) bool {
	whole := schema.Path{Schema: sp.Schema, Attr: sp.Attr}
	doc := map[string]any{sp.Attr.Name: []any{elem}}
	if key := whole.Key(ap.rt); key != "" {
		doc = map[string]any{key: doc}
	}
	return filter.Match(ap.rt, &filter.ValuePath{Path: whole, Filter: f}, doc)
}

// checkImmutable refuses to change an immutable attribute that has a value.
func (ap *applier) checkImmutable(op Op, a *schema.Attribute, old, v any) error {
	if a == nil || a.Mutability != schema.Immutable || old == nil || jsonEqual(old, v) {
		return nil
	}
	return ap.errorf(op, "mutability", "attribute %q is immutable and already has a value", a.Name)
}

// template builds the element a filter describes: the sub-attribute
// equalities of a filter made only of "eq" comparisons joined by "and".
// A nil filter describes an empty element.
func template(f filter.Expr) (map[string]any, bool) {
	switch f := f.(type) {
	case nil:
		return map[string]any{}, true
	case *filter.Compare:
		if f.Op != filter.Eq || f.Path.Sub == nil || f.Value == nil {
			return nil, false
		}
		return map[string]any{f.Path.Sub.Name: f.Value}, true
	case *filter.And:
		l, ok1 := template(f.Left)
		r, ok2 := template(f.Right)
		if !ok1 || !ok2 {
			return nil, false
		}
		for k, v := range r {
			if lv, ok := l[k]; ok && !jsonEqual(lv, v) {
				return nil, false // type eq "a" and type eq "b"
			}
			l[k] = v
		}
		return l, true
	}
	return nil, false
}

// sameElement reports whether two elements of a multi-valued attribute are
// the same value: equal "value" sub-attributes (case-insensitively unless
// caseExact) and no conflicting "type"; for attributes without "value",
// deep equality.
func sameElement(a *schema.Attribute, x, y any) bool {
	xm, ok1 := x.(map[string]any)
	ym, ok2 := y.(map[string]any)
	va := a.Sub("value")
	if !ok1 || !ok2 || va == nil {
		return reflect.DeepEqual(x, y)
	}
	xv, yv := xm["value"], ym["value"]
	if xv == nil || yv == nil {
		return reflect.DeepEqual(x, y)
	}
	if xs, ok := xv.(string); ok {
		ys, ok := yv.(string)
		if !ok {
			return false
		}
		if va.CaseExact {
			if xs != ys {
				return false
			}
		} else if schema.Fold(xs) != schema.Fold(ys) {
			return false
		}
	} else if !jsonEqual(xv, yv) {
		return false
	}
	xt, yt := xm["type"], ym["type"]
	return xt == nil || yt == nil || jsonEqual(xt, yt)
}

// fixPrimary keeps "primary": true on at most one element (RFC 7643
// §2.4): the first element this operation set it on, else the first.
func fixPrimary(list []any, touched []map[string]any) {
	var keep map[string]any
	for _, t := range touched {
		if t["primary"] == true {
			keep = t
			break
		}
	}
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok || m["primary"] != true {
			continue
		}
		if keep == nil {
			keep = m
			continue
		}
		if !sameMap(m, keep) {
			delete(m, "primary")
		}
	}
}

func sameMap(a, b map[string]any) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

func jsonEqual(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}
