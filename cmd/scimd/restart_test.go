package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimd/scimd/sqlstore/pgtest"
)

// privatePostgres is a PostgreSQL server of the test's own, which it may
// stop and start (the shared test server serves other packages' tests).
type privatePostgres struct {
	t       *testing.T
	as      []string // "runuser -u USER --" when the tests run as root
	bin     string
	dir     string
	port    int
	DSN     string
	running bool
}

// startPrivatePostgres initialises and starts a server with the binaries
// in SCIMD_TEST_PG_BIN (scripts/postgres.sh exports it), as
// SCIMD_TEST_PG_USER when running as root (PostgreSQL refuses root).
func startPrivatePostgres(t *testing.T) *privatePostgres {
	t.Helper()
	pgtest.ServerDSN(t) // same skip-or-fail rule as every PostgreSQL test
	p := &privatePostgres{t: t, bin: os.Getenv("SCIMD_TEST_PG_BIN")}
	if p.bin == "" {
		if os.Getenv("SCIMD_CI") == "1" {
			t.Fatal("SCIMD_TEST_PG_BIN is not set: scripts/postgres.sh exports it")
		}
		t.Skip("SCIMD_TEST_PG_BIN (the folder of initdb and pg_ctl) is not set; scripts/test sets it")
	}
	dir, err := os.MkdirTemp("", "scimd-pgrestart")
	if err != nil {
		t.Fatal(err)
	}
	p.dir = dir
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Getuid() == 0 {
		user := os.Getenv("SCIMD_TEST_PG_USER")
		if user == "" {
			t.Skip("running as root without SCIMD_TEST_PG_USER (a user to run PostgreSQL as); scripts/postgres.sh sets it")
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		p.as = []string{"runuser", "-u", user, "--"}
		if out, err := exec.Command("chown", user, dir).CombinedOutput(); err != nil {
			t.Fatalf("chown: %v %s", err, out)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	p.cmd("initdb", "-D", filepath.Join(dir, "data"), "-U", "scimd", "--auth=trust", "-E", "UTF8")
	p.start()
	t.Cleanup(p.stop)
	p.DSN = fmt.Sprintf("postgres://scimd@127.0.0.1:%d/postgres?sslmode=disable", p.port)
	return p
}

func (p *privatePostgres) cmd(name string, args ...string) {
	p.t.Helper()
	argv := append(append(append([]string{}, p.as...), filepath.Join(p.bin, name)), args...)
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		p.t.Fatalf("%s: %v\n%s", name, err, out)
	}
}

func (p *privatePostgres) start() {
	p.t.Helper()
	p.cmd("pg_ctl", "-D", filepath.Join(p.dir, "data"), "-l", filepath.Join(p.dir, "server.log"), "-w", "-t", "120",
		"-o", "-h 127.0.0.1 -p "+strconv.Itoa(p.port)+" -k "+p.dir+" -c fsync=off", "start")
	p.running = true
}

// stop stops the server, fast: sessions are terminated, as in a failover
// or a restart for maintenance.
func (p *privatePostgres) stop() {
	if !p.running {
		return
	}
	p.running = false
	p.cmd("pg_ctl", "-D", filepath.Join(p.dir, "data"), "-m", "fast", "-w", "-t", "120", "stop")
}

// TestPostgresRestart restarts PostgreSQL under load from two replicas:
// while it is down they answer 503 with Retry-After (not 500, not a
// hang) and say so on /readyz; afterwards they recover by themselves, and
// every write acknowledged before, during or after is there.
func TestPostgresRestart(t *testing.T) {
	pg := startPrivatePostgres(t)
	a := start(t, pg.DSN)
	b := start(t, pg.DSN)
	token := a.token
	bases := []string{a.base, b.base}

	var (
		mu      sync.Mutex
		acked   []string // ids of users whose creation was answered 201
		bad     []string // answers other than 201 and 503
		n503    atomic.Int64
		stop    atomic.Bool
		counter atomic.Int64
		wg      sync.WaitGroup
	)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				i := counter.Add(1)
				r := send(token, "POST", bases[w%2]+"/Users", fmt.Sprintf(`{"userName":"load%06d@example.com"}`, i))
				mu.Lock()
				switch {
				case r.Err != nil:
					bad = append(bad, r.Err.Error())
				case r.Status == http.StatusCreated:
					acked = append(acked, r.Body["id"].(string))
				case r.Status == http.StatusServiceUnavailable && r.Header.Get("Retry-After") != "":
					n503.Add(1)
				default:
					bad = append(bad, fmt.Sprintf("%d %v", r.Status, r.Body))
				}
				mu.Unlock()
			}
		}()
	}
	ackedCount := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(acked)
	}
	// Let load build up, then stop the server under it.
	for ackedCount() < 50 {
		time.Sleep(10 * time.Millisecond)
	}
	pg.stop()
	// Down: every replica answers 503 on SCIM and on /readyz.
	for _, base := range bases {
		if r := send(token, "GET", base+"/Users?count=1", ""); r.Err != nil || r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
			t.Errorf("while PostgreSQL is down: %d %v %v", r.Status, r.Body, r.Err)
		}
	}
	for _, in := range []*instance{a, b} {
		if res, err := client.Get("http://" + in.addr + "/readyz"); err != nil || res.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("/readyz while down: %v %v", res, err)
		} else {
			res.Body.Close()
		}
	}
	before503 := n503.Load()
	for n503.Load() < before503+20 { // the load sees the outage too
		time.Sleep(10 * time.Millisecond)
	}
	pg.start()
	// Recovery without intervention: readiness, then writes again.
	for _, in := range []*instance{a, b} {
		for {
			res, err := client.Get("http://" + in.addr + "/readyz")
			if err == nil {
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					break
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	after := ackedCount()
	for ackedCount() < after+50 {
		time.Sleep(10 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()

	if len(bad) > 0 {
		t.Errorf("%d answers neither 201 nor 503, e.g. %q", len(bad), bad[:min(5, len(bad))])
	}
	// No acknowledged write lost.
	for _, id := range acked {
		if r := send(token, "GET", b.base+"/Users/"+id, ""); r.Status != http.StatusOK {
			t.Fatalf("acknowledged user %s: %d after the restart", id, r.Status)
		}
	}
	t.Logf("%d users acknowledged, %d answers 503 during the outage", len(acked), n503.Load())
}
