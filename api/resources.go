package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/scimd/scimd/scim"
	"github.com/scimd/scimd/scim/filter"
	"github.com/scimd/scimd/scim/schema"
)

// readObject reads a JSON object body, of at most MaxBody bytes.
func (s *Server) readObject(w http.ResponseWriter, r *http.Request) (map[string]any, error) {
	// Any Content-Type is accepted: IdPs send application/scim+json or
	// application/json, curl sends form-urlencoded by default, and the body
	// must parse as a JSON object whatever its label.
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, s.MaxBody))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, err
		}
		if errors.Is(err, io.EOF) {
			return nil, scim.BadRequest("invalidSyntax", "the request body is empty; a JSON object is required")
		}
		return nil, scim.BadRequest("invalidSyntax", "the request body is not valid JSON: %s", err.Error())
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, err
		}
		return nil, scim.BadRequest("invalidSyntax", "the request body has data after the JSON object")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, scim.BadRequest("invalidSyntax", "the request body must be a JSON object")
	}
	return m, nil
}

// params holds the query parameters, names matched case-insensitively.
type params map[string]string

func queryParams(r *http.Request) params {
	p := params{}
	for k, vs := range r.URL.Query() {
		if len(vs) > 0 {
			p[strings.ToLower(k)] = vs[0]
		}
	}
	return p
}

func (p params) get(name string) string { return p[strings.ToLower(name)] }

// projection parses attributes/excludedAttributes.
func projection(rt *schema.ResourceType, attributes, excluded string) (*schema.Projection, error) {
	p, err := rt.ParseProjection(attributes, excluded)
	if err != nil {
		var se *schema.Error
		if errors.As(err, &se) {
			return nil, scim.BadRequest("invalidValue", "attributes: %s", se.Detail)
		}
		return nil, err
	}
	return p, nil
}

func loadFor(rt *schema.ResourceType, p *schema.Projection) scim.Load {
	if rt == schema.GroupType {
		return scim.Load{Members: p.Wants(rt, "members")}
	}
	return scim.Load{Groups: p.Wants(rt, "groups")}
}

// writeResource writes one resource with its ETag (and Location on 201).
func (s *Server) writeResource(w http.ResponseWriter, r *http.Request, status int, res *scim.Resource, p *schema.Projection) error {
	base := s.baseURL(r)
	w.Header().Set("ETag", res.Meta.ETag())
	if status == http.StatusCreated {
		w.Header().Set("Location", res.Location(base))
	}
	return writeJSON(w, status, p.Render(res.Type, res.Doc(base)))
}

// ifMatch parses If-Match: a version from one of our ETags, 0 for "*" or
// absent. An ETag that is none of ours can match nothing: 412.
func ifMatch(r *http.Request) (int64, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return 0, nil
	}
	if v, ok := parseETag(h); ok {
		return v, nil
	}
	return 0, scim.Errorf(http.StatusPreconditionFailed, "", "If-Match %s matches no version of this resource", h)
}

// parseETag parses W/"n" or "n".
func parseETag(s string) (int64, bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "W/")
	if len(s) < 3 || s[0] != '"' || s[len(s)-1] != '"' {
		return 0, false
	}
	v, err := strconv.ParseInt(s[1:len(s)-1], 10, 64)
	return v, err == nil && v > 0
}

func (s *Server) get(rt *schema.ResourceType) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := queryParams(r)
		p, err := projection(rt, q.get("attributes"), q.get("excludedAttributes"))
		if err != nil {
			return err
		}
		res, err := s.Store.Get(r.Context(), rt, r.PathValue("id"), loadFor(rt, p))
		if err != nil {
			return err
		}
		if inm := r.Header.Get("If-None-Match"); inm != "" {
			for _, tag := range strings.Split(inm, ",") {
				if v, ok := parseETag(tag); (ok && v == res.Meta.Version) || strings.TrimSpace(tag) == "*" {
					w.Header().Set("ETag", res.Meta.ETag())
					w.WriteHeader(http.StatusNotModified)
					return nil
				}
			}
		}
		return s.writeResource(w, r, http.StatusOK, res, p)
	}
}

