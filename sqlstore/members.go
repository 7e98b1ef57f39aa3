package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/scimd/scimd/scim"
	"github.com/scimd/scimd/scim/schema"
)

// chunk is how many values go into one IN list or multi-row insert, well
// under SQLite's and PostgreSQL's parameter limits.
const chunk = 300

// members returns a group's members with their current display names.
func (s *Store) members(ctx context.Context, q queryer, groupID string) ([]scim.Member, error) {
	rows, err := q.QueryContext(ctx, `SELECT m.member_id, m.member_type, COALESCE(u.user_name, g.display_name, '')
		FROM scim_members m
		LEFT JOIN scim_users u ON m.member_type = 'User' AND u.id = m.member_id
		LEFT JOIN scim_groups g ON m.member_type = 'Group' AND g.id = m.member_id
		WHERE m.group_id = $1 ORDER BY m.member_id`, groupID)
	if err != nil {
		return nil, s.dbErr(err)
	}
	defer rows.Close()
	out := []scim.Member{}
	for rows.Next() {
		var m scim.Member
		if err := rows.Scan(&m.Value, &m.Type, &m.Display); err != nil {
			return nil, s.dbErr(err)
		}
		out = append(out, m)
	}
	return out, s.dbErr(rows.Err())
}

// groupsOf returns the groups of each user in users (ids), directly or
// through nested groups, in one query per chunk of users: a page of 100
// users costs one round trip, not 100. Writes keep membership acyclic; the
// depth bound is a second guard.
func (s *Store) groupsOf(ctx context.Context, q queryer, users []string) (map[string][]scim.GroupRef, error) {
	out := make(map[string][]scim.GroupRef, len(users))
	for _, u := range users {
		out[u] = []scim.GroupRef{}
	}
	for i := 0; i < len(users); i += chunk {
		in, args := inList(users[i:min(i+chunk, len(users))], 1)
		rows, err := q.QueryContext(ctx, `WITH RECURSIVE anc(uid, gid, depth) AS (
				SELECT member_id, group_id, 0 FROM scim_members WHERE member_id IN (`+in+`)
				UNION
				SELECT a.uid, m.group_id, a.depth + 1 FROM scim_members m JOIN anc a ON m.member_id = a.gid WHERE a.depth < 64
			)
			SELECT a.uid, g.id, g.display_name, MIN(a.depth) FROM anc a JOIN scim_groups g ON g.id = a.gid
			GROUP BY a.uid, g.id, g.display_name ORDER BY a.uid, g.id`, args...)
		if err != nil {
			return nil, s.dbErr(err)
		}
		for rows.Next() {
			var uid string
			var g scim.GroupRef
			var depth int
			if err := rows.Scan(&uid, &g.Value, &g.Display, &depth); err != nil {
				rows.Close()
				return nil, s.dbErr(err)
			}
			g.Type = "direct"
			if depth > 0 {
				g.Type = "indirect"
			}
			out[uid] = append(out[uid], g)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, s.dbErr(err)
		}
	}
	return out, nil
}

