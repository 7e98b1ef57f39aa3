package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scimd/scimd/scim"
)

// instance is scimd's run() serving in the background, as the binary would.
type instance struct {
	lines  chan string
	cancel context.CancelFunc
	done   chan int
	addr   string // host:port it listens on
	base   string // SCIM connector base URL it printed
	token  string // the initial token, if it printed one
	output []string
}

// start runs "scimd serve" on a free port with the given database and
// reads its banner.
func start(t testing.TB, db string, extra ...string) *instance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	in := &instance{lines: make(chan string, 100), cancel: cancel, done: make(chan int, 1)}
	go func() {
		code := run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--db", db}, extra...), strings.NewReader(""), pw, io.Discard)
		pw.Close()
		in.done <- code
	}()
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			in.lines <- sc.Text()
		}
		close(in.lines)
	}()
	t.Cleanup(func() { in.stop(t) })
	deadline := time.After(30 * time.Second)
	for in.addr == "" || in.base == "" {
		select {
		case line, ok := <-in.lines:
			if !ok {
				t.Fatalf("scimd exited; output: %q", in.output)
			}
			in.output = append(in.output, line)
			if _, after, ok := strings.Cut(line, " listening on "); ok {
				in.addr = after
			}
			if _, after, ok := strings.Cut(line, "SCIM connector base URL: "); ok {
				in.base = after
			}
		case <-deadline:
			t.Fatalf("no banner from scimd; output so far: %q", in.output)
		}
	}
	// serve prints its whole banner before it serves: once /healthz
	// answers, every banner line has been written to the pipe (a pipe
	// write returns when it is read), so what follows is a short drain.
	waitUp(t, strings.TrimSuffix(in.base, "/access/api/v1/scim/v2")+"/healthz")
	for {
		select {
		case line, ok := <-in.lines:
			if !ok {
				return in
			}
			in.output = append(in.output, line)
			if strings.HasPrefix(line, "scimd_") {
				in.token = line
			}
			continue
		case <-time.After(300 * time.Millisecond):
		}
		break
	}
	return in
}

