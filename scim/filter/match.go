package filter

import (
	"cmp"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/scimd/scimd/scim/schema"
)

// Match reports whether the resource document doc satisfies e, under the
// reference semantics described in the package documentation. doc is a
// whole resource with canonical keys (see the package doc); values are
// string, bool, json.Number, []any and map[string]any. Match never panics
// and does not modify doc; a value of an unexpected type simply does not
// match.
func Match(rt *schema.ResourceType, e Expr, doc map[string]any) bool {
	return eval(rt, e, doc, nil)
}

// eval evaluates e against doc, or, inside a value filter, against the
// element elem of the multi-valued attribute.
func eval(rt *schema.ResourceType, e Expr, doc, elem map[string]any) bool {
	switch e := e.(type) {
	case *And:
		return e != nil && eval(rt, e.Left, doc, elem) && eval(rt, e.Right, doc, elem)
	case *Or:
		return e != nil && (eval(rt, e.Left, doc, elem) || eval(rt, e.Right, doc, elem))
	case *Not:
		return e != nil && !eval(rt, e.X, doc, elem)
	case *Compare:
		if e == nil || e.Path.Attr == nil {
			return false
		}
		var v any
		if elem != nil {
			if e.Path.Sub == nil {
				v = elem
			} else {
				v = elem[e.Path.Sub.Name]
			}
		} else {
			v = e.Path.Get(rt, doc)
		}
		return compare(e.Path.Leaf(), e.Op, e.Value, values(v))
	case *ValuePath:
		if e == nil || e.Path.Attr == nil || elem != nil {
			return false // value filters do not nest
		}
		whole := schema.Path{Schema: e.Path.Schema, Attr: e.Path.Attr}
		for _, x := range values(whole.Get(rt, doc)) {
			if m, ok := x.(map[string]any); ok && eval(rt, e.Filter, doc, m) {
				return true
			}
		}
	}
	return false
}

// values flattens a stored value into the list of values compared: the
// present elements of an array, or the value itself if present.
func values(v any) []any {
	var out []any
	switch v := v.(type) {
	case []any:
		for _, x := range v {
			if Present(x) {
				out = append(out, x)
			}
		}
	default:
		if Present(v) {
			out = append(out, v)
		}
	}
	return out
}

// Present reports whether a value counts as present in a filter: not
// null, "", [] or {}.
func Present(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case string:
		return v != ""
	case []any:
		return len(v) > 0
	case map[string]any:
		return len(v) > 0
	}
	return true
}

// compare applies "op want" to the present stored values vals of
// attribute a: true when any value matches; ne is not eq.
func compare(a *schema.Attribute, op Op, want any, vals []any) bool {
	switch {
	case op == Pr, op == Ne && want == nil:
		return len(vals) > 0
	case op == Eq && want == nil:
		return len(vals) == 0
	case op == Ne:
		return !compare(a, Eq, want, vals)
	}
	for _, v := range vals {
		if compareOne(a, op, want, v) {
			return true
		}
	}
	return false
}

// compareOne applies "op want" to one stored value v of attribute a.
func compareOne(a *schema.Attribute, op Op, want, v any) bool {
	switch a.Type {
	case schema.Boolean:
		w, ok1 := want.(bool)
		got, ok2 := v.(bool)
		return ok1 && ok2 && op == Eq && w == got
	case schema.Integer, schema.Decimal:
		c, ok := compareNumbers(v, want)
		return ok && ordered(op, c)
	case schema.DateTime:
		w, ok1 := want.(string)
		got, ok2 := v.(string)
		if !ok1 || !ok2 {
			return false
		}
		wt, err1 := time.Parse(time.RFC3339Nano, w)
		gt, err2 := time.Parse(time.RFC3339Nano, got)
		if err1 != nil || err2 != nil {
			return false
		}
		return ordered(op, gt.Compare(wt))
	case schema.Complex:
		return false
	}
	w, ok1 := want.(string)
	got, ok2 := v.(string)
	if !ok1 || !ok2 {
		return false
	}
	if !a.CaseExact {
		w, got = schema.Fold(w), schema.Fold(got)
	}
	switch op {
	case Co:
		return strings.Contains(got, w)
	case Sw:
		return strings.HasPrefix(got, w)
	case Ew:
		return strings.HasSuffix(got, w)
	}
	return ordered(op, strings.Compare(got, w))
}

// ordered reports whether a comparison result c (stored value against the
// filter value) satisfies op.
func ordered(op Op, c int) bool {
	switch op {
	case Eq:
		return c == 0
	case Gt:
		return c > 0
	case Ge:
		return c >= 0
	case Lt:
		return c < 0
	case Le:
		return c <= 0
	}
	return false
}

// compareNumbers compares two numbers exactly when both are integers that
// fit int64, and as float64 otherwise.
func compareNumbers(a, b any) (int, bool) {
	as, ok1 := numberText(a)
	bs, ok2 := numberText(b)
	if !ok1 || !ok2 {
		return 0, false
	}
	ai, err1 := strconv.ParseInt(as, 10, 64)
	bi, err2 := strconv.ParseInt(bs, 10, 64)
	if err1 == nil && err2 == nil {
		return cmp.Compare(ai, bi), true
	}
	af, err1 := strconv.ParseFloat(as, 64)
	bf, err2 := strconv.ParseFloat(bs, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return cmp.Compare(af, bf), true
}

func numberText(v any) (string, bool) {
	switch v := v.(type) {
	case json.Number:
		return string(v), true
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64), true
	case int:
		return strconv.Itoa(v), true
	case int64:
		return strconv.FormatInt(v, 10), true
	}
	return "", false
}
