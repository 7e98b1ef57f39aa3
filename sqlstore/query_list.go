package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"

	"github.com/scimd/scimd/scim"
	"github.com/scimd/scimd/scim/schema"
)

// Sorting and paging.
//
// Order: by the sortBy key, then by id; descending reverses both. A
// missing key sorts after every present one ascending, and before them
// descending (RFC 7644 §3.4.2.3). Case-insensitive strings sort by their
// folded form (schema.Fold), bytewise; booleans false before true;
// meta.version by number. A multi-valued attribute sorts by one of its
// values: the one marked primary, else the first one present (for members
// and groups, the lowest id). Without sortBy, resources are in id order,
// which for UUIDv7 ids is creation order.
//
// Paging is 1-based startIndex and count over that order, as OFFSET would
// give it, evaluated in one read transaction (one snapshot) together with
// the total. Reading page after page must not cost O(startIndex) per page,
// so the store remembers, per query, the sort key of the row before a page
// boundary it has served (a "bookmark"), and the total: the next page is
// then a seek on the index (WHERE (key, id) > bookmark … LIMIT count)
// rather than an OFFSET. Bookmarks are only valid while nothing changed, so
// every write transaction on resources or memberships advances a counter
// in the database (scim_generation), read in the same snapshot as the page;
// a bookmark recorded at another generation is never used. Results are
// therefore identical to OFFSET semantics whatever other writers or
// replicas do, and the cache is only an optimisation: a cold or
// invalidated request costs one OFFSET walk over the index, as before.
// On SQLite, an unfiltered list in ascending id order (Okta's import)
// keeps its bookmarks across appends and updates, which move no row in id
// order; only deletes and creates that are not appends (scim_reorder)
// invalidate them.
// Seeks are cheap when the key is an indexed column (id, userName,
// externalId, a group's displayName); other keys sort in SQL on every page.

// sortKey is the SQL of a sort key; it has no arguments.
type sortKey struct {
	expr     string // "r.id" when sorting by id only
	nullable bool
	text     bool // compared as text (bytewise)
}

func (k sortKey) byID() bool { return k.expr == "r.id" }

// sortKey returns the key of path p (nil: id).
func (t *translator) sortKey(p *schema.Path) (sortKey, error) {
	if p == nil || p.Attr == nil {
		return sortKey{expr: "r.id", text: true}, nil
	}
	a := p.Attr
	bad := func(why string) (sortKey, error) {
		return sortKey{}, schemaErr("invalidValue", "sortBy %s: %s", p.String(), why)
	}
	if a == schema.SchemasAttr {
		return sortKey{expr: "r.id", text: true}, nil
	}
	if !a.MultiValued {
		if a.Type == schema.Complex && p.Sub == nil {
			if v := a.Sub("value"); v != nil {
				p = &schema.Path{Schema: p.Schema, Attr: a, Sub: v}
			} else if a == schema.MetaAttr {
				return sortKey{expr: "r.id", text: true}, nil
			} else {
				return bad("name a sub-attribute of this complex attribute")
			}
		}
		v := t.single(*p)
		if len(t.b.args) > 0 {
			// Only meta.location takes an argument; it sorts like id.
			t.b.args = nil
			return sortKey{expr: "r.id", text: true}, nil
		}
		return t.valueKey(v)
	}
	sub := p.Sub
	if sub == nil {
		if sub = a.Sub("value"); sub == nil {
			return bad("name a sub-attribute of this multi-valued attribute")
		}
	}
	if sub.Name == "$ref" {
		sub = a.Sub("value") // $ref sorts like the id it ends with
	}
	el := t.elements(schema.Path{Schema: p.Schema, Attr: a})
	k, err := t.valueKey(el.sub(sub))
	if err != nil {
		return k, err
	}
	order := ""
	if el.primary != nil {
		order = "(CASE WHEN " + t.qd.jsonType(el.sub(el.primary).json, el.primary.Name) + " = 'boolean-true' THEN 0 ELSE 1 END), "
	}
	return sortKey{
		expr:     "(" + el.with + "SELECT " + k.expr + " FROM " + el.from + " WHERE " + el.where + " AND " + k.expr + " IS NOT NULL ORDER BY " + order + el.pos + " LIMIT 1)",
		nullable: true,
		text:     k.text,
	}, nil
}

