package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/bcrypt"

	"github.com/scimd/scimd/admin"
	"github.com/scimd/scimd/scim"
	"github.com/scimd/scimd/scim/schema"
	"github.com/scimd/scimd/sqlstore"
)

const password = "correct horse battery staple"

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	t     *testing.T
	st    *sqlstore.Store
	srv   *admin.Server
	url   string
	clock *clock
	logs  *bytes.Buffer
}

// newEnv serves the console over real HTTP on a real SQLite store.
func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWrapped(t, nil)
}

// newEnvWrapped is newEnv with the console's store wrapped by wrap (for
// fault injection), if wrap is not nil.
func newEnvWrapped(t *testing.T, wrap func(admin.Store) admin.Store) *env {
	t.Helper()
	c := &clock{t: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	st, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "scimd.db"), sqlstore.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	logs := &bytes.Buffer{}
	var ast admin.Store = st
	if wrap != nil {
		ast = wrap(st)
	}
	srv := admin.New(ast, "", slog.New(slog.NewTextHandler(logs, nil)))
	srv.Now = c.Now
	srv.BcryptCost = bcrypt.MinCost
	if err := admin.SetPassword(context.Background(), st, admin.AdminName, password, bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	srv.Routes(mux)
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	return &env{t: t, st: st, srv: srv, url: hs.URL, clock: c, logs: logs}
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects.
type browser struct {
	t   *testing.T
	c   *http.Client
	url string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, url: e.url, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(method, path string, body io.Reader, hdr map[string]string) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequest(method, b.url+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res, string(out)
}

func (b *browser) get(path string) (*http.Response, string) { return b.do("GET", path, nil, nil) }

func (b *browser) post(path string, form url.Values, hdr map[string]string) (*http.Response, string) {
	if hdr == nil {
		hdr = map[string]string{}
	}
	hdr["Content-Type"] = "application/x-www-form-urlencoded"
	return b.do("POST", path, strings.NewReader(form.Encode()), hdr)
}

var hiddenCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := hiddenCSRF.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field in page:\n%s", page)
	}
	return m[1]
}

// signIn signs in through the form and returns the response.
func (b *browser) signIn(user, pw string) *http.Response {
	b.t.Helper()
	_, page := b.get("/admin/signin")
	res, _ := b.post("/admin/signin", url.Values{"csrf": {csrfOf(b.t, page)}, "username": {user}, "password": {pw}, "next": {"/admin/"}}, nil)
	return res
}

func (b *browser) mustSignIn() {
	b.t.Helper()
	if res := b.signIn(admin.AdminName, password); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/" {
		b.t.Fatalf("sign-in: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
}

func (b *browser) cookie(name string) *http.Cookie {
	u, _ := url.Parse(b.url + "/admin/")
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestSignIn(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	res, _ := b.get("/admin/")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/admin/signin") {
		t.Fatalf("signed out /admin/: %d %s, want 303 to the sign-in page", res.StatusCode, res.Header.Get("Location"))
	}
	if res := b.signIn("admin", "wrong password!"); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d, want 401", res.StatusCode)
	}
	if b.cookie("scimd_session") != nil {
		t.Fatal("a failed sign-in set a session cookie")
	}
	_, page := b.get("/admin/signin")
	res, _ = b.post("/admin/signin", url.Values{"csrf": {csrfOf(t, page)}, "username": {"admin"}, "password": {password}}, nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", res.StatusCode)
	}
	var sc *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "scimd_session" {
			sc = c
		}
	}
	if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteStrictMode || sc.Path != "/admin" || sc.Secure {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/admin, not Secure over plain HTTP", sc)
	}
	if res, body := b.get("/admin/"); res.StatusCode != 200 || !strings.Contains(body, e.url+"/access/api/v1/scim/v2") {
		t.Fatalf("home: %d, base URL missing", res.StatusCode)
	}

	// Sign out ends the session on the server, not just in the browser.
	_, page = b.get("/admin/")
	if res, _ := b.post("/admin/signout", url.Values{"csrf": {csrfOf(t, page)}}, nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", res.StatusCode)
	}
	replay := e.browser()
	u, _ := url.Parse(e.url + "/admin/")
	replay.c.Jar.SetCookies(u, []*http.Cookie{{Name: "scimd_session", Value: sc.Value}})
	if res, _ := replay.get("/admin/"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("the signed-out session still opens the console: %d", res.StatusCode)
	}

	recs, err := e.st.ListAudit(context.Background(), scim.AuditQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, r.Action+" "+r.Actor+" "+r.Outcome)
	}
	want := []string{"admin.signout admin success", "admin.signin admin success", "admin.signin admin failure: wrong password"}
	if len(got) < 3 || strings.Join(got[:3], "|") != strings.Join(want, "|") {
		t.Fatalf("audit trail:\n%s\nwant first:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestSessionFixation(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	u, _ := url.Parse(e.url + "/admin/")
	planted := "attacker-chosen-session-id"
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "scimd_session", Value: planted, Path: "/admin"}})
	b.mustSignIn()
	got := b.cookie("scimd_session")
	if got == nil || got.Value == planted {
		t.Fatalf("the session id was not renewed at sign-in: %v", got)
	}
	// Signing in again replaces the session: the old id stops working.
	first := got.Value
	b.mustSignIn()
	if b.cookie("scimd_session").Value == first {
		t.Fatal("a second sign-in kept the session id")
	}
	old := e.browser()
	old.c.Jar.SetCookies(u, []*http.Cookie{{Name: "scimd_session", Value: first}})
	if res, _ := old.get("/admin/"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("the replaced session still works: %d", res.StatusCode)
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.mustSignIn()
	_, page := b.get("/admin/")
	tok := csrfOf(t, page)
	for _, tc := range []struct {
		name string
		form url.Values
		hdr  map[string]string
	}{
		{"no token", url.Values{"name": {"evil"}}, nil},
		{"wrong token", url.Values{"name": {"evil"}, "csrf": {"x" + tok}}, nil},
		{"cross-site with the right token", url.Values{"name": {"evil"}, "csrf": {tok}}, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}},
		{"foreign origin", url.Values{"name": {"evil"}, "csrf": {tok}}, map[string]string{"Origin": "https://evil.example"}},
	} {
		res, _ := b.post("/admin/tokens", tc.form, tc.hdr)
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", tc.name, res.StatusCode)
		}
	}
	ts, _ := e.st.ListTokens(context.Background())
	if len(ts) != 0 {
		t.Fatalf("a refused request created a token: %+v", ts[0])
	}
	// The sign-in form needs its own token too (login CSRF).
	res, _ := e.browser().post("/admin/signin", url.Values{"username": {"admin"}, "password": {password}}, nil)
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("sign-in without the form token: %d, want 403", res.StatusCode)
	}
	// Same-site with the token works.
	res, body := b.post("/admin/tokens", url.Values{"name": {"okta"}, "csrf": {tok}, "expires": {"never"}}, map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": e.url})
	if res.StatusCode != http.StatusCreated || !strings.Contains(body, scim.TokenPrefix) {
		t.Fatalf("generate token: %d", res.StatusCode)
	}
	// The JSON API wants the header.
	res, _ = b.do("POST", "/admin/api/tokens", strings.NewReader(`{"name":"x"}`), map[string]string{"Content-Type": "application/json"})
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("JSON API without X-CSRF-Token: %d, want 403", res.StatusCode)
	}
}

