package main

// Scale-out: two scimd replicas (scimd serve, in-process, each on its own
// port with its own pool) on one PostgreSQL. Nothing they share lives in
// their memory, so what one writes the other sees, and the database alone
// arbitrates races.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimd/scimd/sqlstore/pgtest"
)

// client is shared by the scale-out tests. Its timeout only turns a hang
// into a failure; nothing waits for it in a passing run.
var client = &http.Client{
	Timeout:   2 * time.Minute,
	Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256},
}

// reply is an HTTP response, or the error that prevented one.
type reply struct {
	Status int
	Header http.Header
	Body   map[string]any
	Err    error
}

// send is call without t, for goroutines.
func send(token, method, url, body string, header ...string) reply {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return reply{Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/scim+json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := client.Do(req)
	if err != nil {
		return reply{Err: err}
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return reply{Err: err}
	}
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return reply{Status: res.StatusCode, Header: res.Header, Body: out}
}

// replicas starts two scimd replicas on one new PostgreSQL schema, one
// after the other, and returns them with the token the first printed.
func replicas(t *testing.T) (a, b *instance, token, dsn string) {
	t.Helper()
	dsn = pgtest.DSN(t)
	a = start(t, dsn)
	b = start(t, dsn)
	if a.token == "" || b.token != "" {
		t.Fatalf("first replica printed token %q, second %q: want only the first", a.token, b.token)
	}
	return a, b, a.token, dsn
}

func TestScaleOutConcurrentCreates(t *testing.T) {
	a, b, token, _ := replicas(t)
	const n = 32
	replies := make([]reply, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Every case variant of one name: same fold, different bytes.
			name := []byte("race.user@example.com")
			for j := range name {
				if i>>(j%5)&1 == 1 {
					name[j] = bytes.ToUpper(name[j : j+1])[0]
				}
			}
			base := a.base
			if i%2 == 1 {
				base = b.base
			}
			replies[i] = send(token, "POST", base+"/Users", fmt.Sprintf(`{"userName":%q}`, name))
		}()
	}
	wg.Wait()
	count := map[int]int{}
	for i, r := range replies {
		if r.Err != nil {
			t.Fatalf("request %d: %v", i, r.Err)
		}
		count[r.Status]++
	}
	if count[http.StatusCreated] != 1 || count[http.StatusConflict] != n-1 {
		t.Fatalf("statuses %v: want exactly one 201 and %d 409", count, n-1)
	}
	for _, base := range []string{a.base, b.base} {
		r := send(token, "GET", base+`/Users?filter=userName+eq+%22RACE.USER@EXAMPLE.COM%22`, "")
		if r.Status != http.StatusOK || r.Body["totalResults"] != float64(1) {
			t.Errorf("%s: users named race.user: %d %v", base, r.Status, r.Body)
		}
	}
}

func TestScaleOutMemberAdds(t *testing.T) {
	a, b, token, _ := replicas(t)
	bases := []string{a.base, b.base}
	const n = 1000
	ids := make([]string, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			r := send(token, "POST", bases[i%2]+"/Users", fmt.Sprintf(`{"userName":"member%04d@example.com"}`, i))
			if r.Err != nil || r.Status != http.StatusCreated {
				errs <- fmt.Errorf("create user %d: %d %v %v", i, r.Status, r.Body, r.Err)
				return
			}
			ids[i] = r.Body["id"].(string)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	g := send(token, "POST", a.base+"/Groups", `{"displayName":"Everyone"}`)
	if g.Status != http.StatusCreated {
		t.Fatalf("create group: %d %v", g.Status, g.Body)
	}
	gid := g.Body["id"].(string)

	// All at once: each PATCH adds one member, alternating replicas.
	replies := make([]reply, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies[i] = send(token, "PATCH", bases[i%2]+"/Groups/"+gid,
				`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"`+ids[i]+`"}]}]}`)
		}()
	}
	wg.Wait()
	for i, r := range replies {
		if r.Err != nil || (r.Status != http.StatusNoContent && r.Status != http.StatusOK) {
			t.Fatalf("PATCH %d: %d %v %v", i, r.Status, r.Body, r.Err)
		}
	}
	for _, base := range bases {
		r := send(token, "GET", base+"/Groups/"+gid, "")
		members, _ := r.Body["members"].([]any)
		if r.Status != http.StatusOK || len(members) != n {
			t.Fatalf("%s: group has %d members (status %d), want %d", base, len(members), r.Status, n)
		}
		got := map[string]bool{}
		for _, m := range members {
			got[m.(map[string]any)["value"].(string)] = true
		}
		for i, id := range ids {
			if !got[id] {
				t.Fatalf("%s: member %d (%s) lost", base, i, id)
			}
		}
	}
}