// valueKey is the sort key of one value: NULL when absent.
func (t *translator) valueKey(v val) (sortKey, error) {
	a := v.leaf
	switch {
	case v.isConst:
		s, _ := v.konst.(string)
		if s == "" {
			return sortKey{expr: "r.id", text: true}, nil
		}
		return sortKey{expr: "'" + strings.ReplaceAll(s, "'", "''") + "'", text: true}, nil
	case v.ms != "":
		return sortKey{expr: v.ms}, nil
	case a.Name == "version" && strings.Contains(v.text, "r.version"):
		return sortKey{expr: "r.version"}, nil
	case a.Type == schema.Boolean:
		if v.json == "" {
			return sortKey{}, schemaErr("invalidValue", "sortBy %s: not sortable", a.Name)
		}
		typ := t.qd.jsonType(v.json, v.keys...)
		return sortKey{expr: "(CASE " + typ + " WHEN 'boolean-false' THEN 0 WHEN 'boolean-true' THEN 1 END)", nullable: true}, nil
	case a.Type == schema.Complex || a.Type == schema.DateTime || a.Type == schema.Integer || a.Type == schema.Decimal:
		return sortKey{}, schemaErr("invalidValue", "sortBy %s: attributes of type %s cannot be sorted by", a.Name, a.Type)
	}
	x := v.text
	if !a.CaseExact && !v.folded {
		x = "scim_fold(" + x + ")"
	}
	nullable := v.text != "r.id" && v.text != "r.user_name_fold" && v.text != "r.display_name_fold"
	if v.json != "" {
		x = "(CASE WHEN " + t.qd.jsonType(v.json, v.keys...) + " = 'string' THEN NULLIF(" + x + ", '') END)"
	} else if nullable {
		x = "NULLIF(" + x + ", '')"
	}
	return sortKey{expr: x, nullable: nullable, text: true}, nil
}

func schemaErr(scimType, format string, args ...any) error {
	return schema.Errorf(scimType, format, args...)
}

// orderBy returns the ORDER BY list for key k (aliased column kc when
// not sorting by id).
func (s *Store) orderBy(k sortKey, kc string, desc bool) string {
	dir := ""
	if desc {
		dir = " DESC"
	}
	if k.byID() {
		return "r.id" + dir
	}
	coll := ""
	if k.text {
		coll = s.qd().binary
	}
	out := ""
	if k.nullable {
		out = kc + " IS NULL" + dir + ", "
	}
	return out + kc + coll + dir + ", r.id" + dir
}

// seek returns the condition "after bookmark bm" in the order of k.
func (s *Store) seek(b *sqlBuilder, k sortKey, bm bookmark, desc bool) string {
	cmp := " > "
	if desc {
		cmp = " < "
	}
	if k.byID() {
		return "r.id" + cmp + b.arg(bm.id)
	}
	coll := ""
	if k.text {
		coll = s.qd().binary
	}
	row := "(" + k.expr + coll + ", r.id)" + cmp + "("
	switch {
	case !k.nullable:
		return row + b.arg(bm.key) + ", " + b.arg(bm.id) + ")"
	case bm.key == nil && !desc:
		return "(" + k.expr + " IS NULL AND r.id > " + b.arg(bm.id) + ")"
	case bm.key == nil && desc:
		return "(" + k.expr + " IS NOT NULL OR r.id < " + b.arg(bm.id) + ")"
	case !desc:
		return "(" + k.expr + " IS NULL OR " + row + b.arg(bm.key) + ", " + b.arg(bm.id) + "))"
	}
	return "(" + k.expr + " IS NOT NULL AND " + row + b.arg(bm.key) + ", " + b.arg(bm.id) + "))"
}

// bookmark is the position of one row in a query's order.
type bookmark struct {
	key any
	id  string
}

// pageCache remembers, per query, the total and bookmarks at page
// boundaries, for one generation of the database. Safe for concurrent use.
type pageCache struct {
	mu      sync.Mutex
	gen     int64
	entries map[string]*pageEntry
	order   []string // insertion order, for eviction
}

type pageEntry struct {
	total     int
	hasTotal  bool
	bookmarks map[int]bookmark // position p → the row at p (1-based)
	positions []int            // insertion order, for eviction
}

