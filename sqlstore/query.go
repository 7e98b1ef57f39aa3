package sqlstore

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strings"

	"github.com/scimd/scimd/scim"
	"github.com/scimd/scimd/scim/filter"
	"github.com/scimd/scimd/scim/schema"
	sqlite "modernc.org/sqlite"
)

func init() {
	// scim_fold is schema.Fold inside SQLite, so that SQL compares folded
	// strings exactly as Go does.
	sqlite.MustRegisterDeterministicScalarFunction("scim_fold", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		switch v := args[0].(type) {
		case string:
			return schema.Fold(v), nil
		case []byte:
			return schema.Fold(string(v)), nil
		}
		return args[0], nil
	})
}

// sqlBuilder accumulates SQL text and its numbered arguments.
type sqlBuilder struct {
	args []any
}

// arg adds v as an argument and returns its placeholder.
func (b *sqlBuilder) arg(v any) string {
	b.args = append(b.args, v)
	return fmt.Sprintf("$%d", len(b.args))
}

// where translates a filter into a SQL condition on the resource table
// aliased "r".
func (s *Store) where(b *sqlBuilder, rt *schema.ResourceType, e filter.Expr) (string, error) {
	switch e := e.(type) {
	case nil:
		return "1=1", nil
	case *filter.And:
		l, err := s.where(b, rt, e.Left)
		if err != nil {
			return "", err
		}
		r, err := s.where(b, rt, e.Right)
		if err != nil {
			return "", err
		}
		return "(" + l + " AND " + r + ")", nil
	case *filter.Compare:
		return s.compare(b, rt, e)
	case *filter.ValuePath:
		return s.valuePath(b, rt, e)
	}
	return "", unsupported(e)
}

func unsupported(e filter.Expr) error {
	return schema.Errorf("invalidFilter", "filter %s is not supported", e)
}

// compare handles "attr eq value" on the indexed attributes.
func (s *Store) compare(b *sqlBuilder, rt *schema.ResourceType, c *filter.Compare) (string, error) {
	v, ok := c.Value.(string)
	if c.Op != filter.Eq || !ok {
		return "", unsupported(c)
	}
	p := c.Path
	switch {
	case p.Attr == schema.IDAttr:
		return "r.id = " + b.arg(v), nil
	case p.Attr == schema.ExternalIDAttr:
		return "r.external_id = " + b.arg(v), nil
	case rt == schema.UserType && p.Schema == schema.User && p.Attr.Name == "userName":
		return "r.user_name_fold = " + b.arg(schema.Fold(v)), nil
	case rt == schema.GroupType && p.Schema == schema.Group && p.Attr.Name == "displayName":
		return "r.display_name_fold = " + b.arg(schema.Fold(v)), nil
	case rt == schema.UserType && p.Schema == schema.User && p.Attr.Name == "displayName":
		return "scim_fold(r.display_name) = " + b.arg(schema.Fold(v)), nil
	case rt == schema.UserType && p.Schema == schema.User && p.Attr.Name == "emails" && p.Sub != nil && p.Sub.Name == "value":
		return "r.id IN (SELECT user_id FROM scim_user_emails WHERE value_fold = " + b.arg(schema.Fold(v)) + ")", nil
	}
	return "", unsupported(c)
}

// valuePath handles emails[type eq "t" and value eq "v"].
func (s *Store) valuePath(b *sqlBuilder, rt *schema.ResourceType, vp *filter.ValuePath) (string, error) {
	if rt != schema.UserType || vp.Path.Attr.Name != "emails" {
		return "", unsupported(vp)
	}
	var conds []string
	var walk func(e filter.Expr) error
	walk = func(e filter.Expr) error {
		switch e := e.(type) {
		case *filter.And:
			if err := walk(e.Left); err != nil {
				return err
			}
			return walk(e.Right)
		case *filter.Compare:
			v, ok := e.Value.(string)
			if e.Op != filter.Eq || !ok || e.Path.Sub == nil {
				return unsupported(vp)
			}
			switch e.Path.Sub.Name {
			case "value":
				conds = append(conds, "value_fold = "+b.arg(schema.Fold(v)))
			case "type":
				conds = append(conds, "type_fold = "+b.arg(schema.Fold(v)))
			default:
				return unsupported(vp)
			}
			return nil
		}
		return unsupported(vp)
	}
	if err := walk(vp.Filter); err != nil {
		return "", err
	}
	return "r.id IN (SELECT user_id FROM scim_user_emails WHERE " + strings.Join(conds, " AND ") + ")", nil
}

// List implements scim.Resources.
func (s *Store) List(ctx context.Context, rt *schema.ResourceType, q scim.Query) (*scim.Page, error) {
	if q.SortBy != nil {
		return nil, scim.BadRequest("invalidValue", "sortBy is not supported yet")
	}
	var b sqlBuilder
	cond, err := s.where(&b, rt, q.Filter)
	if err != nil {
		return nil, err
	}
	t := tableOf(rt)
	page := &scim.Page{Resources: []*scim.Resource{}}
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+t.name+` r WHERE `+cond, b.args...).Scan(&page.Total); err != nil {
		return nil, s.dbErr(err)
	}
	start := max(q.StartIndex, 1)
	if q.Count <= 0 || start > page.Total {
		return page, nil
	}
	lim, off := b.arg(q.Count), b.arg(start-1)
	rows, err := s.r.QueryContext(ctx, `SELECT `+prefixed("r.", resourceCols)+` FROM `+t.name+` r WHERE `+cond+` ORDER BY r.id LIMIT `+lim+` OFFSET `+off, b.args...)
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
	if err := rows.Err(); err != nil {
		return nil, s.dbErr(err)
	}
	rows.Close()
	for _, r := range page.Resources {
		if err := s.load(ctx, s.r, r, q.Load); err != nil {
			return nil, err
		}
	}
	return page, nil
}

func prefixed(p, cols string) string {
	parts := strings.Split(cols, ", ")
	for i := range parts {
		parts[i] = p + parts[i]
	}
	return strings.Join(parts, ", ")
}
