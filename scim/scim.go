// Package scim is scimd's domain: SCIM resources, the Store that keeps them,
// and the errors both speak. It knows nothing of HTTP or SQL.
package scim

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/scimd/scimd/scim/schema"
)

// The store's error contract. Stores wrap these with %w; api maps them to
// HTTP statuses in exactly one place.
var (
	// ErrNotFound: no resource (or token) with that id.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a unique attribute (userName, displayName, token name)
	// is already taken, case-insensitively.
	ErrConflict = errors.New("uniqueness conflict")
	// ErrPrecondition: an If-Match version did not match the stored one.
	ErrPrecondition = errors.New("version mismatch")
	// ErrUnavailable: the database is unreachable or overloaded; the
	// request may be retried.
	ErrUnavailable = errors.New("store unavailable")
)

// Error is a protocol error with its HTTP status and RFC 7644 Table 9
// scimType (may be empty).
type Error struct {
	Status   int
	ScimType string
	Detail   string
}

func (e *Error) Error() string {
	if e.ScimType != "" {
		return fmt.Sprintf("%d %s: %s", e.Status, e.ScimType, e.Detail)
	}
	return fmt.Sprintf("%d: %s", e.Status, e.Detail)
}

// Errorf returns an *Error.
func Errorf(status int, scimType, format string, args ...any) *Error {
	return &Error{Status: status, ScimType: scimType, Detail: fmt.Sprintf(format, args...)}
}

// BadRequest returns a 400 *Error with the given scimType.
func BadRequest(scimType, format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, scimType, format, args...)
}

// Meta is a resource's server-maintained metadata.
type Meta struct {
	Created      time.Time
	LastModified time.Time
	// Version increases by one on every modification; it is the ETag.
	Version int64
}

// ETag returns the weak entity tag of the version, e.g. W/"3".
func (m Meta) ETag() string { return `W/"` + strconv.FormatInt(m.Version, 10) + `"` }

// Member is one member of a group.
type Member struct {
	// Value is the member's id.
	Value string
	// Type is "User" or "Group".
	Type string
	// Display is the member's userName or displayName (read-only, derived).
	Display string
}

// GroupRef is one group a user belongs to, directly or through nested groups.
type GroupRef struct {
	Value   string
	Display string
	// Type is "direct" or "indirect".
	Type string
}

// MemberChanges are membership edits a Store.Update applies after its
// update function returns, without loading the member list: the cost is
// O(members changed) whatever the group's size. They are applied in the
// order RemoveAll, Remove, Add; callers keep Remove and Add disjoint.
type MemberChanges struct {
	RemoveAll bool
	Remove    []string // member values: ids, or userNames (JFrog style)
	Add       []Member // Value may be an id or a userName; Type may be empty
}

// Empty reports whether there is nothing to apply.
func (c *MemberChanges) Empty() bool {
	return c == nil || (!c.RemoveAll && len(c.Remove) == 0 && len(c.Add) == 0)
}

// Resource is a stored User or Group.
type Resource struct {
	Type *schema.ResourceType
	// ID is server-assigned and immutable.
	ID string
	// Attrs holds the client-writable attributes as schema.Decode returns
	// them (externalId and extensions included; never id, meta, groups,
	// members or password).
	Attrs map[string]any
	Meta  Meta

	// Members is a group's full member list, valid when MembersLoaded.
	// An update function that sets MembersLoaded replaces the member list
	// with Members (the store applies the difference).
	Members       []Member
	MembersLoaded bool
	// MemberChanges are incremental membership edits (PATCH); see
	// MemberChanges.
	MemberChanges *MemberChanges

	// Groups is a user's derived groups, valid when GroupsLoaded.
	Groups       []GroupRef
	GroupsLoaded bool
}

// String returns attribute name of the core schema as a string, or "".
func (r *Resource) String(name string) string {
	s, _ := r.Attrs[name].(string)
	return s
}

// Name returns the unique name of the resource: userName or displayName.
func (r *Resource) Name() string {
	if r.Type == schema.GroupType {
		return r.String("displayName")
	}
	return r.String("userName")
}

// Active reports a user's "active" attribute (true when absent).
func (r *Resource) Active() bool {
	b, ok := r.Attrs["active"].(bool)
	return !ok || b
}

// Location returns the resource's URL under the SCIM base URL.
func (r *Resource) Location(base string) string {
	return base + r.Type.Endpoint + "/" + r.ID
}

// Doc returns the full document of the resource (every attribute, derived
// ones included when loaded), as filter.Match and schema.Render expect it.
// base is the SCIM base URL used for meta.location and $ref.
func (r *Resource) Doc(base string) map[string]any {
	doc := make(map[string]any, len(r.Attrs)+4)
	for k, v := range r.Attrs {
		doc[k] = v
	}
	doc["id"] = r.ID
	doc["meta"] = map[string]any{
		"resourceType": r.Type.ID,
		"created":      FormatTime(r.Meta.Created),
		"lastModified": FormatTime(r.Meta.LastModified),
		"location":     r.Location(base),
		"version":      r.Meta.ETag(),
	}
	if r.MembersLoaded && len(r.Members) > 0 {
		ms := make([]any, len(r.Members))
		for i, m := range r.Members {
			ms[i] = map[string]any{"value": m.Value, "$ref": base + "/" + m.Type + "s/" + m.Value, "display": m.Display, "type": m.Type}
		}
		doc["members"] = ms
	}
	if r.GroupsLoaded && len(r.Groups) > 0 {
		gs := make([]any, len(r.Groups))
		for i, g := range r.Groups {
			gs[i] = map[string]any{"value": g.Value, "$ref": base + "/Groups/" + g.Value, "display": g.Display, "type": g.Type}
		}
		doc["groups"] = gs
	}
	return doc
}

// TimeFormat is how scimd writes dateTime values: RFC 3339 in UTC with
// millisecond precision, the precision at which it stores them.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// FormatTime formats t in UTC with TimeFormat.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }
