// Package admin serves scimd's admin console: server-rendered pages (the
// SCIM connector page with its tokens, a read-only directory of what the
// identity providers provisioned, the audit trail) and the JSON API behind
// them under /admin/api/. Templates and assets are embedded.
//
// Only console sessions open the console: a SCIM bearer token is never
// looked at here, and a session cookie is never looked at by the SCIM API.
package admin

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/scimd/scimd/scim"
	"github.com/scimd/scimd/scim/schema"
)

//go:embed templates static
var assets embed.FS

// Store is what the console needs: the SCIM store plus administrators,
// sessions and audit queries.
type Store interface {
	scim.Resources
	scim.Tokens

	// AdminByName returns the administrator with that name, or ErrNotFound.
	AdminByName(ctx context.Context, name string) (*scim.Admin, error)
	// CountAdmins returns how many administrators exist.
	CountAdmins(ctx context.Context) (int, error)
	// CreateAdmin stores a (assigning its ID) and audits it; ErrConflict if
	// the name is taken.
	CreateAdmin(ctx context.Context, a *scim.Admin) error
	// SetAdminPassword replaces the named administrator's password hash and
	// ends its sessions, audited; ErrNotFound if there is no such admin.
	SetAdminPassword(ctx context.Context, name, hash string) error

	// CreateSession stores a session and audits the sign-in in the same
	// transaction; ErrNotFound if the administrator is gone.
	CreateSession(ctx context.Context, s *scim.Session) error
	// SessionByHash returns the session with that hash, or ErrNotFound.
	SessionByHash(ctx context.Context, hash []byte) (*scim.Session, error)
	// TouchSession records the session's last use.
	TouchSession(ctx context.Context, hash []byte, at time.Time) error
	// DeleteSession ends a session and audits the sign-out; ErrNotFound if
	// there is no such session.
	DeleteSession(ctx context.Context, hash []byte) error
	// PruneSessions deletes sessions idle since before idle or created
	// before created.
	PruneSessions(ctx context.Context, idle, created time.Time) (int64, error)

	// RecordAudit appends a record on its own; empty actor fields come from
	// scim.ActorFrom(ctx).
	RecordAudit(ctx context.Context, rec scim.AuditRecord) error
	// ListAudit returns matching records, newest first.
	ListAudit(ctx context.Context, q scim.AuditQuery) ([]scim.AuditRecord, error)
	// CountFailedSignIns counts failed sign-ins from source since since and
	// after the last successful one.
	CountFailedSignIns(ctx context.Context, source string, since time.Time) (int, error)
	// PruneAudit deletes records older than before.
	PruneAudit(ctx context.Context, before time.Time) (int64, error)

	// ListByName pages through resources by a part of their name.
	ListByName(ctx context.Context, rt *schema.ResourceType, q scim.NameQuery) (*scim.Page, error)
	// GroupMembers returns a page of a group's members (startIndex 1-based)
	// and the member count.
	GroupMembers(ctx context.Context, groupID string, startIndex, count int) ([]scim.Member, int, error)
}

// Defaults.
const (
	DefaultIdleTimeout     = 30 * time.Minute
	DefaultAbsoluteTimeout = 12 * time.Hour
	// DefaultMaxFailures failed sign-ins per client within FailureWindow
	// make further attempts answer 429 until the window has passed.
	DefaultMaxFailures = 5
	FailureWindow      = 15 * time.Minute
	// SCIMPath is appended to the public URL to make the connector base URL.
	SCIMPath = "/access/api/v1/scim/v2"
)

// Server is the admin console.
type Server struct {
	Store Store
	// PublicURL is how browsers and identity providers reach scimd
	// (scheme://host[:port][/path]); empty derives it from each request.
	PublicURL string
	Logger    *slog.Logger
	Now       func() time.Time
	// BcryptCost is the cost of new password hashes.
	BcryptCost      int
	IdleTimeout     time.Duration
	AbsoluteTimeout time.Duration
	MaxFailures     int

	tmpl map[string]*template.Template
	cop  *http.CrossOriginProtection
}