func waitUp(t testing.TB, url string) {
	t.Helper()
	// Only a liveness probe: the TLS test checks certificates properly.
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	// Up to 60 s: a first start hashes the console password (bcrypt) on a
	// machine that may be busy with other test binaries.
	for i := 0; i < 1200; i++ {
		if res, err := client.Get(url); err == nil {
			res.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never answered", url)
}

// stop sends the equivalent of SIGTERM and waits for a clean exit.
func (in *instance) stop(t testing.TB) {
	t.Helper()
	if in.cancel == nil {
		return
	}
	in.cancel()
	in.cancel = nil
	for range in.lines {
	}
	select {
	case code := <-in.done:
		if code != 0 {
			t.Errorf("scimd exited with %d", code)
		}
	case <-time.After(30 * time.Second):
		t.Error("scimd did not shut down")
	}
}

func call(t *testing.T, token, method, url, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/scim+json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

func TestServeEndToEnd(t *testing.T) {
	db := filepath.Join(t.TempDir(), "data", "scimd.db")
	a := start(t, db)
	if a.token == "" || !strings.HasPrefix(a.base, "http://127.0.0.1:") || !strings.HasSuffix(a.base, "/access/api/v1/scim/v2") {
		t.Fatalf("first start printed base %q token %q; output %q", a.base, a.token, a.output)
	}
	st, u := call(t, a.token, "POST", a.base+"/Users", `{"userName":"e2e@example.com","name":{"givenName":"E"}}`)
	if st != http.StatusCreated {
		t.Fatalf("create user: %d %v", st, u)
	}
	st, g := call(t, a.token, "POST", a.base+"/Groups", `{"displayName":"E2E","members":[{"value":"`+u["id"].(string)+`"}]}`)
	if st != http.StatusCreated {
		t.Fatalf("create group: %d %v", st, g)
	}
	a.stop(t)

	// Restart: the data and the token survive, and no new token is printed.
	b := start(t, db)
	if b.token != "" {
		t.Errorf("second start printed a token again: %q", b.output)
	}
	st, got := call(t, a.token, "GET", b.base+"/Users/E2E@example.com", "")
	if st != http.StatusOK || got["id"] != u["id"] {
		t.Fatalf("after restart: %d %v", st, got)
	}
	groups, _ := got["groups"].([]any)
	if len(groups) != 1 || groups[0].(map[string]any)["display"] != "E2E" {
		t.Errorf("groups after restart: %v", got["groups"])
	}
	st, _ = call(t, a.token, "GET", b.base+"/Groups/"+g["id"].(string), "")
	if st != http.StatusOK {
		t.Errorf("group after restart: %d", st)
	}
	// The conventional prefix and readiness work too.
	st, _ = call(t, a.token, "GET", "http://"+b.addr+"/scim/v2/ServiceProviderConfig", "")
	if st != http.StatusOK {
		t.Errorf("/scim/v2/ServiceProviderConfig: %d", st)
	}
	res, err := http.Get("http://" + b.addr + "/readyz")
	if err != nil || res.StatusCode != http.StatusOK {
		t.Errorf("/readyz: %v %v", res, err)
	}
}

func TestTokenCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "scimd.db")
	cli := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(context.Background(), append(args, "--db", db), strings.NewReader(""), &out, &errb)
		return code, out.String(), errb.String()
	}
	code, out, errs := cli("token", "create", "--name", "okta", "--expires", "90d")
	tok := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(tok, "scimd_") || strings.Count(out, "\n") != 1 {
		t.Fatalf("token create: code %d stdout %q stderr %q", code, out, errs)
	}
	if code, _, errs := cli("token", "create", "--name", "okta"); code == 0 || !strings.Contains(errs, "exists") {
		t.Errorf("duplicate name: code %d stderr %q", code, errs)
	}
	code, out, _ = cli("token", "list")
	if code != 0 || !strings.Contains(out, "okta") || !strings.Contains(out, "active") || strings.Contains(out, tok) {
		t.Errorf("token list (code %d):\n%s", code, out)
	}
	// The new token works against a server on the same database.
	in := start(t, db)
	if st, _ := call(t, tok, "GET", in.base+"/Users", ""); st != http.StatusOK {
		t.Errorf("new token refused: %d", st)
	}
	if code, _, errs := cli("token", "revoke", "okta"); code != 0 {
		t.Fatalf("revoke: %d %s", code, errs)
	}
	// Revoked from another process: refused on the very next request.
	if st, _ := call(t, tok, "GET", in.base+"/Users", ""); st != http.StatusUnauthorized {
		t.Errorf("revoked token: %d, want 401", st)
	}
	code, out, _ = cli("token", "list")
	if code != 0 || !strings.Contains(out, "revoked") {
		t.Errorf("token list after revoke:\n%s", out)
	}
	if code, _, _ := cli("token", "revoke", "nope"); code == 0 {
		t.Error("revoking an unknown token succeeded")
	}
	if code, _, _ := cli("token", "create", "--name", "x", "--expires", "soon"); code == 0 {
		t.Error("a bad --expires was accepted")
	}
}

func TestParseExpiry(t *testing.T) {
	for in, want := range map[string]time.Duration{"": 0, "never": 0, "90d": 90 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "12h": 12 * time.Hour} {
		if got, err := scim.ParseLifetime(in); err != nil || got != want {
			t.Errorf("scim.ParseLifetime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"d", "-1d", "1y", "abc"} {
		if _, err := scim.ParseLifetime(in); err == nil {
			t.Errorf("scim.ParseLifetime(%q) succeeded", in)
		}
	}
}

// TestGracefulShutdown stops scimd while a request is half sent: the
// request still completes, and its write is there after a restart.
func TestGracefulShutdown(t *testing.T) {
	db := filepath.Join(t.TempDir(), "scimd.db")
	in := start(t, db)
	token := in.token
	body := `{"userName":"in-flight@example.com"}`
	conn, err := net.Dial("tcp", in.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	head := "POST /scim/v2/Users HTTP/1.1\r\nHost: " + in.addr + "\r\nAuthorization: Bearer " + token +
		"\r\nContent-Type: application/scim+json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	if _, err := io.WriteString(conn, head+body[:10]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // let the server start reading the request
	stopped := make(chan struct{})
	go func() {
		in.stop(t) // SIGTERM's equivalent; waits for the exit code
		close(stopped)
	}()
	select {
	case <-stopped:
		t.Fatal("scimd exited with a request in flight")
	case <-time.After(300 * time.Millisecond):
	}
	if _, err := io.WriteString(conn, body[10:]); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the in-flight request got no answer: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("in-flight create: %d", res.StatusCode)
	}
	select {
	case <-stopped:
	case <-time.After(30 * time.Second):
		t.Fatal("scimd did not exit after the last request")
	}
	again := start(t, db)
	if st, _ := call(t, token, "GET", again.base+"/Users/in-flight@example.com", ""); st != http.StatusOK {
		t.Errorf("the in-flight write is gone after restart: %d", st)
	}
}
