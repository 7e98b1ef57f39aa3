package api_test

// The replay runner: every JSON file under testdata/replay is a flow of
// HTTP exchanges recorded from (or documented for) an identity provider,
// replayed in order against the real server (real SQLite store in a temp
// folder, real HTTP over loopback, a real token created through the store).
// Adding a file adds a test; the format is described in
// testdata/replay/README.md.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/scimd/scimd/api"
	"github.com/scimd/scimd/scim"
)

// replayFlow is one file: a sequence of exchanges.
type replayFlow struct {
	Description string `json:"description"`
	// Skip, when set, says why the flow cannot pass yet; it is reported
	// as a skipped test, so that the gap stays visible.
	Skip    string            `json:"skip"`
	Sources []string          `json:"sources"`
	Vars    map[string]string `json:"vars"`
	// Variants run the whole flow once per entry, each on a fresh server,
	// with Query appended to every request URL (Entra's aadOptscim062020
	// flag is typed into the tenant URL by the admin).
	Variants []replayVariant `json:"variants"`
	Steps    []replayStep    `json:"steps"`
}

type replayVariant struct {
	Name  string `json:"name"`
	Query string `json:"query"`
}

type replayStep struct {
	Name    string            `json:"name"`
	Repeat  int               `json:"repeat"` // run the step this many times, with ${i} = 1…n
	Request replayRequest     `json:"request"`
	Expect  replayExpect      `json:"expect"`
	Capture map[string]string `json:"capture"`
}

type replayRequest struct {
	Method string `json:"method"`
	// Path is relative to the SCIM base URL (/access/api/v1/scim/v2),
	// query string included as sent on the wire; spaces are sent as %20.
	Path    string            `json:"path"`
	Prefix  string            `json:"prefix"` // another base path, e.g. /scim/v2
	Headers map[string]string `json:"headers"`
	// Auth is "none" to send no Authorization header; a header given in
	// Headers replaces the default bearer token.
	Auth    string          `json:"auth"`
	Body    json.RawMessage `json:"body"`
	RawBody *string         `json:"rawBody"`
}

type replayExpect struct {
	Status    int               `json:"status"`
	Headers   map[string]string `json:"headers"`
	Body      json.RawMessage   `json:"body"`
	BodyEmpty bool              `json:"bodyEmpty"`
}

func TestReplay(t *testing.T) {
	root := filepath.Join("testdata", "replay")
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".json") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no replay files under " + root)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.ToSlash(strings.TrimPrefix(file, root+string(filepath.Separator))), ".json")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var flow replayFlow
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&flow); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if flow.Skip != "" {
				t.Skip(flow.Skip)
			}
			if len(flow.Steps) == 0 {
				t.Fatalf("%s: no steps", file)
			}
			variants := flow.Variants
			if len(variants) == 0 {
				variants = []replayVariant{{Name: "default"}}
			}
			for _, v := range variants {
				t.Run(v.Name, func(t *testing.T) { runFlow(t, &flow, v) })
			}
		})
	}
}

// replayServer starts the real server on a fresh database.
func replayServer(t *testing.T) (base string, token string) {
	t.Helper()
	st, err := openSQL(t)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	secret, hash := scim.NewTokenSecret()
	if err := st.CreateToken(context.Background(), &scim.Token{Name: "replay", Hash: hash}); err != nil {
		t.Fatal(err)
	}
	a := api.New(st, "", slog.New(slog.NewTextHandler(io.Discard, nil)))
	mux := http.NewServeMux()
	a.Routes(mux)
	srv := httptest.NewServer(a.Middleware(mux))
	t.Cleanup(srv.Close)
	return srv.URL, secret
}

func runFlow(t *testing.T, flow *replayFlow, variant replayVariant) {
	root, token := replayServer(t)
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	vars := map[string]string{"run": hex.EncodeToString(rnd[:]), "token": token, "root": root}
	for k, v := range flow.Vars {
		vars[k] = expandVars(v, vars)
	}
	for si, step := range flow.Steps {
		n := max(step.Repeat, 1)
		for i := 1; i <= n; i++ {
			vars["i"] = strconv.Itoa(i)
			label := fmt.Sprintf("step %d %q", si+1, step.Name)
			if step.Repeat > 0 {
				label += fmt.Sprintf(" (#%d)", i)
			}
			if !runStep(t, label, step, variant, vars) {
				return // later steps depend on this one
			}
		}
	}
}

