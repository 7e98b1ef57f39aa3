package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/scimd/scimd/scim"
	"github.com/scimd/scimd/scim/schema"
)

// table describes where a resource type lives.
type table struct {
	name    string // SQL table
	nameCol string // the unique name column
	foldCol string // its folded twin, under a unique index
}

var (
	usersTable  = &table{name: "scim_users", nameCol: "user_name", foldCol: "user_name_fold"}
	groupsTable = &table{name: "scim_groups", nameCol: "display_name", foldCol: "display_name_fold"}
)

func tableOf(rt *schema.ResourceType) *table {
	if rt == schema.GroupType {
		return groupsTable
	}
	return usersTable
}

// queryer is what *sql.DB and *sql.Tx share.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

const resourceCols = "id, created, last_modified, version, doc"

// scanResource reads resourceCols.
func scanResource(rt *schema.ResourceType, sc interface{ Scan(...any) error }) (*scim.Resource, error) {
	r := &scim.Resource{Type: rt}
	var created, modified int64
	var doc string
	if err := sc.Scan(&r.ID, &created, &modified, &r.Meta.Version, &doc); err != nil {
		return nil, err
	}
	r.Meta.Created, r.Meta.LastModified = fromMS(created), fromMS(modified)
	attrs, err := decodeDoc(doc)
	if err != nil {
		return nil, fmt.Errorf("resource %s: %w", r.ID, err)
	}
	r.Attrs = attrs
	return r, nil
}

func decodeDoc(doc string) (map[string]any, error) {
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

func encodeDoc(attrs map[string]any) (string, error) {
	// encoding/json sorts map keys, so equal trees encode equally: the
	// encoding doubles as the change detector in Update.
	b, err := json.Marshal(attrs)
	return string(b), err
}

// find reads the resource with id x, else the one named x (folded).
func (s *Store) find(ctx context.Context, q queryer, rt *schema.ResourceType, x string) (*scim.Resource, error) {
	t := tableOf(rt)
	r, err := scanResource(rt, q.QueryRowContext(ctx, `SELECT `+resourceCols+` FROM `+t.name+` WHERE id = $1`, x))
	if errors.Is(err, sql.ErrNoRows) {
		r, err = scanResource(rt, q.QueryRowContext(ctx, `SELECT `+resourceCols+` FROM `+t.name+` WHERE `+t.foldCol+` = $1`, schema.Fold(x)))
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s %q: %w", rt.ID, x, scim.ErrNotFound)
	}
	if err != nil {
		return nil, s.dbErr(err)
	}
	return r, nil
}

// load fills the derived attributes asked for.
func (s *Store) load(ctx context.Context, q queryer, r *scim.Resource, load scim.Load) error {
	return s.loadAll(ctx, q, []*scim.Resource{r}, load)
}

// loadAll fills the derived attributes asked for on a page of resources:
// users' groups in one query, groups' members one group at a time (a
// member list may be 100,000 long).
func (s *Store) loadAll(ctx context.Context, q queryer, rs []*scim.Resource, load scim.Load) error {
	var users []string
	for _, r := range rs {
		switch {
		case r.Type == schema.GroupType && load.Members:
			ms, err := s.members(ctx, q, r.ID)
			if err != nil {
				return err
			}
			r.Members, r.MembersLoaded = ms, true
		case r.Type == schema.UserType && load.Groups:
			users = append(users, r.ID)
		}
	}
	if len(users) == 0 {
		return nil
	}
	gs, err := s.groupsOf(ctx, q, users)
	if err != nil {
		return err
	}
	for _, r := range rs {
		if g, ok := gs[r.ID]; ok && r.Type == schema.UserType {
			r.Groups, r.GroupsLoaded = g, true
		}
	}
	return nil
}

// Create implements scim.Resources.
func (s *Store) Create(ctx context.Context, r *scim.Resource) (*scim.Resource, error) {
	if err := r.Type.CheckRequired(r.Attrs); err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(1e6)
	out := &scim.Resource{Type: r.Type, ID: scim.NewID(now), Attrs: r.Attrs,
		Meta: scim.Meta{Created: now, LastModified: now, Version: 1}}
	doc, err := encodeDoc(r.Attrs)
	if err != nil {
		return nil, err
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.insertRow(ctx, tx, out, doc); err != nil {
			return err
		}
		if r.Type == schema.GroupType {
			values := make([]scim.Member, len(r.Members))
			copy(values, r.Members)
			if _, err := s.addMembers(ctx, tx, out.ID, values); err != nil {
				return err
			}
		}
		if err := s.bumpGeneration(ctx, tx); err != nil {
			return err
		}
		if err := s.bumpReorder(ctx, tx, r.Type, out.ID); err != nil {
			return err
		}
		return s.audit(ctx, tx, "create", out, changedKeys(nil, r.Attrs, len(r.Members), 0))
	})
	if err != nil {
		return nil, err
	}
	if r.Type == schema.GroupType {
		if err := s.load(ctx, s.r, out, scim.Load{Members: true}); err != nil {
			return nil, err
		}
	} else {
		out.GroupsLoaded = true // a new user is in no group
	}
	return out, nil
}

