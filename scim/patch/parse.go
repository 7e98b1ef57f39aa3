// Package patch implements SCIM PATCH (RFC 7644 §3.5.2): parsing a PatchOp
// request body into operations, and applying them to a resource inside a
// Store.Update function, in order and all or nothing.
//
// It speaks every dialect Okta and Microsoft Entra ID send: op names in any
// case ("Add", "Replace"), operations without a path whose value object
// holds attribute names, dotted sub-attribute paths ("name.givenName") and
// URN-qualified paths, "True"/"False" strings for booleans, the enterprise
// manager as a bare string, a {"value"} object or a one-element array, an
// unqualified "manager" path, add or replace on a filtered path with no
// match (emails[type eq "work"].value) creating the element, and both ways
// of removing group members: Entra's {"op":"Remove","path":"members",
// "value":[{"value":"id"}]} (exactly the listed members) and
// members[value eq "id"]. Only a remove of "members" without any value
// removes every member.
//
// Group membership is edited through scim.MemberChanges, so that adding or
// removing members never loads the member list; see NeedsMembers for the
// rare operations that do need it.
package patch

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/scimd/scimd/scim"
	"github.com/scimd/scimd/scim/filter"
	"github.com/scimd/scimd/scim/schema"
)

// URN is the PatchOp message schema.
const URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

// MaxOperations bounds the operations one request may carry (after
// path-less value objects are split into one operation per attribute).
const MaxOperations = 10000

// Op is one PATCH operation.
type Op struct {
	// Op is "add", "replace" or "remove".
	Op string
	// Path is the target; nil for an add or replace without a path, which
	// Parse has already split into one operation per attribute of its value
	// object, so nil is left only where the resource itself is meant.
	Path *filter.Path
	// Value is the operation's value as decoded JSON (numbers as
	// json.Number); nil for JSON null or when absent.
	Value any
	// HasValue reports whether the operation carried a "value" member at
	// all, even null. A remove of "members" with a value removes the listed
	// members only; without one it removes them all.
	HasValue bool

	// Index is the position of the operation in the request, for errors.
	Index int
	// implicit marks an operation split out of a path-less value object:
	// there, read-only attributes echoed back by the client (Okta sends
	// the resource's own id) are ignored rather than refused.
	implicit bool
}

// String renders the operation for error details.
func (o Op) String() string {
	if o.Path == nil {
		return o.Op
	}
	return o.Op + " " + o.Path.String()
}

func errorf(scimType, format string, args ...any) error {
	return scim.Errorf(http.StatusBadRequest, scimType, format, args...)
}

// Parse reads a PatchOp request body (a JSON object decoded with
// UseNumber) for resource type rt. Member names are matched
// case-insensitively, and so are op names; "schemas", if present, must name
// the PatchOp URN; "Operations" is required but may be empty (a request
// that changes nothing). Paths are parsed here, so that a malformed request
// fails before any store work.
//
// Errors are *scim.Error with status 400 and scimType invalidSyntax (body
// structure, unknown op), invalidPath (malformed or unknown path),
// invalidFilter (a malformed filter in a path), invalidValue (a missing
// value, or a path-less add or replace whose value is no object) or
// noTarget (a remove without a path).
func Parse(rt *schema.ResourceType, body map[string]any) ([]Op, error) {
	var rawOps any
	hasOps := false
	for k, v := range body {
		switch {
		case strings.EqualFold(k, "schemas"):
			if err := checkSchemas(v); err != nil {
				return nil, err
			}
		case strings.EqualFold(k, "Operations"):
			rawOps, hasOps = v, true
		}
	}
	if !hasOps || rawOps == nil {
		return nil, errorf("invalidSyntax", `a PatchOp request needs "Operations", an array of operations`)
	}
	list, ok := rawOps.([]any)
	if !ok {
		if m, isObj := rawOps.(map[string]any); isObj {
			list = []any{m} // one operation not wrapped in an array
		} else {
			return nil, errorf("invalidSyntax", `"Operations" must be an array of operations`)
		}
	}
	var out []Op
	for i, raw := range list {
		ops, err := parseOp(rt, i, raw)
		if err != nil {
			return nil, err
		}
		out = append(out, ops...)
		if len(out) > MaxOperations {
			return nil, errorf("invalidSyntax", "a PatchOp request may carry at most %d operations", MaxOperations)
		}
	}
	return out, nil
}

func checkSchemas(v any) error {
	var list []any
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		list = []any{v}
	case []any:
		list = v
	default:
		return errorf("invalidSyntax", `"schemas" must be an array holding %q`, URN)
	}
	if len(list) == 0 {
		return nil
	}
	for _, s := range list {
		if s, ok := s.(string); ok && strings.EqualFold(strings.TrimSpace(s), URN) {
			return nil
		}
	}
	return errorf("invalidSyntax", `"schemas" must hold %q: this is not a PatchOp request`, URN)
}

