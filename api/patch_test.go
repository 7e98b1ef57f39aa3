package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/scimd/scimd/api"
	"github.com/scimd/scimd/scim"
	"github.com/scimd/scimd/scim/schema"
)

// recordingStore is the real store with Update's options recorded.
type recordingStore struct {
	scim.Store
	mu    sync.Mutex
	loads []scim.Load
}

func (s *recordingStore) Update(ctx context.Context, rt *schema.ResourceType, id string, opts scim.UpdateOptions, fn func(*scim.Resource) error) (*scim.Resource, error) {
	s.mu.Lock()
	s.loads = append(s.loads, opts.Load)
	s.mu.Unlock()
	return s.Store.Update(ctx, rt, id, opts, fn)
}

// patchServer runs the real API on st and returns its SCIM base URL and a
// token.
func patchServer(t testing.TB, wrap func(scim.Store) scim.Store) (string, string) {
	t.Helper()
	st, err := openSQL(t)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	secret, hash := scim.NewTokenSecret()
	if err := st.CreateToken(context.Background(), &scim.Token{Name: "patch", Hash: hash}); err != nil {
		t.Fatal(err)
	}
	var s scim.Store = st
	if wrap != nil {
		s = wrap(st)
	}
	a := api.New(s, "", slog.New(slog.NewTextHandler(io.Discard, nil)))
	mux := http.NewServeMux()
	a.Routes(mux)
	srv := httptest.NewServer(a.Middleware(mux))
	t.Cleanup(srv.Close)
	return srv.URL + api.Prefixes[0], secret
}

func call(t testing.TB, token, method, url, body string, header ...string) (int, http.Header, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Error(err) // not Fatal: call runs on other goroutines too
		return 0, nil, nil
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return 0, nil, nil
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, resp.Header, m
}

// Membership PATCHes in the shapes Okta and Entra send never ask the store
// for the member list; only a filter the store cannot express does.
func TestPatchGroupLoadsNoMembers(t *testing.T) {
	rec := &recordingStore{}
	base, token := patchServer(t, func(s scim.Store) scim.Store { rec.Store = s; return rec })
	_, _, u := call(t, token, "POST", base+"/Users", `{"userName":"u"}`)
	_, _, g := call(t, token, "POST", base+"/Groups", `{"displayName":"g"}`)
	uid, gid := u["id"].(string), g["id"].(string)
	bodies := []string{
		`{"Operations":[{"op":"Add","path":"members","value":[{"$ref":null,"value":"` + uid + `"}]}]}`,
		`{"Operations":[{"op":"Remove","path":"members","value":[{"value":"` + uid + `"}]}]}`,
		`{"Operations":[{"op":"add","path":"members","value":[{"value":"` + uid + `"}]},{"op":"remove","path":"members[value eq \"` + uid + `\"]"}]}`,
		`{"Operations":[{"op":"replace","value":{"id":"` + gid + `","displayName":"g"}}]}`,
		`{"Operations":[{"op":"replace","path":"members","value":[{"value":"` + uid + `"}]}]}`,
		`{"Operations":[{"op":"remove","path":"members"}]}`,
	}
	for _, b := range bodies {
		if status, _, body := call(t, token, "PATCH", base+"/Groups/"+gid, b); status != http.StatusNoContent {
			t.Fatalf("PATCH %s: %d %v", b, status, body)
		}
	}
	for i, l := range rec.loads {
		if l.Members {
			t.Errorf("PATCH %s loaded the member list", bodies[i])
		}
	}
	rec.loads = nil
	if status, _, body := call(t, token, "PATCH", base+"/Groups/"+gid, `{"Operations":[{"op":"remove","path":"members[type eq \"Group\"]"}]}`); status != http.StatusNoContent {
		t.Fatalf("filter remove: %d %v", status, body)
	}
	if len(rec.loads) != 1 || !rec.loads[0].Members {
		t.Errorf("a members[type eq ...] remove: loads %+v, want the member list loaded", rec.loads)
	}
}

// Concurrent writes with the same If-Match: exactly one wins, the others
// get 412, whatever the interleaving (the check is inside the write
// transaction).
func TestConcurrentIfMatch(t *testing.T) {
	base, token := patchServer(t, nil)
	status, h, u := call(t, token, "POST", base+"/Users", `{"userName":"race"}`)
	if status != http.StatusCreated {
		t.Fatalf("create: %d", status)
	}
	url, etag := base+"/Users/"+u["id"].(string), h.Get("ETag")
	for _, method := range []string{"PUT", "PATCH"} {
		t.Run(method, func(t *testing.T) {
			const n = 24
			var wg sync.WaitGroup
			statuses := make([]int, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					body := fmt.Sprintf(`{"userName":"race","nickName":"w%d"}`, i)
					if method == "PATCH" {
						// Values unlike the PUTs': a PATCH restating the PUT winner's
						// value would be a no-op, which rightly succeeds.
						body = fmt.Sprintf(`{"Operations":[{"op":"replace","path":"nickName","value":"p%d"}]}`, i)
					}
					statuses[i], _, _ = call(t, token, method, url, body, "If-Match", etag)
				}()
			}
			wg.Wait()
			won := 0
			for i, s := range statuses {
				switch s {
				case http.StatusOK:
					won++
				case http.StatusPreconditionFailed:
				default:
					t.Errorf("request %d: status %d", i, s)
				}
			}
			if won != 1 {
				t.Errorf("%d requests succeeded with the same If-Match, want exactly 1 (%v)", won, statuses)
			}
			_, h, _ := call(t, token, "GET", url, "")
			etag = h.Get("ETag")
		})
	}
}