const (
	cacheQueries   = 64   // queries remembered
	cacheBookmarks = 4096 // bookmarks per query
)

// entry returns the entry of key at generation gen, or nil if the cache
// holds another generation (it moves forward to newer ones).
func (c *pageCache) entry(key string, gen int64, create bool) *pageEntry {
	if gen > c.gen || c.entries == nil {
		c.gen, c.entries, c.order = gen, map[string]*pageEntry{}, nil
	}
	if gen != c.gen {
		return nil
	}
	e := c.entries[key]
	if e == nil && create {
		if len(c.order) >= cacheQueries {
			delete(c.entries, c.order[0])
			c.order = c.order[1:]
		}
		e = &pageEntry{bookmarks: map[int]bookmark{}}
		c.entries[key], c.order = e, append(c.order, key)
	}
	return e
}

func (c *pageCache) total(key string, gen int64) (int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entry(key, gen, false); e != nil && e.hasTotal {
		return e.total, true
	}
	return 0, false
}

func (c *pageCache) setTotal(key string, gen int64, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entry(key, gen, true); e != nil {
		e.total, e.hasTotal = n, true
	}
}

// before returns the bookmark at the greatest position below start, and
// that position (0 and false if none).
func (c *pageCache) before(key string, gen int64, start int) (bookmark, int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entry(key, gen, false)
	if e == nil {
		return bookmark{}, 0, false
	}
	if bm, ok := e.bookmarks[start-1]; ok {
		return bm, start - 1, true
	}
	best := 0
	for p := range e.bookmarks {
		if p < start && p > best {
			best = p
		}
	}
	return e.bookmarks[best], best, best > 0
}

func (c *pageCache) put(key string, gen int64, pos int, bm bookmark) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entry(key, gen, true)
	if e == nil {
		return
	}
	if _, ok := e.bookmarks[pos]; ok {
		return
	}
	if len(e.positions) >= cacheBookmarks {
		delete(e.bookmarks, e.positions[0])
		e.positions = e.positions[1:]
	}
	e.bookmarks[pos], e.positions = bm, append(e.positions, pos)
}

// pages returns the store's page cache.
func (s *Store) pages() *pageCache { return &s.cache }

// readTx begins a read transaction in which every statement sees one
// snapshot, and returns it with the store's generation.
func (s *Store) readTx(ctx context.Context) (*sql.Tx, int64, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: s.qd().snapshot})
	if err != nil {
		return nil, 0, s.dbErr(err)
	}
	var gen int64
	if err := tx.QueryRowContext(ctx, s.qd().generation).Scan(&gen); err != nil {
		_ = tx.Rollback()
		return nil, 0, s.dbErr(err)
	}
	return tx, gen, nil
}

