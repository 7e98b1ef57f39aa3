package admin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/scimd/scimd/scim"
	"github.com/scimd/scimd/scim/schema"
)

// The console's JSON API: what the pages do, for scripts. Authentication
// is the console session (POST /admin/api/session); every state-changing
// request carries the session's CSRF token in X-CSRF-Token.

type tokenJSON struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	State     string  `json:"state"`
	CreatedAt string  `json:"createdAt"`
	LastUsed  *string `json:"lastUsedAt"`
	ExpiresAt *string `json:"expiresAt"`
	RevokedAt *string `json:"revokedAt"`
}

func optTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := scim.FormatTime(t)
	return &s
}

func toJSON(t *scim.Token, now time.Time) tokenJSON {
	return tokenJSON{ID: t.ID, Name: t.Name, State: t.State(now), CreatedAt: scim.FormatTime(t.CreatedAt),
		LastUsed: optTime(t.LastUsed), ExpiresAt: optTime(t.ExpiresAt), RevokedAt: optTime(t.RevokedAt)}
}

func (s *Server) apiConfig(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, map[string]any{"scimBaseUrl": s.BaseURL(r)})
}

func (s *Server) apiTokens(w http.ResponseWriter, r *http.Request) error {
	ts, err := s.Store.ListTokens(r.Context())
	if err != nil {
		return err
	}
	now := s.Now()
	out := make([]tokenJSON, len(ts))
	for i, t := range ts {
		out[i] = toJSON(t, now)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"tokens": out})
}

