package sqlstore

import (
	"database/sql"
	"strings"
)

// queryDialect holds the SQL constructs of the query translation (filters,
// sorting, paging) that differ between databases. Everything else the
// translation writes is generic SQL: comparisons, EXISTS, IN, row values,
// WITH RECURSIVE, ||, CASE, COALESCE, and scim_fold(text), the SQL twin of
// schema.Fold that both databases define.
//
// Conventions: col is a SQL expression holding a JSON document or element
// (the doc column, or an element produced by jsonEach); keys are schema
// attribute names (already validated, never client text) forming a path
// from it, possibly empty.
type queryDialect struct {
	// jsonType returns a SQL text expression naming the JSON type of the
	// value at the path: one of 'string', 'boolean-true', 'boolean-false',
	// 'number', 'object', 'array', 'null', or NULL when the path is
	// missing. It exists so that conditions can ask for a type without
	// knowing the database's own type names.
	jsonType func(col string, keys ...string) string
	// jsonText returns the text of a JSON string at the path (other
	// types: anything that equals no string, or NULL).
	jsonText func(col string, keys ...string) string
	// jsonObjectEmpty returns a condition true when the value at the path
	// is the empty object {} (only called where jsonType is 'object').
	jsonObjectEmpty func(col string, keys ...string) string
	// jsonArrayEmpty likewise for [].
	jsonArrayEmpty func(col string, keys ...string) string
	// jsonEach returns a FROM item, aliased alias, yielding one row per
	// element of the JSON array at the path (no rows if it is missing or
	// not an array), the SQL naming the element as a JSON value (a col
	// for the functions above) when it is an object and NULL otherwise,
	// and the element's position in the array.
	jsonEach func(alias, col string, keys ...string) (from, elem, pos string)
	// contains, hasPrefix and hasSuffix return conditions comparing the
	// text x with the text p bytewise (strings.Contains, HasPrefix,
	// HasSuffix); p is never empty.
	contains, hasPrefix, hasSuffix func(x, p string) string
	// binary is appended to a text expression to compare and order it
	// bytewise (code point order), as Go compares strings.
	binary string
	// snapshot is the isolation level under which every statement of a
	// read transaction sees the same snapshot.
	snapshot sql.IsolationLevel
	// generation is a query returning the store's change counter
	// (see bumpGeneration).
	generation string
	// bumpGeneration is the statement that advances it.
	bumpGeneration string
	// reorder, when not empty, is a query returning a counter that only
	// writes moving rows in id order advance (deletes, and creates that
	// are not appends), and bumpReorder the statement advancing it. Only
	// a database with a single writer can tell an append inside the
	// creating transaction, so only SQLite has them.
	reorder, bumpReorder string
}

// jsonPath renders keys as a SQLite JSON path: $."a"."b".
func jsonPath(keys []string) string {
	var b strings.Builder
	b.WriteString("'$")
	for _, k := range keys {
		b.WriteString(`."` + strings.ReplaceAll(k, "'", "''") + `"`)
	}
	b.WriteString("'")
	return b.String()
}

var sqliteQuery = &queryDialect{
	jsonType: func(col string, keys ...string) string {
		return "(CASE json_type(" + col + ", " + jsonPath(keys) + ") WHEN 'text' THEN 'string' WHEN 'true' THEN 'boolean-true'" +
			" WHEN 'false' THEN 'boolean-false' WHEN 'integer' THEN 'number' WHEN 'real' THEN 'number'" +
			" WHEN 'object' THEN 'object' WHEN 'array' THEN 'array' WHEN 'null' THEN 'null' END)"
	},
	jsonText: func(col string, keys ...string) string {
		return "json_extract(" + col + ", " + jsonPath(keys) + ")"
	},
	jsonObjectEmpty: func(col string, keys ...string) string {
		return "(json_extract(" + col + ", " + jsonPath(keys) + ") = '{}')"
	},
	jsonArrayEmpty: func(col string, keys ...string) string {
		return "(json_array_length(" + col + ", " + jsonPath(keys) + ") = 0)"
	},
	jsonEach: func(alias, col string, keys ...string) (string, string, string) {
		// json_each yields the members of an object too: only arrays
		// count. An element's value column holds an object's JSON text;
		// other elements (never matched as objects) become NULL.
		return "json_each(CASE json_type(" + col + ", " + jsonPath(keys) + ") WHEN 'array' THEN json_extract(" + col + ", " + jsonPath(keys) + ") ELSE '[]' END) AS " + alias,
			"(CASE " + alias + ".type WHEN 'object' THEN " + alias + ".value END)", alias + ".key"
	},
	// On BLOBs, instr and substr count bytes: exactly Go's bytewise tests.
	contains: func(x, p string) string {
		return "(instr(CAST(" + x + " AS BLOB), CAST(" + p + " AS BLOB)) > 0)"
	},
	hasPrefix: func(x, p string) string {
		return "(instr(CAST(" + x + " AS BLOB), CAST(" + p + " AS BLOB)) = 1)"
	},
	hasSuffix: func(x, p string) string {
		return "(substr(CAST(" + x + " AS BLOB), -length(CAST(" + p + " AS BLOB))) = CAST(" + p + " AS BLOB) AND length(CAST(" + x + " AS BLOB)) >= length(CAST(" + p + " AS BLOB)))"
	},
	binary:         "", // SQLite's default collation, BINARY, is memcmp
	snapshot:       sql.LevelDefault,
	generation:     "SELECT n FROM scim_generation",
	bumpGeneration: "UPDATE scim_generation SET n = n + 1",
	reorder:        "SELECT n FROM scim_reorder",
	bumpReorder:    "UPDATE scim_reorder SET n = n + 1",
}

// qd returns the store's query dialect.
func (s *Store) qd() *queryDialect {
	if s.d.name == "sqlite" {
		return sqliteQuery
	}
	return queryDialects[s.d.name]
}

// queryDialects holds the query dialects of databases other than SQLite,
// by dialect name.
var queryDialects = map[string]*queryDialect{}
