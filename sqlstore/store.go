// Package sqlstore is scimd's scim.Store on SQL: SQLite (embedded, the
// default) and PostgreSQL, behind one small dialect type. Resources are
// rows holding their canonical JSON document plus indexed columns for the
// attributes clients look up; membership is its own table.
//
// SQL is written once with $1, $2… placeholders numbered in order of first
// appearance, which both SQLite and PostgreSQL accept.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/scimd/scimd/scim"
	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations
var migrations embed.FS

// dialect is what differs between the SQL databases scimd runs on.
type dialect struct {
	name string // "sqlite" or "postgres"
	// isUnique reports whether err is a unique-constraint violation.
	isUnique func(error) bool
	// jsonText returns SQL extracting the text at a JSON path
	// (keys, already validated attribute names) from column col.
	jsonText func(col string, keys ...string) string
	// forUpdate is appended to the SELECT that reads a row before a
	// read-modify-write, to lock it ("" where writers are serialised
	// anyway).
	forUpdate string
	// lockNesting, if set, is run before a group gains group members, so
	// that concurrent cycle checks cannot each pass and together make a
	// cycle.
	lockNesting string
	// lockMigrations and unlockMigration, if set, bracket migrations so
	// that replicas starting together apply each one once.
	lockMigrations, unlockMigration string
	// transient, if set, classifies err (see pgTransient).
	transient func(err error) (retry, unavailable bool)
}

var sqliteDialect = &dialect{
	name: "sqlite",
	isUnique: func(err error) bool {
		var e *sqlite.Error
		if errors.As(err, &e) {
			return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
		}
		return false
	},
	jsonText: func(col string, keys ...string) string {
		var b strings.Builder
		b.WriteString("json_extract(" + col + ", '$")
		for _, k := range keys {
			b.WriteString(`."` + k + `"`)
		}
		b.WriteString("')")
		return b.String()
	},
}

// Options configure a Store.
type Options struct {
	// Now returns the current time; time.Now if nil.
	Now func() time.Time
	// Logger receives the store's rare messages; slog.Default if nil.
	Logger *slog.Logger

	// PostgreSQL only: the pool's limits (0: 20 open, 10 idle, 30 minutes'
	// lifetime) and the statement timeout (0: 30s; negative: none).
	MaxOpenConns     int
	MaxIdleConns     int
	ConnMaxLifetime  time.Duration
	StatementTimeout time.Duration
}

// Store is a scim.Store on SQL.
type Store struct {
	d   *dialect
	w   *sql.DB // writes; for SQLite a single connection, so writers queue in Go, not in busy loops
	r   *sql.DB // reads
	now func() time.Time
	log *slog.Logger

	cache   pageCache    // bookmarks and totals of list queries (query_list.go)
	idPages pageCache    // bookmarks of unfiltered lists in id order, by reorder counter
	walks   atomic.Int64 // index walks to a page start (a cache miss), for tests
}

var _ scim.Store = (*Store)(nil)