// decode turns a request body into a resource of type rt: attributes
// checked and coerced by the schema, members split out.
func decode(rt *schema.ResourceType, body map[string]any) (*scim.Resource, error) {
	attrs, err := rt.Decode(body)
	if err != nil {
		return nil, err
	}
	if err := rt.CheckRequired(attrs); err != nil {
		return nil, err
	}
	res := &scim.Resource{Type: rt, Attrs: attrs}
	if rt == schema.GroupType {
		res.Members = membersOf(attrs)
		res.MembersLoaded = true
	}
	return res, nil
}

// membersOf removes "members" from attrs and returns it as members.
func membersOf(attrs map[string]any) []scim.Member {
	raw, _ := attrs["members"].([]any)
	delete(attrs, "members")
	out := make([]scim.Member, 0, len(raw))
	for _, e := range raw {
		m, _ := e.(map[string]any)
		v, _ := m["value"].(string)
		if v == "" {
			continue
		}
		t, _ := m["type"].(string)
		out = append(out, scim.Member{Value: v, Type: t})
	}
	return out
}

func (s *Server) create(rt *schema.ResourceType) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := queryParams(r)
		p, err := projection(rt, q.get("attributes"), q.get("excludedAttributes"))
		if err != nil {
			return err
		}
		body, err := s.readObject(w, r)
		if err != nil {
			return err
		}
		res, err := decode(rt, body)
		if err != nil {
			return err
		}
		out, err := s.Store.Create(r.Context(), res)
		if err != nil {
			return err
		}
		return s.writeResource(w, r, http.StatusCreated, out, p)
	}
}

// readWrite reads what a PUT or PATCH starts with: the response's
// projection, the If-Match version (0 for none) and the JSON body.
func (s *Server) readWrite(w http.ResponseWriter, r *http.Request, rt *schema.ResourceType, q params) (*schema.Projection, int64, map[string]any, error) {
	p, err := projection(rt, q.get("attributes"), q.get("excludedAttributes"))
	if err != nil {
		return nil, 0, nil, err
	}
	version, err := ifMatch(r)
	if err != nil {
		return nil, 0, nil, err
	}
	body, err := s.readObject(w, r)
	if err != nil {
		return nil, 0, nil, err
	}
	return p, version, body, nil
}

func (s *Server) replace(rt *schema.ResourceType) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, version, body, err := s.readWrite(w, r, rt, queryParams(r))
		if err != nil {
			return err
		}
		next, err := decode(rt, body)
		if err != nil {
			return err
		}
		out, err := s.Store.Update(r.Context(), rt, r.PathValue("id"), scim.UpdateOptions{IfMatch: version, Load: loadFor(rt, p)},
			func(res *scim.Resource) error {
				// PUT replaces every writable attribute: absent ones are
				// cleared. Read-only ones (id, meta, groups) are not in
				// Attrs, so they survive.
				res.Attrs = next.Attrs
				if rt == schema.GroupType {
					res.Members, res.MembersLoaded = next.Members, true
				}
				return nil
			})
		if err != nil {
			return err
		}
		return s.writeResource(w, r, http.StatusOK, out, p)
	}
}

func (s *Server) delete(rt *schema.ResourceType) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		version, err := ifMatch(r)
		if err != nil {
			return err
		}
		if err := s.Store.Delete(r.Context(), rt, r.PathValue("id"), version); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func (s *Server) patch(rt *schema.ResourceType) handlerFunc {
	return s.patchResource(rt) // api/patch.go
}

// listRequest is a parsed list or search request.
type listRequest struct {
	query scim.Query
	proj  *schema.Projection
}