func (s *Store) insertRow(ctx context.Context, tx *sql.Tx, r *scim.Resource, doc string) error {
	var err error
	if r.Type == schema.GroupType {
		_, err = tx.ExecContext(ctx, `INSERT INTO scim_groups (id, display_name, display_name_fold, external_id, created, last_modified, version, doc)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			r.ID, r.Name(), schema.Fold(r.Name()), nullStr(r.String("externalId")), ms(r.Meta.Created), ms(r.Meta.LastModified), r.Meta.Version, doc)
	} else {
		_, err = tx.ExecContext(ctx, `INSERT INTO scim_users (id, user_name, user_name_fold, external_id, display_name, active, created, last_modified, version, doc)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			r.ID, r.Name(), schema.Fold(r.Name()), nullStr(r.String("externalId")), nullStr(r.String("displayName")), r.Active(),
			ms(r.Meta.Created), ms(r.Meta.LastModified), r.Meta.Version, doc)
		if err == nil {
			err = s.writeEmails(ctx, tx, r)
		}
	}
	if err != nil {
		if s.d.isUnique(err) {
			return fmt.Errorf("%s %q: %w", r.Type.ID, r.Name(), scim.ErrConflict)
		}
		return s.dbErr(err)
	}
	return nil
}

// writeEmails replaces the user's rows in the email lookup table.
func (s *Store) writeEmails(ctx context.Context, tx *sql.Tx, r *scim.Resource) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM scim_user_emails WHERE user_id = $1`, r.ID); err != nil {
		return err
	}
	emails, _ := r.Attrs["emails"].([]any)
	for _, e := range emails {
		m, _ := e.(map[string]any)
		v, _ := m["value"].(string)
		if v == "" {
			continue
		}
		t, _ := m["type"].(string)
		if _, err := tx.ExecContext(ctx, `INSERT INTO scim_user_emails (user_id, value_fold, type_fold) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			r.ID, schema.Fold(v), schema.Fold(t)); err != nil {
			return err
		}
	}
	return nil
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Get implements scim.Resources.
func (s *Store) Get(ctx context.Context, rt *schema.ResourceType, id string, load scim.Load) (*scim.Resource, error) {
	r, err := s.find(ctx, s.r, rt, id)
	if err != nil {
		return nil, err
	}
	if err := s.load(ctx, s.r, r, load); err != nil {
		return nil, err
	}
	return r, nil
}

