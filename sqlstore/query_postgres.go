package sqlstore

import (
	"database/sql"
	"strings"
)

// PostgreSQL's half of the query translation (see queryDialect). doc is
// JSONB, so paths are read with #> and #>> on the parsed document.

func init() { queryDialects["postgres"] = postgresQuery }

// pgPath renders keys as a text[] for #> and #>>: ARRAY['a','b'].
func pgPath(keys []string) string {
	q := make([]string, len(keys))
	for i, k := range keys {
		q[i] = quoteLiteral(k)
	}
	return "ARRAY[" + strings.Join(q, ", ") + "]::text[]"
}

// pgAt returns the JSONB value at the path.
func pgAt(col string, keys []string) string {
	if len(keys) == 0 {
		return "(" + col + ")"
	}
	return "(" + col + " #> " + pgPath(keys) + ")"
}

var postgresQuery = &queryDialect{
	jsonType: func(col string, keys ...string) string {
		v := pgAt(col, keys)
		return "(CASE jsonb_typeof(" + v + ") WHEN 'string' THEN 'string'" +
			" WHEN 'boolean' THEN (CASE WHEN " + v + " = 'true'::jsonb THEN 'boolean-true' ELSE 'boolean-false' END)" +
			" WHEN 'number' THEN 'number' WHEN 'object' THEN 'object' WHEN 'array' THEN 'array' WHEN 'null' THEN 'null' END)"
	},
	jsonText: func(col string, keys ...string) string {
		// #>> gives any scalar as text ('42', 'true'); SQLite's
		// json_extract gives numbers as numbers, which equal no string.
		// Match that: only strings have text.
		v := pgAt(col, keys)
		return "(CASE WHEN jsonb_typeof(" + v + ") = 'string' THEN " + v + " #>> '{}' END)"
	},
	jsonObjectEmpty: func(col string, keys ...string) string {
		return "(" + pgAt(col, keys) + " = '{}'::jsonb)"
	},
	jsonArrayEmpty: func(col string, keys ...string) string {
		return "(" + pgAt(col, keys) + " = '[]'::jsonb)"
	},
	jsonEach: func(alias, col string, keys ...string) (string, string, string) {
		v := pgAt(col, keys)
		// Positions are 0-based, as SQLite's json_each keys.
		return "jsonb_array_elements(CASE jsonb_typeof(" + v + ") WHEN 'array' THEN " + v + " ELSE '[]'::jsonb END) WITH ORDINALITY AS " + alias + "(value, pos)",
			"(CASE jsonb_typeof(" + alias + ".value) WHEN 'object' THEN " + alias + ".value END)", "(" + alias + ".pos - 1)"
	},
	// In UTF-8, a character-wise substring match is a bytewise one, and
	// equality under the C collation is byte equality.
	contains: func(x, p string) string {
		return "(strpos(" + x + ", " + p + ") > 0)"
	},
	hasPrefix: func(x, p string) string {
		return "starts_with(" + x + ", " + p + ")"
	},
	hasSuffix: func(x, p string) string {
		return "(right(" + x + ", length(" + p + ")) COLLATE \"C\" = " + p + ")"
	},
	binary:   ` COLLATE "C"`, // byte order, which in UTF-8 is code point order
	snapshot: sql.LevelRepeatableRead,
	// A sharded counter (see migrations/postgres/0003_generation.sql).
	generation:     "SELECT SUM(n)::bigint FROM scim_generation",
	bumpGeneration: "UPDATE scim_generation SET n = n + 1 WHERE shard = pg_backend_pid() % 64",
}