// parseList reads RFC 7644 §3.4.2 list parameters (from the query string
// or a .search body; both arrive here as strings).
func parseList(rt *schema.ResourceType, get func(string) string) (*listRequest, error) {
	lr := &listRequest{query: scim.Query{StartIndex: 1, Count: DefaultCount}}
	if f := get("filter"); strings.TrimSpace(f) != "" {
		e, err := filter.Parse(rt, f)
		if err != nil {
			return nil, err
		}
		lr.query.Filter = e
	}
	if v := get("startIndex"); v != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return nil, scim.BadRequest("invalidValue", "startIndex must be an integer, got %q", v)
		}
		lr.query.StartIndex = max(n, 1)
	}
	if v := get("count"); v != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return nil, scim.BadRequest("invalidValue", "count must be an integer, got %q", v)
		}
		lr.query.Count = min(max(n, 0), MaxCount)
	}
	if v := get("sortBy"); strings.TrimSpace(v) != "" {
		path, err := rt.ParsePath(strings.TrimSpace(v))
		if err != nil {
			return nil, scim.BadRequest("invalidValue", "sortBy: %s", err.(*schema.Error).Detail)
		}
		lr.query.SortBy = &path
	}
	switch o := strings.ToLower(strings.TrimSpace(get("sortOrder"))); o {
	case "", "ascending":
	case "descending":
		lr.query.Descending = true
	default:
		return nil, scim.BadRequest("invalidValue", "sortOrder must be ascending or descending, got %q", o)
	}
	p, err := projection(rt, get("attributes"), get("excludedAttributes"))
	if err != nil {
		return nil, err
	}
	lr.proj = p
	lr.query.Load = loadFor(rt, p)
	return lr, nil
}

func (s *Server) list(rt *schema.ResourceType) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := queryParams(r)
		lr, err := parseList(rt, q.get)
		if err != nil {
			return err
		}
		return s.runList(w, r, rt, lr)
	}
}

func (s *Server) runList(w http.ResponseWriter, r *http.Request, rt *schema.ResourceType, lr *listRequest) error {
	lr.query.Base = s.baseURL(r)
	page, err := s.Store.List(r.Context(), rt, lr.query)
	if err != nil {
		return err
	}
	base := s.baseURL(r)
	items := make([]any, len(page.Resources))
	for i, res := range page.Resources {
		items[i] = lr.proj.Render(rt, res.Doc(base))
	}
	return writeJSON(w, http.StatusOK, listResponse(page.Total, lr.query.StartIndex, items))
}

func listResponse(total, start int, items []any) schema.Object {
	return schema.Object{
		{Key: "schemas", Value: []string{"urn:ietf:params:scim:api:messages:2.0:ListResponse"}},
		{Key: "totalResults", Value: total},
		{Key: "itemsPerPage", Value: len(items)},
		{Key: "startIndex", Value: start},
		{Key: "Resources", Value: items},
	}
}

// searchBody reads a SearchRequest (RFC 7644 §3.4.3) into string
// parameters.
func (s *Server) searchBody(w http.ResponseWriter, r *http.Request) (func(string) string, error) {
	body, err := s.readObject(w, r)
	if err != nil {
		return nil, err
	}
	vals := url.Values{}
	for k, v := range body {
		switch v := v.(type) {
		case string:
			vals.Set(strings.ToLower(k), v)
		case json.Number:
			vals.Set(strings.ToLower(k), v.String())
		case []any:
			var parts []string
			for _, e := range v {
				if s, ok := e.(string); ok {
					parts = append(parts, s)
				}
			}
			vals.Set(strings.ToLower(k), strings.Join(parts, ","))
		}
	}
	return func(name string) string { return vals.Get(strings.ToLower(name)) }, nil
}

func (s *Server) search(rt *schema.ResourceType) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		get, err := s.searchBody(w, r)
		if err != nil {
			return err
		}
		lr, err := parseList(rt, get)
		if err != nil {
			return err
		}
		return s.runList(w, r, rt, lr)
	}
}