// bumpReorder advances the reorder counter (where the dialect has one)
// after a delete (created == "") or after a create that was not an append:
// a row whose id is not the greatest of its table.
func (s *Store) bumpReorder(ctx context.Context, tx *sql.Tx, rt *schema.ResourceType, created string) error {
	qd := s.qd()
	if qd.bumpReorder == "" {
		return nil
	}
	if created != "" {
		var later int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM `+tableOf(rt).name+` WHERE id > $1 LIMIT 1) x`, created).Scan(&later); err != nil {
			return s.dbErr(err)
		}
		if later == 0 {
			return nil // an append: no row moved
		}
	}
	if _, err := tx.ExecContext(ctx, qd.bumpReorder); err != nil {
		return s.dbErr(err)
	}
	return nil
}

// bumpGeneration advances the change counter; every write transaction on
// resources or memberships calls it.
func (s *Store) bumpGeneration(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, s.qd().bumpGeneration); err != nil {
		return s.dbErr(err)
	}
	return nil
}

func cacheKey(rt *schema.ResourceType, q scim.Query) string {
	var b strings.Builder
	b.WriteString(rt.ID)
	b.WriteByte(0)
	if q.Filter != nil {
		b.WriteString(q.Filter.String())
	}
	b.WriteByte(0)
	if q.SortBy != nil {
		b.WriteString(q.SortBy.String())
	}
	fmt.Fprintf(&b, "\x00%v\x00%s", q.Descending, q.Base)
	return b.String()
}

// List implements scim.Resources.
func (s *Store) List(ctx context.Context, rt *schema.ResourceType, q scim.Query) (*scim.Page, error) {
	var b sqlBuilder
	t := &translator{qd: s.qd(), b: &b, rt: rt, base: q.Base}
	key, err := (&translator{qd: s.qd(), b: &sqlBuilder{}, rt: rt, base: q.Base, n: 100}).sortKey(q.SortBy)
	if err != nil {
		return nil, err
	}
	cond, err := t.cond(q.Filter)
	if err != nil {
		return nil, err
	}
	tx, gen, err := s.readTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	tbl := tableOf(rt).name
	ck := cacheKey(rt, q)
	cache := s.pages()
	page := &scim.Page{Resources: []*scim.Resource{}}
	total, ok := cache.total(ck, gen)
	if !ok {
		// An unfiltered total is kept by triggers (scim_counts): read it.
		count, args := `SELECT COUNT(*) FROM `+tbl+` r WHERE `+cond, b.args
		if q.Filter == nil {
			count, args = `SELECT COALESCE(SUM(n), 0) FROM scim_counts WHERE resource_type = $1`, []any{rt.ID}
		}
		if err := tx.QueryRowContext(ctx, count, args...).Scan(&total); err != nil {
			return nil, s.dbErr(err)
		}
		cache.setTotal(ck, gen, total)
	}
	page.Total = total
	start := max(q.StartIndex, 1)
	if q.Count <= 0 || start > total {
		return page, nil
	}
	kc := "k"
	if s.d.name == "postgres" {
		// PostgreSQL's ORDER BY can name an output column only bare, not
		// inside an expression (k IS NULL, k COLLATE "C").
		kc = key.expr
	}
	sel := "SELECT " + key.expr + " AS k, " + prefixed("r.", resourceCols) + " FROM " + tbl + " r WHERE " + cond
	order := " ORDER BY " + s.orderBy(key, kc, q.Descending)
	// Page boundaries are valid while the generation stays, or, for an
	// unfiltered list in ascending id order, while the reorder counter
	// stays: appends and updates don't move such rows (new ids are the
	// greatest), so an import reading page after page keeps seeking while
	// other clients write.
	bmCache, bmGen := cache, gen
	if qd := s.qd(); qd.reorder != "" && key.byID() && q.Filter == nil && !q.Descending {
		var rg int64
		if err := tx.QueryRowContext(ctx, qd.reorder).Scan(&rg); err != nil {
			return nil, s.dbErr(err)
		}
		bmCache, bmGen = &s.idPages, rg
	}
	bm, pos, found := bmCache.before(ck, bmGen, start)
	if skip := start - 1 - pos; skip > 0 {
		// Find the row before the page with a walk over the keys only
		// (an index scan when the key is indexed), and remember it.
		b2 := b
		b2.args = append([]any(nil), b.args...)
		where := ""
		if found {
			where = " AND " + s.seek(&b2, key, bm, q.Descending)
		}
		var k any
		var id string
		err := tx.QueryRowContext(ctx, "SELECT "+key.expr+" AS k, r.id FROM "+tbl+" r WHERE "+cond+where+order+
			" LIMIT 1 OFFSET "+b2.arg(skip-1), b2.args...).Scan(&k, &id)
		if err != nil {
			return nil, s.dbErr(err)
		}
		bm, found = bookmark{key: k, id: id}, true
		s.walks.Add(1)
		bmCache.put(ck, bmGen, start-1, bm)
	}
	where := ""
	if found {
		where = " AND " + s.seek(&b, key, bm, q.Descending)
	}
	rows, err := tx.QueryContext(ctx, sel+where+order+" LIMIT "+b.arg(q.Count), b.args...)
	if err != nil {
		return nil, s.dbErr(err)
	}
	var last bookmark
	for rows.Next() {
		var k any
		r, err := scanResource(rt, keyed{&k, rows})
		if err != nil {
			rows.Close()
			return nil, s.dbErr(err)
		}
		page.Resources = append(page.Resources, r)
		last = bookmark{key: k, id: r.ID}
	}
	if err := rows.Err(); err != nil {
		return nil, s.dbErr(err)
	}
	rows.Close()
	if n := len(page.Resources); n > 0 {
		bmCache.put(ck, bmGen, start-1+n, last)
	}
	if err := s.loadAll(ctx, tx, page.Resources, q.Load); err != nil {
		return nil, err
	}
	return page, nil
}

// keyed scans a leading sort key column, then the rest.
type keyed struct {
	key  *any
	rows interface{ Scan(...any) error }
}

func (k keyed) Scan(dest ...any) error {
	return k.rows.Scan(append([]any{k.key}, dest...)...)
}

// Search implements scim.Resources: the parts' matches merged in one
// order, paged with OFFSET (searches across types are rare: no bookmarks).
func (s *Store) Search(ctx context.Context, q scim.Search) (*scim.Page, error) {
	var b sqlBuilder
	var selects, counts []string
	var keys []sortKey
	for i, part := range q.Parts {
		t := &translator{qd: s.qd(), b: &b, rt: part.Type, base: q.Base, n: 1000 * i}
		key, err := (&translator{qd: s.qd(), b: &sqlBuilder{}, rt: part.Type, base: q.Base, n: 1000*i + 500}).sortKey(part.SortBy)
		if err != nil {
			return nil, err
		}
		if q.Sorted && part.SortBy == nil {
			key = sortKey{expr: "NULL", nullable: true, text: true}
		}
		keys = append(keys, key)
		cond, err := t.cond(part.Filter)
		if err != nil {
			return nil, err
		}
		tbl := tableOf(part.Type).name
		counts = append(counts, "SELECT COUNT(*) AS n FROM "+tbl+" r WHERE "+cond)
		selects = append(selects, fmt.Sprintf("SELECT %d AS part, %s AS k, %s FROM %s r WHERE %s", i, key.expr, prefixed("r.", resourceCols), tbl, cond))
	}
	page := &scim.Page{Resources: []*scim.Resource{}}
	if len(q.Parts) == 0 {
		return page, nil
	}
	tx, _, err := s.readTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	// The count statement reuses the select's placeholders, in the same
	// order of first appearance.
	if err := tx.QueryRowContext(ctx, "SELECT SUM(n) FROM ("+strings.Join(counts, " UNION ALL ")+") c", b.args...).Scan(&page.Total); err != nil {
		return nil, s.dbErr(err)
	}
	start := max(q.StartIndex, 1)
	if q.Count <= 0 || start > page.Total {
		return page, nil
	}
	merged := sortKey{expr: "k", text: true}
	for _, k := range keys {
		merged.nullable = merged.nullable || k.nullable
		merged.text = merged.text && k.text
	}
	dir := ""
	if q.Descending {
		dir = " DESC"
	}
	coll := ""
	if merged.text {
		coll = s.qd().binary
	}
	order := "k" + coll + dir + ", id" + dir + ", part" + dir
	if merged.nullable {
		order = "k IS NULL" + dir + ", " + order
	}
	rows, err := tx.QueryContext(ctx, "SELECT part, "+resourceCols+" FROM ("+strings.Join(selects, " UNION ALL ")+") u ORDER BY "+order+
		" LIMIT "+b.arg(q.Count)+" OFFSET "+b.arg(start-1), b.args...)
	if err != nil {
		return nil, s.dbErr(err)
	}
	var parts []int
	for rows.Next() {
		var part any
		var pi int64
		var r *scim.Resource
		// The type is only known once part is read: scan into a
		// resource of the first type, then fix it.
		r, err = scanResource(q.Parts[0].Type, keyed{&part, rows})
		if err != nil {
			rows.Close()
			return nil, s.dbErr(err)
		}
		pi, _ = part.(int64)
		if int(pi) < 0 || int(pi) >= len(q.Parts) {
			rows.Close()
			return nil, fmt.Errorf("search: bad part %v", part)
		}
		r.Type = q.Parts[pi].Type
		parts = append(parts, int(pi))
		page.Resources = append(page.Resources, r)
	}
	if err := rows.Err(); err != nil {
		return nil, s.dbErr(err)
	}
	rows.Close()
	for i, r := range page.Resources {
		if err := s.load(ctx, tx, r, q.Parts[parts[i]].Load); err != nil {
			return nil, err
		}
	}
	return page, nil
}

// prefixed prefixes every column of a comma-separated list.
func prefixed(p, cols string) string {
	parts := strings.Split(cols, ", ")
	for i := range parts {
		parts[i] = p + parts[i]
	}
	return strings.Join(parts, ", ")
}