// resolve maps member values (ids of users or groups, else userNames) to
// members with their id and type. Unknown values are an invalidValue
// error when strict, and skipped otherwise.
func (s *Store) resolve(ctx context.Context, q queryer, values []scim.Member, strict bool) ([]scim.Member, error) {
	found := make(map[string]scim.Member, len(values))
	var pending []string
	seen := map[string]bool{}
	for _, m := range values {
		if m.Value != "" && !seen[m.Value] {
			seen[m.Value] = true
			pending = append(pending, m.Value)
		}
	}
	for i := 0; i < len(pending); i += chunk {
		part := pending[i:min(i+chunk, len(pending))]
		in, args := inList(part, 1)
		rows, err := q.QueryContext(ctx, `SELECT id, 'User' FROM scim_users WHERE id IN (`+in+`)
			UNION ALL SELECT id, 'Group' FROM scim_groups WHERE id IN (`+in+`)`, args...)
		if err != nil {
			return nil, s.dbErr(err)
		}
		for rows.Next() {
			var m scim.Member
			if err := rows.Scan(&m.Value, &m.Type); err != nil {
				rows.Close()
				return nil, s.dbErr(err)
			}
			found[m.Value] = m
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, s.dbErr(err)
		}
	}
	// JFrog style: a value that is no id may be a userName.
	byFold := map[string][]string{}
	var folds []string
	for _, v := range pending {
		if _, ok := found[v]; !ok {
			f := schema.Fold(v)
			if byFold[f] == nil {
				folds = append(folds, f)
			}
			byFold[f] = append(byFold[f], v)
		}
	}
	for i := 0; i < len(folds); i += chunk {
		part := folds[i:min(i+chunk, len(folds))]
		in, args := inList(part, 1)
		rows, err := q.QueryContext(ctx, `SELECT id, user_name_fold FROM scim_users WHERE user_name_fold IN (`+in+`)`, args...)
		if err != nil {
			return nil, s.dbErr(err)
		}
		for rows.Next() {
			var id, f string
			if err := rows.Scan(&id, &f); err != nil {
				rows.Close()
				return nil, s.dbErr(err)
			}
			for _, v := range byFold[f] {
				found[v] = scim.Member{Value: id, Type: "User"}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, s.dbErr(err)
		}
	}
	out := make([]scim.Member, 0, len(pending))
	dup := map[string]bool{}
	for _, v := range pending {
		m, ok := found[v]
		if !ok {
			if strict {
				return nil, scim.BadRequest("invalidValue", "member %q is no user or group id (nor a userName)", v)
			}
			continue
		}
		if !dup[m.Value] {
			dup[m.Value] = true
			out = append(out, m)
		}
	}
	return out, nil
}

// inList returns "$n, $n+1, …" for values, numbered from first, and the
// values as arguments.
func inList(values []string, first int) (string, []any) {
	var b strings.Builder
	args := make([]any, len(values))
	for i, v := range values {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d", first+i)
		args[i] = v
	}
	return b.String(), args
}

// addMembers adds members (resolved strictly) and returns how many were
// new.
func (s *Store) addMembers(ctx context.Context, tx *sql.Tx, groupID string, values []scim.Member) (int, error) {
	if len(values) == 0 {
		return 0, nil
	}
	ms, err := s.resolve(ctx, tx, values, true)
	if err != nil {
		return 0, err
	}
	return s.insertMembers(ctx, tx, groupID, ms)
}

func (s *Store) insertMembers(ctx context.Context, tx *sql.Tx, groupID string, ms []scim.Member) (int, error) {
	if err := s.checkCycles(ctx, tx, groupID, ms); err != nil {
		return 0, err
	}
	added := 0
	for i := 0; i < len(ms); i += chunk {
		part := ms[i:min(i+chunk, len(ms))]
		var b strings.Builder
		args := make([]any, 0, 2*len(part)+1)
		args = append(args, groupID)
		for j, m := range part {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "($1, $%d, $%d)", 2*j+2, 2*j+3)
			args = append(args, m.Value, m.Type)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO scim_members (group_id, member_id, member_type) VALUES `+b.String()+` ON CONFLICT DO NOTHING`, args...)
		if err != nil {
			return 0, s.dbErr(err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, s.dbErr(err)
		}
		added += int(n)
	}
	return added, nil
}

// checkCycles refuses group members that contain the group, directly or
// not: nested groups must stay a forest for derived groups to terminate.
func (s *Store) checkCycles(ctx context.Context, tx *sql.Tx, groupID string, ms []scim.Member) error {
	var groups []string
	for _, m := range ms {
		if m.Type == "Group" {
			if m.Value == groupID {
				return scim.BadRequest("invalidValue", "group %s cannot be a member of itself", groupID)
			}
			groups = append(groups, m.Value)
		}
	}
	if len(groups) == 0 {
		return nil
	}
	if s.d.lockNesting != "" {
		if _, err := tx.ExecContext(ctx, s.d.lockNesting); err != nil {
			return s.dbErr(err)
		}
	}
	anc := map[string]bool{}
	rows, err := tx.QueryContext(ctx, `WITH RECURSIVE anc(id) AS (
			SELECT CAST($1 AS TEXT) UNION SELECT m.group_id FROM scim_members m JOIN anc ON m.member_id = anc.id
		) SELECT id FROM anc`, groupID)
	if err != nil {
		return s.dbErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return s.dbErr(err)
		}
		anc[id] = true
	}
	if err := rows.Err(); err != nil {
		return s.dbErr(err)
	}
	for _, g := range groups {
		if anc[g] {
			return scim.BadRequest("invalidValue", "adding group %s as a member of %s would make a membership cycle", g, groupID)
		}
	}
	return nil
}

// removeMembers removes the members named by values (ids or userNames;
// unknown ones are ignored) and returns how many were removed.
func (s *Store) removeMembers(ctx context.Context, tx *sql.Tx, groupID string, values []string) (int, error) {
	vs := make([]scim.Member, len(values))
	for i, v := range values {
		vs[i] = scim.Member{Value: v}
	}
	ms, err := s.resolve(ctx, tx, vs, false)
	if err != nil {
		return 0, err
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.Value
	}
	return s.deleteMembers(ctx, tx, groupID, ids)
}

func (s *Store) deleteMembers(ctx context.Context, tx *sql.Tx, groupID string, ids []string) (int, error) {
	removed := 0
	for i := 0; i < len(ids); i += chunk {
		in, args := inList(ids[i:min(i+chunk, len(ids))], 2)
		res, err := tx.ExecContext(ctx, `DELETE FROM scim_members WHERE group_id = $1 AND member_id IN (`+in+`)`, append([]any{groupID}, args...)...)
		if err != nil {
			return 0, s.dbErr(err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, s.dbErr(err)
		}
		removed += int(n)
	}
	return removed, nil
}

// replaceMembers makes the member list equal to next, writing only the
// difference with old.
func (s *Store) replaceMembers(ctx context.Context, tx *sql.Tx, groupID string, old, next []scim.Member) (added, removed int, err error) {
	want, err := s.resolve(ctx, tx, next, true)
	if err != nil {
		return 0, 0, err
	}
	have := make(map[string]bool, len(old))
	for _, m := range old {
		have[m.Value] = true
	}
	keep := make(map[string]bool, len(want))
	var toAdd []scim.Member
	for _, m := range want {
		keep[m.Value] = true
		if !have[m.Value] {
			toAdd = append(toAdd, m)
		}
	}
	var toRemove []string
	for _, m := range old {
		if !keep[m.Value] {
			toRemove = append(toRemove, m.Value)
		}
	}
	if removed, err = s.deleteMembers(ctx, tx, groupID, toRemove); err != nil {
		return 0, 0, err
	}
	if added, err = s.insertMembers(ctx, tx, groupID, toAdd); err != nil {
		return 0, 0, err
	}
	return added, removed, nil
}

// applyMemberChanges applies PATCH-style membership edits.
func (s *Store) applyMemberChanges(ctx context.Context, tx *sql.Tx, groupID string, c *scim.MemberChanges) (added, removed int, err error) {
	if c.RemoveAll {
		res, err := tx.ExecContext(ctx, `DELETE FROM scim_members WHERE group_id = $1`, groupID)
		if err != nil {
			return 0, 0, s.dbErr(err)
		}
		n, _ := res.RowsAffected()
		removed = int(n)
	}
	if len(c.Remove) > 0 {
		n, err := s.removeMembers(ctx, tx, groupID, c.Remove)
		if err != nil {
			return 0, 0, err
		}
		removed += n
	}
	if added, err = s.addMembers(ctx, tx, groupID, c.Add); err != nil {
		return 0, 0, err
	}
	return added, removed, nil
}