func TestThrottle(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	for i := 0; i < admin.DefaultMaxFailures; i++ {
		if res := b.signIn("admin", "not the password"); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, res.StatusCode)
		}
	}
	res := b.signIn("admin", password)
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Fatalf("after %d failures, the right password got %d (Retry-After %q), want 429", admin.DefaultMaxFailures, res.StatusCode, res.Header.Get("Retry-After"))
	}
	// JSON sign-in is throttled alike.
	r2, _ := b.do("POST", "/admin/api/session", strings.NewReader(`{"username":"admin","password":"`+password+`"}`), map[string]string{"Content-Type": "application/json"})
	if r2.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("JSON sign-in: %d, want 429", r2.StatusCode)
	}
	e.clock.Add(admin.FailureWindow + time.Second)
	b.mustSignIn()
}

func TestTimeouts(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.mustSignIn()
	e.clock.Add(admin.DefaultIdleTimeout - time.Minute)
	if res, _ := b.get("/admin/"); res.StatusCode != 200 {
		t.Fatalf("before the idle timeout: %d", res.StatusCode)
	}
	e.clock.Add(admin.DefaultIdleTimeout - time.Minute) // used a moment ago: still fine
	if res, _ := b.get("/admin/"); res.StatusCode != 200 {
		t.Fatalf("active session within the idle timeout: %d", res.StatusCode)
	}
	e.clock.Add(admin.DefaultIdleTimeout)
	if res, _ := b.get("/admin/"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the idle timeout: %d, want 303 to sign-in", res.StatusCode)
	}
	// Absolute: kept busy, it still ends.
	b.mustSignIn()
	for elapsed := time.Duration(0); elapsed < admin.DefaultAbsoluteTimeout-20*time.Minute; elapsed += 20 * time.Minute {
		e.clock.Add(20 * time.Minute)
		if res, _ := b.get("/admin/audit"); res.StatusCode != 200 {
			t.Fatalf("busy session at %s: %d", elapsed, res.StatusCode)
		}
	}
	e.clock.Add(40 * time.Minute)
	if res, _ := b.get("/admin/audit"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the absolute timeout: %d, want 303", res.StatusCode)
	}
	// Pruning removes expired sessions from the database.
	if err := e.srv.Prune(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.mustSignIn()
	u := mustCreate(t, e.st, schema.UserType, map[string]any{"userName": "bob"})
	g := mustCreate(t, e.st, schema.GroupType, map[string]any{"displayName": "eng"})
	inline := regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>[^<]|<style|\sstyle=|\son[a-z]+=|javascript:`)
	for _, p := range []string{"/admin/signin", "/admin/", "/admin/users", "/admin/groups", "/admin/users/" + u.ID, "/admin/groups/" + g.ID, "/admin/audit", "/admin/api/tokens", "/admin/nope"} {
		res, body := b.get(p)
		h := res.Header
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", p, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("%s: CSP allows unsafe code: %q", p, csp)
		}
		if h.Get("X-Frame-Options") != "DENY" || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: headers %v", p, h)
		}
		if h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", p, h.Get("Cache-Control"))
		}
		if m := inline.FindString(body); m != "" {
			t.Errorf("%s: inline script or style %q (the CSP would block it)", p, m)
		}
	}
}

func mustCreate(t *testing.T, st *sqlstore.Store, rt *schema.ResourceType, attrs map[string]any) *scim.Resource {
	t.Helper()
	r, err := st.Create(context.Background(), &scim.Resource{Type: rt, Attrs: attrs})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestXSSInert(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.mustSignIn()
	evil := `<script>alert(1)</script>`
	ctx := scim.WithActor(context.Background(), scim.Actor{Name: `"><img src=x onerror=alert(2)>`, Kind: "token"})
	u, err := e.st.Create(ctx, &scim.Resource{Type: schema.UserType, Attrs: map[string]any{"userName": evil, "displayName": `"><svg onload=alert(3)>`,
		"emails": []any{map[string]any{"value": `x@y.z"><script>alert(4)</script>`, "type": "work"}}}})
	if err != nil {
		t.Fatal(err)
	}
	g, err := e.st.Create(ctx, &scim.Resource{Type: schema.GroupType, Attrs: map[string]any{"displayName": evil + "g"},
		Members: []scim.Member{{Value: u.ID}}, MembersLoaded: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/admin/users", "/admin/users?q=" + url.QueryEscape("<script>"), "/admin/users/" + u.ID, "/admin/groups", "/admin/groups/" + g.ID, "/admin/audit",
		"/admin/audit?actor=" + url.QueryEscape(evil), "/admin/users?q=" + url.QueryEscape(`"><script>alert(5)</script>`)} {
		res, body := b.get(p)
		if res.StatusCode != 200 {
			t.Errorf("%s: %d", p, res.StatusCode)
		}
		for _, bad := range []string{"<script>alert", "<img src=x", "<svg onload"} {
			if strings.Contains(body, bad) {
				t.Errorf("%s: unescaped %q in page", p, bad)
			}
		}
	}
	if _, body := b.get("/admin/users/" + u.ID); !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the user page does not show the escaped userName")
	}
}

// apiClient signs in through the JSON API, as a script would.
func apiSignIn(t *testing.T, b *browser) string {
	t.Helper()
	res, body := b.do("POST", "/admin/api/session", strings.NewReader(`{"username":"admin","password":"`+password+`"}`), map[string]string{"Content-Type": "application/json"})
	if res.StatusCode != 200 {
		t.Fatalf("API sign-in: %d %s", res.StatusCode, body)
	}
	var s struct{ CsrfToken string }
	if err := json.Unmarshal([]byte(body), &s); err != nil || s.CsrfToken == "" {
		t.Fatalf("API sign-in body %s: %v", body, err)
	}
	return s.CsrfToken
}

func TestJSONAPITokenRotationAndAudit(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	csrf := apiSignIn(t, b)
	h := map[string]string{"Content-Type": "application/json", "X-CSRF-Token": csrf}
	res, body := b.do("POST", "/admin/api/tokens", strings.NewReader(`{"name":"okta","expiresIn":"90d"}`), h)
	if res.StatusCode != 201 {
		t.Fatalf("create token: %d %s", res.StatusCode, body)
	}
	var created struct {
		Secret string
		Token  struct{ ID, Name, State, ExpiresAt string }
	}
	if err := json.Unmarshal([]byte(body), &created); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(created.Secret, scim.TokenPrefix) || created.Token.State != "active" || created.Token.ExpiresAt != "2026-08-30T12:00:00.000Z" {
		t.Fatalf("created %+v", created)
	}
	if got, _ := e.st.TokenByHash(context.Background(), scim.HashToken(created.Secret)); got == nil || got.Name != "okta" {
		t.Fatal("the returned secret is not the stored token's")
	}
	if res, _ := b.do("POST", "/admin/api/tokens", strings.NewReader(`{"name":"okta"}`), h); res.StatusCode != http.StatusConflict {
		t.Fatalf("second active okta: %d, want 409", res.StatusCode)
	}
	if res, body := b.do("POST", "/admin/api/tokens/"+created.Token.ID+"/revoke", nil, h); res.StatusCode != 200 || !strings.Contains(body, `"revoked"`) {
		t.Fatalf("revoke: %d %s", res.StatusCode, body)
	}
	_, list := b.get("/admin/api/tokens")
	if strings.Contains(list, created.Secret) || strings.Contains(list, "hash") {
		t.Fatalf("token list shows secrets: %s", list)
	}
	res, body = b.get("/admin/api/audit?action=token.create&actor=ADM")
	var audit struct {
		Records []struct{ Action, Actor, ResourceName, Outcome string }
	}
	if err := json.Unmarshal([]byte(body), &audit); err != nil || res.StatusCode != 200 {
		t.Fatalf("audit: %d %s", res.StatusCode, body)
	}
	if len(audit.Records) != 1 || audit.Records[0].ResourceName != "okta" || audit.Records[0].Actor != "admin" {
		t.Fatalf("audit records %+v, want the one token.create by admin", audit.Records)
	}
	if res, _ := b.get("/admin/api/audit?since=yesterday"); res.StatusCode != 400 {
		t.Fatalf("bad since: %d, want 400", res.StatusCode)
	}
	// Sign out through the API; the CSRF token then opens nothing.
	if res, _ := b.do("DELETE", "/admin/api/session", nil, h); res.StatusCode != http.StatusNoContent {
		t.Fatalf("sign-out: %d", res.StatusCode)
	}
	if res, _ := b.get("/admin/api/tokens"); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("after sign-out: %d, want 401", res.StatusCode)
	}
}

