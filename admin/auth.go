package admin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/scimd/scimd/scim"
)

// DefaultBcryptCost is the cost of password hashes (about 0.2 s each).
const DefaultBcryptCost = 12

// Password length bounds: bcrypt reads at most 72 bytes.
const (
	MinPassword = 12
	MaxPassword = 72
)

// AdminName is the administrator created on first start.
const AdminName = "admin"

// Cookie names. The session cookie is scoped to /admin and never sent to
// the SCIM API.
const (
	sessionCookie = "scimd_session"
	signInCookie  = "scimd_signin" // double-submit CSRF token of the sign-in form
	csrfField     = "csrf"
	csrfHeader    = "X-CSRF-Token"
)

// HashPassword returns the bcrypt hash of password at cost.
func HashPassword(password string, cost int) (string, error) {
	if err := checkPassword(password); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

func checkPassword(p string) error {
	switch {
	case len(p) < MinPassword:
		return fmt.Errorf("the password must have at least %d characters", MinPassword)
	case len(p) > MaxPassword:
		return fmt.Errorf("the password must have at most %d bytes", MaxPassword)
	}
	return nil
}

// NewPassword returns a random password of 24 characters (143 bits).
func NewPassword() string {
	var b [18]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// EnsureAdmin creates the administrator AdminName with a new random
// password if no administrator exists, and returns that password; it
// returns "" if one existed already.
func EnsureAdmin(ctx context.Context, st Store, cost int) (string, error) {
	n, err := st.CountAdmins(ctx)
	if err != nil {
		return "", err
	}
	if n > 0 {
		return "", nil
	}
	pw := NewPassword()
	h, err := HashPassword(pw, cost)
	if err != nil {
		return "", err
	}
	if err := st.CreateAdmin(ctx, &scim.Admin{Name: AdminName, PasswordHash: h}); err != nil {
		if errors.Is(err, scim.ErrConflict) { // another replica won the race
			return "", nil
		}
		return "", err
	}
	return pw, nil
}

// SetPassword sets the named administrator's password, creating the
// administrator if it does not exist, and ends its sessions.
func SetPassword(ctx context.Context, st Store, name, password string, cost int) error {
	h, err := HashPassword(password, cost)
	if err != nil {
		return err
	}
	err = st.SetAdminPassword(ctx, name, h)
	if errors.Is(err, scim.ErrNotFound) {
		return st.CreateAdmin(ctx, &scim.Admin{Name: name, PasswordHash: h})
	}
	return err
}

// dummyHash is compared against when the user name is unknown, so that
// both failures take as long.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("no such administrator, no such password"), bcrypt.MinCost)

func newSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func hashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// csrfToken is the session's synchronizer token: derived from the session
// secret (so it needs no storage), and revealing nothing about it.
func csrfToken(secret string) string {
	h := sha256.Sum256([]byte("scimd csrf\x00" + secret))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

type sessionKey struct{}

// current is the signed-in session of a request.
type current struct {
	session *scim.Session
	secret  string
	csrf    string
}

func sessionFrom(ctx context.Context) *current {
	c, _ := ctx.Value(sessionKey{}).(*current)
	return c
}

// session admits requests with a valid session cookie, puts the admin in
// the context as the audit actor, and checks the CSRF token of every
// state-changing request.
func (s *Server) session(next http.Handler, api bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := s.lookupSession(r)
		if err != nil {
			if api || r.Method != http.MethodGet {
				w.Header().Set("Cache-Control", "no-store")
			}
			s.writeError(w, r, err)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			got := r.Header.Get(csrfHeader)
			if got == "" && !api {
				got = r.PostFormValue(csrfField)
			}
			if subtle.ConstantTimeCompare([]byte(got), []byte(c.csrf)) != 1 {
				s.writeError(w, r, errForbidden("missing or wrong CSRF token: reload the page and try again"))
				return
			}
		}
		ctx := scim.WithActor(r.Context(), scim.Actor{Name: c.session.AdminName, Kind: "admin", Source: clientIP(r), RequestID: w.Header().Get("X-Request-Id")})
		ctx = context.WithValue(ctx, sessionKey{}, c)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (s *Server) lookupSession(r *http.Request) (*current, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return nil, errUnauthorized
	}
	hash := hashSecret(ck.Value)
	ss, err := s.Store.SessionByHash(r.Context(), hash)
	if errors.Is(err, scim.ErrNotFound) {
		return nil, errUnauthorized
	}
	if err != nil {
		return nil, err
	}
	now := s.Now()
	if now.Sub(ss.LastSeen) >= s.IdleTimeout || now.Sub(ss.CreatedAt) >= s.AbsoluteTimeout {
		return nil, errUnauthorized // PruneSessions deletes it later
	}
	// Record use at most once a minute: a write per page view is waste.
	if now.Sub(ss.LastSeen) >= time.Minute {
		if err := s.Store.TouchSession(r.Context(), hash, now); err != nil {
			return nil, err
		}
	}
	return &current{session: ss, secret: ck.Value, csrf: csrfToken(ck.Value)}, nil
}

// errThrottled answers a client with too many failed sign-ins.
func errThrottled() error {
	return &httpError{status: http.StatusTooManyRequests, retryAfter: int(FailureWindow / time.Second),
		msg: fmt.Sprintf("too many failed sign-ins from your address; try again in %d minutes", int(FailureWindow/time.Minute))}
}

var errBadCredentials = &httpError{status: http.StatusUnauthorized, msg: "wrong user name or password"}

// authenticate checks a sign-in and, if it succeeds, starts a new session
// (a fresh secret: a session id planted before sign-in is never adopted)
// and sets its cookie. Failures are audited and throttled per client.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, name, password string) (*current, error) {
	ctx := r.Context()
	ip := clientIP(r)
	now := s.Now()
	n, err := s.Store.CountFailedSignIns(ctx, ip, now.Add(-FailureWindow))
	if err != nil {
		return nil, err
	}
	if n >= s.MaxFailures {
		return nil, errThrottled()
	}
	a, err := s.Store.AdminByName(ctx, name)
	if err != nil && !errors.Is(err, scim.ErrNotFound) {
		return nil, err
	}
	hash := dummyHash
	if a != nil {
		hash = []byte(a.PasswordHash)
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || a == nil {
		// The typed name is recorded only if it names an administrator: a
		// password typed into the wrong box must not land in the trail.
		rec := scim.AuditRecord{Actor: "(unknown user)", ActorKind: "admin", Source: ip, RequestID: w.Header().Get("X-Request-Id"),
			Action: "admin.signin", ResourceType: "Admin", Outcome: "failure: unknown user"}
		if a != nil {
			rec.Actor, rec.ResourceID, rec.ResourceName, rec.Outcome = a.Name, a.ID, a.Name, "failure: wrong password"
		}
		if err := s.Store.RecordAudit(ctx, rec); err != nil {
			return nil, err
		}
		return nil, errBadCredentials
	}
	// End the session the request came with, if any.
	if ck, err := r.Cookie(sessionCookie); err == nil && ck.Value != "" {
		if err := s.Store.DeleteSession(ctx, hashSecret(ck.Value)); err != nil && !errors.Is(err, scim.ErrNotFound) {
			return nil, err
		}
	}
	secret := newSecret()
	ss := &scim.Session{Hash: hashSecret(secret), AdminID: a.ID, CreatedAt: now, LastSeen: now}
	actx := scim.WithActor(ctx, scim.Actor{Name: a.Name, Kind: "admin", Source: ip, RequestID: w.Header().Get("X-Request-Id")})
	if err := s.Store.CreateSession(actx, ss); err != nil {
		return nil, err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: secret, Path: "/admin", HttpOnly: true,
		Secure: isTLS(r, s.PublicURL), SameSite: http.SameSiteStrictMode, MaxAge: int(s.AbsoluteTimeout / time.Second)})
	return &current{session: ss, secret: secret, csrf: csrfToken(secret)}, nil
}

func (s *Server) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/admin", HttpOnly: true,
		Secure: isTLS(r, s.PublicURL), SameSite: http.SameSiteStrictMode, MaxAge: -1})
}

