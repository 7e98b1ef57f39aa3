package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimd/scimd/api"
	"github.com/scimd/scimd/scim"
	"github.com/scimd/scimd/scim/schema"
	"github.com/scimd/scimd/sqlstore"
)

// BenchmarkScale measures PATCH and PUT at scale through the real server
// (HTTP over loopback, SQLite in a temp folder). The fixture, built once
// through the store: 110,000 users (with a work email and a name), and
// groups of 0, 10,000 and 100,000 members.
//
//	go test ./api -run '^$' -bench Scale -benchtime 2000x
func BenchmarkScale(b *testing.B) {
	const users, pool = 110_000, 5_000
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, filepath.Join(b.TempDir(), "scimd.db"), sqlstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	secret, hash := scim.NewTokenSecret()
	if err := st.CreateToken(ctx, &scim.Token{Name: "bench", Hash: hash}); err != nil {
		b.Fatal(err)
	}
	ids := make([]string, users)
	for i := range ids {
		r, err := st.Create(ctx, &scim.Resource{Type: schema.UserType, Attrs: map[string]any{
			"userName": fmt.Sprintf("bench-%06d@example.com", i),
			"name":     map[string]any{"givenName": "Bench", "familyName": fmt.Sprint("User", i)},
			"emails":   []any{map[string]any{"value": fmt.Sprintf("bench-%06d@example.com", i), "type": "work", "primary": true}},
			"active":   true,
		}})
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = r.ID
	}
	group := func(name string, members []string) string {
		ms := make([]scim.Member, len(members))
		for i, id := range members {
			ms[i] = scim.Member{Value: id}
		}
		g, err := st.Create(ctx, &scim.Resource{Type: schema.GroupType, Attrs: map[string]any{"displayName": name}, Members: ms, MembersLoaded: true})
		if err != nil {
			b.Fatal(err)
		}
		return g.ID
	}
	a := api.New(st, "", slog.New(slog.NewTextHandler(io.Discard, nil)))
	mux := http.NewServeMux()
	a.Routes(mux)
	srv := httptest.NewServer(a.Middleware(mux))
	b.Cleanup(srv.Close)
	base := srv.URL + api.Prefixes[0]
	send := func(b *testing.B, method, url, body string, want int) {
		req, err := http.NewRequest(method, url, strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+secret)
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			b.Fatalf("%s %s: %d, want %d", method, url, resp.StatusCode, want)
		}
	}
	// median reports the median time of one request as a metric.
	median := func(b *testing.B, times []time.Duration) {
		if len(times) == 0 {
			return
		}
		slices.Sort(times)
		b.ReportMetric(float64(times[len(times)/2].Nanoseconds()), "median-ns/op")
	}
	// The pool of users added one per iteration lies past the members of
	// every group.
	extra := ids[100_000 : 100_000+pool]

	for _, size := range []int{0, 10_000, 100_000} {
		gid := group(fmt.Sprintf("members-%d", size), ids[:size])
		b.Run(fmt.Sprintf("PatchAddMember/members=%d", size), func(b *testing.B) {
			var times []time.Duration
			i := 0
			for b.Loop() {
				if i > 0 && i%pool == 0 {
					b.StopTimer() // take the pool out again, so each add is a real insert
					send(b, "PATCH", base+"/Groups/"+gid, memberOps("remove", extra), http.StatusNoContent)
					b.StartTimer()
				}
				body := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[{"$ref":null,"value":"` + extra[i%pool] + `"}]}]}`
				start := time.Now()
				send(b, "PATCH", base+"/Groups/"+gid, body, http.StatusNoContent)
				times = append(times, time.Since(start))
				i++
			}
			median(b, times)
		})
	}

	for _, tc := range []struct {
		name string
		a, b []string // alternated member lists
	}{
		{"PutGroup/members=10000/changed=1", ids[:10_000], append(slices.Clone(ids[1:10_000]), ids[10_000])},
		{"PutGroup/members=10000/changed=10000", ids[:10_000], ids[10_000:20_000]},
	} {
		gid := group(tc.name, tc.a)
		bodies := [2]string{groupBody(tc.name, tc.b), groupBody(tc.name, tc.a)}
		b.Run(tc.name, func(b *testing.B) {
			var times []time.Duration
			i := 0
			for b.Loop() {
				start := time.Now()
				send(b, "PUT", base+"/Groups/"+gid+"?excludedAttributes=members", bodies[i%2], http.StatusOK)
				times = append(times, time.Since(start))
				i++
			}
			median(b, times)
		})
	}

	b.Run("PatchUser/emailAndName/users=110000", func(b *testing.B) {
		var times []time.Duration
		i := 0
		for b.Loop() {
			id := ids[(i*7919)%users]
			body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
				{"op":"Replace","path":"emails[type eq \"work\"].value","value":"changed-%d@example.com"},
				{"op":"Replace","path":"name.familyName","value":"Changed%d"}]}`, i, i)
			start := time.Now()
			send(b, "PATCH", base+"/Users/"+id, body, http.StatusOK)
			times = append(times, time.Since(start))
			i++
		}
		median(b, times)
	})
}

func memberOps(op string, ids []string) string {
	ms := make([]map[string]string, len(ids))
	for i, id := range ids {
		ms[i] = map[string]string{"value": id}
	}
	v, _ := json.Marshal(ms)
	return `{"Operations":[{"op":"` + op + `","path":"members","value":` + string(v) + `}]}`
}

func groupBody(name string, ids []string) string {
	ms := make([]map[string]string, len(ids))
	for i, id := range ids {
		ms[i] = map[string]string{"value": id, "display": "x"}
	}
	b, _ := json.Marshal(map[string]any{"schemas": []string{schema.GroupURN}, "displayName": name, "members": ms})
	return string(b)
}
