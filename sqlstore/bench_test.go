package sqlstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/scimd/scimd/scim"
	"github.com/scimd/scimd/scim/filter"
	"github.com/scimd/scimd/scim/schema"
	"github.com/scimd/scimd/sqlstore"
)

// The benchmarks run on a real SQLite file. A database with 100,000 users
// (and one group holding all of them) is built once per process.

const benchUsers = 100_000

var (
	benchDir string // removed by TestMain
	seedOnce sync.Once
	seedPath string
	seedErr  error
	seedIDs  []string
	bigGroup string
)

func seeded(b *testing.B) *sqlstore.Store {
	b.Helper()
	ctx := context.Background()
	seedOnce.Do(func() {
		dir, err := os.MkdirTemp("", "scimd-bench")
		if err != nil {
			seedErr = err
			return
		}
		benchDir = dir
		seedPath = filepath.Join(dir, fmt.Sprintf("bench-%d.db", benchUsers))
		s, err := sqlstore.Open(ctx, seedPath, sqlstore.Options{})
		if err != nil {
			seedErr = err
			return
		}
		defer s.Close()
		seedIDs = make([]string, 0, benchUsers)
		members := make([]scim.Member, 0, benchUsers)
		for i := range benchUsers {
			u, err := s.Create(ctx, &scim.Resource{Type: schema.UserType, Attrs: map[string]any{
				"userName":   fmt.Sprintf("user%06d@example.com", i),
				"externalId": fmt.Sprintf("ext-%06d", i),
				"emails":     []any{map[string]any{"value": fmt.Sprintf("user%06d@example.com", i), "type": "work", "primary": true}},
			}})
			if err != nil {
				seedErr = err
				return
			}
			seedIDs = append(seedIDs, u.ID)
			members = append(members, scim.Member{Value: u.ID})
		}
		g, err := s.Create(ctx, &scim.Resource{Type: schema.GroupType, Attrs: map[string]any{"displayName": "everyone"}, Members: members})
		if err != nil {
			seedErr = err
			return
		}
		bigGroup = g.ID
	})
	if seedErr != nil {
		b.Fatal(seedErr)
	}
	s, err := sqlstore.Open(ctx, seedPath, sqlstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

func BenchmarkCreateUser(b *testing.B) {
	s := openSQLite(b)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		_, err := s.Create(ctx, &scim.Resource{Type: schema.UserType, Attrs: map[string]any{
			"userName": fmt.Sprintf("new%d@example.com", i),
			"emails":   []any{map[string]any{"value": fmt.Sprintf("new%d@example.com", i), "type": "work"}},
		}})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetUserByID(b *testing.B) {
	s := seeded(b)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, err := s.Get(ctx, schema.UserType, seedIDs[(i*7919)%len(seedIDs)], scim.Load{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUserNameEqAt100k(b *testing.B) {
	s := seeded(b)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		// Mixed case: the lookup is case-insensitive.
		f, err := filter.Parse(schema.UserType, fmt.Sprintf(`userName eq "USER%06d@Example.com"`, (i*7919)%benchUsers))
		if err != nil {
			b.Fatal(err)
		}
		p, err := s.List(ctx, schema.UserType, scim.Query{Filter: f, StartIndex: 1, Count: 100})
		if err != nil || p.Total != 1 {
			b.Fatalf("total %d, err %v", p.Total, err)
		}
	}
}

func benchAddMember(b *testing.B, s *sqlstore.Store, group string, pool []string) {
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m := pool[i%len(pool)]
		i++
		// Add one member, then remove it again, so that every iteration
		// really writes; each call is timed.
		for _, c := range []*scim.MemberChanges{{Add: []scim.Member{{Value: m}}}, {Remove: []string{m}}} {
			if _, err := s.Update(ctx, schema.GroupType, group, scim.UpdateOptions{}, func(r *scim.Resource) error {
				r.MemberChanges = c
				return nil
			}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkAddMember reports the cost of one add plus one remove (two
// transactions) on a group of 0 and of 100,000 members.
func BenchmarkAddMember(b *testing.B) {
	b.Run("group=0", func(b *testing.B) {
		s := seeded(b)
		g, err := s.Create(context.Background(), &scim.Resource{Type: schema.GroupType, Attrs: map[string]any{"displayName": fmt.Sprintf("empty-%d", b.N)}})
		if err != nil {
			b.Fatal(err)
		}
		benchAddMember(b, s, g.ID, seedIDs[:1000])
	})
	b.Run("group=100k", func(b *testing.B) {
		s := seeded(b)
		// Users outside the big group, to add and remove.
		outsiders := make([]string, 0, 100)
		for i := range 100 {
			u, err := s.Create(context.Background(), &scim.Resource{Type: schema.UserType, Attrs: map[string]any{"userName": fmt.Sprintf("outsider-%d-%d", b.N, i)}})
			if err != nil {
				b.Fatal(err)
			}
			outsiders = append(outsiders, u.ID)
		}
		benchAddMember(b, s, bigGroup, outsiders)
	})
}
