package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/scimd/scimd/scim"
	"github.com/scimd/scimd/scim/schema"
)

// This file is what the admin console needs beyond scim.Store:
// administrators, sessions, audit queries and pruning, browsing by name,
// and a paged member list.

const adminCols = "id, name, password, created, password_at"

func scanAdmin(sc interface{ Scan(...any) error }) (*scim.Admin, error) {
	a := &scim.Admin{}
	var created, pwAt int64
	if err := sc.Scan(&a.ID, &a.Name, &a.PasswordHash, &created, &pwAt); err != nil {
		return nil, err
	}
	a.CreatedAt, a.PasswordAt = fromMS(created), fromMS(pwAt)
	return a, nil
}

// AdminByName returns the administrator with that name, or ErrNotFound.
func (s *Store) AdminByName(ctx context.Context, name string) (*scim.Admin, error) {
	a, err := scanAdmin(s.r.QueryRowContext(ctx, `SELECT `+adminCols+` FROM scim_admins WHERE name = $1`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("admin %q: %w", name, scim.ErrNotFound)
	}
	if err != nil {
		return nil, s.dbErr(err)
	}
	return a, nil
}

// CountAdmins returns how many administrators exist.
func (s *Store) CountAdmins(ctx context.Context) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM scim_admins`).Scan(&n)
	return n, s.dbErr(err)
}

// CreateAdmin stores a, assigning its ID, and audits it. It returns
// ErrConflict if the name is taken.
func (s *Store) CreateAdmin(ctx context.Context, a *scim.Admin) error {
	now := s.now().UTC().Truncate(time.Millisecond)
	if a.CreatedAt.IsZero() {
		a.CreatedAt = now
	}
	a.PasswordAt = a.CreatedAt
	a.ID = scim.NewID(a.CreatedAt)
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO scim_admins (`+adminCols+`) VALUES ($1, $2, $3, $4, $5)`,
			a.ID, a.Name, a.PasswordHash, ms(a.CreatedAt), ms(a.PasswordAt))
		if err != nil {
			if s.d.isUnique(err) {
				return fmt.Errorf("admin %q: %w", a.Name, scim.ErrConflict)
			}
			return s.dbErr(err)
		}
		return s.auditEntry(ctx, tx, entry{action: "admin.create", resourceType: "Admin", resourceID: a.ID, resourceName: a.Name})
	})
}

// SetAdminPassword replaces the password hash of the named administrator
// and ends all of its sessions, in one transaction, and audits it. It
// returns ErrNotFound if there is no such administrator.
func (s *Store) SetAdminPassword(ctx context.Context, name, hash string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		a, err := scanAdmin(tx.QueryRowContext(ctx, `SELECT `+adminCols+` FROM scim_admins WHERE name = $1`, name))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("admin %q: %w", name, scim.ErrNotFound)
		}
		if err != nil {
			return s.dbErr(err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE scim_admins SET password = $1, password_at = $2 WHERE id = $3`, hash, ms(s.now()), a.ID); err != nil {
			return s.dbErr(err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM scim_sessions WHERE admin_id = $1`, a.ID)
		if err != nil {
			return s.dbErr(err)
		}
		n, _ := res.RowsAffected()
		return s.auditEntry(ctx, tx, entry{action: "admin.password", resourceType: "Admin", resourceID: a.ID, resourceName: a.Name,
			changes: fmt.Sprintf("password; %d session(s) ended", n)})
	})
}

// CreateSession stores a new session of an existing administrator and
// audits the sign-in, in one transaction. It returns ErrNotFound if the
// administrator does not exist.
func (s *Store) CreateSession(ctx context.Context, ss *scim.Session) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var name string
		err := tx.QueryRowContext(ctx, `SELECT name FROM scim_admins WHERE id = $1`, ss.AdminID).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("admin %s: %w", ss.AdminID, scim.ErrNotFound)
		}
		if err != nil {
			return s.dbErr(err)
		}
		ss.AdminName = name
		if _, err := tx.ExecContext(ctx, `INSERT INTO scim_sessions (hash, admin_id, created, last_seen) VALUES ($1, $2, $3, $4)`,
			ss.Hash, ss.AdminID, ms(ss.CreatedAt), ms(ss.LastSeen)); err != nil {
			return s.dbErr(err)
		}
		return s.auditEntry(ctx, tx, entry{action: "admin.signin", resourceType: "Admin", resourceID: ss.AdminID, resourceName: name})
	})
}

