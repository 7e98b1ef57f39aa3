-- Row counts of users and groups, kept by triggers in the transaction of
-- every insert and delete, so that the total of an unfiltered list is read
-- rather than counted (COUNT(*) over a million rows is tens of ms, on
-- every page after a write).
CREATE TABLE scim_counts (
	resource_type TEXT NOT NULL,
	shard         INTEGER NOT NULL,
	n             INTEGER NOT NULL,
	PRIMARY KEY (resource_type, shard)
);
INSERT INTO scim_counts (resource_type, shard, n) SELECT 'User', 0, COUNT(*) FROM scim_users;
INSERT INTO scim_counts (resource_type, shard, n) SELECT 'Group', 0, COUNT(*) FROM scim_groups;
CREATE TRIGGER scim_users_count_insert AFTER INSERT ON scim_users
BEGIN UPDATE scim_counts SET n = n + 1 WHERE resource_type = 'User'; END;
CREATE TRIGGER scim_users_count_delete AFTER DELETE ON scim_users
BEGIN UPDATE scim_counts SET n = n - 1 WHERE resource_type = 'User'; END;
CREATE TRIGGER scim_groups_count_insert AFTER INSERT ON scim_groups
BEGIN UPDATE scim_counts SET n = n + 1 WHERE resource_type = 'Group'; END;
CREATE TRIGGER scim_groups_count_delete AFTER DELETE ON scim_groups
BEGIN UPDATE scim_counts SET n = n - 1 WHERE resource_type = 'Group'; END;