// Update implements scim.Resources.
func (s *Store) Update(ctx context.Context, rt *schema.ResourceType, id string, opts scim.UpdateOptions, fn func(*scim.Resource) error) (*scim.Resource, error) {
	var out *scim.Resource
	err := s.tx(ctx, func(tx *sql.Tx) error {
		r, err := s.lockedFind(ctx, tx, rt, id)
		if err != nil {
			return err
		}
		if opts.IfMatch != 0 && opts.IfMatch != r.Meta.Version {
			return fmt.Errorf("%s %s is at version %d: %w", rt.ID, r.ID, r.Meta.Version, scim.ErrPrecondition)
		}
		if err := s.load(ctx, tx, r, opts.Load); err != nil {
			return err
		}
		before, err := encodeDoc(r.Attrs)
		if err != nil {
			return err
		}
		oldAttrs := r.Attrs
		var oldMembers []scim.Member
		if r.MembersLoaded {
			oldMembers = append([]scim.Member(nil), r.Members...)
		}
		wasLoaded := r.MembersLoaded
		r.Attrs = scim.CloneAttrs(r.Attrs)
		if err := fn(r); err != nil {
			return err
		}
		if err := rt.CheckRequired(r.Attrs); err != nil {
			return err
		}
		after, err := encodeDoc(r.Attrs)
		if err != nil {
			return err
		}
		added, removed, reload := 0, 0, false
		if rt == schema.GroupType {
			if r.MembersLoaded {
				reload = true // fn's list may name members by userName, without display
				if !wasLoaded {
					if oldMembers, err = s.members(ctx, tx, r.ID); err != nil {
						return err
					}
				}
				if added, removed, err = s.replaceMembers(ctx, tx, r.ID, oldMembers, r.Members); err != nil {
					return err
				}
			}
			if !r.MemberChanges.Empty() {
				a, rm, err := s.applyMemberChanges(ctx, tx, r.ID, r.MemberChanges)
				if err != nil {
					return err
				}
				added, removed = added+a, removed+rm
			}
		}
		if before == after && added == 0 && removed == 0 {
			out = r
			r.Attrs = oldAttrs
			return s.reloadMembers(ctx, tx, r, opts.Load, reload)
		}
		r.Meta.Version++
		r.Meta.LastModified = s.now().UTC().Truncate(1e6)
		if err := s.bumpGeneration(ctx, tx); err != nil {
			return err
		}
		if err := s.updateRow(ctx, tx, r, after, before != after); err != nil {
			return err
		}
		out = r
		if err := s.audit(ctx, tx, "update", r, changedKeys(oldAttrs, r.Attrs, added, removed)); err != nil {
			return err
		}
		return s.reloadMembers(ctx, tx, r, opts.Load, reload || added+removed > 0)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// reloadMembers makes r's member list current after membership edits, if
// the caller asked for members.
func (s *Store) reloadMembers(ctx context.Context, q queryer, r *scim.Resource, load scim.Load, changed bool) error {
	r.MemberChanges = nil
	if r.Type != schema.GroupType {
		return nil
	}
	if !load.Members {
		r.Members, r.MembersLoaded = nil, false
		return nil
	}
	if !changed && r.MembersLoaded {
		return nil
	}
	return s.load(ctx, q, r, load)
}

func (s *Store) updateRow(ctx context.Context, tx *sql.Tx, r *scim.Resource, doc string, attrsChanged bool) error {
	var err error
	switch {
	case !attrsChanged:
		_, err = tx.ExecContext(ctx, `UPDATE `+tableOf(r.Type).name+` SET last_modified = $1, version = $2 WHERE id = $3`,
			ms(r.Meta.LastModified), r.Meta.Version, r.ID)
	case r.Type == schema.GroupType:
		_, err = tx.ExecContext(ctx, `UPDATE scim_groups SET display_name = $1, display_name_fold = $2, external_id = $3,
			last_modified = $4, version = $5, doc = $6 WHERE id = $7`,
			r.Name(), schema.Fold(r.Name()), nullStr(r.String("externalId")), ms(r.Meta.LastModified), r.Meta.Version, doc, r.ID)
	default:
		_, err = tx.ExecContext(ctx, `UPDATE scim_users SET user_name = $1, user_name_fold = $2, external_id = $3, display_name = $4,
			active = $5, last_modified = $6, version = $7, doc = $8 WHERE id = $9`,
			r.Name(), schema.Fold(r.Name()), nullStr(r.String("externalId")), nullStr(r.String("displayName")), r.Active(),
			ms(r.Meta.LastModified), r.Meta.Version, doc, r.ID)
		if err == nil {
			err = s.writeEmails(ctx, tx, r)
		}
	}
	if err != nil {
		if s.d.isUnique(err) {
			return fmt.Errorf("%s %q: %w", r.Type.ID, r.Name(), scim.ErrConflict)
		}
		return s.dbErr(err)
	}
	return nil
}

// Delete implements scim.Resources.
func (s *Store) Delete(ctx context.Context, rt *schema.ResourceType, id string, ifMatch int64) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		r, err := s.lockedFind(ctx, tx, rt, id)
		if err != nil {
			return err
		}
		if ifMatch != 0 && ifMatch != r.Meta.Version {
			return fmt.Errorf("%s %s is at version %d: %w", rt.ID, r.ID, r.Meta.Version, scim.ErrPrecondition)
		}
		stmts := []string{`DELETE FROM scim_members WHERE member_id = $1`}
		if rt == schema.GroupType {
			stmts = append(stmts, `DELETE FROM scim_members WHERE group_id = $1`, `DELETE FROM scim_groups WHERE id = $1`)
		} else {
			stmts = append(stmts, `DELETE FROM scim_user_emails WHERE user_id = $1`, `DELETE FROM scim_users WHERE id = $1`)
		}
		for _, q := range stmts {
			if _, err := tx.ExecContext(ctx, q, r.ID); err != nil {
				return s.dbErr(err)
			}
		}
		if err := s.bumpGeneration(ctx, tx); err != nil {
			return err
		}
		if err := s.bumpReorder(ctx, tx, rt, ""); err != nil {
			return err
		}
		return s.audit(ctx, tx, "delete", r, "")
	})
}

// changedKeys describes what changed between two attribute trees, for the
// audit trail: attribute names (extension attributes URN-qualified), and
// membership counts. Values are not recorded.
func changedKeys(before, after map[string]any, added, removed int) string {
	var keys []string
	diff := func(prefix string, a, b map[string]any) {
		for k, v := range b {
			if !jsonEqual(a[k], v) {
				keys = append(keys, prefix+k)
			}
		}
		for k := range a {
			if _, ok := b[k]; !ok {
				keys = append(keys, prefix+k)
			}
		}
	}
	for k, v := range after {
		if strings.HasPrefix(k, "urn:") {
			bm, _ := before[k].(map[string]any)
			am, _ := v.(map[string]any)
			diff(k+":", bm, am)
			continue
		}
		if !jsonEqual(before[k], v) {
			keys = append(keys, k)
		}
	}
	for k, v := range before {
		if _, ok := after[k]; !ok {
			if strings.HasPrefix(k, "urn:") {
				bm, _ := v.(map[string]any)
				diff(k+":", bm, nil)
				continue
			}
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if added > 0 {
		keys = append(keys, fmt.Sprintf("members+%d", added))
	}
	if removed > 0 {
		keys = append(keys, fmt.Sprintf("members-%d", removed))
	}
	return strings.Join(keys, ",")
}

func jsonEqual(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}
