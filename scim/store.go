package scim

import (
	"context"
	"time"

	"github.com/scimd/scimd/scim/filter"
	"github.com/scimd/scimd/scim/schema"
)

// Load says which derived attributes a read loads. Both cost a query over
// the membership table, so handlers ask only for what the response carries.
type Load struct {
	Members bool // a group's members
	Groups  bool // a user's groups
}

// Query is a list request.
type Query struct {
	Filter filter.Expr // nil: all
	// SortBy is the attribute to sort by; nil sorts by id (creation order).
	SortBy     *schema.Path
	Descending bool
	// StartIndex is 1-based; values below 1 are treated as 1.
	StartIndex int
	// Count is the page size; 0 returns only the total.
	Count int
	Load  Load
	// Base is the SCIM base URL the resources are rendered under, so that
	// filters on meta.location and $ref compare what the client sees.
	Base string
}

// Search is a list request spanning resource types (POST /.search at the
// root, RFC 7644 §3.4.3): every part's matches are merged into one result,
// ordered by each part's SortBy (the same attribute, resolved per type) and
// then by id, and paged as one list.
type Search struct {
	// Parts holds one entry per resource type searched.
	Parts      []SearchPart
	Descending bool
	// Sorted says the search has a sortBy: a part whose SortBy is nil
	// (its type lacks the attribute) then sorts as if the key were
	// missing, rather than by id.
	Sorted     bool
	StartIndex int // 1-based; values below 1 are treated as 1
	Count      int // 0 returns only the total
	Base       string
}

// SearchPart is one resource type's share of a Search.
type SearchPart struct {
	Type   *schema.ResourceType
	Filter filter.Expr  // nil: all
	SortBy *schema.Path // nil: by id
	Load   Load
}

// Page is a list result.
type Page struct {
	// Total counts every match, not just this page.
	Total     int
	Resources []*Resource
}

// UpdateOptions qualify Store.Update.
type UpdateOptions struct {
	// IfMatch, when not zero, is the version the resource must have; the
	// check is atomic with the write.
	IfMatch int64
	// Load says which derived attributes the update function and the
	// returned resource see.
	Load Load
}

// Resources is the store of Users and Groups.
//
// Every method takes the resource type (schema.UserType or
// schema.GroupType). Names (userName, group displayName) are unique
// case-insensitively, compared by schema.Fold.
type Resources interface {
	// Create stores a new resource, assigning its id and meta. Member
	// values may be ids or userNames. It returns ErrConflict if the name is
	// taken, and a 400 *Error (invalidValue) for an unknown member or a
	// membership cycle.
	Create(ctx context.Context, r *Resource) (*Resource, error)

	// Get returns the resource with the given id. If no id matches, a user
	// is looked up by userName and a group by displayName
	// (case-insensitively), as JFrog does. It returns ErrNotFound otherwise.
	Get(ctx context.Context, rt *schema.ResourceType, id string, load Load) (*Resource, error)

	// List returns the page of resources matching q, and the total number
	// of matches. Filters, sorting and paging run in the database; the
	// results are exactly filter.Match's over the resources' documents.
	// It returns a 400 *Error for a sortBy it cannot sort by.
	List(ctx context.Context, rt *schema.ResourceType, q Query) (*Page, error)

	// Search is List across resource types; each returned Resource carries
	// its Type.
	Search(ctx context.Context, q Search) (*Page, error)

	// Update atomically reads the resource (resolved like Get), calls fn to
	// modify it, and stores the result; fn's error aborts the update and is
	// returned as is. An update that changes nothing leaves meta.version
	// and meta.lastModified as they were. It returns ErrNotFound,
	// ErrPrecondition if opts.IfMatch is set and differs, ErrConflict if a
	// rename collides, ErrUnavailable when the database stays unreachable,
	// or a 400 *Error for unknown members.
	//
	// fn may run more than once (a store retries a transaction that failed
	// for a passing reason, such as a PostgreSQL serialization failure), so
	// it must change nothing but the resource it is given.
	Update(ctx context.Context, rt *schema.ResourceType, id string, opts UpdateOptions, fn func(*Resource) error) (*Resource, error)

	// Delete removes the resource (resolved like Get) and its memberships.
	// It returns ErrNotFound, or ErrPrecondition if ifMatch is not zero and
	// differs from the stored version.
	Delete(ctx context.Context, rt *schema.ResourceType, id string, ifMatch int64) error
}

// Token is a SCIM bearer token's record. The secret itself is never
// stored: only its SHA-256 hash.
type Token struct {
	ID        string
	Name      string
	Hash      []byte // SHA-256 of the secret
	CreatedAt time.Time
	LastUsed  time.Time // zero if never used
	ExpiresAt time.Time // zero if it never expires
	RevokedAt time.Time // zero unless revoked
}

// State is "active", "expired" or "revoked" at time now.
func (t *Token) State(now time.Time) string {
	switch {
	case !t.RevokedAt.IsZero():
		return "revoked"
	case !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt):
		return "expired"
	}
	return "active"
}

// Tokens is the store of SCIM bearer tokens.
type Tokens interface {
	// CreateToken stores t, assigning its ID. It returns ErrConflict if an
	// active token already has that name.
	CreateToken(ctx context.Context, t *Token) error
	// TokenByHash returns the token with that hash, whatever its state, or
	// ErrNotFound.
	TokenByHash(ctx context.Context, hash []byte) (*Token, error)
	// ListTokens returns every token, newest first.
	ListTokens(ctx context.Context) ([]*Token, error)
	// RevokeToken revokes the token with that id, or else the active token
	// with that name. It returns ErrNotFound if none.
	RevokeToken(ctx context.Context, idOrName string) (*Token, error)
	// TouchTokens records last-used times in one write (callers batch
	// them rather than writing on every request).
	TouchTokens(ctx context.Context, used map[string]time.Time) error
}

// Store is everything scimd keeps.
type Store interface {
	Resources
	Tokens
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	Close() error
}

// Actor is who makes a change, recorded in the audit trail. Handlers put
// it in the context with WithActor.
type Actor struct {
	Name      string // token name, "admin", "cli"
	Kind      string // "token", "admin", "cli", "system"
	Source    string // client address
	RequestID string
}

type actorKey struct{}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor in ctx, or a "system" actor.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return Actor{Name: "system", Kind: "system"}
}
