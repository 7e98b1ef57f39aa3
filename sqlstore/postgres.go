package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/scimd/scimd/scim"
	"github.com/scimd/scimd/scim/schema"
)

// PostgreSQL is how scimd scales out: any number of stateless replicas
// share one database. Everything here is what differs from SQLite; the
// statements themselves are shared.
//
// Concurrency: the database runs at READ COMMITTED. Update and Delete lock
// the resource's row (SELECT … FOR UPDATE) before reading it, so a
// read-modify-write and its If-Match check are atomic across replicas;
// uniqueness of names is the folded columns' unique indexes. Transactions
// that fail for a transient reason before their commit are run again (see
// Store.tx); what still fails for such a reason is scim.ErrUnavailable.

// IsPostgres reports whether dsn names a PostgreSQL database
// (postgres://… or postgresql://…) rather than a SQLite file.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// PostgreSQL SQLSTATE codes scimd treats specially.
const (
	pgUniqueViolation      = "23505"
	pgSerializationFailure = "40001"
	pgDeadlockDetected     = "40P01"
	pgQueryCanceled        = "57014" // statement_timeout
	pgAdminShutdown        = "57P01"
	pgCrashShutdown        = "57P02"
	pgCannotConnectNow     = "57P03"
	pgTooManyConnections   = "53300"
	pgLockNotAvailable     = "55P03"
)

var postgresDialect = &dialect{
	name: "postgres",
	isUnique: func(err error) bool {
		var e *pgconn.PgError
		return errors.As(err, &e) && e.Code == pgUniqueViolation
	},
	jsonText: func(col string, keys ...string) string {
		// col -> 'a' -> 'b' ->> 'c': keys are validated attribute names, but
		// quote them properly anyway.
		var b strings.Builder
		b.WriteString(col)
		for i, k := range keys {
			if i == len(keys)-1 {
				b.WriteString(" ->> ")
			} else {
				b.WriteString(" -> ")
			}
			b.WriteString(quoteLiteral(k))
		}
		if len(keys) == 0 {
			return "(" + col + " #>> '{}')"
		}
		return "(" + b.String() + ")"
	},
	forUpdate:       " FOR UPDATE",
	lockNesting:     `SELECT pg_advisory_xact_lock(hashtext('scimd.nesting'))`,
	lockMigrations:  `SELECT pg_advisory_lock(hashtext('scimd.migrate.' || current_schema()))`,
	unlockMigration: `SELECT pg_advisory_unlock(hashtext('scimd.migrate.' || current_schema()))`,
	transient:       pgTransient,
}

// quoteLiteral returns s as a SQL string literal.
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// pgTransient classifies err: retry says running the transaction again
// may succeed and is safe if the failure happened before COMMIT was sent;
// unavailable says the database is down, overloaded or too slow, so the
// client should come back later (503).
func pgTransient(err error) (retry, unavailable bool) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case pgSerializationFailure, pgDeadlockDetected:
			return true, true
		case pgAdminShutdown, pgCrashShutdown, pgCannotConnectNow, pgTooManyConnections:
			return true, true
		case pgQueryCanceled, pgLockNotAvailable:
			return false, true
		}
		if strings.HasPrefix(pe.Code, "08") { // connection exception
			return true, true
		}
		return false, false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false, false
	case errors.As(err, &ce), errors.Is(err, driver.ErrBadConn), errors.As(err, &ne),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		pgconn.SafeToRetry(err), pgconn.Timeout(err):
		return true, true
	}
	// pgconn reports a connection it has already closed this way.
	if msg := err.Error(); strings.Contains(msg, "conn closed") || strings.Contains(msg, "conn busy") {
		return true, true
	}
	return false, false
}

// openPostgres opens a pool on dsn. Reads and writes share it: PostgreSQL
// has no single-writer rule, and row locks order concurrent writers.
func (s *Store) openPostgres(dsn string, opts Options) error {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("postgres dsn: %w", err)
	}
	if cfg.ConnectTimeout == 0 {
		// Without one, an unreachable host (dropped packets) would hang a
		// request for the kernel's TCP timeout, minutes.
		cfg.ConnectTimeout = 5 * time.Second
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = "scimd"
	}
	st := opts.StatementTimeout
	if st == 0 {
		st = 30 * time.Second
	}
	if _, ok := cfg.RuntimeParams["statement_timeout"]; !ok && st > 0 {
		cfg.RuntimeParams["statement_timeout"] = strconv.FormatInt(st.Milliseconds(), 10)
	}
	// A transaction left idle (a replica paused mid-request) must not hold
	// row locks forever.
	if _, ok := cfg.RuntimeParams["idle_in_transaction_session_timeout"]; !ok {
		cfg.RuntimeParams["idle_in_transaction_session_timeout"] = "60000"
	}
	db := stdlib.OpenDB(*cfg)
	maxOpen := opts.MaxOpenConns
	if maxOpen == 0 {
		maxOpen = 20
	}
	db.SetMaxOpenConns(maxOpen)
	maxIdle := opts.MaxIdleConns
	if maxIdle == 0 {
		maxIdle = min(maxOpen, 10)
	}
	db.SetMaxIdleConns(maxIdle)
	life := opts.ConnMaxLifetime
	if life == 0 {
		life = 30 * time.Minute
	}
	db.SetConnMaxLifetime(life)
	db.SetConnMaxIdleTime(5 * time.Minute)
	s.d, s.w, s.r = postgresDialect, db, db
	ctx, cancel := context.WithTimeout(context.Background(), cfg.ConnectTimeout+5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		s.w, s.r = nil, nil
		return fmt.Errorf("connect to postgres %s@%s:%d/%s: %w", cfg.User, cfg.Host, cfg.Port, cfg.Database, err)
	}
	return nil
}

// RedactDSN returns dsn with any password replaced by "xxxxx", for logs
// and error messages.
func RedactDSN(dsn string) string {
	if !IsPostgres(dsn) {
		return dsn
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return "postgres://(unparsable)"
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}

// lockedFind is find for a read-modify-write inside tx: on PostgreSQL it
// locks the row (FOR UPDATE), so concurrent writers of one resource queue
// and each reads what the previous one committed; an If-Match check made
// after it is race-free. On SQLite the single write connection and BEGIN
// IMMEDIATE already serialise writers.
func (s *Store) lockedFind(ctx context.Context, tx *sql.Tx, rt *schema.ResourceType, x string) (*scim.Resource, error) {
	if s.d.forUpdate == "" {
		return s.find(ctx, tx, rt, x)
	}
	t := tableOf(rt)
	r, err := scanResource(rt, tx.QueryRowContext(ctx, `SELECT `+resourceCols+` FROM `+t.name+` WHERE id = $1`+s.d.forUpdate, x))
	if errors.Is(err, sql.ErrNoRows) {
		r, err = scanResource(rt, tx.QueryRowContext(ctx, `SELECT `+resourceCols+` FROM `+t.name+` WHERE `+t.foldCol+` = $1`+s.d.forUpdate, schema.Fold(x)))
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s %q: %w", rt.ID, x, scim.ErrNotFound)
	}
	if err != nil {
		return nil, s.dbErr(err)
	}
	return r, nil
}

// DB returns the store's database handle, for tests and tools that need
// SQL the store does not offer.
func (s *Store) DB() *sql.DB { return s.w }
