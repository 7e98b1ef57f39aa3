package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/scimd/scimd/scim"
	"github.com/scimd/scimd/scim/filter"
	"github.com/scimd/scimd/scim/schema"
)

// PageSize is how many rows a directory or audit page shows.
const PageSize = 25

// HistorySize is how many audit records, newest first, a user or group
// page (and its API endpoint) shows.
const HistorySize = 50

// view is what every page template gets.
type view struct {
	Title  string
	Nav    string // the highlighted section: "scim", "directory", "audit"
	Admin  string // signed-in administrator, "" on the sign-in page
	CSRF   string
	Error  string
	Notice string
	Status int
	Next   string

	BaseURL string
	Now     time.Time

	// SCIM page
	Tokens    []tokenRow
	NewSecret string
	NewToken  *tokenRow
	Token     *tokenRow // revoke confirmation

	// Directory
	Kind      string // "users" or "groups"
	Query     string
	IsFilter  bool
	Sort      string
	Desc      bool
	Rows      []dirRow
	Pager     pager
	Resource  *scim.Resource
	Attrs     []attrRow
	Groups    []scim.GroupRef
	Members   []scim.Member
	History   []scim.AuditRecord
	AuditForm auditForm
	Records   []scim.AuditRecord
	OlderURL  string
}

type tokenRow struct {
	ID, Name, State                       string
	Created, LastUsed, Expires, RevokedAt time.Time
}

func toRow(t *scim.Token, now time.Time) tokenRow {
	return tokenRow{ID: t.ID, Name: t.Name, State: t.State(now), Created: t.CreatedAt, LastUsed: t.LastUsed, Expires: t.ExpiresAt, RevokedAt: t.RevokedAt}
}

type dirRow struct {
	ID, Name, Display, Email, External string
	Active                             bool
	Created, Modified                  time.Time
}

type attrRow struct{ Name, Value string }

type pager struct {
	Total, From, To int
	PrevURL         string
	NextURL         string
}

type auditForm struct {
	Actor, Resource, Action, Since, Until string
}

func (s *Server) view(r *http.Request, title string) *view {
	v := &view{Title: title, Now: s.Now()}
	if c := sessionFrom(r.Context()); c != nil {
		v.Admin = c.session.AdminName
		v.CSRF = c.csrf
	}
	return v
}