func runStep(t *testing.T, label string, step replayStep, variant replayVariant, vars map[string]string) bool {
	t.Helper()
	rq := step.Request
	prefix := api.Prefixes[0]
	if rq.Prefix != "" {
		prefix = rq.Prefix
	}
	path := strings.ReplaceAll(expandVars(rq.Path, vars), " ", "%20")
	if variant.Query != "" {
		if strings.Contains(path, "?") {
			path += "&" + variant.Query
		} else {
			path += "?" + variant.Query
		}
	}
	url := vars["root"] + prefix + path
	var body io.Reader
	var sent string
	switch {
	case rq.RawBody != nil:
		sent = expandVars(*rq.RawBody, vars)
	case len(rq.Body) > 0:
		v, err := decodeNumber(rq.Body)
		if err != nil {
			t.Fatalf("%s: request body: %v", label, err)
		}
		b, _ := json.Marshal(substitute(v, vars))
		sent = string(b)
	}
	if sent != "" {
		body = strings.NewReader(sent)
	}
	req, err := http.NewRequest(rq.Method, url, body)
	if err != nil {
		t.Fatalf("%s: %v", label, err)
	}
	if rq.Auth != "none" {
		req.Header.Set("Authorization", "Bearer "+vars["token"])
	}
	for k, v := range rq.Headers {
		req.Header.Set(k, expandVars(v, vars))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", label, err)
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("%s: reading response: %v", label, err)
	}
	var got any
	if len(bytes.TrimSpace(raw)) > 0 {
		got, _ = decodeNumber(raw)
	}
	var problems []string
	if resp.StatusCode != step.Expect.Status {
		problems = append(problems, fmt.Sprintf("status %d, want %d", resp.StatusCode, step.Expect.Status))
	}
	for k, want := range step.Expect.Headers {
		want = expandVars(want, vars)
		have := resp.Header.Get(k)
		switch {
		case want == "$absent" && have != "":
			problems = append(problems, fmt.Sprintf("header %s: %q, want none", k, have))
		case want == "$present" && have == "":
			problems = append(problems, fmt.Sprintf("header %s missing", k))
		case want != "$absent" && want != "$present" && !strings.HasPrefix(strings.ToLower(have), strings.ToLower(want)):
			problems = append(problems, fmt.Sprintf("header %s: %q, want %q…", k, have, want))
		}
	}
	if step.Expect.BodyEmpty && len(bytes.TrimSpace(raw)) > 0 {
		problems = append(problems, "body not empty")
	}
	if len(step.Expect.Body) > 0 {
		want, err := decodeNumber(step.Expect.Body)
		if err != nil {
			t.Fatalf("%s: expected body: %v", label, err)
		}
		problems = append(problems, matchJSON("body", substitute(want, vars), got)...)
	}
	if len(problems) == 0 {
		for name, from := range step.Capture {
			v, ok := capture(from, resp.Header, got)
			if !ok {
				problems = append(problems, fmt.Sprintf("capture %s from %s: nothing there", name, from))
				continue
			}
			vars[name] = v
		}
	}
	if len(problems) > 0 {
		t.Errorf("%s: %s %s\nrequest body: %s\n%s\nresponse: %s", label, rq.Method, path, truncate(sent), strings.Join(problems, "\n"), truncate(string(raw)))
		return false
	}
	return true
}

func truncate(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "…"
	}
	return s
}

func decodeNumber(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

var varRE = regexp.MustCompile(`\$\{(upper:)?([A-Za-z0-9_]+)\}`)

// expandVars replaces ${name} by the variable's value and ${upper:name} by
// its upper-case form; unknown names are left as they are.
func expandVars(s string, vars map[string]string) string {
	return varRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := varRE.FindStringSubmatch(m)
		v, ok := vars[sub[2]]
		if !ok {
			return m
		}
		if sub[1] != "" {
			return strings.ToUpper(v)
		}
		return v
	})
}

func substitute(v any, vars map[string]string) any {
	switch v := v.(type) {
	case string:
		return expandVars(v, vars)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = substitute(e, vars)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[expandVars(k, vars)] = substitute(e, vars)
		}
		return out
	}
	return v
}