func TestBearerTokenDoesNotOpenConsole(t *testing.T) {
	e := newEnv(t)
	secret, hash := scim.NewTokenSecret()
	if err := e.st.CreateToken(context.Background(), &scim.Token{Name: "okta", Hash: hash}); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	for _, p := range []string{"/admin/api/tokens", "/admin/api/audit", "/admin/api/session"} {
		res, _ := b.do("GET", p, nil, map[string]string{"Authorization": "Bearer " + secret})
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s with a SCIM bearer token: %d, want 401", p, res.StatusCode)
		}
	}
	u, _ := url.Parse(e.url + "/admin/")
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "scimd_session", Value: secret}})
	if res, _ := b.get("/admin/api/tokens"); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("SCIM token as a session cookie: %d, want 401", res.StatusCode)
	}
}

func TestNoSecretsInAuditOrLogs(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn("admin", "a wrong password that is secret")
	b.signIn("a password typed as user name", "x")
	b.mustSignIn()
	_, page := b.get("/admin/")
	_, body := b.post("/admin/tokens", url.Values{"name": {"okta"}, "csrf": {csrfOf(t, page)}}, nil)
	secret := regexp.MustCompile(scim.TokenPrefix + `[A-Za-z0-9_-]{43}`).FindString(body)
	if secret == "" {
		t.Fatal("no token shown after generating one")
	}
	if _, again := b.get("/admin/"); strings.Contains(again, secret) {
		t.Fatal("the token is shown a second time")
	}
	sess := b.cookie("scimd_session").Value
	recs, err := e.st.ListAudit(context.Background(), scim.AuditQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	dump, _ := json.Marshal(recs)
	for _, s := range []string{password, "a wrong password that is secret", "a password typed as user name", secret, sess} {
		if strings.Contains(string(dump), s) || strings.Contains(e.logs.String(), s) {
			t.Errorf("secret %q found in the audit trail or log", s)
		}
	}
	if !strings.Contains(string(dump), "(unknown user)") {
		t.Errorf("the failure for an unknown user is not recorded: %s", dump)
	}
}

func TestDirectory(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.mustSignIn()
	var members []scim.Member
	for _, n := range []string{"carol", "alice", "bob", "dave", "erin"} {
		u := mustCreate(t, e.st, schema.UserType, map[string]any{"userName": n + "@example.com", "active": n != "bob"})
		members = append(members, scim.Member{Value: u.ID})
		e.clock.Add(time.Second)
	}
	for i := 0; i < 30; i++ {
		u := mustCreate(t, e.st, schema.UserType, map[string]any{"userName": "user" + string(rune('a'+i%26)) + string(rune('a'+i/26))})
		members = append(members, scim.Member{Value: u.ID})
	}
	g, err := e.st.Create(context.Background(), &scim.Resource{Type: schema.GroupType, Attrs: map[string]any{"displayName": "Everyone"}, Members: members, MembersLoaded: true})
	if err != nil {
		t.Fatal(err)
	}
	order := regexp.MustCompile(`<th scope="row"><a href="/admin/users/[^"]+">([^<]+)</a>`)
	names := func(body string) []string {
		var out []string
		for _, m := range order.FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	_, body := b.get("/admin/users?q=EXAMPLE.com")
	if got := strings.Join(names(body), ","); got != "alice@example.com,bob@example.com,carol@example.com,dave@example.com,erin@example.com" {
		t.Errorf("name search sorted by name: %s", got)
	}
	_, body = b.get("/admin/users?q=example&sort=created&order=desc")
	if got := strings.Join(names(body), ","); got != "erin@example.com,dave@example.com,bob@example.com,alice@example.com,carol@example.com" {
		t.Errorf("newest first: %s", got)
	}
	_, body = b.get("/admin/users?q=" + url.QueryEscape(`userName eq "ALICE@example.com"`))
	if got := strings.Join(names(body), ","); got != "alice@example.com" || !strings.Contains(body, "SCIM filter") {
		t.Errorf("SCIM filter: %s", got)
	}
	_, body = b.get("/admin/users?sort=created&order=desc&q=" + url.QueryEscape(`userName ew "example.com"`))
	if got := strings.Join(names(body), ","); got != "erin@example.com,dave@example.com,bob@example.com,alice@example.com,carol@example.com" {
		t.Errorf("SCIM filter, newest first: %s", got)
	}
	_, body = b.get("/admin/users?q=" + url.QueryEscape(`userName ew "example.com" and active eq true`))
	if got := strings.Join(names(body), ","); got != "alice@example.com,carol@example.com,dave@example.com,erin@example.com" {
		t.Errorf("SCIM filter sorted by name: %s", got)
	}
	if res, body := b.get("/admin/users?q=" + url.QueryEscape(`userName eq`)); res.StatusCode != 400 || !strings.Contains(body, "not a valid SCIM filter") {
		t.Errorf("bad filter: %d", res.StatusCode)
	}
	_, body = b.get("/admin/users")
	if !strings.Contains(body, "1–25 of 35") || len(names(body)) != admin.PageSize || !strings.Contains(body, `rel="next"`) {
		t.Errorf("first page of 35: %v", names(body))
	}
	_, body = b.get("/admin/users?start=26")
	if !strings.Contains(body, "26–35 of 35") || len(names(body)) != 10 || strings.Contains(body, `rel="next"`) {
		t.Errorf("last page: %v", names(body))
	}
	_, body = b.get("/admin/groups/" + g.ID)
	if !strings.Contains(body, "1–25 of 35") || strings.Count(body, `<th scope="row"><a href="/admin/users/`) != admin.PageSize {
		t.Errorf("group page must page its members")
	}
	_, body = b.get("/admin/users/" + members[0].Value)
	if !strings.Contains(body, "Everyone") || !strings.Contains(body, "<code>create</code>") {
		t.Errorf("user page lacks its group or history")
	}
	if res, _ := b.get("/admin/users/nope"); res.StatusCode != 404 {
		t.Errorf("unknown user: %d", res.StatusCode)
	}
}

func TestPruneAudit(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.st.RecordAudit(ctx, scim.AuditRecord{Action: "old"}); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(91 * 24 * time.Hour)
	if err := e.st.RecordAudit(ctx, scim.AuditRecord{Action: "new"}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Prune(ctx, 90*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	recs, _ := e.st.ListAudit(ctx, scim.AuditQuery{})
	var got []string
	for _, r := range recs {
		got = append(got, r.Action)
	}
	if strings.Join(got, ",") != "new" {
		t.Fatalf("after pruning: %v, want only the new record", got)
	}
}

// userJSON and groupJSON are the shapes of GET /admin/api/users/{id} and
// GET /admin/api/groups/{id}.
type userJSON struct {
	ID, UserName, DisplayName, ExternalID, Created, LastModified, Version string
	Active                                                                bool
	Attributes                                                            map[string]any
	Groups                                                                []struct{ Value, Display, Type string }
	History                                                               []struct{ Action, ResourceID string }
}

type groupJSON struct {
	ID, DisplayName, Version string
	Attributes               map[string]any
	Members                  struct {
		TotalResults, StartIndex, ItemsPerPage int
		Resources                              []struct{ Value, Type, Display string }
		Next                                   string
	}
	History []struct{ Action string }
}

// getJSON GETs path, wants status code and a JSON body, and decodes it
// into v (if not nil).
func (b *browser) getJSON(path string, code int, v any) string {
	b.t.Helper()
	res, body := b.get(path)
	if res.StatusCode != code || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		b.t.Fatalf("GET %s: %d %s %s, want %d JSON", path, res.StatusCode, res.Header.Get("Content-Type"), body, code)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(body), v); err != nil {
			b.t.Fatalf("GET %s: %v in %s", path, err, body)
		}
	}
	return body
}

func TestJSONAPIUser(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice := mustCreate(t, e.st, schema.UserType, map[string]any{"userName": "alice@example.com", "displayName": "Alice", "active": false,
		"emails": []any{map[string]any{"value": "alice@example.com", "type": "work", "primary": true}}})
	eng, err := e.st.Create(ctx, &scim.Resource{Type: schema.GroupType, Attrs: map[string]any{"displayName": "eng"},
		Members: []scim.Member{{Value: alice.ID, Type: "User"}}, MembersLoaded: true})
	if err != nil {
		t.Fatal(err)
	}
	all, err := e.st.Create(ctx, &scim.Resource{Type: schema.GroupType, Attrs: map[string]any{"displayName": "all"},
		Members: []scim.Member{{Value: eng.ID, Type: "Group"}}, MembersLoaded: true})
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	apiSignIn(t, b)

	var u userJSON
	b.getJSON("/admin/api/users/"+alice.ID, 200, &u)
	if u.ID != alice.ID || u.UserName != "alice@example.com" || u.DisplayName != "Alice" || u.Active || u.Version != `W/"1"` ||
		u.Created != "2026-06-01T12:00:00.000Z" {
		t.Errorf("user %+v", u)
	}
	wantEmails := []any{map[string]any{"value": "alice@example.com", "type": "work", "primary": true}}
	if diff := cmp.Diff(wantEmails, u.Attributes["emails"]); diff != "" || u.Attributes["userName"] != "alice@example.com" {
		t.Errorf("attributes %v (emails -want +got):\n%s", u.Attributes, diff)
	}
	wantGroups := []struct{ Value, Display, Type string }{{all.ID, "all", "indirect"}, {eng.ID, "eng", "direct"}}
	slices.SortFunc(u.Groups, func(a, b struct{ Value, Display, Type string }) int { return strings.Compare(a.Display, b.Display) })
	if diff := cmp.Diff(wantGroups, u.Groups); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	if len(u.History) == 0 || u.History[len(u.History)-1].Action != "create" || u.History[0].ResourceID != alice.ID {
		t.Errorf("history %+v, want the create last", u.History)
	}

	// Resolved like the page: by userName too, case-insensitively.
	var byName userJSON
	b.getJSON("/admin/api/users/"+url.PathEscape("ALICE@example.com"), 200, &byName)
	if byName.ID != alice.ID {
		t.Errorf("by userName: id %q, want %q", byName.ID, alice.ID)
	}

	// A user with no groups has an empty list, not null.
	bob := mustCreate(t, e.st, schema.UserType, map[string]any{"userName": "bob"})
	if body := b.getJSON("/admin/api/users/"+bob.ID, 200, nil); !strings.Contains(body, `"groups": []`) {
		t.Errorf("bob's groups are not []: %s", body)
	}

	for _, p := range []string{"/admin/api/users/nope", "/admin/api/users/" + eng.ID, "/admin/api/groups/nope", "/admin/api/groups/" + alice.ID} {
		var e struct {
			Error  string
			Status int
		}
		b.getJSON(p, 404, &e)
		if e.Status != 404 || e.Error == "" {
			t.Errorf("%s: error body %+v", p, e)
		}
	}
}

func TestJSONAPIGroupMembersPaged(t *testing.T) {
	// The group endpoint must page members in the store, as the page does:
	// a Get that loads the whole member list fails the test.
	e := newEnvWrapped(t, func(st admin.Store) admin.Store { return noFullMemberLoad{st, t} })
	ctx := context.Background()
	var members []scim.Member
	for i := range 30 {
		u := mustCreate(t, e.st, schema.UserType, map[string]any{"userName": "user" + strconv.Itoa(i)})
		members = append(members, scim.Member{Value: u.ID, Type: "User", Display: "user" + strconv.Itoa(i)})
	}
	g, err := e.st.Create(ctx, &scim.Resource{Type: schema.GroupType, Attrs: map[string]any{"displayName": "Everyone", "externalId": "x1"},
		Members: members, MembersLoaded: true})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(members, func(a, b scim.Member) int { return strings.Compare(a.Value, b.Value) }) // the store's order
	want := func(from, to int) []struct{ Value, Type, Display string } {
		var out []struct{ Value, Type, Display string }
		for _, m := range members[from:to] {
			out = append(out, struct{ Value, Type, Display string }{m.Value, m.Type, m.Display})
		}
		return out
	}
	b := e.browser()
	apiSignIn(t, b)
	base := "/admin/api/groups/" + g.ID

	var gj groupJSON
	b.getJSON(base+"?startIndex=11&count=10", 200, &gj)
	if gj.ID != g.ID || gj.DisplayName != "Everyone" || gj.Attributes["externalId"] != "x1" || len(gj.History) == 0 || gj.History[0].Action != "create" {
		t.Errorf("group %+v", gj)
	}
	m := gj.Members
	if m.TotalResults != 30 || m.StartIndex != 11 || m.ItemsPerPage != 10 || m.Next != base+"?count=10&startIndex=21" {
		t.Errorf("members 11-20: total %d start %d items %d next %q", m.TotalResults, m.StartIndex, m.ItemsPerPage, m.Next)
	}
	if diff := cmp.Diff(want(10, 20), m.Resources); diff != "" {
		t.Errorf("members 11-20 (-want +got):\n%s", diff)
	}
	gj = groupJSON{}
	b.getJSON(m.Next, 200, &gj)
	if diff := cmp.Diff(want(20, 30), gj.Members.Resources); diff != "" || gj.Members.Next != "" {
		t.Errorf("last page: next %q, members (-want +got):\n%s", gj.Members.Next, diff)
	}

	// "start", as the list endpoints call it, works too.
	gj = groupJSON{}
	b.getJSON(base+"?start=21&count=10", 200, &gj)
	if diff := cmp.Diff(want(20, 30), gj.Members.Resources); diff != "" {
		t.Errorf("start=21 (-want +got):\n%s", diff)
	}

	// Defaults like the page's; found by displayName too.
	gj = groupJSON{}
	b.getJSON("/admin/api/groups/everyone", 200, &gj)
	if gj.Members.StartIndex != 1 || gj.Members.ItemsPerPage != admin.PageSize || gj.Members.TotalResults != 30 || gj.Members.Next != base+"?count=25&startIndex=26" {
		t.Errorf("default page: %+v", gj.Members)
	}
	for _, tc := range []struct {
		query     string
		code      int
		start, n  int
		wantTotal int
	}{
		{"?startIndex=31", 200, 31, 0, 30},
		{"?startIndex=0&count=5", 200, 1, 5, 30},
		{"?count=0", 200, 1, 0, 30},
		{"?count=1000", 200, 1, 30, 30},
		{"?count=1001", 400, 0, 0, 0},
		{"?count=-1", 400, 0, 0, 0},
		{"?startIndex=x", 400, 0, 0, 0},
	} {
		var got groupJSON
		b.getJSON(base+tc.query, tc.code, &got)
		if tc.code == 200 && (got.Members.StartIndex != tc.start || len(got.Members.Resources) != tc.n || got.Members.TotalResults != tc.wantTotal) {
			t.Errorf("%s: %+v", tc.query, got.Members)
		}
	}
}

// noFullMemberLoad fails the test if the console loads a group's whole
// member list.
type noFullMemberLoad struct {
	admin.Store
	t *testing.T
}

func (s noFullMemberLoad) Get(ctx context.Context, rt *schema.ResourceType, id string, load scim.Load) (*scim.Resource, error) {
	if load.Members {
		s.t.Errorf("Get(%s, %s) loads the whole member list", rt.ID, id)
	}
	return s.Store.Get(ctx, rt, id, load)
}

func TestJSONAPIResourceNeedsSession(t *testing.T) {
	e := newEnv(t)
	u := mustCreate(t, e.st, schema.UserType, map[string]any{"userName": "bob"})
	g := mustCreate(t, e.st, schema.GroupType, map[string]any{"displayName": "eng"})
	secret, hash := scim.NewTokenSecret()
	if err := e.st.CreateToken(context.Background(), &scim.Token{Name: "okta", Hash: hash}); err != nil {
		t.Fatal(err)
	}
	u0, _ := url.Parse(e.url + "/admin/")
	for _, p := range []string{"/admin/api/users/" + u.ID, "/admin/api/groups/" + g.ID, "/admin/api/users/nope"} {
		b := e.browser()
		if res, body := b.get(p); res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `"status": 401`) || res.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s signed out: %d %s", p, res.StatusCode, body)
		}
		if res, body := b.do("GET", p, nil, map[string]string{"Authorization": "Bearer " + secret}); res.StatusCode != http.StatusUnauthorized || strings.Contains(body, "bob") {
			t.Errorf("%s with a SCIM bearer token: %d, want 401", p, res.StatusCode)
		}
		b.c.Jar.SetCookies(u0, []*http.Cookie{{Name: "scimd_session", Value: secret}})
		if res, _ := b.get(p); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s with a SCIM token as the session cookie: %d, want 401", p, res.StatusCode)
		}
	}
}

