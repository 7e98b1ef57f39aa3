-- Twin of migrations/sqlite/0005_counts.sql: row counts of users and
-- groups kept by triggers, so that the total of an unfiltered list is read
-- rather than counted. As with scim_generation, a count is the sum of 64
-- shards and a transaction updates the shard of its connection, so that
-- creates through many connections and replicas don't queue on one row.
CREATE TABLE scim_counts (
	resource_type TEXT NOT NULL,
	shard         INTEGER NOT NULL,
	n             BIGINT NOT NULL,
	PRIMARY KEY (resource_type, shard)
);
INSERT INTO scim_counts (resource_type, shard, n)
	SELECT t, s, 0 FROM (VALUES ('User'), ('Group')) AS v (t), generate_series(0, 63) AS s;
UPDATE scim_counts SET n = (SELECT COUNT(*) FROM scim_users) WHERE resource_type = 'User' AND shard = 0;
UPDATE scim_counts SET n = (SELECT COUNT(*) FROM scim_groups) WHERE resource_type = 'Group' AND shard = 0;
CREATE FUNCTION scim_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE scim_counts SET n = n + (CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END)
		WHERE resource_type = TG_ARGV[0] AND shard = pg_backend_pid() % 64;
	RETURN NULL;
END
$$;
CREATE TRIGGER scim_users_count AFTER INSERT OR DELETE ON scim_users
	FOR EACH ROW EXECUTE FUNCTION scim_count('User');
CREATE TRIGGER scim_groups_count AFTER INSERT OR DELETE ON scim_groups
	FOR EACH ROW EXECUTE FUNCTION scim_count('Group');