// SessionByHash returns the session with that hash, or ErrNotFound.
func (s *Store) SessionByHash(ctx context.Context, hash []byte) (*scim.Session, error) {
	ss := &scim.Session{}
	var created, seen int64
	err := s.r.QueryRowContext(ctx, `SELECT s.hash, s.admin_id, a.name, s.created, s.last_seen
		FROM scim_sessions s JOIN scim_admins a ON a.id = s.admin_id WHERE s.hash = $1`, hash).
		Scan(&ss.Hash, &ss.AdminID, &ss.AdminName, &created, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("session: %w", scim.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", scim.ErrUnavailable, err)
	}
	ss.CreatedAt, ss.LastSeen = fromMS(created), fromMS(seen)
	return ss, nil
}

// TouchSession records that the session was used at at (never moving
// last_seen backwards).
func (s *Store) TouchSession(ctx context.Context, hash []byte, at time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE scim_sessions SET last_seen = $1 WHERE hash = $2 AND last_seen < $1`, ms(at), hash)
		return s.dbErr(err)
	})
}

// DeleteSession ends the session with that hash and audits the sign-out.
// It returns ErrNotFound if there is no such session.
func (s *Store) DeleteSession(ctx context.Context, hash []byte) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var id, name string
		err := tx.QueryRowContext(ctx, `SELECT a.id, a.name FROM scim_sessions s JOIN scim_admins a ON a.id = s.admin_id WHERE s.hash = $1`, hash).Scan(&id, &name)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("session: %w", scim.ErrNotFound)
		}
		if err != nil {
			return s.dbErr(err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM scim_sessions WHERE hash = $1`, hash); err != nil {
			return s.dbErr(err)
		}
		return s.auditEntry(ctx, tx, entry{action: "admin.signout", resourceType: "Admin", resourceID: id, resourceName: name})
	})
}

// PruneSessions deletes sessions last seen before idle or created before
// created, and returns how many.
func (s *Store) PruneSessions(ctx context.Context, idle, created time.Time) (int64, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM scim_sessions WHERE last_seen < $1 OR created < $2`, ms(idle), ms(created))
		if err != nil {
			return s.dbErr(err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n, err
}

// RecordAudit appends rec to the audit trail on its own (for events that
// change nothing else: failed sign-ins, failed SCIM writes). Empty actor
// fields are taken from scim.ActorFrom(ctx); a zero At is now.
func (s *Store) RecordAudit(ctx context.Context, rec scim.AuditRecord) error {
	a := scim.ActorFrom(ctx)
	if rec.Actor == "" {
		rec.Actor, rec.ActorKind = a.Name, a.Kind
	}
	if rec.Source == "" {
		rec.Source = a.Source
	}
	if rec.RequestID == "" {
		rec.RequestID = a.RequestID
	}
	if rec.At.IsZero() {
		rec.At = s.now()
	}
	if rec.Outcome == "" {
		rec.Outcome = "success"
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO scim_audit (at, actor, actor_kind, source, request_id, action, resource_type, resource_id, resource_name, changes, outcome)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			ms(rec.At), rec.Actor, rec.ActorKind, rec.Source, rec.RequestID, rec.Action, rec.ResourceType, rec.ResourceID, rec.ResourceName, rec.Changes, rec.Outcome)
		return s.dbErr(err)
	})
}

// likePattern returns a LIKE pattern (escape character \) matching s as a
// substring.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// ListAudit returns the audit records matching q, newest first.
func (s *Store) ListAudit(ctx context.Context, q scim.AuditQuery) ([]scim.AuditRecord, error) {
	var b sqlBuilder
	conds := []string{"1=1"}
	if q.Actor != "" {
		conds = append(conds, `LOWER(actor) LIKE `+b.arg(likePattern(strings.ToLower(q.Actor)))+` ESCAPE '\'`)
	}
	if q.Resource != "" {
		conds = append(conds, `(resource_id = `+b.arg(q.Resource)+` OR LOWER(resource_name) LIKE `+b.arg(likePattern(strings.ToLower(q.Resource)))+` ESCAPE '\')`)
	}
	if q.ResourceID != "" {
		conds = append(conds, `resource_id = `+b.arg(q.ResourceID))
	}
	if q.Action != "" {
		conds = append(conds, `action = `+b.arg(q.Action))
	}
	if !q.Since.IsZero() {
		conds = append(conds, `at >= `+b.arg(ms(q.Since)))
	}
	if !q.Until.IsZero() {
		conds = append(conds, `at < `+b.arg(ms(q.Until)))
	}
	if q.Before > 0 {
		conds = append(conds, `id < `+b.arg(q.Before))
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, at, actor, actor_kind, source, request_id, action, resource_type, resource_id, resource_name, changes, outcome
		FROM scim_audit WHERE `+strings.Join(conds, " AND ")+` ORDER BY id DESC LIMIT `+b.arg(limit), b.args...)
	if err != nil {
		return nil, s.dbErr(err)
	}
	defer rows.Close()
	out := []scim.AuditRecord{}
	for rows.Next() {
		var r scim.AuditRecord
		var at int64
		if err := rows.Scan(&r.ID, &at, &r.Actor, &r.ActorKind, &r.Source, &r.RequestID, &r.Action, &r.ResourceType, &r.ResourceID, &r.ResourceName, &r.Changes, &r.Outcome); err != nil {
			return nil, s.dbErr(err)
		}
		r.At = fromMS(at)
		out = append(out, r)
	}
	return out, s.dbErr(rows.Err())
}

// CountFailedSignIns returns how many sign-ins from source failed since
// since and after the last successful one from that source.
func (s *Store) CountFailedSignIns(ctx context.Context, source string, since time.Time) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM scim_audit
		WHERE source = $1 AND action = 'admin.signin' AND outcome <> 'success' AND at >= $2
		AND at > COALESCE((SELECT MAX(at) FROM scim_audit WHERE source = $1 AND action = 'admin.signin' AND outcome = 'success'), 0)`,
		source, ms(since)).Scan(&n)
	return n, s.dbErr(err)
}