func TestJSONAPIXSSIsPlainJSON(t *testing.T) {
	e := newEnv(t)
	evil := `<script>alert(1)</script>`
	u := mustCreate(t, e.st, schema.UserType, map[string]any{"userName": evil, "displayName": `"><svg onload=alert(3)>&amp;`})
	g, err := e.st.Create(context.Background(), &scim.Resource{Type: schema.GroupType, Attrs: map[string]any{"displayName": evil + "g"},
		Members: []scim.Member{{Value: u.ID}}, MembersLoaded: true})
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	apiSignIn(t, b)
	var uj userJSON
	body := b.getJSON("/admin/api/users/"+u.ID, 200, &uj)
	if uj.UserName != evil || uj.DisplayName != `"><svg onload=alert(3)>&amp;` || len(uj.Groups) != 1 || uj.Groups[0].Display != evil+"g" {
		t.Errorf("user %q %q groups %+v: want the names exactly as stored", uj.UserName, uj.DisplayName, uj.Groups)
	}
	var gj groupJSON
	gbody := b.getJSON("/admin/api/groups/"+g.ID, 200, &gj)
	if gj.DisplayName != evil+"g" || len(gj.Members.Resources) != 1 || gj.Members.Resources[0].Display != evil {
		t.Errorf("group %q members %+v: want the names exactly as stored", gj.DisplayName, gj.Members.Resources)
	}
	// encoding/json writes < > & as \u003c \u003e \u0026; nothing else
	// (no HTML entities), and no raw markup a sniffing browser could run.
	for _, b := range []string{body, gbody} {
		for _, bad := range []string{"<script", "<svg", "&lt;", "&amp;", "&quot;"} {
			if strings.Contains(b, bad) {
				t.Errorf("%q in the JSON:\n%s", bad, b)
			}
		}
		if !strings.Contains(b, `\u003cscript\u003ealert(1)\u003c/script\u003e`) {
			t.Errorf("the userName is not encoding/json's escaping of %q:\n%s", evil, b)
		}
	}
}
