package api

import (
	"net/http"

	"github.com/scimd/scimd/scim"
	"github.com/scimd/scimd/scim/patch"
	"github.com/scimd/scimd/scim/schema"
)

// patchResource serves PATCH (RFC 7644 §3.5.2) on one resource: the
// operations are parsed before the store is touched, then applied in the
// store's atomic update (If-Match checked there).
//
// A user is answered 200 with the resource. A group is answered 204 with
// its ETag, unless the request names attributes or excludedAttributes: then
// 200 with those. Either way a group's member list is loaded only if the
// response carries it or an operation needs it (patch.NeedsMembers), so
// that editing a 100k-member group costs O(changed members).
func (s *Server) patchResource(rt *schema.ResourceType) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := queryParams(r)
		p, version, body, err := s.readWrite(w, r, rt, q)
		if err != nil {
			return err
		}
		ops, err := patch.Parse(rt, body)
		if err != nil {
			return err
		}
		withBody := rt != schema.GroupType || q.get("attributes") != "" || q.get("excludedAttributes") != ""
		var load scim.Load
		if withBody {
			load = loadFor(rt, p)
		}
		wantMembers := load.Members
		if rt == schema.GroupType && patch.NeedsMembers(rt, ops) {
			load.Members = true
		}
		out, err := s.Store.Update(r.Context(), rt, r.PathValue("id"), scim.UpdateOptions{IfMatch: version, Load: load},
			func(res *scim.Resource) error { return patch.Apply(rt, res, ops) })
		if err != nil {
			return err
		}
		if !withBody {
			w.Header().Set("ETag", out.Meta.ETag())
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
		if rt == schema.GroupType && !wantMembers {
			// Members were loaded for an operation but not asked for: drop them.
			out.Members, out.MembersLoaded = nil, false
		}
		return s.writeResource(w, r, http.StatusOK, out, p)
	}
}
