package filter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Rendering: every and/or group is parenthesised, so the text never relies
// on precedence; a chain of one operator is written flat, "(a and b and c)",
// which left-associativity makes unambiguous. Inside "not (…)" and "[…]"
// the group's own parentheses are left out. Attribute names are canonical,
// values JSON literals. Parse of the text yields an equal expression.

func (e *And) String() string       { return render(e) }
func (e *Or) String() string        { return render(e) }
func (e *Not) String() string       { return render(e) }
func (e *Compare) String() string   { return render(e) }
func (e *ValuePath) String() string { return render(e) }

func render(e Expr) string {
	var b strings.Builder
	write(&b, e, false)
	return b.String()
}

// String renders the path in PATCH path syntax with canonical names.
func (p Path) String() string {
	var b strings.Builder
	b.WriteString(p.Attr.String())
	if p.Filter != nil {
		b.WriteByte('[')
		writeGroup(&b, p.Filter, true)
		b.WriteByte(']')
	}
	if p.Sub != nil {
		b.WriteByte('.')
		b.WriteString(p.Sub.Name)
	}
	return b.String()
}

// binary returns the operator and operands of an *And or *Or.
func binary(e Expr) (op string, left, right Expr, ok bool) {
	switch e := e.(type) {
	case *And:
		if e != nil {
			return "and", e.Left, e.Right, true
		}
	case *Or:
		if e != nil {
			return "or", e.Left, e.Right, true
		}
	}
	return "", nil, nil, false
}

// write renders e. inner is true inside a value filter's brackets, where
// attributes are written as bare sub-attribute names.
func write(b *strings.Builder, e Expr, inner bool) {
	if _, _, _, ok := binary(e); ok {
		b.WriteByte('(')
		writeGroup(b, e, inner)
		b.WriteByte(')')
		return
	}
	switch e := e.(type) {
	case *Not:
		if e == nil {
			break
		}
		b.WriteString("not (")
		writeGroup(b, e.X, inner)
		b.WriteByte(')')
		return
	case *Compare:
		if e == nil {
			break
		}
		if inner && e.Path.Sub != nil {
			b.WriteString(e.Path.Sub.Name)
		} else {
			b.WriteString(e.Path.String())
		}
		b.WriteByte(' ')
		b.WriteString(string(e.Op))
		if e.Op != Pr {
			b.WriteByte(' ')
			b.WriteString(formatValue(e.Value))
		}
		return
	case *ValuePath:
		if e == nil {
			break
		}
		b.WriteString(e.Path.String())
		b.WriteByte('[')
		writeGroup(b, e.Filter, true)
		b.WriteByte(']')
		return
	}
	b.WriteString("<nil>")
}

// writeGroup renders e without the parentheses of its top-level and/or
// group, flattening a left-leaning chain of the same operator.
func writeGroup(b *strings.Builder, e Expr, inner bool) {
	op, left, right, ok := binary(e)
	if !ok {
		write(b, e, inner)
		return
	}
	if lop, _, _, ok := binary(left); ok && lop == op {
		writeGroup(b, left, inner)
	} else {
		write(b, left, inner)
	}
	b.WriteByte(' ')
	b.WriteString(op)
	b.WriteByte(' ')
	write(b, right, inner)
}

// formatValue renders a Compare value as a filter literal.
func formatValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		if v {
			return "true"
		}
		return "false"
	case json.Number:
		return string(v)
	case string:
		return quote(v)
	}
	return quote(fmt.Sprint(v))
}

// quote returns s as a JSON string, without HTML escaping.
func quote(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // encoding a string cannot fail
	return strings.TrimSuffix(buf.String(), "\n")
}