// New returns a Server with defaults filled in.
func New(st Store, publicURL string, logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.Default()
	}
	s := &Server{Store: st, PublicURL: strings.TrimRight(publicURL, "/"), Logger: logger, Now: time.Now,
		BcryptCost: DefaultBcryptCost, IdleTimeout: DefaultIdleTimeout, AbsoluteTimeout: DefaultAbsoluteTimeout,
		MaxFailures: DefaultMaxFailures}
	s.tmpl = parseTemplates()
	s.cop = http.NewCrossOriginProtection()
	s.cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, errForbidden("cross-origin request refused"))
	}))
	return s
}

// handlerFunc is a handler that returns its error for handle to write.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// Routes registers the console on mux: / redirects to /admin/.
func (s *Server) Routes(mux *http.ServeMux) {
	page := func(h handlerFunc) http.Handler { return s.secure(s.session(s.handle(h), false)) }
	open := func(h handlerFunc) http.Handler { return s.secure(s.handle(h)) }
	jsn := func(h handlerFunc) http.Handler { return s.secure(s.session(s.handle(h), true)) }
	static, _ := fs.Sub(assets, "static")
	routes := []struct {
		pattern string
		h       http.Handler
	}{
		{"GET /admin/static/", s.secure(cacheStatic(http.StripPrefix("/admin/static/", http.FileServerFS(static))))},
		{"GET /admin/signin", open(s.signInPage)},
		{"POST /admin/signin", open(s.signIn)},
		{"POST /admin/signout", page(s.signOut)},

		{"GET /admin/{$}", page(s.home)},
		{"POST /admin/tokens", page(s.generateToken)},
		{"GET /admin/tokens/{id}/revoke", page(s.confirmRevoke)},
		{"POST /admin/tokens/{id}/revoke", page(s.revokeToken)},
		{"GET /admin/users", page(s.users)},
		{"GET /admin/users/{id}", page(s.user)},
		{"GET /admin/groups", page(s.groups)},
		{"GET /admin/groups/{id}", page(s.group)},
		{"GET /admin/audit", page(s.auditPage)},

		{"POST /admin/api/session", open(s.apiSignIn)},
		{"GET /admin/api/session", jsn(s.apiSession)},
		{"DELETE /admin/api/session", jsn(s.apiSignOut)},
		{"GET /admin/api/config", jsn(s.apiConfig)},
		{"GET /admin/api/tokens", jsn(s.apiTokens)},
		{"POST /admin/api/tokens", jsn(s.apiCreateToken)},
		{"POST /admin/api/tokens/{id}/revoke", jsn(s.apiRevokeToken)},
		{"GET /admin/api/users", jsn(s.apiList(schema.UserType))},
		{"GET /admin/api/users/{id}", jsn(s.apiUser)},
		{"GET /admin/api/groups", jsn(s.apiList(schema.GroupType))},
		{"GET /admin/api/groups/{id}", jsn(s.apiGroup)},
		{"GET /admin/api/audit", jsn(s.apiAudit)},
		{"/admin/api/", open(func(w http.ResponseWriter, r *http.Request) error {
			return errNotFound("no console API endpoint %s %s", r.Method, r.URL.Path)
		})},
		{"/admin/", open(func(w http.ResponseWriter, r *http.Request) error {
			return errNotFound("no page at %s", r.URL.Path)
		})},
		{"GET /{$}", http.RedirectHandler("/admin/", http.StatusFound)},
	}
	for _, rt := range routes {
		mux.Handle(rt.pattern, rt.h)
	}
}

// csp allows only the console's own script and style files: no inline
// code, no framing, no plugins, forms only back to the console.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// secure sets the security headers and refuses cross-origin state
// changes (Sec-Fetch-Site / Origin) before anything else runs.
func (s *Server) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if isTLS(r, s.PublicURL) {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		s.cop.Handler(next).ServeHTTP(w, r)
	})
}

