package scim

import "time"

// AuditRecord is one entry of the audit trail: who did what to which
// resource, and whether it worked. It never holds secrets: no passwords,
// no tokens, no attribute values (Changes names attributes only).
type AuditRecord struct {
	ID           int64
	At           time.Time
	Actor        string // token name, admin user name, "cli", "system"
	ActorKind    string // "token", "admin", "cli", "system"
	Source       string // client address
	RequestID    string
	Action       string // "create", "update", "delete", "token.create", "admin.signin", …
	ResourceType string // "User", "Group", "Token", "Admin", or ""
	ResourceID   string
	ResourceName string
	Changes      string // comma-separated attribute names, or a short note
	Outcome      string // "success", or "failure" followed by a reason
}

// AuditQuery selects audit records, newest first. Zero fields do not
// filter.
type AuditQuery struct {
	// Actor matches the actor's name, case-insensitively, as a substring.
	Actor string
	// Resource matches the resource id exactly or its name,
	// case-insensitively, as a substring.
	Resource string
	// ResourceID matches the resource id exactly.
	ResourceID string
	// Action matches the action exactly.
	Action string
	// Since and Until bound the time (Since inclusive, Until exclusive).
	Since, Until time.Time
	// Before returns only records with an ID below it (keyset paging:
	// pass the last ID of the previous page).
	Before int64
	// Limit is the page size.
	Limit int
}

// Admin is a console administrator.
type Admin struct {
	ID           string
	Name         string
	PasswordHash string // a bcrypt hash; never the password
	CreatedAt    time.Time
	PasswordAt   time.Time // when the password was last set
}

// Session is a signed-in console session. Only the SHA-256 of its secret
// (the cookie value) is stored.
type Session struct {
	Hash      []byte
	AdminID   string
	AdminName string
	CreatedAt time.Time
	LastSeen  time.Time
}

// NameQuery lists resources for people browsing them: by a part of their
// name rather than by a SCIM filter, in an order they choose.
type NameQuery struct {
	// Contains matches, case-insensitively, a part of a user's userName,
	// displayName or email, or of a group's displayName; or an exact id.
	Contains string
	// SortBy is "name" (the default), "created" or "modified".
	SortBy     string
	Descending bool
	// StartIndex is 1-based; Count is the page size.
	StartIndex int
	Count      int
}
