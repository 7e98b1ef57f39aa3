-- PostgreSQL twin of migrations/sqlite/0003_generation.sql: a change
-- counter that every write transaction on resources or memberships
-- advances (see sqlstore/query_list.go).
--
-- One row would make every write of every replica queue on its lock until
-- commit. Instead the counter is the sum of 64 shards, and a transaction
-- advances the shard of its connection (pg_backend_pid() % 64: one shard
-- per transaction, so no two can deadlock on shards). The sum still grows
-- with every commit and is read in the page's snapshot.
CREATE TABLE scim_generation (shard INTEGER PRIMARY KEY, n BIGINT NOT NULL);
INSERT INTO scim_generation (shard, n) SELECT s, 0 FROM generate_series(0, 63) AS s;