// apiCreateToken: {"name": "okta", "expiresIn": "90d"} → 201 with the
// secret, shown this once.
func (s *Server) apiCreateToken(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name      string `json:"name"`
		ExpiresIn string `json:"expiresIn"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil && !errors.Is(err, io.EOF) {
		return errBadRequest("bad JSON body: expected {\"name\": …, \"expiresIn\": \"90d\"}")
	}
	ttl, err := ParseExpiry(in.ExpiresIn)
	if err != nil {
		return err
	}
	t, secret, err := s.createToken(r, in.Name, ttl)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"token": toJSON(t, s.Now()), "secret": secret, "scimBaseUrl": s.BaseURL(r)})
}

func (s *Server) apiRevokeToken(w http.ResponseWriter, r *http.Request) error {
	t, err := s.findToken(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	if t, err = s.Store.RevokeToken(r.Context(), t.ID); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"token": toJSON(t, s.Now())})
}

type auditJSON struct {
	ID           int64  `json:"id"`
	At           string `json:"at"`
	Actor        string `json:"actor"`
	ActorKind    string `json:"actorKind"`
	Source       string `json:"source"`
	RequestID    string `json:"requestId"`
	Action       string `json:"action"`
	ResourceType string `json:"resourceType"`
	ResourceID   string `json:"resourceId"`
	ResourceName string `json:"resourceName"`
	Changes      string `json:"changes"`
	Outcome      string `json:"outcome"`
}

func auditRecords(recs []scim.AuditRecord) []auditJSON {
	out := make([]auditJSON, len(recs))
	for i, a := range recs {
		out[i] = auditJSON{ID: a.ID, At: scim.FormatTime(a.At), Actor: a.Actor, ActorKind: a.ActorKind, Source: a.Source, RequestID: a.RequestID,
			Action: a.Action, ResourceType: a.ResourceType, ResourceID: a.ResourceID, ResourceName: a.ResourceName, Changes: a.Changes, Outcome: a.Outcome}
	}
	return out
}

func (s *Server) apiAudit(w http.ResponseWriter, r *http.Request) error {
	q, _, err := parseAuditQuery(r)
	if err != nil {
		return err
	}
	recs, err := s.Store.ListAudit(r.Context(), q)
	if err != nil {
		return err
	}
	body := map[string]any{"records": auditRecords(recs)}
	if len(recs) == q.Limit {
		u := *r.URL
		qs := u.Query()
		qs.Set("before", strconv.FormatInt(recs[len(recs)-1].ID, 10))
		body["next"] = u.Path + "?" + qs.Encode()
	}
	return writeJSON(w, http.StatusOK, body)
}

func (s *Server) apiList(rt *schema.ResourceType) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := parseDirQuery(r)
		count := 100
		if c := r.FormValue("count"); c != "" {
			n, err := strconv.Atoi(c)
			if err != nil || n < 0 || n > 1000 {
				return errBadRequest("bad count %q: 0 to 1000", c)
			}
			count = n
		}
		page, _, err := s.listDir(r, rt, q, count)
		if err != nil {
			return err
		}
		out := make([]map[string]any, len(page.Resources))
		for i, res := range page.Resources {
			out[i] = map[string]any{"id": res.ID, "name": res.Name(), "displayName": res.String("displayName"),
				"externalId": res.String("externalId"), "created": scim.FormatTime(res.Meta.Created), "lastModified": scim.FormatTime(res.Meta.LastModified)}
			if rt == schema.UserType {
				out[i]["active"] = res.Active()
			}
		}
		return writeJSON(w, http.StatusOK, map[string]any{"totalResults": page.Total, "startIndex": q.start, "resources": out})
	}
}

// resourceJSON is what a user or group page shows about the resource
// itself. Attributes are the stored SCIM attributes as they are (never id,
// meta, groups, members or password).
func resourceJSON(res *scim.Resource, hist []scim.AuditRecord) map[string]any {
	out := map[string]any{"id": res.ID, nameAttr(res.Type): res.Name(), "externalId": res.String("externalId"),
		"created": scim.FormatTime(res.Meta.Created), "lastModified": scim.FormatTime(res.Meta.LastModified),
		"version": res.Meta.ETag(), "attributes": res.Attrs, "history": auditRecords(hist)}
	if res.Type == schema.UserType {
		out["displayName"] = res.String("displayName")
	}
	return out
}

// apiUser is the user page as JSON: {id} is an id or a userName.
func (s *Server) apiUser(w http.ResponseWriter, r *http.Request) error {
	res, hist, err := s.withHistory(r, schema.UserType, scim.Load{Groups: true})
	if err != nil {
		return err
	}
	groups := make([]map[string]string, len(res.Groups))
	for i, g := range res.Groups {
		groups[i] = map[string]string{"value": g.Value, "display": g.Display, "type": g.Type}
	}
	out := resourceJSON(res, hist)
	out["active"] = res.Active()
	out["groups"] = groups
	return writeJSON(w, http.StatusOK, out)
}

// apiGroup is the group page as JSON: {id} is an id or a displayName. Its
// members come a page at a time (startIndex — or start, as the list
// endpoints call it — 1-based; count 0 to 1000, default PageSize), never
// the whole list.
func (s *Server) apiGroup(w http.ResponseWriter, r *http.Request) error {
	start, count := 1, PageSize
	v := r.FormValue("startIndex")
	if v == "" {
		v = r.FormValue("start")
	}
	if v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return errBadRequest("bad startIndex %q: a 1-based integer", v)
		}
		start = max(n, 1) // RFC 7644 §3.4.2.4: below 1 means 1
	}
	if v := r.FormValue("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1000 {
			return errBadRequest("bad count %q: 0 to 1000", v)
		}
		count = n
	}
	res, hist, err := s.withHistory(r, schema.GroupType, scim.Load{})
	if err != nil {
		return err
	}
	ms, total, err := s.Store.GroupMembers(r.Context(), res.ID, start, count)
	if err != nil {
		return err
	}
	list := make([]map[string]string, len(ms))
	for i, m := range ms {
		list[i] = map[string]string{"value": m.Value, "type": m.Type, "display": m.Display}
	}
	members := map[string]any{"totalResults": total, "startIndex": start, "itemsPerPage": len(ms), "resources": list}
	if len(ms) > 0 && start+len(ms)-1 < total {
		q := url.Values{"startIndex": {strconv.Itoa(start + len(ms))}, "count": {strconv.Itoa(count)}}
		members["next"] = "/admin/api/groups/" + url.PathEscape(res.ID) + "?" + q.Encode()
	}
	out := resourceJSON(res, hist)
	out["members"] = members
	return writeJSON(w, http.StatusOK, out)
}

// Prune deletes audit records older than retention and expired sessions.
func (s *Server) Prune(ctx context.Context, retention time.Duration) error {
	now := s.Now()
	if retention > 0 {
		n, err := s.Store.PruneAudit(ctx, now.Add(-retention))
		if err != nil {
			return err
		}
		if n > 0 {
			s.Logger.Info("pruned audit records", "count", n, "older_than", now.Add(-retention).UTC().Format(time.RFC3339))
		}
	}
	_, err := s.Store.PruneSessions(ctx, now.Add(-s.IdleTimeout), now.Add(-s.AbsoluteTimeout))
	return err
}

// RunPruner prunes at once and then every interval until ctx ends.
// A retention of 0 keeps audit records forever.
func (s *Server) RunPruner(ctx context.Context, retention, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := s.Prune(ctx, retention); err != nil && ctx.Err() == nil {
			s.Logger.Warn("prune audit trail", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