// Open opens the database named by dsn, and applies pending migrations:
// either a PostgreSQL URL (postgres://user:pass@host:port/db?sslmode=…),
// or else a SQLite file path, creating the file and its folder if needed.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	s := &Store{now: opts.Now, log: opts.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	open := s.openSQLite
	if IsPostgres(dsn) {
		open = func(dsn string) error { return s.openPostgres(dsn, opts) }
	}
	if err := open(dsn); err != nil {
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) openSQLite(path string) error {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("create database folder: %w", err)
		}
	}
	// WAL for concurrent readers; synchronous=FULL so that a commit that
	// returned survives a power cut; a busy timeout for the rare writer
	// outside our single write connection (the CLI, another process).
	q := "_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)"
	w, err := sql.Open("sqlite", "file:"+path+"?"+q+"&_txlock=immediate")
	if err != nil {
		return fmt.Errorf("open sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite", "file:"+path+"?"+q)
	if err != nil {
		w.Close()
		return fmt.Errorf("open sqlite: %w", err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	s.d, s.w, s.r = sqliteDialect, w, r
	if err := w.Ping(); err != nil {
		s.Close()
		return fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return nil
}

// Close closes the database. With SQLite it checkpoints the WAL first.
func (s *Store) Close() error {
	var errs []error
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		if s.d == sqliteDialect {
			_, _ = s.w.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
		}
		errs = append(errs, s.w.Close())
	}
	return errors.Join(errs...)
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.r.PingContext(ctx); err != nil {
		return fmt.Errorf("%w: %w", scim.ErrUnavailable, err)
	}
	return nil
}

// migrate applies the embedded migrations not yet recorded, each in its own
// transaction.
func (s *Store) migrate(ctx context.Context) error {
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", s.dbErr(err))
	}
	defer conn.Close()
	if s.d.lockMigrations != "" {
		if _, err := conn.ExecContext(ctx, s.d.lockMigrations); err != nil {
			return fmt.Errorf("migrate: lock: %w", s.dbErr(err))
		}
		defer conn.ExecContext(context.Background(), s.d.unlockMigration)
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS scimd_migrations (version INTEGER PRIMARY KEY, applied BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	dir := "migrations/" + s.d.name
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		v, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migrate: bad migration name %q", e.Name())
		}
		body, err := migrations.ReadFile(dir + "/" + e.Name())
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if err := s.txOn(ctx, conn, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM scimd_migrations WHERE version = $1`, v).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("%s: %w", e.Name(), err)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO scimd_migrations (version, applied) VALUES ($1, $2)`, v, s.now().UnixMilli())
			return err
		}); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	return nil
}

// tx runs fn in a write transaction, committing if it returns nil.
//
// On PostgreSQL, a transaction that fails for a transient reason
// (serialization failure, deadlock, lost connection, server restarting)
// before COMMIT is sent is rolled back by the server and run again, a few
// times, so fn must be safe to call again (it is only ever called with a
// fresh transaction). A failure during COMMIT itself is never retried: it
// may have committed. What still fails for a transient reason is
// scim.ErrUnavailable.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	backoff := 10 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err, committing := s.txOn(ctx, s.w, fn), false
		var ce *commitError
		if errors.As(err, &ce) {
			err, committing = ce.err, true
		}
		if err == nil || s.d.transient == nil {
			return err
		}
		retry, unavailable := s.d.transient(err)
		if retry && committing {
			// Only a conflict reported by the server is known to have
			// rolled back; a connection lost during COMMIT is ambiguous.
			var pe interface{ SQLState() string }
			retry = errors.As(err, &pe) && strings.HasPrefix(pe.SQLState(), "40")
		}
		if !retry || attempt == txAttempts {
			if unavailable && !errors.Is(err, scim.ErrUnavailable) {
				err = fmt.Errorf("%w: %w", scim.ErrUnavailable, err)
			}
			return err
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		backoff *= 4
	}
}

// txAttempts bounds tx's attempts: with its backoff, under half a second
// of retrying before a client is told to come back later.
const txAttempts = 4

// commitError marks a failure of COMMIT itself.
type commitError struct{ err error }

func (e *commitError) Error() string { return e.err.Error() }
func (e *commitError) Unwrap() error { return e.err }

// txOn runs fn in one transaction on db (a pool or one connection). A
// failed COMMIT is returned as a *commitError.
func (s *Store) txOn(ctx context.Context, db interface {
	BeginTx(context.Context, *sql.TxOptions) (*sql.Tx, error)
}, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return s.dbErr(err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return &commitError{s.dbErr(err)}
	}
	return nil
}

// dbErr classifies a database error: unique violations become
// scim.ErrConflict, cancellations stay as they are, transient failures
// (PostgreSQL down, restarting, timing out) become scim.ErrUnavailable, the
// rest are wrapped.
func (s *Store) dbErr(err error) error {
	switch {
	case err == nil:
		return nil
	case s.d.isUnique(err):
		return fmt.Errorf("%w: %w", scim.ErrConflict, err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	if s.d.transient != nil {
		if _, unavailable := s.d.transient(err); unavailable {
			return fmt.Errorf("%w: %w", scim.ErrUnavailable, err)
		}
	}
	return fmt.Errorf("database: %w", err)
}

// ms converts t to unix milliseconds, and back.
func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func nullMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMS(v.Int64)
}

func msOrNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ms(t)
}
