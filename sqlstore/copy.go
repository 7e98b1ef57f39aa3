package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// copyTable is a table scimd copy moves, with its columns and their kinds
// (which say how a value read from one database is written to the other).
type copyTable struct {
	name  string
	order string // ORDER BY, so that copies are deterministic
	cols  []copyCol
}

type copyCol struct {
	name string
	kind byte // 's' text, 'i' integer, 'b' boolean, 'x' bytes
}

func cols(spec string) []copyCol {
	var out []copyCol
	for _, f := range strings.Fields(spec) {
		name, kind, _ := strings.Cut(f, ":")
		out = append(out, copyCol{name: name, kind: kind[0]})
	}
	return out
}

// copyTables is every table scimd keeps, parents before children.
// Console sessions are not copied: they are short-lived, and signing in
// again on the new database is cheap. TestCopyCoversEveryTable checks
// that no table is forgotten.
var copyTables = []copyTable{
	{"scim_users", "id", cols("id:s user_name:s user_name_fold:s external_id:s display_name:s active:b created:i last_modified:i version:i doc:s")},
	{"scim_user_emails", "user_id, value_fold, type_fold", cols("user_id:s value_fold:s type_fold:s")},
	{"scim_groups", "id", cols("id:s display_name:s display_name_fold:s external_id:s created:i last_modified:i version:i doc:s")},
	{"scim_members", "group_id, member_id", cols("group_id:s member_id:s member_type:s")},
	{"scim_tokens", "id", cols("id:s name:s hash:x created:i last_used:i expires:i revoked:i")},
	{"scim_audit", "id", cols("id:i at:i actor:s actor_kind:s source:s request_id:s action:s resource_type:s resource_id:s resource_name:s changes:s outcome:s")},
	{"scim_admins", "id", cols("id:s name:s password:s created:i password_at:i")},
}

// notCopied are tables Copy leaves behind on purpose. scim_generation is
// the target's own change counter (see query_list.go): the copy's writes
// don't need to advance it, since no server has cached pages of a database
// being filled.
var notCopied = map[string]bool{"scim_sessions": true, "scimd_migrations": true, "scim_generation": true, "scim_reorder": true, "scim_counts": true}

// CopyStats counts the rows Copy wrote, by table.
type CopyStats map[string]int

// Copy copies everything from holds (users, groups, memberships, tokens,
// the audit trail, console administrators) into to, which must be empty
// (freshly migrated). It reads one consistent snapshot of from, so from
// may keep serving while it runs, and writes to in one transaction: after
// an error, to is as it was. from and to may be SQLite or PostgreSQL, in
// any combination; both must be at the same migration.
func Copy(ctx context.Context, from, to *Store) (CopyStats, error) {
	fv, err := from.SchemaVersion(ctx)
	if err != nil {
		return nil, err
	}
	tv, err := to.SchemaVersion(ctx)
	if err != nil {
		return nil, err
	}
	if fv != tv {
		return nil, fmt.Errorf("copy: source is at migration %d, destination at %d: upgrade the older scimd first", fv, tv)
	}
	// A snapshot: PostgreSQL's REPEATABLE READ; a SQLite read transaction
	// sees the database as of its first read (WAL).
	var opts *sql.TxOptions
	if from.d.name == "postgres" {
		opts = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	src, err := from.r.BeginTx(ctx, opts)
	if err != nil {
		return nil, from.dbErr(err)
	}
	defer src.Rollback()
	stats := CopyStats{}
	err = to.txOn(ctx, to.w, func(dst *sql.Tx) error {
		for _, t := range copyTables {
			var n int
			if err := dst.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+t.name).Scan(&n); err != nil {
				return fmt.Errorf("copy: %s: %w", t.name, to.dbErr(err))
			}
			if n > 0 && t.name != "scim_audit" {
				return fmt.Errorf("copy: the destination is not empty (%s has %d rows): copy into a new database", t.name, n)
			}
			// The destination's own migration may have audited; drop that.
			if _, err := dst.ExecContext(ctx, `DELETE FROM `+t.name); err != nil {
				return fmt.Errorf("copy: %s: %w", t.name, to.dbErr(err))
			}
		}
		for _, t := range copyTables {
			n, err := copyRows(ctx, src, dst, t)
			if err != nil {
				return fmt.Errorf("copy %s: %w", t.name, err)
			}
			stats[t.name] = n
		}
		if to.d.name == "postgres" {
			// Audit ids were copied; new ones continue after them.
			if _, err := dst.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('scim_audit', 'id'), GREATEST(COALESCE(MAX(id), 0), 1), MAX(id) IS NOT NULL) FROM scim_audit`); err != nil {
				return fmt.Errorf("copy: audit ids: %w", err)
			}
		}
		return nil
	})
	if ce, ok := err.(*commitError); ok {
		err = ce.err
	}
	if err != nil {
		return nil, err
	}
	return stats, nil
}

// copyRows streams t's rows from src into dst in multi-row inserts.
func copyRows(ctx context.Context, src, dst *sql.Tx, t copyTable) (int, error) {
	names := make([]string, len(t.cols))
	for i, c := range t.cols {
		names[i] = c.name
	}
	rows, err := src.QueryContext(ctx, `SELECT `+strings.Join(names, ", ")+` FROM `+t.name+` ORDER BY `+t.order)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	per := max(1, 3000/len(t.cols)) // rows per INSERT, well under both databases' parameter limits
	var batch []any
	n, inBatch := 0, 0
	flush := func() error {
		if inBatch == 0 {
			return nil
		}
		var b strings.Builder
		b.WriteString(`INSERT INTO ` + t.name + ` (` + strings.Join(names, ", ") + `) VALUES `)
		for r := 0; r < inBatch; r++ {
			if r > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(")
			for c := range t.cols {
				if c > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "$%d", r*len(t.cols)+c+1)
			}
			b.WriteString(")")
		}
		if _, err := dst.ExecContext(ctx, b.String(), batch...); err != nil {
			return err
		}
		batch, inBatch = batch[:0], 0
		return nil
	}
	for rows.Next() {
		vals := make([]any, len(t.cols))
		for i, c := range t.cols {
			switch c.kind {
			case 's':
				vals[i] = new(sql.NullString)
			case 'i':
				vals[i] = new(sql.NullInt64)
			case 'b':
				vals[i] = new(sql.NullBool)
			case 'x':
				vals[i] = new([]byte)
			}
		}
		if err := rows.Scan(vals...); err != nil {
			return n, err
		}
		for i, v := range vals {
			switch v := v.(type) {
			case *sql.NullString:
				vals[i] = *v
			case *sql.NullInt64:
				vals[i] = *v
			case *sql.NullBool:
				vals[i] = *v
			case *[]byte:
				vals[i] = *v
			}
		}
		batch = append(batch, vals...)
		inBatch++
		n++
		if inBatch == per {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	return n, flush()
}

// SchemaVersion returns the last migration applied to the database.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	if err := s.r.QueryRowContext(ctx, `SELECT MAX(version) FROM scimd_migrations`).Scan(&v); err != nil {
		return 0, s.dbErr(err)
	}
	return int(v.Int64), nil
}

// Dialect returns "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.d.name }
