-- A change counter: every write transaction on resources or memberships
-- advances it, so that a reader can tell, within its own snapshot, whether
-- anything changed since a page boundary it remembers (see
-- sqlstore/query_list.go).
CREATE TABLE scim_generation (n INTEGER NOT NULL);
INSERT INTO scim_generation (n) VALUES (0);
