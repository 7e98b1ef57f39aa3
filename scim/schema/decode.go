package schema

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Decode checks a client-sent resource body against the resource type and
// returns its canonical attribute tree: attribute names in their schema
// spelling, extension attributes under their schema URN, values coerced to
// their schema type (bool, string, json.Number), nulls and empty values
// dropped.
//
// It is liberal in what it accepts: names are case-insensitive; "schemas",
// "id", "meta", unknown attributes, unknown extension URNs and read-only
// attributes are ignored; "True"/"False" strings become booleans; a single
// value where an array is expected is wrapped; a bare string or one-element
// array where a single complex value with a "value" sub-attribute is
// expected (Entra's manager) is accepted. Write-only attributes (password)
// are checked, then dropped: scimd never stores them.
//
// Required attributes are not checked here (a PATCH may build the resource
// step by step); see CheckRequired. Errors are *Error with scimType
// invalidValue.
func (rt *ResourceType) Decode(in map[string]any) (map[string]any, error) {
	out := map[string]any{}
	for k, v := range in {
		if len(k) > 4 && strings.EqualFold(k[:4], "urn:") {
			ext := rt.Extension(k)
			if ext == nil {
				// A URN-qualified core attribute ("urn:…:User:userName") or an
				// unknown extension: resolve the former, ignore the latter.
				if p, err := rt.ParsePath(k); err == nil && p.Attr != nil && p.Sub == nil && !p.IsExtension(rt) {
					if err := decodeInto(out, p.Attr, v); err != nil {
						return nil, err
					}
				}
				continue
			}
			m, ok := v.(map[string]any)
			if v == nil {
				continue
			}
			if !ok {
				return nil, Errorf("invalidValue", "%s must be a JSON object", ext.ID)
			}
			em := map[string]any{}
			for ek, ev := range m {
				if a := ext.Attr(ek); a != nil {
					if err := decodeInto(em, a, ev); err != nil {
						return nil, err
					}
				}
			}
			if len(em) > 0 {
				out[ext.ID] = em
			}
			continue
		}
		a := rt.Schema.Attr(k)
		if a == nil {
			if strings.EqualFold(k, "externalId") {
				a = ExternalIDAttr
			} else {
				continue // id, meta, schemas, unknown
			}
		}
		if err := decodeInto(out, a, v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// decodeInto decodes v for attribute a and stores it in m under a's
// canonical name, unless it is empty, read-only or write-only.
func decodeInto(m map[string]any, a *Attribute, v any) error {
	if a.Mutability == ReadOnly {
		return nil
	}
	dv, err := DecodeValue(a, v)
	if err != nil {
		return err
	}
	if dv == nil || a.Returned == Never {
		return nil
	}
	m[a.Name] = dv
	return nil
}

// DecodeValue decodes one client value for attribute a (the whole value: an
// array for a multi-valued attribute). It returns nil for an absent value
// (null, "", empty array or object).
func DecodeValue(a *Attribute, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if !a.MultiValued {
		if arr, ok := v.([]any); ok {
			// Entra sends manager as a one-element array at times.
			if len(arr) == 1 && a.Type == Complex {
				v = arr[0]
			} else if len(arr) == 0 {
				return nil, nil
			} else {
				return nil, Errorf("invalidValue", "attribute %q is single-valued but got an array", a.Name)
			}
		}
		return decodeSingle(a, v)
	}
	arr, ok := v.([]any)
	if !ok {
		arr = []any{v}
	}
	out := make([]any, 0, len(arr))
	seenPrimary := false
	for _, e := range arr {
		dv, err := decodeSingle(a, e)
		if err != nil {
			return nil, err
		}
		if dv == nil {
			continue
		}
		// RFC 7643 §2.4: at most one element has primary true; keep the first.
		if m, ok := dv.(map[string]any); ok && m["primary"] == true {
			if seenPrimary {
				delete(m, "primary")
			}
			seenPrimary = true
		}
		out = append(out, dv)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func decodeSingle(a *Attribute, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch a.Type {
	case Complex:
		m, ok := v.(map[string]any)
		if !ok {
			// A bare value for a complex attribute with a "value"
			// sub-attribute: Entra's manager "id", or a member given as a string.
			if s, isStr := v.(string); isStr && a.Sub("value") != nil {
				m = map[string]any{"value": s}
			} else {
				return nil, Errorf("invalidValue", "attribute %q must be a JSON object", a.Name)
			}
		}
		out := map[string]any{}
		for k, sv := range m {
			sa := a.Sub(k)
			if sa == nil {
				continue
			}
			if err := decodeInto(out, sa, sv); err != nil {
				return nil, err
			}
		}
		if len(out) == 0 {
			return nil, nil
		}
		return out, nil
	case Boolean:
		switch b := v.(type) {
		case bool:
			return b, nil
		case string:
			switch strings.ToLower(strings.TrimSpace(b)) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
		}
		return nil, Errorf("invalidValue", "attribute %q must be a boolean, got %s", a.Name, describe(v))
	case Integer:
		n, ok := v.(json.Number)
		if !ok {
			if f, isF := v.(float64); isF && f == float64(int64(f)) {
				return json.Number(strconv.FormatInt(int64(f), 10)), nil
			}
			return nil, Errorf("invalidValue", "attribute %q must be an integer, got %s", a.Name, describe(v))
		}
		if _, err := n.Int64(); err != nil {
			return nil, Errorf("invalidValue", "attribute %q must be an integer, got %s", a.Name, n)
		}
		return n, nil
	case Decimal:
		switch n := v.(type) {
		case json.Number:
			if _, err := n.Float64(); err != nil {
				return nil, Errorf("invalidValue", "attribute %q must be a number, got %s", a.Name, n)
			}
			return n, nil
		case float64:
			return json.Number(strconv.FormatFloat(n, 'g', -1, 64)), nil
		}
		return nil, Errorf("invalidValue", "attribute %q must be a number, got %s", a.Name, describe(v))
	case DateTime:
		s, ok := v.(string)
		if !ok {
			return nil, Errorf("invalidValue", "attribute %q must be a dateTime string, got %s", a.Name, describe(v))
		}
		if s == "" {
			return nil, nil
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return nil, Errorf("invalidValue", "attribute %q must be an xsd:dateTime such as 2026-01-02T15:04:05Z, got %q", a.Name, s)
		}
		return s, nil
	default: // string, reference, binary
		switch s := v.(type) {
		case string:
			if s == "" {
				return nil, nil
			}
			return s, nil
		case json.Number:
			return string(s), nil
		case float64:
			return strconv.FormatFloat(s, 'g', -1, 64), nil
		}
		return nil, Errorf("invalidValue", "attribute %q must be a string, got %s", a.Name, describe(v))
	}
}

func describe(v any) string {
	switch v.(type) {
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "null"
}

// CheckRequired returns an *Error (invalidValue) naming the first required
// attribute of the core schema or a required extension that attrs lacks.
func (rt *ResourceType) CheckRequired(attrs map[string]any) error {
	for _, a := range rt.Schema.Attributes {
		if a.Required && attrs[a.Name] == nil {
			return Errorf("invalidValue", "required attribute %q is missing", a.Name)
		}
	}
	return nil
}
