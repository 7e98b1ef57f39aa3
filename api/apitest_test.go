package api_test

// Shared helpers for API tests: a real server over real HTTP on loopback,
// backed by a real SQLite store in a temp folder.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scimd/scimd/api"
	"github.com/scimd/scimd/scim"
	"github.com/scimd/scimd/sqlstore"
)

// testServer is a running SCIM server and a valid token for it.
type testServer struct {
	*httptest.Server
	API   *api.Server
	Store scim.Store
	Token string
	Base  string // SCIM base URL (JFrog prefix)
}

// openStore opens the store the API tests run on. It is a variable so that
// other backends can be plugged in.
var openStore = func(t testing.TB) scim.Store {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "scimd.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newServer(t testing.TB) *testServer {
	t.Helper()
	st := openStore(t)
	a := api.New(st, "", slog.New(slog.NewTextHandler(io.Discard, nil)))
	mux := http.NewServeMux()
	a.Routes(mux)
	srv := httptest.NewServer(a.Middleware(mux))
	t.Cleanup(srv.Close)
	ts := &testServer{Server: srv, API: a, Store: st, Base: srv.URL + api.Prefixes[0]}
	ts.Token = ts.newToken(t, "test", 0)
	return ts
}

// newToken creates a token through the store and returns its secret.
func (ts *testServer) newToken(t testing.TB, name string, ttl time.Duration) string {
	t.Helper()
	secret, hash := scim.NewTokenSecret()
	tok := &scim.Token{Name: name, Hash: hash}
	if ttl != 0 {
		tok.ExpiresAt = time.Now().Add(ttl)
	}
	if err := ts.Store.CreateToken(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	return secret
}

// response is a decoded HTTP response.
type response struct {
	Status int
	Header http.Header
	Raw    []byte
	Body   map[string]any // nil unless the body is a JSON object
}

// do sends a request with the server's token. body may be nil, a string
// (sent as is) or any value (sent as JSON). headers are "Name: value".
func (ts *testServer) do(t testing.TB, method, path string, body any, headers ...string) *response {
	t.Helper()
	return ts.doAuth(t, "Bearer "+ts.Token, method, path, body, headers...)
}

// doAuth is do with an explicit Authorization header ("" for none).
func (ts *testServer) doAuth(t testing.TB, auth, method, path string, body any, headers ...string) *response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	url := path
	if !strings.HasPrefix(path, "http") {
		url = ts.Base + path
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := &response{Status: res.StatusCode, Header: res.Header, Raw: raw}
	if len(raw) > 0 {
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		_ = d.Decode(&out.Body)
	}
	return out
}

// must fails the test unless the response has the given status.
func (r *response) must(t testing.TB, status int) *response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body: %s", r.Status, status, r.Raw)
	}
	return r
}

// str returns the string at a dotted path of the body ("meta.version",
// "Resources.0.id"), or "".
func (r *response) str(path string) string {
	v := r.get(path)
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
}

// get returns the value at a dotted path of the body, or nil.
func (r *response) get(path string) any {
	var v any = r.Body
	for _, part := range strings.Split(path, ".") {
		switch c := v.(type) {
		case map[string]any:
			v = c[part]
		case []any:
			i := 0
			for _, ch := range part {
				if ch < '0' || ch > '9' {
					return nil
				}
				i = i*10 + int(ch-'0')
			}
			if i >= len(c) {
				return nil
			}
			v = c[i]
		default:
			return nil
		}
	}
	return v
}

// scimError checks that r is a SCIM error with the status and scimType
// ("" for none) and returns its detail.
func (r *response) scimError(t testing.TB, status int, scimType string) string {
	t.Helper()
	r.must(t, status)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/scim+json") {
		t.Errorf("error Content-Type %q", ct)
	}
	if s := r.get("schemas.0"); s != "urn:ietf:params:scim:api:messages:2.0:Error" {
		t.Errorf("error schemas = %v", r.get("schemas"))
	}
	if got := r.str("status"); got != strconv.Itoa(status) {
		t.Errorf(`error "status" = %q, want "%d" (a string)`, got, status)
	}
	if _, isString := r.get("status").(string); !isString {
		t.Errorf(`error "status" is not a JSON string: %s`, r.Raw)
	}
	if got := r.str("scimType"); got != scimType {
		t.Errorf("scimType = %q, want %q; body %s", got, scimType, r.Raw)
	}
	if r.str("detail") == "" {
		t.Errorf("error without detail: %s", r.Raw)
	}
	return r.str("detail")
}