func parseOp(rt *schema.ResourceType, i int, raw any) ([]Op, error) {
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, errorf("invalidSyntax", "Operations[%d] must be a JSON object", i)
	}
	op := Op{Index: i}
	var name, path any
	hasName := false
	for k, v := range m {
		switch {
		case strings.EqualFold(k, "op"):
			name, hasName = v, true
		case strings.EqualFold(k, "path"):
			path = v
		case strings.EqualFold(k, "value"):
			op.Value, op.HasValue = v, true
		}
	}
	s, _ := name.(string)
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "add":
		op.Op = "add"
	case "replace":
		op.Op = "replace"
	case "remove":
		op.Op = "remove"
	default:
		if !hasName {
			return nil, errorf("invalidSyntax", `Operations[%d] has no "op"; it must be "add", "replace" or "remove"`, i)
		}
		return nil, errorf("invalidSyntax", `Operations[%d]: op must be "add", "replace" or "remove", got %s`, i, jsonText(name))
	}
	var pathText string
	switch p := path.(type) {
	case nil:
	case string:
		pathText = strings.TrimSpace(p)
	default:
		return nil, errorf("invalidPath", "Operations[%d]: path must be a string, got %s", i, jsonText(path))
	}
	if pathText == "" {
		if op.Op == "remove" {
			return nil, errorf("noTarget", "Operations[%d]: remove needs a path", i)
		}
		obj, ok := op.Value.(map[string]any)
		if !ok {
			return nil, errorf("invalidValue", "Operations[%d]: %s without a path needs a value object of attributes", i, op.Op)
		}
		return expand(rt, op, "", obj)
	}
	fp, err := ResolvePath(rt, pathText)
	if err != nil {
		return nil, pathError(i, pathText, err)
	}
	op.Path = &fp
	if op.Op != "remove" && !op.HasValue {
		return nil, errorf("invalidValue", "Operations[%d] (%s %s) needs a value", i, op.Op, pathText)
	}
	// A path naming a whole extension with an object value: one operation
	// per attribute of the extension.
	if fp.Attr.Attr == nil && op.Op != "remove" {
		if obj, ok := op.Value.(map[string]any); ok {
			return expand(rt, op, fp.Attr.Schema.ID+":", obj)
		}
		if op.Value != nil {
			return nil, errorf("invalidValue", "Operations[%d]: the value for %s must be a JSON object", i, fp.Attr.Schema.ID)
		}
	}
	return []Op{op}, nil
}

func pathError(i int, path string, err error) error {
	var se *schema.Error
	if errors.As(err, &se) {
		return errorf(se.ScimType, "Operations[%d]: path %q: %s", i, path, se.Detail)
	}
	return errorf("invalidPath", "Operations[%d]: path %q: %s", i, path, err.Error())
}

// expand splits a value object (of a path-less operation, or of one naming
// a whole schema; prefix is "" or the schema URN and a colon) into one
// operation per key. Keys may be attribute names, dotted sub-attribute
// paths or URN-qualified paths; an extension URN key holds an object of
// that extension's attributes. Keys that name no attribute are ignored, as
// they are in POST and PUT bodies. Keys are applied in sorted order, so
// that "name" comes before "name.givenName".
func expand(rt *schema.ResourceType, op Op, prefix string, obj map[string]any) ([]Op, error) {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []Op
	for _, k := range keys {
		v := obj[k]
		key := strings.TrimSpace(k)
		if prefix == "" && (strings.EqualFold(key, "schemas") || strings.EqualFold(key, rt.Schema.ID)) {
			if strings.EqualFold(key, rt.Schema.ID) {
				if inner, ok := v.(map[string]any); ok {
					more, err := expand(rt, op, "", inner)
					if err != nil {
						return nil, err
					}
					out = append(out, more...)
				}
			}
			continue
		}
		if prefix == "" && rt.Extension(key) != nil {
			ext := rt.Extension(key)
			if inner, ok := v.(map[string]any); ok {
				more, err := expand(rt, op, ext.ID+":", inner)
				if err != nil {
					return nil, err
				}
				out = append(out, more...)
				continue
			}
			if v != nil {
				return nil, errorf("invalidValue", "Operations[%d]: the value of %s must be a JSON object", op.Index, ext.ID)
			}
		}
		fp, err := ResolvePath(rt, prefix+key)
		if err != nil {
			var se *schema.Error
			if errors.As(err, &se) && se.ScimType == "invalidFilter" {
				return nil, pathError(op.Index, key, err)
			}
			continue // not an attribute of this resource type
		}
		out = append(out, Op{Op: op.Op, Path: &fp, Value: v, HasValue: true, Index: op.Index, implicit: true})
	}
	return out, nil
}

// ResolvePath parses a PATCH path with filter.ParsePath, also accepting an
// extension attribute named without its schema URN ("manager",
// "employeeNumber", as Entra sends them) when the core schema has no
// attribute of that name. Errors are those of filter.ParsePath.
func ResolvePath(rt *schema.ResourceType, s string) (filter.Path, error) {
	fp, err := filter.ParsePath(rt, s)
	if err == nil {
		return fp, nil
	}
	t := strings.TrimSpace(s)
	var se *schema.Error
	if !errors.As(err, &se) || se.ScimType != "invalidPath" || (len(t) > 4 && strings.EqualFold(t[:4], "urn:")) {
		return fp, err
	}
	for _, e := range rt.Extensions {
		if p, err2 := filter.ParsePath(rt, e.Schema.ID+":"+t); err2 == nil {
			return p, nil
		}
	}
	return fp, err
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	if len(b) > 80 {
		return string(b[:77]) + "..."
	}
	return string(b)
}