// signInPage shows the sign-in form with a fresh double-submit token.
func (s *Server) signInPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderSignIn(w, r, http.StatusOK, "")
}

func (s *Server) renderSignIn(w http.ResponseWriter, r *http.Request, code int, msg string) error {
	tok := newSecret()
	http.SetCookie(w, &http.Cookie{Name: signInCookie, Value: tok, Path: "/admin/signin", HttpOnly: true,
		Secure: isTLS(r, s.PublicURL), SameSite: http.SameSiteStrictMode})
	v := s.view(r, "Sign in")
	v.CSRF = tok
	v.Error = msg
	v.Next = safeNext(r.FormValue("next"))
	if code == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", fmt.Sprint(int(FailureWindow/time.Second)))
	}
	return s.render(w, code, "signin", v)
}

// safeNext keeps a post-sign-in redirect inside the console.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || next == "" || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, "/admin/") ||
		strings.HasPrefix(next, "//") || strings.Contains(next, `\`) || strings.HasPrefix(u.Path, "/admin/signin") {
		return "/admin/"
	}
	return u.RequestURI()
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) error {
	ck, err := r.Cookie(signInCookie)
	if err != nil || ck.Value == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(r.PostFormValue(csrfField))) != 1 {
		return s.renderSignIn(w, r, http.StatusForbidden, "The sign-in form expired. Please try again.")
	}
	_, err = s.authenticate(w, r, strings.TrimSpace(r.PostFormValue("username")), r.PostFormValue("password"))
	if err != nil {
		code, msg, internal := status(err)
		if internal {
			return err
		}
		return s.renderSignIn(w, r, code, msg)
	}
	http.SetCookie(w, &http.Cookie{Name: signInCookie, Path: "/admin/signin", MaxAge: -1})
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
	return nil
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) error {
	c := sessionFrom(r.Context())
	if err := s.Store.DeleteSession(r.Context(), c.session.Hash); err != nil && !errors.Is(err, scim.ErrNotFound) {
		return err
	}
	s.clearSessionCookie(w, r)
	http.Redirect(w, r, "/admin/signin", http.StatusSeeOther)
	return nil
}

// apiSignIn: POST /admin/api/session {"username", "password"} → the CSRF
// token to send as X-CSRF-Token, and the session cookie. The JSON
// content type makes a cross-site form post impossible.
func (s *Server) apiSignIn(w http.ResponseWriter, r *http.Request) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return &httpError{status: http.StatusUnsupportedMediaType, msg: "send the credentials as application/json"}
	}
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		return errBadRequest("bad JSON body: expected {\"username\": …, \"password\": …}")
	}
	c, err := s.authenticate(w, r, strings.TrimSpace(in.Username), in.Password)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sessionJSON(c, s.AbsoluteTimeout, s.IdleTimeout))
}

func sessionJSON(c *current, abs, idle time.Duration) map[string]any {
	return map[string]any{
		"username":    c.session.AdminName,
		"csrfToken":   c.csrf,
		"createdAt":   scim.FormatTime(c.session.CreatedAt),
		"expiresAt":   scim.FormatTime(c.session.CreatedAt.Add(abs)),
		"idleTimeout": idle.String(),
	}
}

func (s *Server) apiSession(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, sessionJSON(sessionFrom(r.Context()), s.AbsoluteTimeout, s.IdleTimeout))
}

func (s *Server) apiSignOut(w http.ResponseWriter, r *http.Request) error {
	c := sessionFrom(r.Context())
	if err := s.Store.DeleteSession(r.Context(), c.session.Hash); err != nil && !errors.Is(err, scim.ErrNotFound) {
		return err
	}
	s.clearSessionCookie(w, r)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
