-- A second change counter, advanced only by writes that move resources in
-- id order: deletes, and creates whose id is not the greatest. Appends and
-- updates leave every row's position in id order where it was, so page
-- boundaries remembered for unfiltered lists in id order stay valid across
-- them (see sqlstore/query_list.go). SQLite only: with one writer, "the
-- greatest id" is decided inside the creating transaction.
CREATE TABLE scim_reorder (n INTEGER NOT NULL);
INSERT INTO scim_reorder (n) VALUES (0);
