-- Users: the canonical JSON document plus the columns clients filter on.
CREATE TABLE scim_users (
	id             TEXT PRIMARY KEY,
	user_name      TEXT NOT NULL,
	user_name_fold TEXT NOT NULL,
	external_id    TEXT,
	display_name   TEXT,
	active         INTEGER NOT NULL,
	created        INTEGER NOT NULL, -- unix milliseconds
	last_modified  INTEGER NOT NULL,
	version        INTEGER NOT NULL,
	doc            TEXT NOT NULL
);
CREATE UNIQUE INDEX scim_users_user_name_fold ON scim_users (user_name_fold);
CREATE INDEX scim_users_external_id ON scim_users (external_id);

-- One row per email of a user, folded, so that email lookups use an index.
CREATE TABLE scim_user_emails (
	user_id    TEXT NOT NULL,
	value_fold TEXT NOT NULL,
	type_fold  TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (user_id, value_fold, type_fold)
) WITHOUT ROWID;
CREATE INDEX scim_user_emails_value ON scim_user_emails (value_fold, type_fold);

CREATE TABLE scim_groups (
	id                TEXT PRIMARY KEY,
	display_name      TEXT NOT NULL,
	display_name_fold TEXT NOT NULL,
	external_id       TEXT,
	created           INTEGER NOT NULL,
	last_modified     INTEGER NOT NULL,
	version           INTEGER NOT NULL,
	doc               TEXT NOT NULL
);
CREATE UNIQUE INDEX scim_groups_display_name_fold ON scim_groups (display_name_fold);
CREATE INDEX scim_groups_external_id ON scim_groups (external_id);

-- Membership: one row per (group, member), so adding or removing a member
-- costs O(1) whatever the group's size.
CREATE TABLE scim_members (
	group_id    TEXT NOT NULL,
	member_id   TEXT NOT NULL,
	member_type TEXT NOT NULL, -- 'User' or 'Group'
	PRIMARY KEY (group_id, member_id)
) WITHOUT ROWID;
CREATE INDEX scim_members_member ON scim_members (member_id);

CREATE TABLE scim_tokens (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	hash       BLOB NOT NULL,
	created    INTEGER NOT NULL,
	last_used  INTEGER,
	expires    INTEGER,
	revoked    INTEGER
);
CREATE UNIQUE INDEX scim_tokens_hash ON scim_tokens (hash);
CREATE UNIQUE INDEX scim_tokens_active_name ON scim_tokens (name) WHERE revoked IS NULL;

CREATE TABLE scim_audit (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	at            INTEGER NOT NULL,
	actor         TEXT NOT NULL,
	actor_kind    TEXT NOT NULL,
	source        TEXT NOT NULL DEFAULT '',
	request_id    TEXT NOT NULL DEFAULT '',
	action        TEXT NOT NULL,
	resource_type TEXT NOT NULL DEFAULT '',
	resource_id   TEXT NOT NULL DEFAULT '',
	resource_name TEXT NOT NULL DEFAULT '',
	changes       TEXT NOT NULL DEFAULT '',
	outcome       TEXT NOT NULL DEFAULT 'success'
);
CREATE INDEX scim_audit_at ON scim_audit (at);
CREATE INDEX scim_audit_resource ON scim_audit (resource_id);
