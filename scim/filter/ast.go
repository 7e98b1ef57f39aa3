package filter

import (
	"github.com/scimd/scimd/scim/schema"
)

// Op is a comparison operator.
type Op string

// The comparison operators of RFC 7644 §3.4.2.2.
const (
	Eq Op = "eq"
	Ne Op = "ne"
	Co Op = "co"
	Sw Op = "sw"
	Ew Op = "ew"
	Pr Op = "pr"
	Gt Op = "gt"
	Ge Op = "ge"
	Lt Op = "lt"
	Le Op = "le"
)

// Expr is a filter expression: *And, *Or, *Not, *Compare or *ValuePath.
type Expr interface {
	// String renders the expression back in filter syntax, fully
	// parenthesised and with canonical attribute names.
	String() string
}

// And is "Left and Right".
type And struct{ Left, Right Expr }

// Or is "Left or Right".
type Or struct{ Left, Right Expr }

// Not is "not (X)".
type Not struct{ X Expr }

// Compare is "Path Op Value", or "Path pr" (Value nil).
//
// Value is a string, bool, json.Number, or nil for the literal null. Inside
// a ValuePath's filter, Path.Attr is the outer multi-valued attribute and
// Path.Sub the compared sub-attribute.
type Compare struct {
	Path  schema.Path
	Op    Op
	Value any
}

// ValuePath is "Path[Filter]": true when at least one element of the
// multi-valued complex attribute Path.Attr matches Filter. The form with a
// trailing sub-attribute, `emails[type eq "work"].value eq "x"`, is parsed
// into the same node with the trailing comparison and-ed into Filter.
type ValuePath struct {
	Path   schema.Path
	Filter Expr
}

// Path is a PATCH operation path (RFC 7644 §3.5.2): an attribute path,
// optionally with a value filter on a multi-valued attribute and a
// sub-attribute after it: `members[value eq "x"]`,
// `emails[type eq "work"].value`, `name.familyName`,
// `urn:…:enterprise:2.0:User:manager`.
type Path struct {
	// Attr is the attribute (and, without a Filter, possibly its
	// sub-attribute).
	Attr schema.Path
	// Filter selects elements of a multi-valued Attr; nil if none.
	Filter Expr
	// Sub is the sub-attribute after a filter ("value" in
	// `emails[type eq "work"].value`); nil if none.
	Sub *schema.Attribute
}