// PruneAudit deletes audit records older than before and returns how many.
func (s *Store) PruneAudit(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM scim_audit WHERE at < $1`, ms(before))
		if err != nil {
			return s.dbErr(err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n, err
}

// ListByName returns a page of resources matching q (see scim.NameQuery),
// and the total number of matches.
func (s *Store) ListByName(ctx context.Context, rt *schema.ResourceType, q scim.NameQuery) (*scim.Page, error) {
	t := tableOf(rt)
	var b sqlBuilder
	cond := "1=1"
	if q.Contains != "" {
		id := b.arg(q.Contains)
		fold := b.arg(likePattern(schema.Fold(q.Contains)))
		cond = `(r.id = ` + id + ` OR r.` + t.foldCol + ` LIKE ` + fold + ` ESCAPE '\'`
		if rt == schema.UserType {
			cond += ` OR LOWER(r.display_name) LIKE ` + b.arg(likePattern(strings.ToLower(q.Contains))) + ` ESCAPE '\'` +
				` OR r.id IN (SELECT user_id FROM scim_user_emails WHERE value_fold LIKE ` + fold + ` ESCAPE '\')`
		}
		cond += ")"
	}
	page := &scim.Page{Resources: []*scim.Resource{}}
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+t.name+` r WHERE `+cond, b.args...).Scan(&page.Total); err != nil {
		return nil, s.dbErr(err)
	}
	start := max(q.StartIndex, 1)
	if q.Count <= 0 || start > page.Total {
		return page, nil
	}
	order := "r." + t.foldCol
	switch q.SortBy {
	case "created":
		order = "r.created"
	case "modified":
		order = "r.last_modified"
	}
	dir := " ASC"
	if q.Descending {
		dir = " DESC"
	}
	lim, off := b.arg(q.Count), b.arg(start-1)
	rows, err := s.r.QueryContext(ctx, `SELECT r.id, r.created, r.last_modified, r.version, r.doc FROM `+t.name+` r WHERE `+cond+
		` ORDER BY `+order+dir+`, r.id`+dir+` LIMIT `+lim+` OFFSET `+off, b.args...)
	if err != nil {
		return nil, s.dbErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanResource(rt, rows)
		if err != nil {
			return nil, s.dbErr(err)
		}
		page.Resources = append(page.Resources, r)
	}
	return page, s.dbErr(rows.Err())
}

// GroupMembers returns one page of a group's members (startIndex 1-based)
// in id order, and the group's member count. A group with no members, or
// no such group, has none.
func (s *Store) GroupMembers(ctx context.Context, groupID string, startIndex, count int) ([]scim.Member, int, error) {
	var total int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM scim_members WHERE group_id = $1`, groupID).Scan(&total); err != nil {
		return nil, 0, s.dbErr(err)
	}
	out := []scim.Member{}
	start := max(startIndex, 1)
	if count <= 0 || start > total {
		return out, total, nil
	}
	rows, err := s.r.QueryContext(ctx, `SELECT m.member_id, m.member_type, COALESCE(u.user_name, g.display_name, '')
		FROM scim_members m
		LEFT JOIN scim_users u ON m.member_type = 'User' AND u.id = m.member_id
		LEFT JOIN scim_groups g ON m.member_type = 'Group' AND g.id = m.member_id
		WHERE m.group_id = $1 ORDER BY m.member_id LIMIT $2 OFFSET $3`, groupID, count, start-1)
	if err != nil {
		return nil, 0, s.dbErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var m scim.Member
		if err := rows.Scan(&m.Value, &m.Type, &m.Display); err != nil {
			return nil, 0, s.dbErr(err)
		}
		out = append(out, m)
	}
	return out, total, s.dbErr(rows.Err())
}
