// Package api serves the SCIM 2.0 protocol (RFC 7644) over HTTP: routing,
// bearer-token authentication, request parsing, and the one place where
// errors become SCIM error responses.
package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scimd/scimd/scim"
	"github.com/scimd/scimd/scim/schema"
)

// The base paths SCIM is served under: JFrog Access's, so that Okta and
// Entra apps made for JFrog work unchanged, and the conventional one.
var Prefixes = []string{"/access/api/v1/scim/v2", "/scim/v2"}

// Limits.
const (
	// DefaultMaxBody is the largest request body accepted (413 above it):
	// room for a PUT of a group with 100,000 members.
	DefaultMaxBody = 32 << 20
	// DefaultCount is the page size when a list request names none.
	DefaultCount = 100
	// MaxCount is the largest page served; larger counts are clamped to it
	// (advertised as filter.maxResults).
	MaxCount = 1000
)

// MediaType is the media type of every SCIM response.
const MediaType = "application/scim+json; charset=utf-8"

// Server is the SCIM HTTP API.
type Server struct {
	Store scim.Store
	// PublicURL is how clients reach scimd (scheme://host[:port][/path]),
	// used for meta.location and $ref; empty derives it from each request.
	PublicURL string
	Logger    *slog.Logger
	Now       func() time.Time
	MaxBody   int64
	// Audit, if set, records failed SCIM writes (see auditFailure).
	Audit AuditRecorder

	touchMu sync.Mutex
	touched map[string]time.Time // token id → last use, flushed in batches
}

// New returns a Server with defaults filled in.
func New(store scim.Store, publicURL string, logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.Default()
	}
	return &Server{Store: store, PublicURL: strings.TrimRight(publicURL, "/"), Logger: logger, Now: time.Now,
		MaxBody: DefaultMaxBody, touched: map[string]time.Time{}}
}

// handlerFunc is a handler that returns its error for handle to write.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// Routes registers the SCIM endpoints on mux, under every prefix.
func (s *Server) Routes(mux *http.ServeMux) {
	for _, p := range Prefixes {
		auth := func(h handlerFunc) http.Handler { return s.authenticate(s.handle(h)) }
		routes := []struct {
			pattern string
			h       handlerFunc
		}{
			{"GET " + p + "/Users", s.list(schema.UserType)},
			{"POST " + p + "/Users", s.create(schema.UserType)},
			{"POST " + p + "/Users/.search", s.search(schema.UserType)},
			{"GET " + p + "/Users/{id}", s.get(schema.UserType)},
			{"PUT " + p + "/Users/{id}", s.replace(schema.UserType)},
			{"PATCH " + p + "/Users/{id}", s.patch(schema.UserType)},
			{"DELETE " + p + "/Users/{id}", s.delete(schema.UserType)},

			{"GET " + p + "/Groups", s.list(schema.GroupType)},
			{"POST " + p + "/Groups", s.create(schema.GroupType)},
			{"POST " + p + "/Groups/.search", s.search(schema.GroupType)},
			{"GET " + p + "/Groups/{id}", s.get(schema.GroupType)},
			{"PUT " + p + "/Groups/{id}", s.replace(schema.GroupType)},
			{"PATCH " + p + "/Groups/{id}", s.patch(schema.GroupType)},
			{"DELETE " + p + "/Groups/{id}", s.delete(schema.GroupType)},

			{"POST " + p + "/.search", s.searchAll},

			{"GET " + p + "/ServiceProviderConfig", s.serviceProviderConfig},
			{"GET " + p + "/ServiceProviderConfigs", s.serviceProviderConfig}, // JFrog's spelling
			{"GET " + p + "/ResourceTypes", s.resourceTypes},
			{"GET " + p + "/ResourceTypes/{id}", s.resourceType},
			{"GET " + p + "/Schemas", s.schemas},
			{"GET " + p + "/Schemas/{id}", s.schema},

			{p + "/Me", notImplemented("/Me: scimd has no notion of the authenticated subject; tokens belong to identity providers, not users")},
			{p + "/Bulk", notImplemented("/Bulk is not supported (ServiceProviderConfig advertises bulk.supported false)")},
		}
		for _, rt := range routes {
			mux.Handle(rt.pattern, auth(rt.h))
		}
		// Any other method on a known path: 405 with a SCIM body; any
		// other path under the prefix: 404 with a SCIM body.
		for _, path := range []string{"/Users", "/Users/{id}", "/Groups", "/Groups/{id}", "/.search",
			"/ServiceProviderConfig", "/ServiceProviderConfigs", "/ResourceTypes", "/ResourceTypes/{id}", "/Schemas", "/Schemas/{id}"} {
			mux.Handle(p+path, auth(methodNotAllowed))
		}
		mux.Handle(p+"/", auth(func(w http.ResponseWriter, r *http.Request) error {
			return scim.Errorf(http.StatusNotFound, "", "no SCIM endpoint at %s", r.URL.Path)
		}))
	}
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request) error {
	return scim.Errorf(http.StatusMethodNotAllowed, "", "method %s is not allowed on %s", r.Method, r.URL.Path)
}

