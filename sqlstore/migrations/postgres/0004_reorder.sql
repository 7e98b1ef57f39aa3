-- Twin of migrations/sqlite/0004_reorder.sql, so that both databases are
-- at the same migration (scimd copy checks that). PostgreSQL does not use
-- it: with several writers an append cannot be told apart inside the
-- creating transaction, so its bookmarks follow scim_generation alone.
CREATE TABLE scim_reorder (n BIGINT NOT NULL);
INSERT INTO scim_reorder (n) VALUES (0);
