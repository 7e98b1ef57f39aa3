package schema

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Field is one member of an Object.
type Field struct {
	Key   string
	Value any
}

// Object is a JSON object that keeps its members in order, so that resources
// are written in schema order (schemas, id, externalId, core attributes,
// extensions, meta) rather than alphabetically.
type Object []Field

// MarshalJSON writes the members in order.
func (o Object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.Key)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(f.Value)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Projection is a parsed "attributes" or "excludedAttributes" request
// (RFC 7644 §3.4.2.5) applied together with each attribute's "returned"
// characteristic (RFC 7643 §7). The zero of *Projection (nil) returns the
// default set.
type Projection struct {
	include []Path // non-nil when "attributes" was given
	exclude []Path
}

// ParseProjection parses comma-separated attribute paths (either list may
// be empty). RFC 7644 says the two are mutually exclusive; if both are
// given, "attributes" wins. Unknown attributes are an *Error (invalidPath):
// a typo silently returning nothing would be worse.
func (rt *ResourceType) ParseProjection(attributes, excluded string) (*Projection, error) {
	p := &Projection{}
	parse := func(list string) ([]Path, error) {
		var out []Path
		for _, s := range strings.Split(list, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			if strings.EqualFold(s, rt.Schema.ID) {
				// The core schema's URN alone: all of its attributes.
				for _, a := range rt.Schema.Attributes {
					out = append(out, Path{Schema: rt.Schema, Attr: a})
				}
				continue
			}
			path, err := rt.ParsePath(s)
			if err != nil {
				return nil, err
			}
			out = append(out, path)
		}
		return out, nil
	}
	var err error
	if strings.TrimSpace(attributes) != "" {
		p.include, err = parse(attributes)
		if p.include == nil && err == nil {
			p.include = []Path{}
		}
		return p, err
	}
	if p.exclude, err = parse(excluded); err != nil {
		return nil, err
	}
	if p.exclude == nil {
		return nil, nil
	}
	return p, nil
}

// returns reports whether attribute a (of schema s; sub set for a
// sub-attribute of a) is returned under the projection.
func (p *Projection) returns(s *Schema, a, sub *Attribute) bool {
	if a.Returned == Never || (sub != nil && sub.Returned == Never) {
		return false
	}
	if a.Returned == Always || (sub != nil && sub.Returned == Always) {
		return true
	}
	if p != nil && p.include != nil {
		for _, q := range p.include {
			if q.Schema != s && !(q.Schema == nil && s == nil) {
				continue
			}
			if q.Attr == nil { // whole extension
				return true
			}
			if q.Attr == a && (q.Sub == nil || sub == nil || q.Sub == sub) {
				return true
			}
		}
		return false
	}
	leaf := a
	if sub != nil {
		leaf = sub
	}
	if leaf.Returned == Request {
		return false
	}
	if p != nil {
		for _, q := range p.exclude {
			if q.Schema != s && !(q.Schema == nil && s == nil) {
				continue
			}
			if q.Attr == nil || (q.Attr == a && (q.Sub == nil || q.Sub == sub)) {
				return false
			}
		}
	}
	return true
}

// Wants reports whether the top-level attribute name of the core schema
// is returned at all, so that a store can skip loading derived attributes
// (a group's members, a user's groups) that the response won't carry.
func (p *Projection) Wants(rt *ResourceType, name string) bool {
	a := rt.Schema.Attr(name)
	if a == nil {
		return false
	}
	if p.returns(rt.Schema, a, nil) {
		return true
	}
	for _, sub := range a.SubAttributes {
		if p.returns(rt.Schema, a, sub) {
			return true
		}
	}
	return false
}

// Render projects a full resource document (as built by the store: common
// attributes, core attributes, extensions under their URN) into the
// ordered representation sent to clients.
func (p *Projection) Render(rt *ResourceType, doc map[string]any) Object {
	// RFC 7643 §3: "schemas" names the schemas of the attributes present
	// in this representation, so an extension counts only if it is shown.
	schemas := []string{rt.Schema.ID}
	var exts Object
	for _, e := range rt.Extensions {
		m, _ := doc[e.Schema.ID].(map[string]any)
		if m == nil {
			continue
		}
		if ext := p.renderAttrs(nil, e.Schema, m); len(ext) > 0 {
			schemas = append(schemas, e.Schema.ID)
			exts = append(exts, Field{e.Schema.ID, ext})
		}
	}
	out := Object{{"schemas", schemas}}
	if v := doc["id"]; v != nil {
		out = append(out, Field{"id", v})
	}
	if v := doc["externalId"]; v != nil && p.returns(nil, ExternalIDAttr, nil) {
		out = append(out, Field{"externalId", v})
	}
	out = p.renderAttrs(out, rt.Schema, doc)
	out = append(out, exts...)
	if m, ok := doc["meta"].(map[string]any); ok {
		if meta := p.renderComplex(nil, MetaAttr, m); len(meta) > 0 {
			out = append(out, Field{"meta", meta})
		}
	}
	return out
}

func (p *Projection) renderAttrs(out Object, s *Schema, m map[string]any) Object {
	for _, a := range s.Attributes {
		v, ok := m[a.Name]
		if !ok || v == nil {
			continue
		}
		if a.Type != Complex {
			if p.returns(s, a, nil) {
				out = append(out, Field{a.Name, v})
			}
			continue
		}
		switch v := v.(type) {
		case map[string]any:
			if o := p.renderComplex(s, a, v); len(o) > 0 {
				out = append(out, Field{a.Name, o})
			}
		case []any:
			var arr []any
			for _, e := range v {
				if em, ok := e.(map[string]any); ok {
					if o := p.renderComplex(s, a, em); len(o) > 0 {
						arr = append(arr, o)
					}
				}
			}
			if len(arr) > 0 {
				out = append(out, Field{a.Name, arr})
			}
		}
	}
	return out
}

func (p *Projection) renderComplex(s *Schema, a *Attribute, m map[string]any) Object {
	var o Object
	for _, sub := range a.SubAttributes {
		if v, ok := m[sub.Name]; ok && v != nil && p.returns(s, a, sub) {
			o = append(o, Field{sub.Name, v})
		}
	}
	return o
}
