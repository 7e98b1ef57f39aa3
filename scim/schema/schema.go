// Package schema holds the attribute definitions of the SCIM resources scimd
// serves (RFC 7643 User, Enterprise User extension, Group), and the generic
// engine driven by them: decoding and coercion of client input, attribute
// paths, and projection of stored resources back to clients.
//
// Everything the server enforces is derived from these definitions, and so is
// what /Schemas and /ResourceTypes advertise, so the two cannot disagree.
package schema

import (
	"strings"
)

// Type is an attribute's data type (RFC 7643 §2.3).
type Type string

// The attribute data types.
const (
	String    Type = "string"
	Boolean   Type = "boolean"
	Decimal   Type = "decimal"
	Integer   Type = "integer"
	DateTime  Type = "dateTime"
	Binary    Type = "binary"
	Reference Type = "reference"
	Complex   Type = "complex"
)

// Mutability is RFC 7643 §7 "mutability".
type Mutability string

// The mutability values.
const (
	ReadOnly  Mutability = "readOnly"
	ReadWrite Mutability = "readWrite"
	Immutable Mutability = "immutable"
	WriteOnly Mutability = "writeOnly"
)

// Returned is RFC 7643 §7 "returned".
type Returned string

// The returned values.
const (
	Always  Returned = "always"
	Never   Returned = "never"
	Default Returned = "default"
	Request Returned = "request"
)

// Uniqueness is RFC 7643 §7 "uniqueness".
type Uniqueness string

// The uniqueness values.
const (
	None   Uniqueness = "none"
	Server Uniqueness = "server"
	Global Uniqueness = "global"
)

// Attribute defines one attribute or sub-attribute.
type Attribute struct {
	Name            string
	Type            Type
	MultiValued     bool
	Description     string
	Required        bool
	CaseExact       bool
	Mutability      Mutability
	Returned        Returned
	Uniqueness      Uniqueness
	CanonicalValues []string
	ReferenceTypes  []string
	SubAttributes   []*Attribute
}

// Sub returns the sub-attribute with the given name (case-insensitive), or nil.
func (a *Attribute) Sub(name string) *Attribute {
	return find(a.SubAttributes, name)
}

func find(attrs []*Attribute, name string) *Attribute {
	for _, a := range attrs {
		if strings.EqualFold(a.Name, name) {
			return a
		}
	}
	return nil
}

// Schema is one schema (RFC 7643 §7): the core schema of a resource type or
// an extension.
type Schema struct {
	ID          string
	Name        string
	Description string
	Attributes  []*Attribute
}

// Attr returns the top-level attribute with the given name (case-insensitive), or nil.
func (s *Schema) Attr(name string) *Attribute {
	return find(s.Attributes, name)
}

// Extension is a schema extension of a resource type.
type Extension struct {
	Schema   *Schema
	Required bool
}

// ResourceType is RFC 7643 §6: a resource type, its core schema and extensions.
type ResourceType struct {
	ID          string // also its name: "User", "Group"
	Endpoint    string // "/Users"
	Description string
	Schema      *Schema
	Extensions  []Extension
}

// Extension returns the extension schema with the given URN (case-insensitive), or nil.
func (rt *ResourceType) Extension(urn string) *Schema {
	for _, e := range rt.Extensions {
		if strings.EqualFold(e.Schema.ID, urn) {
			return e.Schema
		}
	}
	return nil
}

// SchemaByID returns the core schema or an extension by URN (case-insensitive), or nil.
func (rt *ResourceType) SchemaByID(urn string) *Schema {
	if strings.EqualFold(rt.Schema.ID, urn) {
		return rt.Schema
	}
	return rt.Extension(urn)
}

// Common attributes shared by every resource (RFC 7643 §3.1). They are part
// of every resource type but, as in RFC 7643 §8.7, are not listed in the
// schemas themselves.
var (
	IDAttr = &Attribute{Name: "id", Type: String, CaseExact: true, Mutability: ReadOnly,
		Returned: Always, Uniqueness: Server, Description: "Unique identifier for the resource, assigned by the service provider."}
	ExternalIDAttr = &Attribute{Name: "externalId", Type: String, CaseExact: true, Mutability: ReadWrite,
		Returned: Default, Uniqueness: None, Description: "Identifier of the resource as defined by the provisioning client."}
	MetaAttr = &Attribute{Name: "meta", Type: Complex, Mutability: ReadOnly, Returned: Default, Uniqueness: None,
		Description: "Resource metadata.",
		SubAttributes: []*Attribute{
			{Name: "resourceType", Type: String, CaseExact: true, Mutability: ReadOnly, Returned: Always, Uniqueness: None},
			{Name: "created", Type: DateTime, Mutability: ReadOnly, Returned: Default, Uniqueness: None},
			{Name: "lastModified", Type: DateTime, Mutability: ReadOnly, Returned: Default, Uniqueness: None},
			{Name: "location", Type: Reference, ReferenceTypes: []string{"uri"}, CaseExact: true, Mutability: ReadOnly, Returned: Default, Uniqueness: None},
			{Name: "version", Type: String, CaseExact: true, Mutability: ReadOnly, Returned: Default, Uniqueness: None},
		}}
	// SchemasAttr is the "schemas" attribute every resource carries.
	SchemasAttr = &Attribute{Name: "schemas", Type: Reference, MultiValued: true, CaseExact: true,
		Mutability: ReadOnly, Returned: Always, Uniqueness: None, ReferenceTypes: []string{"uri"}}
)

// Common returns the common attribute with the given name, or nil.
func Common(name string) *Attribute {
	return find([]*Attribute{IDAttr, ExternalIDAttr, MetaAttr, SchemasAttr}, name)
}
