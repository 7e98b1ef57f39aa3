-- PostgreSQL twin of migrations/sqlite/0003_generation.sql: a change
-- counter that every write transaction on resources or memberships
-- advances (see sqlstore/query_list.go).
CREATE TABLE scim_generation (n BIGINT NOT NULL);
INSERT INTO scim_generation (n) VALUES (0);
