package api

import (
	"net/http"
	"strings"

	"github.com/scimd/scimd/scim"
	"github.com/scimd/scimd/scim/schema"
)

// Capabilities are what ServiceProviderConfig advertises beyond the
// constants: the features whose support depends on the build.
var Capabilities = struct {
	Patch, Sort bool
}{Patch: true, Sort: true}

func (s *Server) serviceProviderConfig(w http.ResponseWriter, r *http.Request) error {
	base := s.baseURL(r)
	supported := func(b bool) schema.Object { return schema.Object{{Key: "supported", Value: b}} }
	return writeJSON(w, http.StatusOK, schema.Object{
		{Key: "schemas", Value: []string{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"}},
		{Key: "documentationUri", Value: "https://github.com/scimd/scimd#readme"},
		{Key: "patch", Value: supported(Capabilities.Patch)},
		{Key: "bulk", Value: schema.Object{{Key: "supported", Value: false}, {Key: "maxOperations", Value: 0}, {Key: "maxPayloadSize", Value: 0}}},
		{Key: "filter", Value: schema.Object{{Key: "supported", Value: true}, {Key: "maxResults", Value: MaxCount}}},
		{Key: "changePassword", Value: supported(false)},
		{Key: "sort", Value: supported(Capabilities.Sort)},
		{Key: "etag", Value: supported(true)},
		{Key: "authenticationSchemes", Value: []any{schema.Object{
			{Key: "type", Value: "oauthbearertoken"},
			{Key: "name", Value: "OAuth Bearer Token"},
			{Key: "description", Value: "Authentication with a scimd SCIM bearer token (Authorization: Bearer scimd_…)."},
			{Key: "specUri", Value: "https://www.rfc-editor.org/info/rfc6750"},
			{Key: "primary", Value: true},
		}}},
		{Key: "meta", Value: schema.Object{
			{Key: "resourceType", Value: "ServiceProviderConfig"},
			{Key: "location", Value: base + "/ServiceProviderConfig"},
		}},
	})
}

func resourceTypeObject(base string, rt *schema.ResourceType) schema.Object {
	exts := []any{}
	for _, e := range rt.Extensions {
		exts = append(exts, schema.Object{{Key: "schema", Value: e.Schema.ID}, {Key: "required", Value: e.Required}})
	}
	return schema.Object{
		{Key: "schemas", Value: []string{"urn:ietf:params:scim:schemas:core:2.0:ResourceType"}},
		{Key: "id", Value: rt.ID},
		{Key: "name", Value: rt.ID},
		{Key: "endpoint", Value: rt.Endpoint},
		{Key: "description", Value: rt.Description},
		{Key: "schema", Value: rt.Schema.ID},
		{Key: "schemaExtensions", Value: exts},
		{Key: "meta", Value: schema.Object{{Key: "resourceType", Value: "ResourceType"}, {Key: "location", Value: base + "/ResourceTypes/" + rt.ID}}},
	}
}

func (s *Server) resourceTypes(w http.ResponseWriter, r *http.Request) error {
	base := s.baseURL(r)
	items := make([]any, len(schema.ResourceTypes))
	for i, rt := range schema.ResourceTypes {
		items[i] = resourceTypeObject(base, rt)
	}
	return writeJSON(w, http.StatusOK, listResponse(len(items), 1, items))
}

func (s *Server) resourceType(w http.ResponseWriter, r *http.Request) error {
	for _, rt := range schema.ResourceTypes {
		if strings.EqualFold(rt.ID, r.PathValue("id")) {
			return writeJSON(w, http.StatusOK, resourceTypeObject(s.baseURL(r), rt))
		}
	}
	return scim.Errorf(http.StatusNotFound, "", "no resource type %q", r.PathValue("id"))
}

func attributeObject(a *schema.Attribute) schema.Object {
	o := schema.Object{
		{Key: "name", Value: a.Name},
		{Key: "type", Value: a.Type},
		{Key: "multiValued", Value: a.MultiValued},
		{Key: "description", Value: a.Description},
		{Key: "required", Value: a.Required},
	}
	if a.Type != schema.Complex && a.Type != schema.Boolean {
		o = append(o, schema.Field{Key: "caseExact", Value: a.CaseExact})
	}
	if len(a.CanonicalValues) > 0 {
		o = append(o, schema.Field{Key: "canonicalValues", Value: a.CanonicalValues})
	}
	if len(a.ReferenceTypes) > 0 {
		o = append(o, schema.Field{Key: "referenceTypes", Value: a.ReferenceTypes})
	}
	o = append(o,
		schema.Field{Key: "mutability", Value: a.Mutability},
		schema.Field{Key: "returned", Value: a.Returned},
		schema.Field{Key: "uniqueness", Value: a.Uniqueness},
	)
	if len(a.SubAttributes) > 0 {
		subs := make([]any, len(a.SubAttributes))
		for i, sub := range a.SubAttributes {
			subs[i] = attributeObject(sub)
		}
		o = append(o, schema.Field{Key: "subAttributes", Value: subs})
	}
	return o
}

func schemaObject(base string, sch *schema.Schema) schema.Object {
	attrs := make([]any, len(sch.Attributes))
	for i, a := range sch.Attributes {
		attrs[i] = attributeObject(a)
	}
	return schema.Object{
		{Key: "schemas", Value: []string{"urn:ietf:params:scim:schemas:core:2.0:Schema"}},
		{Key: "id", Value: sch.ID},
		{Key: "name", Value: sch.Name},
		{Key: "description", Value: sch.Description},
		{Key: "attributes", Value: attrs},
		{Key: "meta", Value: schema.Object{{Key: "resourceType", Value: "Schema"}, {Key: "location", Value: base + "/Schemas/" + sch.ID}}},
	}
}

func (s *Server) schemas(w http.ResponseWriter, r *http.Request) error {
	base := s.baseURL(r)
	items := make([]any, len(schema.Schemas))
	for i, sch := range schema.Schemas {
		items[i] = schemaObject(base, sch)
	}
	return writeJSON(w, http.StatusOK, listResponse(len(items), 1, items))
}

func (s *Server) schema(w http.ResponseWriter, r *http.Request) error {
	for _, sch := range schema.Schemas {
		if strings.EqualFold(sch.ID, r.PathValue("id")) {
			return writeJSON(w, http.StatusOK, schemaObject(s.baseURL(r), sch))
		}
	}
	return scim.Errorf(http.StatusNotFound, "", "no schema %q", r.PathValue("id"))
}
