package schema

import (
	"fmt"
	"strings"
)

// Error is a client error found in input: a bad value, path, filter or
// projection. ScimType is one of RFC 7644 Table 9's keywords; every Error is
// answered with status 400.
type Error struct {
	ScimType string
	Detail   string
}

func (e *Error) Error() string { return e.ScimType + ": " + e.Detail }

// Errorf returns an *Error with the given scimType and formatted detail.
func Errorf(scimType, format string, args ...any) *Error {
	return &Error{ScimType: scimType, Detail: fmt.Sprintf(format, args...)}
}

// Path is a resolved attribute path, "[URN:]attr[.sub]" (RFC 7644 §3.10),
// without value filters. A path naming a whole extension has Schema set and
// Attr nil.
type Path struct {
	// Schema is the schema the attribute belongs to; nil for the common
	// attributes id, externalId, meta and schemas.
	Schema *Schema
	Attr   *Attribute
	Sub    *Attribute
}

// IsExtension reports whether the path lies in an extension schema.
func (p Path) IsExtension(rt *ResourceType) bool {
	return p.Schema != nil && p.Schema != rt.Schema
}

// String returns the canonical spelling of the path, URN-qualified for
// extension attributes.
func (p Path) String() string {
	var b strings.Builder
	if p.Schema != nil && p.Schema.ID != UserURN && p.Schema.ID != GroupURN {
		b.WriteString(p.Schema.ID)
		if p.Attr != nil {
			b.WriteByte(':')
		}
	}
	if p.Attr != nil {
		b.WriteString(p.Attr.Name)
	}
	if p.Sub != nil {
		b.WriteByte('.')
		b.WriteString(p.Sub.Name)
	}
	return b.String()
}

// Leaf returns the attribute the path ends at (Sub if set, else Attr).
func (p Path) Leaf() *Attribute {
	if p.Sub != nil {
		return p.Sub
	}
	return p.Attr
}

// Key returns the key of the path's schema in a resource document: "" for the
// core schema and common attributes, the URN for an extension.
func (p Path) Key(rt *ResourceType) string {
	if p.IsExtension(rt) {
		return p.Schema.ID
	}
	return ""
}

// ParsePath resolves "[URN:]attr[.sub]" against the resource type. Names are
// case-insensitive. The URN alone names the whole extension. An unknown
// attribute is an *Error with scimType invalidPath.
func (rt *ResourceType) ParsePath(s string) (Path, error) {
	var p Path
	rest := s
	if len(s) > 4 && strings.EqualFold(s[:4], "urn:") {
		sch, r, ok := rt.splitURN(s)
		if !ok {
			return p, Errorf("invalidPath", "unknown schema in attribute path %q", s)
		}
		p.Schema, rest = sch, r
		if rest == "" {
			if sch == rt.Schema {
				return p, Errorf("invalidPath", "attribute path %q names no attribute", s)
			}
			return p, nil
		}
	}
	name, sub, hasSub := strings.Cut(rest, ".")
	if p.Schema == nil {
		if a := Common(name); a != nil {
			p.Attr = a
		} else {
			p.Schema = rt.Schema
		}
	}
	if p.Attr == nil {
		p.Attr = p.Schema.Attr(name)
		if p.Attr == nil && p.Schema == rt.Schema && !strings.HasPrefix(strings.ToLower(s), "urn:") {
			// An unqualified extension attribute ("manager", "department"):
			// no extension attribute shares a name with a core one.
			for _, e := range rt.Extensions {
				if a := e.Schema.Attr(name); a != nil {
					p.Schema, p.Attr = e.Schema, a
					break
				}
			}
		}
	}
	if p.Attr == nil {
		return p, Errorf("invalidPath", "no attribute %q in %s", rest, rt.ID)
	}
	if hasSub {
		if p.Attr.Type != Complex {
			return p, Errorf("invalidPath", "attribute %q has no sub-attributes (in %q)", p.Attr.Name, s)
		}
		if p.Sub = p.Attr.Sub(sub); p.Sub == nil {
			return p, Errorf("invalidPath", "no sub-attribute %q of %q", sub, p.Attr.Name)
		}
	}
	return p, nil
}

// splitURN splits "urn:…:Schema:attr" into the longest schema ID of rt that
// prefixes s and the rest.
func (rt *ResourceType) splitURN(s string) (*Schema, string, bool) {
	var best *Schema
	for _, sch := range append([]*Schema{rt.Schema}, extSchemas(rt)...) {
		id := sch.ID
		if len(s) >= len(id) && strings.EqualFold(s[:len(id)], id) && (len(s) == len(id) || s[len(id)] == ':') {
			if best == nil || len(id) > len(best.ID) {
				best = sch
			}
		}
	}
	if best == nil {
		return nil, "", false
	}
	rest := s[len(best.ID):]
	return best, strings.TrimPrefix(rest, ":"), true
}

func extSchemas(rt *ResourceType) []*Schema {
	out := make([]*Schema, len(rt.Extensions))
	for i, e := range rt.Extensions {
		out[i] = e.Schema
	}
	return out
}

// Get returns the value at p in a resource document (a decoded JSON object
// with canonical keys, extensions under their URN), or nil. For a
// multi-valued attribute with a sub-attribute it returns the []any of the
// sub-attribute's values, skipping elements that lack it.
func (p Path) Get(rt *ResourceType, doc map[string]any) any {
	m := doc
	if key := p.Key(rt); key != "" {
		ext, _ := doc[key].(map[string]any)
		if ext == nil {
			return nil
		}
		if p.Attr == nil {
			return ext
		}
		m = ext
	}
	v := m[p.Attr.Name]
	if p.Sub == nil || v == nil {
		return v
	}
	switch v := v.(type) {
	case map[string]any:
		return v[p.Sub.Name]
	case []any:
		var out []any
		for _, e := range v {
			if em, ok := e.(map[string]any); ok {
				if sv, ok := em[p.Sub.Name]; ok && sv != nil {
					out = append(out, sv)
				}
			}
		}
		return out
	}
	return nil
}
