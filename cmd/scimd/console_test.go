package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

var updateScreenshots = flag.Bool("update-screenshots", false, "write the console screenshots into docs/screenshots")

// consolePassword returns the administrator password the first start
// printed.
func consolePassword(t *testing.T, in *instance) string {
	t.Helper()
	next := false
	check := func(line string) (string, bool) {
		if next {
			return line, true
		}
		next = strings.HasPrefix(line, `Console user "admin", password`)
		return "", false
	}
	for _, l := range in.output {
		if pw, ok := check(l); ok {
			return pw
		}
	}
	deadline := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-in.lines:
			if !ok {
				t.Fatalf("scimd printed no console password: %q", in.output)
			}
			in.output = append(in.output, l)
			if pw, ok := check(l); ok {
				return pw
			}
		case <-deadline:
			t.Fatalf("scimd printed no console password: %q", in.output)
		}
	}
}

// chromium returns a browser context, or skips the test when Debian's
// chromium is not installed (fails instead if SCIMD_REQUIRE_BROWSER=1).
func chromium(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if _, e := os.Stat("/usr/bin/chromium"); e == nil {
			path, err = "/usr/bin/chromium", nil
		}
	}
	if err != nil {
		if os.Getenv("SCIMD_REQUIRE_BROWSER") == "1" {
			t.Fatal("chromium is not installed and SCIMD_REQUIRE_BROWSER=1: apt-get install -y chromium")
		}
		t.Skip("browser tests skipped: chromium is not installed (apt-get install -y chromium; SCIMD_REQUIRE_BROWSER=1 makes this a failure)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	// A guard against a wedged browser, not an assertion about speed.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return bctx
}

// shot saves a screenshot of the page: into docs/screenshots with
// -update-screenshots, else into the test's temporary folder.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := t.TempDir()
	if *updateScreenshots {
		dir = filepath.Join("..", "..", "docs", "screenshots")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// submit clicks a button that submits a form and returns the status of
// the page it leads to.
func submit(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	res, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	must(t, "submit "+sel, err)
	if res == nil {
		t.Fatalf("submit %s: no navigation", sel)
	}
	return int(res.Status)
}

func TestConsoleInBrowser(t *testing.T) {
	ctx := chromium(t)
	in := start(t, filepath.Join(t.TempDir(), "scimd.db"))
	pw := consolePassword(t, in)
	root := "http://" + in.addr

	// Any alert() means a script an attacker provisioned ran.
	var dialogs atomic.Int32
	must(t, "listen", chromedp.Listen(ctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			dialogs.Add(1)
		}
	}))

	// Sign in: a wrong password first.
	must(t, "open console", chromedp.Do(ctx, chromedp.Navigate(root+"/"), chromedp.WaitVisible(chromedp.ID("password"))))
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasPrefix(loc, root+"/admin/signin") {
		t.Fatalf("/ led to %s, want the sign-in page", loc)
	}
	shot(t, ctx, "signin")
	must(t, "type", chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("password"), "not the password")))
	if st := submit(t, ctx, "#signin"); st != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d, want 401", st)
	}
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("signin-error")))
	must(t, "error text", err)
	if !strings.Contains(msg, "wrong user name or password") {
		t.Fatalf("wrong password shows %q", msg)
	}
	must(t, "type", chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("password"), pw)))
	if st := submit(t, ctx, "#signin"); st != http.StatusOK {
		t.Fatalf("sign in: %d", st)
	}

	// The SCIM page: copy the connector base URL.
	base, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("base-url")))
	must(t, "base URL", err)
	if base != in.base {
		t.Fatalf("base URL %q, want %q", base, in.base)
	}
	_, err = chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "clipboard-read"}, Setting: browser.PermissionSettingGranted, Origin: root})
	must(t, "grant clipboard-read", err)
	must(t, "copy", chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`button[data-copy="base-url"]`)),
		chromedp.WaitReady(chromedp.CSS(`button[data-copy="base-url"][data-copied]`))))
	clip, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
	must(t, "read clipboard", err)
	if clip != in.base {
		t.Fatalf("clipboard holds %q, want the base URL %q", clip, in.base)
	}
	shot(t, ctx, "scim")

	// Generate a token; it is shown once.
	must(t, "fill token form", chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("token-name"), "okta")))
	if st := submit(t, ctx, "#generate"); st != http.StatusCreated {
		t.Fatalf("generate token: %d", st)
	}
	secret, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("token-secret")))
	must(t, "token", err)
	warn, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#new-token .alert-warn")))
	must(t, "warning", err)
	if !strings.HasPrefix(secret, "scimd_") || !strings.Contains(warn, "will not be shown again") {
		t.Fatalf("token %q, warning %q", secret, warn)
	}
	shot(t, ctx, "token-generated")

	// The token provisions over real HTTP: a user, a hostile one, a group.
	st, alice := call(t, secret, "POST", base+"/Users", `{"userName":"alice@example.com","displayName":"Alice Liddell","name":{"givenName":"Alice","familyName":"Liddell"},"emails":[{"value":"alice@example.com","type":"work","primary":true}],"active":true}`)
	if st != http.StatusCreated {
		t.Fatalf("create user with the new token: %d %v", st, alice)
	}
	st, evil := call(t, secret, "POST", base+"/Users", `{"userName":"<script>alert(1)</script>","displayName":"\"><img src=x onerror=alert(2)>"}`)
	if st != http.StatusCreated {
		t.Fatalf("create hostile user: %d %v", st, evil)
	}
	st, grp := call(t, secret, "POST", base+"/Groups", `{"displayName":"Engineering","members":[{"value":"`+alice["id"].(string)+`"},{"value":"`+evil["id"].(string)+`"}]}`)
	if st != http.StatusCreated {
		t.Fatalf("create group: %d %v", st, grp)
	}
	if st, _ := call(t, secret, "POST", base+"/Users", `{"userName":"ALICE@example.com"}`); st != http.StatusConflict {
		t.Fatalf("duplicate user: %d, want 409", st)
	}

	// Revoke it, with a confirmation; SCIM then answers 401.
	must(t, "reload", chromedp.Do(ctx, chromedp.Navigate(root+"/admin/"), chromedp.WaitVisible(chromedp.ID("token-table"))))
	if st := submit(t, ctx, `tr[data-token="okta"] a`); st != http.StatusOK {
		t.Fatalf("revoke page: %d", st)
	}
	shot(t, ctx, "revoke")
	if st := submit(t, ctx, "#confirm-revoke"); st != http.StatusOK {
		t.Fatalf("revoke: %d", st)
	}
	state, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`tr[data-token="okta"] .badge`)))
	must(t, "token state", err)
	if state != "revoked" {
		t.Fatalf("token state %q after revoking", state)
	}
	if st, _ := call(t, secret, "GET", base+"/Users", ""); st != http.StatusUnauthorized {
		t.Fatalf("revoked token: %d, want 401", st)
	}

	// The directory finds the user; its page shows groups and history.
	must(t, "search", chromedp.Do(ctx, chromedp.Navigate(root+"/admin/users"), chromedp.WaitVisible(chromedp.ID("q")),
		chromedp.SendKeys(chromedp.ID("q"), "alice")))
	if st := submit(t, ctx, `form.search button[type=submit]`); st != http.StatusOK {
		t.Fatalf("search: %d", st)
	}
	rows, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#directory-table tbody")))
	must(t, "directory", err)
	if !strings.Contains(rows, "alice@example.com") || strings.Contains(rows, "alert") {
		t.Fatalf("search for alice shows %q", rows)
	}
	must(t, "all users", chromedp.Do(ctx, chromedp.Navigate(root+"/admin/users"), chromedp.WaitVisible(chromedp.ID("directory-table"))))
	shot(t, ctx, "directory")
	must(t, "user page", chromedp.Do(ctx, chromedp.Navigate(root+"/admin/users/"+alice["id"].(string)), chromedp.WaitVisible(chromedp.ID("history-title"))))
	page, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("main")))
	must(t, "user page text", err)
	for _, want := range []string{"alice@example.com", "Engineering", "Alice Liddell", "okta"} {
		if !strings.Contains(page, want) {
			t.Errorf("user page lacks %q", want)
		}
	}
	shot(t, ctx, "user")
	must(t, "group page", chromedp.Do(ctx, chromedp.Navigate(root+"/admin/groups/"+grp["id"].(string)), chromedp.WaitVisible(chromedp.ID("members-title"))))
	shot(t, ctx, "group")

	// The hostile userName is text everywhere, never markup.
	for _, p := range []string{"/admin/users", "/admin/users/" + evil["id"].(string), "/admin/groups/" + grp["id"].(string), "/admin/audit"} {
		must(t, p, chromedp.Do(ctx, chromedp.Navigate(root+p), chromedp.WaitVisible(chromedp.ID("main"))))
		text, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("main")))
		must(t, p, err)
		if !strings.Contains(text, "<script>alert(1)</script>") {
			t.Errorf("%s does not show the hostile userName as text", p)
		}
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("main script, main img, main svg").length`))
		must(t, p, err)
		if n != 0 {
			t.Errorf("%s: %d script/img/svg elements made from data", p, n)
		}
	}

	// The audit trail shows the token's creation, its use and its revocation.
	must(t, "audit", chromedp.Do(ctx, chromedp.Navigate(root+"/admin/audit?actor=admin"), chromedp.WaitVisible(chromedp.ID("audit-table"))))
	trail, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("audit-table")))
	must(t, "audit text", err)
	for _, want := range []string{"token.create", "token.revoke", "admin.signin", "failure: wrong password"} {
		if !strings.Contains(trail, want) {
			t.Errorf("audit trail (actor admin) lacks %q:\n%s", want, trail)
		}
	}
	must(t, "audit", chromedp.Do(ctx, chromedp.Navigate(root+"/admin/audit?actor=okta"), chromedp.WaitVisible(chromedp.ID("audit-table"))))
	trail, err = chromedp.Run(ctx, chromedp.Text(chromedp.ID("audit-table")))
	must(t, "audit text", err)
	for _, want := range []string{"alice@example.com", "Engineering", "failure: 409 uniqueness"} {
		if !strings.Contains(trail, want) {
			t.Errorf("audit trail (actor okta) lacks %q:\n%s", want, trail)
		}
	}
	for _, secretText := range []string{secret, pw} {
		if strings.Contains(trail, secretText) {
			t.Error("a secret is in the audit trail")
		}
	}
	must(t, "audit", chromedp.Do(ctx, chromedp.Navigate(root+"/admin/audit"), chromedp.WaitVisible(chromedp.ID("audit-table"))))
	shot(t, ctx, "audit")

	// A narrow screen gets the same console, laid out in one column.
	must(t, "phone", chromedp.Do(ctx, chromedp.EmulateViewport(390, 844), chromedp.Navigate(root+"/admin/"), chromedp.WaitVisible(chromedp.ID("base-url"))))
	w, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	must(t, "width", err)
	if w > 390 {
		wide, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("body *")).filter(e => e.getBoundingClientRect().right > 390).slice(0, 8).map(e => e.tagName + "." + e.className + " " + Math.round(e.getBoundingClientRect().right))`))
		t.Errorf("the SCIM page is %dpx wide on a 390px screen; too wide: %v", w, wide)
	}
	shot(t, ctx, "scim-mobile")

	if n := dialogs.Load(); n != 0 {
		t.Fatalf("%d JavaScript dialogs opened: provisioned data ran as script", n)
	}
}