func TestScaleOutIfMatch(t *testing.T) {
	a, b, token, _ := replicas(t)
	u := send(token, "POST", a.base+"/Users", `{"userName":"etag@example.com","title":"v1"}`)
	if u.Status != http.StatusCreated {
		t.Fatalf("create: %d %v", u.Status, u.Body)
	}
	id := u.Body["id"].(string)
	etag := u.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag on create")
	}
	const n = 16
	replies := make([]reply, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			base := a.base
			if i%2 == 1 {
				base = b.base
			}
			replies[i] = send(token, "PUT", base+"/Users/"+id, fmt.Sprintf(`{"userName":"etag@example.com","title":"writer %d"}`, i), "If-Match", etag)
		}()
	}
	wg.Wait()
	count := map[int]int{}
	winner := ""
	for i, r := range replies {
		if r.Err != nil {
			t.Fatalf("PUT %d: %v", i, r.Err)
		}
		count[r.Status]++
		if r.Status == http.StatusOK {
			winner = fmt.Sprintf("writer %d", i)
		}
	}
	if count[http.StatusOK] != 1 || count[http.StatusPreconditionFailed] != n-1 {
		t.Fatalf("statuses %v: want exactly one 200 and %d 412", count, n-1)
	}
	r := send(token, "GET", b.base+"/Users/"+id, "")
	if r.Body["title"] != winner || r.Body["meta"].(map[string]any)["version"] == u.Body["meta"].(map[string]any)["version"] {
		t.Errorf("stored %v, want the winner's title %q at a new version", r.Body, winner)
	}
}

func TestScaleOutRevocationAndConsole(t *testing.T) {
	a, b, _, dsn := replicas(t)
	pw := consolePassword(t, a)

	// Sign in to the console on A; the session works on B.
	res, err := client.Post("http://"+a.addr+"/admin/api/session", "application/json",
		strings.NewReader(fmt.Sprintf(`{"username":"admin","password":%q}`, pw)))
	if err != nil {
		t.Fatal(err)
	}
	var sess struct {
		CSRF string `json:"csrfToken"`
	}
	json.NewDecoder(res.Body).Decode(&sess)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || len(res.Cookies()) == 0 {
		t.Fatalf("console sign-in on A: %d %v", res.StatusCode, res.Cookies())
	}
	console := func(in *instance, method, path, body string) reply {
		req, _ := http.NewRequest(method, "http://"+in.addr+path, strings.NewReader(body))
		for _, c := range res.Cookies() {
			req.AddCookie(c)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", sess.CSRF)
		r, err := client.Do(req)
		if err != nil {
			return reply{Err: err}
		}
		defer r.Body.Close()
		var out map[string]any
		json.NewDecoder(r.Body).Decode(&out)
		return reply{Status: r.StatusCode, Body: out}
	}
	if r := console(b, "GET", "/admin/api/session", ""); r.Status != http.StatusOK || r.Body["username"] != "admin" {
		t.Fatalf("A's console session on B: %d %v %v", r.Status, r.Body, r.Err)
	}

	// A token made on B works on A; revoked through A, B refuses it on
	// its very next request.
	r := console(b, "POST", "/admin/api/tokens", `{"name":"okta"}`)
	if r.Status != http.StatusCreated && r.Status != http.StatusOK {
		t.Fatalf("create token on B: %d %v", r.Status, r.Body)
	}
	secret, _ := r.Body["secret"].(string)
	tok, _ := r.Body["token"].(map[string]any)
	tokID, _ := tok["id"].(string)
	if secret == "" || tokID == "" {
		t.Fatalf("create token: no secret or id in %v", r.Body)
	}
	for _, in := range []*instance{a, b} {
		if r := send(secret, "GET", in.base+"/Users", ""); r.Status != http.StatusOK {
			t.Fatalf("new token on %s: %d", in.addr, r.Status)
		}
	}
	if r := console(a, "POST", "/admin/api/tokens/"+tokID+"/revoke", ""); r.Status != http.StatusOK {
		t.Fatalf("revoke on A: %d %v", r.Status, r.Body)
	}
	if r := send(secret, "GET", b.base+"/Users", ""); r.Status != http.StatusUnauthorized {
		t.Fatalf("revoked token on B: %d, want 401", r.Status)
	}
	// And with the CLI, on the database directly.
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"token", "revoke", "initial", "--db", dsn}, strings.NewReader(""), &out, &errb); code != 0 {
		t.Fatalf("token revoke: %d %s", code, errb.String())
	}
	if r := send(a.token, "GET", b.base+"/Users", ""); r.Status != http.StatusUnauthorized {
		t.Fatalf("CLI-revoked token on B: %d, want 401", r.Status)
	}
}