// searchAll is POST /.search at the root (RFC 7644 §3.4.3): Users and
// Groups as one list. Each parameter is resolved per resource type:
//
//   - a filter naming an attribute a type lacks (userName for groups)
//     matches no resource of that type; one valid for no type is a 400;
//   - sortBy orders both types by the attribute; resources of a type that
//     lacks it sort as if it were missing (last, ascending);
//   - attributes and excludedAttributes ignore, per type, the names the
//     type lacks; a name no type has is a 400.
func (s *Server) searchAll(w http.ResponseWriter, r *http.Request) error {
	get, err := s.searchBody(w, r)
	if err != nil {
		return err
	}
	q := scim.Search{Base: s.baseURL(r)}
	projs := map[*schema.ResourceType]*schema.Projection{}
	var filterErr error
	sortBy := strings.TrimSpace(get("sortBy"))
	for _, rt := range schema.ResourceTypes {
		lr, err := parseList(rt, forType(rt, get))
		if err != nil {
			if _, ok := err.(*schema.Error); ok && strings.TrimSpace(get("filter")) != "" {
				if _, ferr := filter.Parse(rt, get("filter")); ferr != nil {
					filterErr = cmpErr(filterErr, ferr)
					continue // this type has no match
				}
			}
			return err
		}
		q.Parts = append(q.Parts, scim.SearchPart{Type: rt, Filter: lr.query.Filter, SortBy: lr.query.SortBy, Load: lr.query.Load})
		q.StartIndex, q.Count, q.Descending = lr.query.StartIndex, lr.query.Count, lr.query.Descending
		projs[rt] = lr.proj
	}
	if len(q.Parts) == 0 {
		return filterErr
	}
	if sortBy != "" {
		found := false
		for _, p := range q.Parts {
			found = found || p.SortBy != nil
		}
		if !found {
			if _, err := schema.UserType.ParsePath(sortBy); err != nil {
				return scim.BadRequest("invalidValue", "sortBy: %s", err.(*schema.Error).Detail)
			}
		}
		q.Sorted = true
	}
	for _, attrs := range []string{get("attributes"), get("excludedAttributes")} {
		for _, a := range strings.Split(attrs, ",") {
			if a = strings.TrimSpace(a); a != "" && !anyType(a) {
				return scim.BadRequest("invalidValue", "attributes: no attribute %q in any resource type", a)
			}
		}
	}
	page, err := s.Store.Search(r.Context(), q)
	if err != nil {
		return err
	}
	items := make([]any, len(page.Resources))
	for i, res := range page.Resources {
		items[i] = projs[res.Type].Render(res.Type, res.Doc(q.Base))
	}
	return writeJSON(w, http.StatusOK, listResponse(page.Total, max(q.StartIndex, 1), items))
}

// cmpErr keeps the first error.
func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// anyType reports whether some resource type has the attribute path a.
func anyType(a string) bool {
	for _, rt := range schema.ResourceTypes {
		if _, err := rt.ParsePath(a); err == nil {
			return true
		}
	}
	return false
}

// forType adapts search parameters to resource type rt: sortBy and
// projection paths that rt lacks are dropped.
func forType(rt *schema.ResourceType, get func(string) string) func(string) string {
	keep := func(list string) string {
		var out []string
		for _, a := range strings.Split(list, ",") {
			if a = strings.TrimSpace(a); a != "" {
				if _, err := rt.ParsePath(a); err == nil {
					out = append(out, a)
				}
			}
		}
		return strings.Join(out, ",")
	}
	return func(name string) string {
		v := get(name)
		switch strings.ToLower(name) {
		case "sortby", "attributes", "excludedattributes":
			kept := keep(v)
			if strings.EqualFold(name, "attributes") && kept == "" && strings.TrimSpace(v) != "" {
				// Nothing asked for exists in rt: return only what is
				// always returned.
				return "id"
			}
			return kept
		}
		return v
	}
}
