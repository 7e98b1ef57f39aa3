package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimd/scimd/scim"
	"github.com/scimd/scimd/scim/schema"
	"github.com/scimd/scimd/sqlstore"
	"github.com/scimd/scimd/sqlstore/pgtest"
)

// BenchmarkReplicas runs the same HTTP workloads against real scimd
// servers on SQLite, on PostgreSQL with one replica, and on PostgreSQL
// with two replicas (requests alternate between them), with 100,000 users
// and a group holding all of them. Requests are concurrent (8 per core),
// so ns/op is the inverse of throughput, not latency.
//
//	SCIMD_TEST_POSTGRES=postgres://… go test ./cmd/scimd -run '^$' -bench Replicas -benchtime 3000x
func BenchmarkReplicas(b *testing.B) {
	const users = 100_000
	seed := seedSQLite(b, users)
	type setup struct {
		name  string
		bases []string
		token string
	}
	var setups []setup
	{
		dir := b.TempDir()
		db := filepath.Join(dir, "scimd.db")
		copyFile(b, seed, db)
		in := start(b, db)
		setups = append(setups, setup{"sqlite", []string{in.base}, in.token})
	}
	if os.Getenv(pgtest.Env) != "" {
		dsn := pgtest.DSN(b)
		ctx := context.Background()
		src, err := sqlstore.Open(ctx, seed, sqlstore.Options{})
		if err != nil {
			b.Fatal(err)
		}
		dst, err := sqlstore.Open(ctx, dsn, sqlstore.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := sqlstore.Copy(ctx, src, dst); err != nil {
			b.Fatal(err)
		}
		if _, err := dst.DB().ExecContext(ctx, "ANALYZE"); err != nil {
			b.Fatal(err)
		}
		src.Close()
		dst.Close()
		a := start(b, dsn)
		c := start(b, dsn)
		setups = append(setups,
			setup{"postgres-1", []string{a.base}, a.token},
			setup{"postgres-2", []string{a.base, c.base}, a.token})
	}
	for _, s := range setups {
		// Users outside the big group, added to it and removed again.
		var n atomic.Int64
		req := func(method, path, body string, want ...int) {
			i := n.Add(1)
			r := send(s.token, method, s.bases[int(i)%len(s.bases)]+path, body)
			if r.Err != nil {
				panic(r.Err)
			}
			for _, w := range want {
				if r.Status == w {
					return
				}
			}
			panic(fmt.Sprintf("%s %s: %d %v", method, path, r.Status, r.Body))
		}
		var everyone string
		{
			r := send(s.token, "GET", s.bases[0]+`/Groups?filter=displayName+eq+%22everyone%22&excludedAttributes=members`, "")
			everyone = r.Body["Resources"].([]any)[0].(map[string]any)["id"].(string)
		}
		var created atomic.Int64 // across the runs of the sub-benchmark
		b.Run(s.name+"/CreateUser", func(b *testing.B) {
			i := &created
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req("POST", "/Users", fmt.Sprintf(`{"userName":"%s-new%d@example.com"}`, s.name, i.Add(1)), http.StatusCreated)
				}
			})
		})
		b.Run(s.name+"/GetUser", func(b *testing.B) {
			var i atomic.Int64
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req("GET", fmt.Sprintf("/Users/user%06d@example.com", (i.Add(1)*7919)%users), "", http.StatusOK)
				}
			})
		})
		b.Run(s.name+"/UserNameEq", func(b *testing.B) {
			var i atomic.Int64
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req("GET", fmt.Sprintf("/Users?filter=userName+eq+%%22USER%06d@Example.com%%22", (i.Add(1)*7919)%users), "", http.StatusOK)
				}
			})
		})
		var patched atomic.Int64
		b.Run(s.name+"/AddMember100k", func(b *testing.B) {
			// One PATCH add per op, alternating with a remove of the same
			// user so the group stays at 100k; concurrent ops queue on the
			// group's row lock (PostgreSQL) or the writer (SQLite).
			i := &patched
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					k := i.Add(1)
					u := fmt.Sprintf("extra%05d@example.com", k%5000)
					op := "add"
					if (k/5000)%2 == 1 {
						op = "remove"
					}
					body := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"` + op + `","path":"members","value":[{"value":"` + u + `"}]}]}`
					if op == "remove" {
						body = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"` + extraIDs[k%5000] + `\"]"}]}`
					}
					req("PATCH", "/Groups/"+everyone, body, http.StatusNoContent, http.StatusOK)
				}
			})
		})
		b.Run(s.name+"/OktaPaging", func(b *testing.B) {
			// Okta's import: /Users?startIndex=…&count=100, page after page;
			// each op is one page, the walks of 8 clients interleaved.
			var i atomic.Int64
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					page := i.Add(1) % (users / 100)
					req("GET", fmt.Sprintf("/Users?startIndex=%d&count=100", page*100+1), "", http.StatusOK)
				}
			})
		})
	}
}

// extraIDs are the ids of the users outside the big group.
var extraIDs []string

// seedSQLite builds a SQLite database with n users (userN@example.com),
// 5,000 more (extraN@example.com) and a group "everyone" holding the first
// n. Rows are inserted directly, in one transaction, as the store would
// write them. BenchmarkReplicas runs once per process (its sub-benchmarks
// are what repeat), so this does too.
func seedSQLite(b *testing.B, n int) string {
	b.Helper()
	dir := b.TempDir()
	path := filepath.Join(dir, "seed.db")
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, path, sqlstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	tx, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	var members []string
	add := func(name string) string {
		id := scim.NewID(time.Now())
		doc, _ := json.Marshal(map[string]any{"userName": name, "active": true,
			"emails": []any{map[string]any{"value": name, "type": "work", "primary": true}}})
		if _, err := tx.ExecContext(ctx, `INSERT INTO scim_users (id, user_name, user_name_fold, active, created, last_modified, version, doc) VALUES ($1, $2, $3, 1, 0, 0, 1, $4)`,
			id, name, schema.Fold(name), string(doc)); err != nil {
			b.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO scim_user_emails (user_id, value_fold, type_fold) VALUES ($1, $2, 'work')`, id, schema.Fold(name)); err != nil {
			b.Fatal(err)
		}
		return id
	}
	for i := range n {
		members = append(members, add(fmt.Sprintf("user%06d@example.com", i)))
	}
	for i := range 5000 {
		extraIDs = append(extraIDs, add(fmt.Sprintf("extra%05d@example.com", i)))
	}
	gid := scim.NewID(time.Now())
	if _, err := tx.ExecContext(ctx, `INSERT INTO scim_groups (id, display_name, display_name_fold, created, last_modified, version, doc) VALUES ($1, 'everyone', 'everyone', 0, 0, 1, '{"displayName":"everyone"}')`, gid); err != nil {
		b.Fatal(err)
	}
	for _, m := range members {
		if _, err := tx.ExecContext(ctx, `INSERT INTO scim_members (group_id, member_id, member_type) VALUES ($1, $2, 'User')`, gid, m); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return path
}

func copyFile(b *testing.B, from, to string) {
	b.Helper()
	src, err := os.Open(from)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		b.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		b.Fatal(err)
	}
}