// matchJSON reports how got fails to contain want: objects match when every
// expected member matches (extra members are fine), arrays when every
// expected element matches some element, scalars by equality (numbers
// numerically, strings exactly). Matchers: "$present", "$absent" (as an
// object member: the member is missing or null), "$nonempty", "$number",
// "$string", and objects {"$len": n}, {"$ieq": "s"} (case-insensitive),
// {"$contains": "s"}, {"$exact": v} (deep equality, arrays in order).
func matchJSON(at string, want, got any) []string {
	fail := func(format string, args ...any) []string {
		return []string{at + ": " + fmt.Sprintf(format, args...)}
	}
	switch w := want.(type) {
	case string:
		switch w {
		case "$present":
			if got == nil {
				return fail("missing")
			}
			return nil
		case "$absent":
			if got != nil {
				return fail("%s, want absent", short(got))
			}
			return nil
		case "$nonempty":
			switch g := got.(type) {
			case nil:
				return fail("missing, want non-empty")
			case string:
				if g == "" {
					return fail("empty string")
				}
			case []any:
				if len(g) == 0 {
					return fail("empty array")
				}
			case map[string]any:
				if len(g) == 0 {
					return fail("empty object")
				}
			}
			return nil
		case "$number":
			if _, ok := got.(json.Number); !ok {
				return fail("%s, want a number", short(got))
			}
			return nil
		case "$string":
			if _, ok := got.(string); !ok {
				return fail("%s, want a string", short(got))
			}
			return nil
		}
		if g, ok := got.(string); !ok || g != w {
			return fail("%s, want %q", short(got), w)
		}
		return nil
	case json.Number:
		g, ok := got.(json.Number)
		if !ok {
			return fail("%s, want %s", short(got), w)
		}
		wf, _ := w.Float64()
		gf, _ := g.Float64()
		if wf != gf {
			return fail("%s, want %s", g, w)
		}
		return nil
	case bool:
		if g, ok := got.(bool); !ok || g != w {
			return fail("%s, want %v", short(got), w)
		}
		return nil
	case nil:
		if got != nil {
			return fail("%s, want null", short(got))
		}
		return nil
	case []any:
		g, ok := got.([]any)
		if !ok {
			return fail("%s, want an array", short(got))
		}
		var out []string
		for i, we := range w {
			found := false
			for _, ge := range g {
				if len(matchJSON("", we, ge)) == 0 {
					found = true
					break
				}
			}
			if !found {
				out = append(out, fmt.Sprintf("%s: no element matches expected [%d] %s; have %s", at, i, short(we), short(got)))
			}
		}
		return out
	case map[string]any:
		if len(w) == 1 {
			for k, arg := range w {
				if strings.HasPrefix(k, "$") {
					return matchOp(at, k, arg, got)
				}
			}
		}
		g, ok := got.(map[string]any)
		if !ok {
			return fail("%s, want an object", short(got))
		}
		var out []string
		for k, we := range w {
			out = append(out, matchJSON(at+"."+k, we, g[k])...)
		}
		return out
	}
	return fail("unsupported expectation %T", want)
}

func matchOp(at, op string, arg, got any) []string {
	fail := func(format string, args ...any) []string {
		return []string{at + ": " + fmt.Sprintf(format, args...)}
	}
	switch op {
	case "$len":
		n, _ := arg.(json.Number)
		want, _ := n.Int64()
		have := int64(0)
		switch g := got.(type) {
		case []any:
			have = int64(len(g))
		case map[string]any:
			have = int64(len(g))
		case nil:
		default:
			return fail("%s has no length", short(got))
		}
		if have != want {
			return fail("length %d, want %d: %s", have, want, short(got))
		}
		return nil
	case "$ieq":
		w, _ := arg.(string)
		if g, ok := got.(string); !ok || !strings.EqualFold(g, w) {
			return fail("%s, want %q in any case", short(got), w)
		}
		return nil
	case "$contains":
		w, _ := arg.(string)
		if g, ok := got.(string); !ok || !strings.Contains(g, w) {
			return fail("%s, want a string containing %q", short(got), w)
		}
		return nil
	case "$exact":
		a, _ := json.Marshal(arg)
		b, _ := json.Marshal(got)
		if !bytes.Equal(a, b) {
			return fail("%s, want exactly %s", b, a)
		}
		return nil
	}
	return fail("unknown matcher %s", op)
}

func short(v any) string {
	if v == nil {
		return "nothing"
	}
	b, _ := json.Marshal(v)
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

var captureRE = regexp.MustCompile(`^([^\[\]]+)(?:\[(\d+)\])?$`)

// capture extracts "header:Name" or a body path such as Resources[0].id.
func capture(from string, h http.Header, body any) (string, bool) {
	if name, ok := strings.CutPrefix(from, "header:"); ok {
		v := h.Get(name)
		return v, v != ""
	}
	cur := body
	for _, part := range strings.Split(from, ".") {
		m := captureRE.FindStringSubmatch(part)
		if m == nil {
			return "", false
		}
		obj, ok := cur.(map[string]any)
		if !ok {
			return "", false
		}
		cur = obj[m[1]]
		if m[2] != "" {
			arr, ok := cur.([]any)
			i, _ := strconv.Atoi(m[2])
			if !ok || i >= len(arr) {
				return "", false
			}
			cur = arr[i]
		}
	}
	switch v := cur.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}
