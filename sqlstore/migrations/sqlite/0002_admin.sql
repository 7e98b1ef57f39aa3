-- Console administrators. password is a bcrypt hash, never the password.
CREATE TABLE scim_admins (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL,
	password    TEXT NOT NULL,
	created     INTEGER NOT NULL, -- unix milliseconds
	password_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX scim_admins_name ON scim_admins (name);

-- Console sessions, keyed by the SHA-256 of the cookie's secret.
CREATE TABLE scim_sessions (
	hash      BLOB PRIMARY KEY,
	admin_id  TEXT NOT NULL REFERENCES scim_admins (id) ON DELETE CASCADE,
	created   INTEGER NOT NULL,
	last_seen INTEGER NOT NULL
);
CREATE INDEX scim_sessions_admin ON scim_sessions (admin_id);
CREATE INDEX scim_sessions_last_seen ON scim_sessions (last_seen);

-- Failed sign-ins are counted per client from the audit trail.
CREATE INDEX scim_audit_source ON scim_audit (source, action, at);
CREATE INDEX scim_audit_actor ON scim_audit (actor);