func cacheStatic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}

// handle adapts a handlerFunc: its error becomes an HTML error page, or a
// JSON error under /admin/api/.
func (s *Server) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/admin/static/") {
			w.Header().Set("Cache-Control", "no-store")
		}
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// httpError is an error with the status it is shown with.
type httpError struct {
	status int
	msg    string
	// retryAfter, if set, is sent as Retry-After (seconds).
	retryAfter int
}

func (e *httpError) Error() string { return e.msg }

func errBadRequest(format string, args ...any) error {
	return &httpError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

func errNotFound(format string, args ...any) error {
	return &httpError{status: http.StatusNotFound, msg: fmt.Sprintf(format, args...)}
}

func errForbidden(msg string) error { return &httpError{status: http.StatusForbidden, msg: msg} }

var errUnauthorized = &httpError{status: http.StatusUnauthorized, msg: "sign in to the console first"}

// status maps an error to a status and a message safe to show. It is the
// one place where console errors meet HTTP.
func status(err error) (int, string, bool) {
	var he *httpError
	var se *scim.Error
	var ve *schema.Error
	var mb *http.MaxBytesError
	switch {
	case errors.As(err, &he):
		return he.status, he.msg, false
	case errors.As(err, &se):
		return se.Status, se.Detail, false
	case errors.As(err, &ve):
		return http.StatusBadRequest, ve.Detail, false
	case errors.As(err, &mb):
		return http.StatusRequestEntityTooLarge, "request body too large", false
	case errors.Is(err, scim.ErrNotFound):
		return http.StatusNotFound, "not found", false
	case errors.Is(err, scim.ErrConflict):
		return http.StatusConflict, strings.TrimSuffix(err.Error(), ": "+scim.ErrConflict.Error()) + " already exists", false
	case errors.Is(err, scim.ErrUnavailable):
		return http.StatusServiceUnavailable, "the database is unavailable; retry later", true
	case errors.Is(err, context.Canceled):
		return 499, "request canceled", false
	}
	return http.StatusInternalServerError, "internal error", true
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code, msg, internal := status(err)
	if internal {
		s.Logger.Error("console request failed", "request_id", w.Header().Get("X-Request-Id"), "method", r.Method, "path", r.URL.Path, "status", code, "err", err)
		if code == http.StatusInternalServerError {
			msg = "internal error; see the server log for request id " + w.Header().Get("X-Request-Id")
		}
	}
	if code == 499 {
		return
	}
	var he *httpError
	if errors.As(err, &he) && he.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(he.retryAfter))
	}
	if isAPI(r) {
		_ = writeJSON(w, code, map[string]any{"error": msg, "status": code})
		return
	}
	if code == http.StatusUnauthorized {
		http.Redirect(w, r, "/admin/signin?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	v := s.view(r, "Error")
	v.Error = msg
	v.Status = code
	_ = s.render(w, code, "error", v)
}

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/admin/api/") }

// writeJSON marshals v before writing anything.
func writeJSON(w http.ResponseWriter, code int, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// render executes the named page into a buffer, then writes it.
func (s *Server) render(w http.ResponseWriter, code int, name string, v *view) error {
	t, ok := s.tmpl[name]
	if !ok {
		return fmt.Errorf("no template %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// clientIP is the peer address (proxy headers are not trusted: they are
// the client's to forge).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func isTLS(r *http.Request, publicURL string) bool {
	return r.TLS != nil || strings.HasPrefix(publicURL, "https://")
}

// root is the public root URL: PublicURL, or the request's scheme and host.
func (s *Server) root(r *http.Request) string {
	if s.PublicURL != "" {
		return s.PublicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// BaseURL is the SCIM connector base URL the identity providers use.
func (s *Server) BaseURL(r *http.Request) string { return s.root(r) + SCIMPath }
