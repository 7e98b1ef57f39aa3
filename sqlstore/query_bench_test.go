package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scimd/scimd/scim"
	"github.com/scimd/scimd/scim/filter"
	"github.com/scimd/scimd/scim/schema"
	"github.com/scimd/scimd/sqlstore"
)

// TestQueryScale measures the query language at scale on SQLite. It is
// not part of the default run: set SCIMD_BENCH_USERS (e.g. 1000000) to run
// it, and SCIMD_BENCH_DB to a file path to keep the seeded database
// between runs. It reports figures (no timed assertions):
//
//	SCIMD_BENCH_USERS=1000000 SCIMD_BENCH_DB=/tmp/scimd-1m.db go test ./sqlstore -run TestQueryScale -v -timeout 1h
func TestQueryScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("SCIMD_BENCH_USERS"))
	if n <= 0 {
		t.Skip("set SCIMD_BENCH_USERS to run")
	}
	ctx := context.Background()
	path := os.Getenv("SCIMD_BENCH_DB")
	if path == "" {
		path = filepath.Join(t.TempDir(), "bench.db")
	}
	open := func() *sqlstore.Store {
		s, err := sqlstore.Open(ctx, path, sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	if p, err := s.List(ctx, schema.UserType, scim.Query{Count: 0}); err != nil || p.Total != n {
		s.Close()
		start := time.Now()
		seedUsers(t, path, n)
		t.Logf("seeded %d users in %v", n, time.Since(start).Round(time.Millisecond))
		s = open()
	}
	defer s.Close()

	median := func(name string, runs int, fn func(i int) int) {
		t.Helper()
		var ds []time.Duration
		got := 0
		for i := range runs {
			st := time.Now()
			got = fn(i)
			ds = append(ds, time.Since(st))
		}
		slices.Sort(ds)
		t.Logf("%-62s median %9.3f ms  p90 %9.3f ms  (%d runs, last total %d)", name, ms(ds[len(ds)/2]), ms(ds[len(ds)*9/10]), runs, got)
	}
	list := func(q scim.Query) *scim.Page {
		p, err := s.List(ctx, schema.UserType, q)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	parse := func(f string) filter.Expr {
		e, err := filter.Parse(schema.UserType, f)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	r := rand.New(rand.NewPCG(3, 4))
	lookup := func(name string, f func(i int) string) {
		median(name, 300, func(int) int {
			p := list(scim.Query{Filter: parse(f(r.IntN(n))), StartIndex: 1, Count: 100})
			if p.Total != 1 {
				t.Fatalf("%s: %d matches", name, p.Total)
			}
			return p.Total
		})
	}
	lookup(`userName eq (random user, random case)`, func(i int) string {
		u := userName(i)
		if i%2 == 0 {
			u = strings.ToUpper(u)
		}
		return `userName eq "` + u + `"`
	})
	lookup(`externalId eq (random user)`, func(i int) string { return fmt.Sprintf(`externalId eq "ext-%07d"`, i) })
	lookup(`emails[type eq "work"].value eq (random user)`, func(i int) string {
		return fmt.Sprintf(`emails[type eq "work"].value eq "U%07d@corp.example.com"`, i)
	})

	// Okta-style paging. Cold: a new store (empty page cache), each page
	// on its own, the total counted too.
	for _, start := range []int{1, n/2 + 1, n - 99} {
		median(fmt.Sprintf("page startIndex=%d count=100, cold store", start), 3, func(int) int {
			s2 := open()
			defer s2.Close()
			st := time.Now()
			p, err := s2.List(ctx, schema.UserType, scim.Query{StartIndex: start, Count: 100})
			if err != nil || len(p.Resources) != 100 {
				t.Fatalf("page %d: %v", start, err)
			}
			_ = st
			return p.Total
		})
	}
	// As Okta reads: page after page. Timed at three places of one walk.
	walk := map[int][]time.Duration{}
	for start := 1; start <= n; start += 100 {
		st := time.Now()
		p := list(scim.Query{StartIndex: start, Count: 100})
		d := time.Since(st)
		if len(p.Resources) == 0 {
			t.Fatalf("empty page at %d", start)
		}
		for _, at := range []int{1, n/2 + 1, n - 99} {
			if start >= at && start < at+100*20 {
				walk[at] = append(walk[at], d)
			}
		}
	}
	for _, at := range []int{1, n/2 + 1, n - 99} {
		ds := walk[at]
		slices.Sort(ds)
		if len(ds) > 0 {
			t.Logf("%-62s median %9.3f ms  (%d pages)", fmt.Sprintf("sequential read, pages from startIndex=%d", at), ms(ds[len(ds)/2]), len(ds))
		}
	}
	// As Okta reads while another client provisions: a user created and
	// one updated between every two pages (the first page of each run is
	// cold and not counted).
	for _, at := range []int{1, n/2 + 1, n - 2099} {
		var ds []time.Duration
		for i := range 21 {
			u, err := s.Create(ctx, &scim.Resource{Type: schema.UserType, Attrs: map[string]any{"userName": fmt.Sprintf("concurrent-%d-%d", at, i)}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Update(ctx, schema.UserType, u.ID, scim.UpdateOptions{}, func(r *scim.Resource) error {
				r.Attrs["title"] = "updated"
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			st := time.Now()
			if p := list(scim.Query{StartIndex: at + 100*i, Count: 100}); len(p.Resources) != 100 {
				t.Fatalf("page at %d: %d items", at+100*i, len(p.Resources))
			}
			if i > 0 {
				ds = append(ds, time.Since(st))
			}
		}
		slices.Sort(ds)
		t.Logf("%-62s median %9.3f ms  (%d pages)", fmt.Sprintf("sequential read under writes, from startIndex=%d", at), ms(ds[len(ds)/2]), len(ds))
	}
	median("random page, after a full walk (bookmarks warm)", 50, func(int) int {
		return len(list(scim.Query{StartIndex: 1 + 100*r.IntN(n/100), Count: 100}).Resources)
	})
	median("page startIndex=999901-like sorted by userName, cold", 1, func(int) int {
		s2 := open()
		defer s2.Close()
		sb, _ := schema.UserType.ParsePath("userName")
		p, err := s2.List(ctx, schema.UserType, scim.Query{StartIndex: n - 99, Count: 100, SortBy: &sb})
		if err != nil {
			t.Fatal(err)
		}
		return p.Total
	})

	// Scans.
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, f := range []string{
		`userName co "0042"`, `userName sw "user00042"`, `title eq "engineer 3"`, `name.familyName co "ens"`,
	} {
		median(f+" (count=100)", 3, func(int) int { return list(scim.Query{Filter: parse(f), StartIndex: 1, Count: 100}).Total })
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	t.Logf("Go heap in use: %.1f MiB before the scans, %.1f MiB after; total allocated during them %.1f MiB",
		float64(before.HeapInuse)/(1<<20), float64(after.HeapInuse)/(1<<20), float64(after.TotalAlloc-before.TotalAlloc)/(1<<20))
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "VmRSS") || strings.HasPrefix(l, "VmHWM") {
				t.Log(strings.Join(strings.Fields(l), " "))
			}
		}
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func userName(i int) string { return fmt.Sprintf("user%07d@Example.com", i) }

// seedUsers inserts n users straight into the database (a fresh one), in
// big transactions: what Create stores, without its per-user commit.
func seedUsers(t *testing.T, path string, n int) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range []string{"DELETE FROM scim_members", "DELETE FROM scim_user_emails", "DELETE FROM scim_users"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	families := []string{"Jensen", "Smith", "Garcia", "Nguyen", "Müller", "Okafor", "Tanaka", "Rossi"}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	const batch = 50_000
	for lo := 0; lo < n; lo += batch {
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		users, err := tx.Prepare(`INSERT INTO scim_users (id, user_name, user_name_fold, external_id, display_name, active, created, last_modified, version, doc) VALUES ($1, $2, $3, $4, NULL, $5, $6, $6, 1, $7)`)
		if err != nil {
			t.Fatal(err)
		}
		emails, err := tx.Prepare(`INSERT INTO scim_user_emails (user_id, value_fold, type_fold) VALUES ($1, $2, $3)`)
		if err != nil {
			t.Fatal(err)
		}
		for i := lo; i < min(lo+batch, n); i++ {
			created := t0.Add(time.Duration(i) * time.Millisecond)
			id := scim.NewID(created)
			un := userName(i)
			work := fmt.Sprintf("u%07d@corp.example.com", i)
			home := fmt.Sprintf("u%07d@home.example.org", i)
			doc := fmt.Sprintf(`{"active":%v,"emails":[{"primary":true,"type":"work","value":%q},{"type":"home","value":%q}],"externalId":"ext-%07d","name":{"familyName":%q,"givenName":"Given%d"},"title":"engineer %d","userName":%q}`,
				i%10 != 0, work, home, i, families[i%len(families)], i%100, i%10, un)
			if _, err := users.Exec(id, un, schema.Fold(un), fmt.Sprintf("ext-%07d", i), i%10 != 0, created.UnixMilli(), doc); err != nil {
				t.Fatal(err)
			}
			if _, err := emails.Exec(id, schema.Fold(work), "work"); err != nil {
				t.Fatal(err)
			}
			if _, err := emails.Exec(id, schema.Fold(home), "home"); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec("UPDATE scim_generation SET n = n + 1"); err != nil {
		t.Fatal(err)
	}
}