// TestConsoleWithoutJavaScript: everything but the Copy buttons works
// with scripts off.
func TestConsoleWithoutJavaScript(t *testing.T) {
	ctx := chromium(t)
	in := start(t, filepath.Join(t.TempDir(), "scimd.db"))
	pw := consolePassword(t, in)
	root := "http://" + in.addr
	_, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
	must(t, "disable JavaScript", err)
	must(t, "open", chromedp.Do(ctx, chromedp.Navigate(root+"/admin/"), chromedp.WaitVisible(chromedp.ID("password")),
		chromedp.SendKeys(chromedp.ID("password"), pw)))
	if st := submit(t, ctx, "#signin"); st != http.StatusOK {
		t.Fatalf("sign in: %d", st)
	}
	visible, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!document.querySelector('button[data-copy="base-url"]').hidden`))
	must(t, "copy button", err)
	if visible {
		t.Error("a Copy button that cannot work is shown without JavaScript")
	}
	must(t, "fill", chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("token-name"), "entra")))
	if st := submit(t, ctx, "#generate"); st != http.StatusCreated {
		t.Fatalf("generate: %d", st)
	}
	secret, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("token-secret")))
	must(t, "secret", err)
	if st, _ := call(t, secret, "GET", in.base+"/Users", ""); st != http.StatusOK {
		t.Fatalf("new token: %d", st)
	}
	must(t, "home", chromedp.Do(ctx, chromedp.Navigate(root+"/admin/"), chromedp.WaitVisible(chromedp.ID("token-table"))))
	if st := submit(t, ctx, `tr[data-token="entra"] a`); st != http.StatusOK {
		t.Fatalf("revoke page: %d", st)
	}
	if st := submit(t, ctx, "#confirm-revoke"); st != http.StatusOK {
		t.Fatalf("revoke: %d", st)
	}
	if st, _ := call(t, secret, "GET", in.base+"/Users", ""); st != http.StatusUnauthorized {
		t.Fatalf("revoked token: %d", st)
	}
	must(t, "audit", chromedp.Do(ctx, chromedp.Navigate(root+"/admin/audit?action=token.revoke"), chromedp.WaitVisible(chromedp.ID("audit-table"))))
	if st := submit(t, ctx, `.signout button`); st != http.StatusOK {
		t.Fatalf("sign out: %d", st)
	}
	if _, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("password"))); err != nil {
		t.Fatalf("after signing out: not on the sign-in page: %v", err)
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatal("browser timed out")
	}
}

// consoleSignIn signs in through the console's JSON API and returns a
// client holding the session cookie, and the CSRF token.
func consoleSignIn(t *testing.T, root, user, pw string) (*http.Client, string, int) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	body, _ := json.Marshal(map[string]string{"username": user, "password": pw})
	res, err := c.Post(root+"/admin/api/session", "application/json", bytes.NewReader(body))
	must(t, "sign in", err)
	defer res.Body.Close()
	var s struct{ CsrfToken string }
	_ = json.NewDecoder(res.Body).Decode(&s)
	return c, s.CsrfToken, res.StatusCode
}

func TestConsoleAndSCIMAreSeparate(t *testing.T) {
	in := start(t, filepath.Join(t.TempDir(), "scimd.db"))
	pw := consolePassword(t, in)
	root := "http://" + in.addr
	c, csrf, st := consoleSignIn(t, root, "admin", pw)
	if st != http.StatusOK || csrf == "" {
		t.Fatalf("console sign-in: %d", st)
	}
	// The console session opens no SCIM endpoint…
	req, _ := http.NewRequest("GET", in.base+"/Users", nil)
	res, err := c.Do(req)
	must(t, "SCIM with a session", err)
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("SCIM with the console session cookie: %d, want 401", res.StatusCode)
	}
	// … and the SCIM token no console endpoint.
	req, _ = http.NewRequest("GET", root+"/admin/api/tokens", nil)
	req.Header.Set("Authorization", "Bearer "+in.token)
	res, err = http.DefaultClient.Do(req)
	must(t, "console with a bearer token", err)
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("console API with the SCIM token: %d, want 401", res.StatusCode)
	}
	// A failed SCIM write lands in the audit trail, without its body.
	if st, _ := call(t, in.token, "POST", in.base+"/Users", `{"userName":"dup@example.com","password":"hunter2-secret"}`); st != http.StatusCreated {
		t.Fatalf("create: %d", st)
	}
	if st, _ := call(t, in.token, "POST", in.base+"/Users", `{"userName":"DUP@example.com","password":"hunter2-secret"}`); st != http.StatusConflict {
		t.Fatalf("duplicate: %d", st)
	}
	if st, _ := call(t, in.token, "DELETE", in.base+"/Users/nobody", ""); st != http.StatusNotFound {
		t.Fatalf("delete unknown: %d", st)
	}
	res, err = c.Get(root + "/admin/api/audit?actor=initial")
	must(t, "audit", err)
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{`"outcome": "failure: 409 uniqueness"`, `"outcome": "failure: 404"`, `"resourceId": "nobody"`, `"resourceName": "dup@example.com"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("audit lacks %s:\n%s", want, raw)
		}
	}
	for _, secret := range []string{"hunter2-secret", in.token, pw} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("a secret is in the audit trail: %q", secret)
		}
	}
	// / leads to the console.
	nr := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err = nr.Get(root + "/")
	must(t, "root", err)
	res.Body.Close()
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/admin/" {
		t.Fatalf("/: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestAdminPasswordCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "scimd.db")
	in := start(t, db)
	old := consolePassword(t, in)
	root := "http://" + in.addr
	c, csrf, _ := consoleSignIn(t, root, "admin", old)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"admin", "password", "--db", db}, strings.NewReader("short\n"), &out, &errb); code != 1 || !strings.Contains(errb.String(), "at least 12") {
		t.Fatalf("short password: exit %d, %s", code, errb.String())
	}
	if code := run(context.Background(), []string{"admin", "password", "--db", db}, strings.NewReader("a brand new passphrase\n"), &out, &errb); code != 0 {
		t.Fatalf("admin password: exit %d, %s", code, errb.String())
	}
	// The running server sees it at once: old sessions are gone, the old
	// password fails, the new one works.
	req, _ := http.NewRequest("GET", root+"/admin/api/session", nil)
	req.Header.Set("X-CSRF-Token", csrf)
	res, err := c.Do(req)
	must(t, "old session", err)
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("session from before the password change: %d, want 401", res.StatusCode)
	}
	if _, _, st := consoleSignIn(t, root, "admin", old); st != http.StatusUnauthorized {
		t.Fatalf("old password: %d", st)
	}
	if _, _, st := consoleSignIn(t, root, "admin", "a brand new passphrase"); st != http.StatusOK {
		t.Fatalf("new password: %d", st)
	}
	in.stop(t)
	// A restart prints no password again.
	again := start(t, db)
	// Stop it and read everything it printed.
	again.cancel()
	again.cancel = nil
	for l := range again.lines {
		again.output = append(again.output, l)
	}
	if code := <-again.done; code != 0 {
		t.Fatalf("second start exited with %d", code)
	}
	for _, l := range again.output {
		if strings.Contains(l, "Console user") {
			t.Fatalf("second start printed a console password: %q", again.output)
		}
	}
}
