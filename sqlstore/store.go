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
}

// Store is a scim.Store on SQL.
type Store struct {
	d   *dialect
	w   *sql.DB // writes; for SQLite a single connection, so writers queue in Go, not in busy loops
	r   *sql.DB // reads
	now func() time.Time
	log *slog.Logger
}

var _ scim.Store = (*Store)(nil)

// Open opens the database named by dsn, a SQLite file path, creating it and
// its folder if needed, and applies pending migrations.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	s := &Store{now: opts.Now, log: opts.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if err := s.openSQLite(dsn); err != nil {
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
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS scimd_migrations (version INTEGER PRIMARY KEY, applied INTEGER NOT NULL)`); err != nil {
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
		if err := s.tx(ctx, func(tx *sql.Tx) error {
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
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.dbErr(err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return s.dbErr(err)
	}
	return nil
}

// dbErr classifies a database error: unique violations become
// scim.ErrConflict, cancellations stay as they are, the rest are wrapped.
func (s *Store) dbErr(err error) error {
	switch {
	case err == nil:
		return nil
	case s.d.isUnique(err):
		return fmt.Errorf("%w: %w", scim.ErrConflict, err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
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