var funcs = template.FuncMap{
	"when": func(t time.Time, zero string) string {
		if t.IsZero() {
			return zero
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"num": func(n int) string {
		s := strconv.Itoa(n)
		for i := len(s) - 3; i > 0; i -= 3 {
			s = s[:i] + "," + s[i:]
		}
		return s
	},
	"lower": strings.ToLower,
	// commas lets a list of attribute names wrap between names.
	"commas": func(s string) string { return strings.ReplaceAll(s, ",", ", ") },
	"sortcol": func(v *view, key, label string) sortCol {
		c := sortCol{Label: label, Active: v.Sort == key, Desc: v.Desc}
		q := url.Values{}
		if v.Query != "" {
			q.Set("q", v.Query)
		}
		q.Set("sort", key)
		// A click on the sorted column reverses it; on another, sorts ascending.
		if c.Active && !v.Desc {
			q.Set("order", "desc")
		} else {
			q.Set("order", "asc")
		}
		c.URL = "/admin/" + v.Kind + "?" + q.Encode()
		return c
	},
	"actions": func() []string {
		return []string{"create", "update", "delete", "token.create", "token.revoke", "admin.signin", "admin.signout", "admin.password", "admin.create"}
	},
}

type sortCol struct {
	Label, URL   string
	Active, Desc bool
}

// parseTemplates parses each page together with the layout.
func parseTemplates() map[string]*template.Template {
	pages, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, p := range pages {
		name := strings.TrimSuffix(strings.TrimPrefix(p, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		out[name] = template.Must(template.New(name).Funcs(funcs).ParseFS(assets, "templates/layout.html", p))
	}
	return out
}

// home is the SCIM page: connector base URL, tokens, setup steps.
func (s *Server) home(w http.ResponseWriter, r *http.Request) error {
	return s.renderHome(w, r, http.StatusOK, nil)
}

func (s *Server) renderHome(w http.ResponseWriter, r *http.Request, code int, fill func(*view)) error {
	ts, err := s.Store.ListTokens(r.Context())
	if err != nil {
		return err
	}
	v := s.view(r, "SCIM")
	v.Nav = "scim"
	v.BaseURL = s.BaseURL(r)
	for _, t := range ts {
		v.Tokens = append(v.Tokens, toRow(t, v.Now))
	}
	if n := r.URL.Query().Get("revoked"); n != "" {
		v.Notice = "Token “" + n + "” revoked. Identity providers using it are now refused."
	}
	if fill != nil {
		fill(v)
	}
	return s.render(w, code, "home", v)
}

// createToken makes a token named name expiring after ttl (0: never).
func (s *Server) createToken(r *http.Request, name string, ttl time.Duration) (*scim.Token, string, error) {
	t, secret, err := scim.IssueToken(r.Context(), s.Store, name, ttl, s.Now())
	var se *scim.Error
	switch {
	case errors.As(err, &se):
		return nil, "", errBadRequest("%s", se.Detail)
	case errors.Is(err, scim.ErrConflict):
		return nil, "", &httpError{status: http.StatusConflict, msg: fmt.Sprintf("an active token named %q exists already: revoke it or choose another name", strings.TrimSpace(name))}
	case err != nil:
		return nil, "", err
	}
	return t, secret, nil
}

// ParseExpiry parses a token lifetime ("90d", "2w", "12h", "never"), as a
// 400 on error.
func ParseExpiry(s string) (time.Duration, error) {
	d, err := scim.ParseLifetime(s)
	if err != nil {
		return 0, errBadRequest("%s", err.Error())
	}
	return d, nil
}

func (s *Server) generateToken(w http.ResponseWriter, r *http.Request) error {
	ttl, err := ParseExpiry(r.PostFormValue("expires"))
	if err == nil {
		var t *scim.Token
		var secret string
		t, secret, err = s.createToken(r, r.PostFormValue("name"), ttl)
		if err == nil {
			row := toRow(t, s.Now())
			return s.renderHome(w, r, http.StatusCreated, func(v *view) {
				v.NewSecret, v.NewToken = secret, &row
			})
		}
	}
	code, msg, internal := status(err)
	if internal {
		return err
	}
	return s.renderHome(w, r, code, func(v *view) { v.Error = msg })
}

func (s *Server) findToken(r *http.Request, id string) (*scim.Token, error) {
	ts, err := s.Store.ListTokens(r.Context())
	if err != nil {
		return nil, err
	}
	for _, t := range ts {
		if t.ID == id {
			return t, nil
		}
	}
	return nil, errNotFound("no token with id %q", id)
}

func (s *Server) confirmRevoke(w http.ResponseWriter, r *http.Request) error {
	t, err := s.findToken(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	v := s.view(r, "Revoke token "+t.Name)
	v.Nav = "scim"
	row := toRow(t, v.Now)
	v.Token = &row
	return s.render(w, http.StatusOK, "revoke", v)
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	t, err := s.findToken(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	if _, err := s.Store.RevokeToken(r.Context(), t.ID); err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/?revoked="+url.QueryEscape(t.Name)+"#tokens", http.StatusSeeOther)
	return nil
}

// dirQuery is a directory listing request, from the query string.
type dirQuery struct {
	text  string
	sort  string // name, created, modified
	desc  bool
	start int
}

func parseDirQuery(r *http.Request) dirQuery {
	q := dirQuery{text: strings.TrimSpace(r.FormValue("q")), sort: r.FormValue("sort"), desc: r.FormValue("order") == "desc", start: 1}
	switch q.sort {
	case "created", "modified":
	default:
		q.sort = "name"
	}
	if n, err := strconv.Atoi(r.FormValue("start")); err == nil && n > 0 {
		q.start = n
	}
	return q
}

// looksLikeFilter tells a SCIM filter from a name: a filter has an
// attribute, an operator and (but for pr) a value.
func looksLikeFilter(rt *schema.ResourceType, text string) (filter.Expr, bool, error) {
	fields := strings.Fields(text)
	if len(fields) < 2 {
		return nil, false, nil
	}
	op := strings.ToLower(fields[1])
	switch op {
	case "eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr":
	default:
		if !strings.Contains(fields[0], "[") {
			return nil, false, nil
		}
	}
	e, err := filter.Parse(rt, text)
	return e, true, err
}

// listDir returns a page of the directory: by name, or by SCIM filter.
func (s *Server) listDir(r *http.Request, rt *schema.ResourceType, q dirQuery, count int) (*scim.Page, bool, error) {
	e, isFilter, err := looksLikeFilter(rt, q.text)
	if err != nil {
		return nil, true, errBadRequest("%s", filterError(err))
	}
	if isFilter {
		sq := scim.Query{Filter: e, StartIndex: q.start, Count: count, Base: s.BaseURL(r)}
		attr := map[string]string{"name": nameAttr(rt), "created": "meta.created", "modified": "meta.lastModified"}[q.sort]
		p, err := rt.ParsePath(attr)
		if err != nil {
			return nil, true, err
		}
		sq.SortBy, sq.Descending = &p, q.desc
		page, err := s.Store.List(r.Context(), rt, sq)
		if err != nil {
			code, msg, internal := status(err)
			if !internal {
				return nil, true, &httpError{status: code, msg: "the store cannot run this filter: " + msg}
			}
		}
		return page, true, err
	}
	page, err := s.Store.ListByName(r.Context(), rt, scim.NameQuery{Contains: q.text, SortBy: q.sort, Descending: q.desc, StartIndex: q.start, Count: count})
	return page, false, err
}

func filterError(err error) string {
	var se *schema.Error
	if errors.As(err, &se) {
		return "not a valid SCIM filter: " + se.Detail
	}
	return "not a valid SCIM filter: " + err.Error()
}

func nameAttr(rt *schema.ResourceType) string {
	if rt == schema.GroupType {
		return "displayName"
	}
	return "userName"
}

func dirRowOf(res *scim.Resource) dirRow {
	row := dirRow{ID: res.ID, Name: res.Name(), Display: res.String("displayName"), External: res.String("externalId"),
		Active: res.Active(), Created: res.Meta.Created, Modified: res.Meta.LastModified}
	if es, ok := res.Attrs["emails"].([]any); ok {
		for _, e := range es {
			if m, ok := e.(map[string]any); ok {
				v, _ := m["value"].(string)
				if row.Email == "" || m["primary"] == true {
					row.Email = v
				}
			}
		}
	}
	return row
}

func (s *Server) users(w http.ResponseWriter, r *http.Request) error {
	return s.directory(w, r, schema.UserType)
}

func (s *Server) groups(w http.ResponseWriter, r *http.Request) error {
	return s.directory(w, r, schema.GroupType)
}

func (s *Server) directory(w http.ResponseWriter, r *http.Request, rt *schema.ResourceType) error {
	q := parseDirQuery(r)
	v := s.view(r, "Directory: "+rt.Endpoint[1:])
	v.Nav = "directory"
	v.Kind = strings.ToLower(rt.Endpoint[1:])
	v.Query, v.Sort, v.Desc = q.text, q.sort, q.desc
	page, isFilter, err := s.listDir(r, rt, q, PageSize)
	v.IsFilter = isFilter
	code := http.StatusOK
	if err != nil {
		c, msg, internal := status(err)
		if internal {
			return err
		}
		code, v.Error = c, msg
		page = &scim.Page{}
	}
	for _, res := range page.Resources {
		v.Rows = append(v.Rows, dirRowOf(res))
	}
	v.Pager = makePager(r.URL, q.start, PageSize, len(page.Resources), page.Total)
	return s.render(w, code, "directory", v)
}

// makePager computes "1–25 of 1,234" and the previous and next links.
func makePager(u *url.URL, start, size, n, total int) pager {
	p := pager{Total: total}
	if n > 0 {
		p.From, p.To = start, start+n-1
	}
	link := func(st int) string {
		q := u.Query()
		q.Set("start", strconv.Itoa(st))
		return u.Path + "?" + q.Encode()
	}
	if start > 1 {
		p.PrevURL = link(max(1, start-size))
	}
	if start+n-1 < total && n > 0 {
		p.NextURL = link(start + n)
	}
	return p
}

// withHistory reads the resource named by the request's {id} (an id or a
// name) and the last HistorySize audit records about it, as the user and
// group pages and their JSON twins show them.
func (s *Server) withHistory(r *http.Request, rt *schema.ResourceType, load scim.Load) (*scim.Resource, []scim.AuditRecord, error) {
	res, err := s.Store.Get(r.Context(), rt, r.PathValue("id"), load)
	if err != nil {
		return nil, nil, err
	}
	hist, err := s.Store.ListAudit(r.Context(), scim.AuditQuery{ResourceID: res.ID, Limit: HistorySize})
	if err != nil {
		return nil, nil, err
	}
	return res, hist, nil
}

func (s *Server) user(w http.ResponseWriter, r *http.Request) error {
	res, hist, err := s.withHistory(r, schema.UserType, scim.Load{Groups: true})
	if err != nil {
		return err
	}
	v := s.view(r, "User "+res.Name())
	v.Nav, v.Kind = "directory", "users"
	v.Resource, v.Attrs, v.Groups, v.History = res, attrRows(res.Attrs), res.Groups, hist
	return s.render(w, http.StatusOK, "user", v)
}

func (s *Server) group(w http.ResponseWriter, r *http.Request) error {
	res, hist, err := s.withHistory(r, schema.GroupType, scim.Load{})
	if err != nil {
		return err
	}
	start := 1
	if n, err := strconv.Atoi(r.FormValue("start")); err == nil && n > 0 {
		start = n
	}
	ms, total, err := s.Store.GroupMembers(r.Context(), res.ID, start, PageSize)
	if err != nil {
		return err
	}
	v := s.view(r, "Group "+res.Name())
	v.Nav, v.Kind = "directory", "groups"
	v.Resource, v.Attrs, v.Members, v.History = res, attrRows(res.Attrs), ms, hist
	v.Pager = makePager(r.URL, start, PageSize, len(ms), total)
	return s.render(w, http.StatusOK, "group", v)
}

// attrRows flattens a resource's attributes for display: nested
// attributes as dotted names, multi-valued ones one line per value.
func attrRows(attrs map[string]any) []attrRow {
	var out []attrRow
	var walk func(name string, v any)
	walk = func(name string, v any) {
		switch v := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				n := k
				if name != "" {
					n = name + "." + k
				}
				if strings.HasPrefix(k, "urn:") {
					n = k[strings.LastIndex(k, ":")+1:] + " extension"
				}
				walk(n, v[k])
			}
		case []any:
			for _, e := range v {
				if m, ok := e.(map[string]any); ok {
					out = append(out, attrRow{Name: name, Value: compact(m)})
					continue
				}
				out = append(out, attrRow{Name: name, Value: scalar(e)})
			}
		default:
			out = append(out, attrRow{Name: name, Value: scalar(v)})
		}
	}
	walk("", attrs)
	return out
}

// compact renders a complex value as "value (type, primary)" when it has
// the usual shape, else as key=value pairs.
func compact(m map[string]any) string {
	if val, ok := m["value"]; ok {
		var extra []string
		if t, ok := m["type"].(string); ok && t != "" {
			extra = append(extra, t)
		}
		if m["primary"] == true {
			extra = append(extra, "primary")
		}
		s := scalar(val)
		if len(extra) > 0 {
			s += " (" + strings.Join(extra, ", ") + ")"
		}
		return s
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + scalar(m[k])
	}
	return strings.Join(parts, ", ")
}

func scalar(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case nil:
		return ""
	case json.Number:
		return v.String()
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// parseAuditQuery reads the audit filters from the query string. Times
// are RFC 3339, or the browser's datetime-local form read as UTC.
func parseAuditQuery(r *http.Request) (scim.AuditQuery, auditForm, error) {
	f := auditForm{Actor: strings.TrimSpace(r.FormValue("actor")), Resource: strings.TrimSpace(r.FormValue("resource")),
		Action: strings.TrimSpace(r.FormValue("action")), Since: r.FormValue("since"), Until: r.FormValue("until")}
	q := scim.AuditQuery{Actor: f.Actor, Resource: f.Resource, Action: f.Action, Limit: 50}
	var err error
	if q.Since, err = parseTime(f.Since); err != nil {
		return q, f, err
	}
	if q.Until, err = parseTime(f.Until); err != nil {
		return q, f, err
	}
	if b := r.FormValue("before"); b != "" {
		if q.Before, err = strconv.ParseInt(b, 10, 64); err != nil || q.Before < 0 {
			return q, f, errBadRequest("bad before %q: an audit record id", b)
		}
	}
	if l := r.FormValue("limit"); l != "" {
		if q.Limit, err = strconv.Atoi(l); err != nil || q.Limit < 1 || q.Limit > 1000 {
			return q, f, errBadRequest("bad limit %q: 1 to 1000", l)
		}
	}
	return q, f, nil
}

func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errBadRequest("bad time %q: use RFC 3339 (2026-01-31T12:00:00Z) or 2026-01-31", s)
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) error {
	v := s.view(r, "Audit trail")
	v.Nav = "audit"
	q, f, err := parseAuditQuery(r)
	v.AuditForm = f
	code := http.StatusOK
	if err != nil {
		code, v.Error, _ = status(err)
		return s.render(w, code, "audit", v)
	}
	recs, err := s.Store.ListAudit(r.Context(), q)
	if err != nil {
		return err
	}
	v.Records = recs
	if len(recs) == q.Limit {
		u := *r.URL
		qs := u.Query()
		qs.Set("before", strconv.FormatInt(recs[len(recs)-1].ID, 10))
		v.OlderURL = u.Path + "?" + qs.Encode()
	}
	return s.render(w, code, "audit", v)
}
