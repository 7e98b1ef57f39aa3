package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/scimd/scimd/scim"
)

const tokenCols = "id, name, hash, created, last_used, expires, revoked"

func scanToken(sc interface{ Scan(...any) error }) (*scim.Token, error) {
	t := &scim.Token{}
	var created int64
	var used, expires, revoked sql.NullInt64
	if err := sc.Scan(&t.ID, &t.Name, &t.Hash, &created, &used, &expires, &revoked); err != nil {
		return nil, err
	}
	t.CreatedAt, t.LastUsed, t.ExpiresAt, t.RevokedAt = fromMS(created), nullMS(used), nullMS(expires), nullMS(revoked)
	return t, nil
}

// CreateToken implements scim.Tokens.
func (s *Store) CreateToken(ctx context.Context, t *scim.Token) error {
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.now().UTC().Truncate(time.Millisecond)
	}
	t.ID = scim.NewID(t.CreatedAt)
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO scim_tokens (id, name, hash, created, expires) VALUES ($1, $2, $3, $4, $5)`,
			t.ID, t.Name, t.Hash, ms(t.CreatedAt), msOrNull(t.ExpiresAt))
		if err != nil {
			if s.d.isUnique(err) {
				return fmt.Errorf("token %q: %w", t.Name, scim.ErrConflict)
			}
			return s.dbErr(err)
		}
		return s.auditEntry(ctx, tx, entry{action: "token.create", resourceType: "Token", resourceID: t.ID, resourceName: t.Name})
	})
}

// TokenByHash implements scim.Tokens.
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (*scim.Token, error) {
	t, err := scanToken(s.r.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM scim_tokens WHERE hash = $1`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("token: %w", scim.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", scim.ErrUnavailable, err)
	}
	return t, nil
}

// ListTokens implements scim.Tokens.
func (s *Store) ListTokens(ctx context.Context) ([]*scim.Token, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+tokenCols+` FROM scim_tokens ORDER BY created DESC, id DESC`)
	if err != nil {
		return nil, s.dbErr(err)
	}
	defer rows.Close()
	out := []*scim.Token{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, s.dbErr(err)
		}
		out = append(out, t)
	}
	return out, s.dbErr(rows.Err())
}

// RevokeToken implements scim.Tokens.
func (s *Store) RevokeToken(ctx context.Context, idOrName string) (*scim.Token, error) {
	var out *scim.Token
	err := s.tx(ctx, func(tx *sql.Tx) error {
		t, err := scanToken(tx.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM scim_tokens WHERE id = $1`, idOrName))
		if errors.Is(err, sql.ErrNoRows) {
			t, err = scanToken(tx.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM scim_tokens WHERE name = $1 AND revoked IS NULL`, idOrName))
		}
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("token %q: %w", idOrName, scim.ErrNotFound)
		}
		if err != nil {
			return s.dbErr(err)
		}
		if t.RevokedAt.IsZero() {
			t.RevokedAt = s.now().UTC().Truncate(time.Millisecond)
			if _, err := tx.ExecContext(ctx, `UPDATE scim_tokens SET revoked = $1 WHERE id = $2`, ms(t.RevokedAt), t.ID); err != nil {
				return s.dbErr(err)
			}
			if err := s.auditEntry(ctx, tx, entry{action: "token.revoke", resourceType: "Token", resourceID: t.ID, resourceName: t.Name}); err != nil {
				return err
			}
		}
		out = t
		return nil
	})
	return out, err
}

// TouchTokens implements scim.Tokens.
func (s *Store) TouchTokens(ctx context.Context, used map[string]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		for id, at := range used {
			// Never move last_used backwards (another replica may be ahead).
			if _, err := tx.ExecContext(ctx, `UPDATE scim_tokens SET last_used = $1 WHERE id = $2 AND (last_used IS NULL OR last_used < $1)`, ms(at), id); err != nil {
				return s.dbErr(err)
			}
		}
		return nil
	})
}
