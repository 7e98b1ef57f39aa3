package sqlstore

import (
	"context"
	"database/sql"

	"github.com/scimd/scimd/scim"
)

// entry is one audit record, written in the transaction of the change it
// describes.
type entry struct {
	action       string
	resourceType string
	resourceID   string
	resourceName string
	changes      string
	outcome      string
}

func (s *Store) audit(ctx context.Context, tx *sql.Tx, action string, r *scim.Resource, changes string) error {
	return s.auditEntry(ctx, tx, entry{action: action, resourceType: r.Type.ID, resourceID: r.ID, resourceName: r.Name(), changes: changes})
}

func (s *Store) auditEntry(ctx context.Context, tx *sql.Tx, e entry) error {
	a := scim.ActorFrom(ctx)
	if e.outcome == "" {
		e.outcome = "success"
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO scim_audit (at, actor, actor_kind, source, request_id, action, resource_type, resource_id, resource_name, changes, outcome)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		ms(s.now()), a.Name, a.Kind, a.Source, a.RequestID, e.action, e.resourceType, e.resourceID, e.resourceName, e.changes, e.outcome)
	return s.dbErr(err)
}