func notImplemented(detail string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		return scim.Errorf(http.StatusNotImplemented, "", "%s", detail)
	}
}

// handle adapts a handlerFunc: its error becomes a SCIM error response.
func (s *Server) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
			s.auditFailure(r, err)
		}
	})
}

// errorStatus maps an error to its status, scimType and detail. It is the
// one place where store and protocol errors meet HTTP.
func errorStatus(err error) (status int, scimType, detail string, internal bool) {
	var se *scim.Error
	var ve *schema.Error
	var mb *http.MaxBytesError
	switch {
	case errors.As(err, &se):
		return se.Status, se.ScimType, se.Detail, false
	case errors.As(err, &ve):
		return http.StatusBadRequest, ve.ScimType, ve.Detail, false
	case errors.As(err, &mb):
		return http.StatusRequestEntityTooLarge, "", fmt.Sprintf("request body is larger than the limit of %d bytes", mb.Limit), false
	case errors.Is(err, scim.ErrNotFound):
		return http.StatusNotFound, "", "resource not found: " + strings.TrimSuffix(err.Error(), ": "+scim.ErrNotFound.Error()), false
	case errors.Is(err, scim.ErrConflict):
		return http.StatusConflict, "uniqueness", "already exists (names are unique case-insensitively): " + strings.TrimSuffix(err.Error(), ": "+scim.ErrConflict.Error()), false
	case errors.Is(err, scim.ErrPrecondition):
		return http.StatusPreconditionFailed, "", "the resource has changed (If-Match does not match its current version): " + strings.TrimSuffix(err.Error(), ": "+scim.ErrPrecondition.Error()), false
	case errors.Is(err, scim.ErrUnavailable):
		return http.StatusServiceUnavailable, "", "the database is unavailable; retry later", true
	case errors.Is(err, context.Canceled):
		return 499, "", "request canceled", false
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "", "the request timed out; retry later", true
	}
	return http.StatusInternalServerError, "", "internal error; see the server log for request id", true
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, scimType, detail, internal := errorStatus(err)
	if internal {
		s.Logger.Error("request failed", "request_id", requestID(r.Context()), "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
		if status == http.StatusInternalServerError {
			detail = "internal error; see the server log for request id " + requestID(r.Context())
		}
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="scimd"`)
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	if status == 499 { // the client is gone; nothing to write
		return
	}
	body := schema.Object{{Key: "schemas", Value: []string{"urn:ietf:params:scim:api:messages:2.0:Error"}}}
	if scimType != "" {
		body = append(body, schema.Field{Key: "scimType", Value: scimType})
	}
	body = append(body, schema.Field{Key: "detail", Value: detail}, schema.Field{Key: "status", Value: strconv.Itoa(status)})
	_ = writeJSON(w, status, body)
}

// writeJSON marshals v before writing anything, so that a marshal failure
// cannot become a half-written success.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	w.Header().Set("Content-Type", MediaType)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return nil
}

type ctxKey int

const requestIDKey ctxKey = iota

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// Middleware wraps the whole server: request ids, panic recovery, access
// log. It never logs headers or query strings (tokens, personal data).
func (s *Server) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.Now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey, id))
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.Logger.Error("panic", "request_id", id, "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(p))
				if rec.status == 0 {
					s.writeError(rec, r, fmt.Errorf("panic: %v", p))
				}
			}
			s.Logger.Info("request", "request_id", id, "method", r.Method, "path", r.URL.Path, "status", rec.status,
				"duration_ms", float64(s.Now().Sub(start).Microseconds())/1000, "remote", clientIP(r))
		}()
		next.ServeHTTP(rec, r)
	})
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// clientIP is the peer address of the request (proxies' headers are not
// trusted: they are the client's to forge).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// baseURL is the SCIM base URL of the request: PublicURL (or the request's
// scheme and host) plus the prefix the request came in on.
func (s *Server) baseURL(r *http.Request) string {
	prefix := Prefixes[0]
	for _, p := range Prefixes {
		if strings.HasPrefix(r.URL.Path, p+"/") || r.URL.Path == p {
			prefix = p
			break
		}
	}
	root := s.PublicURL
	if root == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		root = scheme + "://" + r.Host
	}
	return root + prefix
}
