package filter

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scimd/scimd/scim/schema"
)

// Limits on the filters and paths Parse and ParsePath accept. Input beyond
// them is an *schema.Error with scimType invalidFilter (invalidPath for a
// too-long PATCH path).
const (
	// MaxLength is the longest filter or path accepted, in bytes.
	MaxLength = 4096
	// MaxDepth is the deepest nesting of parentheses (including those of
	// "not (…)") and value-filter brackets.
	MaxDepth = 32
	// MaxTerms is the most comparisons (attribute operator value, or
	// attribute pr) one filter may hold.
	MaxTerms = 256
)

// limits bounds one parse. Parse uses the exported constants; tests
// re-parse rendered filters with looser limits, because rendering adds
// parentheses and canonical names.
type limits struct{ length, depth, terms int }

var defaultLimits = limits{MaxLength, MaxDepth, MaxTerms}

// Parse parses a filter (RFC 7644 §3.4.2.2) against the resource type's
// schema. Operators and the keywords and, or, not are case-insensitive;
// attribute names are resolved with rt.ParsePath, so they are
// case-insensitive and may be URN-qualified. Values are type-checked and
// coerced for the attribute they are compared with (see the package doc).
//
// Every error is a *schema.Error with scimType invalidFilter whose detail
// names the problem and, where there is one, its byte offset.
func Parse(rt *schema.ResourceType, s string) (Expr, error) {
	return parse(rt, s, defaultLimits)
}

func parse(rt *schema.ResourceType, s string, lim limits) (Expr, error) {
	p := &parser{rt: rt, s: s, lim: lim, end: "end of filter"}
	if err := p.checkInput("filter"); err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.eof() {
		return nil, filterErr("empty filter")
	}
	e, err := p.parseOr(nil)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if !p.eof() {
		if p.peek() == ')' {
			return nil, filterErr("unbalanced ) at offset %d", p.pos)
		}
		return nil, p.expected(`"and", "or" or the end of the filter`)
	}
	return e, nil
}

// ParsePath parses a PATCH operation path (RFC 7644 §3.5.2):
// `attrPath` or `attrPath "[" valFilter "]" ["." subAttr]`, where a value
// filter is allowed only on a multi-valued complex attribute and its
// attribute names are that attribute's sub-attributes. A URN alone names a
// whole extension (Attr.Attr nil). Surrounding white space is ignored.
//
// Errors are *schema.Error: scimType invalidPath for a malformed path or an
// unknown attribute, invalidFilter for an error inside the brackets
// (RFC 7644 Table 9 lists invalidFilter for PATCH path filters).
func ParsePath(rt *schema.ResourceType, s string) (Path, error) {
	return parsePath(rt, s, defaultLimits)
}

func parsePath(rt *schema.ResourceType, s string, lim limits) (Path, error) {
	p := &parser{rt: rt, s: s, lim: lim, end: "end of path"}
	if err := p.checkInput("path"); err != nil {
		return Path{}, asPathErr(err)
	}
	p.skipSpace()
	start := p.pos
	tok := p.readPath()
	if tok == "" {
		if p.eof() {
			return Path{}, pathErr("empty path")
		}
		return Path{}, pathErr("expected an attribute path at offset %d, found %s", p.pos, p.found())
	}
	ap, err := rt.ParsePath(tok)
	if err != nil {
		return Path{}, pathErr("%s", detail(err))
	}
	out := Path{Attr: ap}
	if p.peek() == '[' {
		if err := checkValuePath(ap, start); err != nil {
			return Path{}, asPathErr(err)
		}
		f, err := p.parseBrackets(ap)
		if err != nil {
			return Path{}, err
		}
		out.Filter = f
		if p.peek() == '.' {
			p.pos++
			subStart := p.pos
			name := p.readPath()
			if out.Sub = ap.Attr.Sub(name); out.Sub == nil || name == "" {
				return Path{}, pathErr("no sub-attribute %q of %q at offset %d", name, ap.Attr.Name, subStart)
			}
		}
	}
	p.skipSpace()
	if !p.eof() {
		return Path{}, pathErr("unexpected %s at offset %d", p.found(), p.pos)
	}
	return out, nil
}

// parser is a recursive-descent parser over s. Recursion happens only on
// "(" and "[", each of which counts against lim.depth.
type parser struct {
	rt    *schema.ResourceType
	s     string
	pos   int
	depth int
	terms int
	lim   limits
	end   string // how the end of input is named in errors
}

func filterErr(format string, args ...any) error {
	return schema.Errorf("invalidFilter", format, args...)
}

func pathErr(format string, args ...any) error {
	return schema.Errorf("invalidPath", format, args...)
}

// asPathErr turns an invalidFilter error about the path itself into
// invalidPath.
func asPathErr(err error) error {
	return pathErr("%s", detail(err))
}

// detail returns the detail of a *schema.Error, or the error's text.
func detail(err error) string {
	if se, ok := errors.AsType[*schema.Error](err); ok {
		return se.Detail
	}
	return err.Error()
}

func (p *parser) checkInput(what string) error {
	if len(p.s) > p.lim.length {
		return filterErr("%s is %d bytes long, longer than the limit of %d", what, len(p.s), p.lim.length)
	}
	if !utf8.ValidString(p.s) {
		return filterErr("%s is not valid UTF-8", what)
	}
	return nil
}

func (p *parser) eof() bool { return p.pos >= len(p.s) }

func (p *parser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.s[p.pos]
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipSpace skips white space and reports how many bytes it skipped.
func (p *parser) skipSpace() int {
	start := p.pos
	for !p.eof() && isSpace(p.s[p.pos]) {
		p.pos++
	}
	return p.pos - start
}

// isPathChar reports whether c may appear in an attribute path token:
// ATTRNAME characters, "$" (of "$ref"), and the ":" and "." of URNs and
// sub-attributes.
func isPathChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == ':' || c == '.' || c == '$' || c == '-' || c == '_'
}

func (p *parser) readPath() string {
	start := p.pos
	for !p.eof() && isPathChar(p.s[p.pos]) {
		p.pos++
	}
	return p.s[start:p.pos]
}

// peekPath returns the path token at pos without consuming it.
func (p *parser) peekPath() string {
	i := p.pos
	for i < len(p.s) && isPathChar(p.s[i]) {
		i++
	}
	return p.s[p.pos:i]
}

// found describes the input at pos for an error message.
func (p *parser) found() string {
	if p.eof() {
		return p.end
	}
	end := p.pos + 1
	for end < len(p.s) && end-p.pos < 24 && !isSpace(p.s[end]) {
		end++
	}
	for end < len(p.s) && !utf8.RuneStart(p.s[end]) {
		end++
	}
	return strconv.Quote(p.s[p.pos:end])
}

func (p *parser) expected(what string) error {
	return filterErr("expected %s at offset %d, found %s", what, p.pos, p.found())
}

// keyword consumes white space and the keyword kw (case-insensitive) if
// they come next, and reports whether it did.
func (p *parser) keyword(kw string) bool {
	save := p.pos
	p.skipSpace()
	if tok := p.peekPath(); strings.EqualFold(tok, kw) {
		p.pos += len(tok)
		return true
	}
	p.pos = save
	return false
}

func (p *parser) enter(at int) error {
	p.depth++
	if p.depth > p.lim.depth {
		return filterErr("filter nests deeper than %d levels at offset %d", p.lim.depth, at)
	}
	return nil
}

// parseOr parses `and-expr *("or" and-expr)`. outer is the multi-valued
// attribute whose brackets we are in, or nil.
func (p *parser) parseOr(outer *schema.Path) (Expr, error) {
	left, err := p.parseAnd(outer)
	if err != nil {
		return nil, err
	}
	for p.keyword("or") {
		right, err := p.parseAnd(outer)
		if err != nil {
			return nil, err
		}
		left = &Or{Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) parseAnd(outer *schema.Path) (Expr, error) {
	left, err := p.parseUnary(outer)
	if err != nil {
		return nil, err
	}
	for p.keyword("and") {
		right, err := p.parseUnary(outer)
		if err != nil {
			return nil, err
		}
		left = &And{Left: left, Right: right}
	}
	return left, nil
}

// parseUnary parses "(" filter ")", "not" "(" filter ")" or a comparison.
func (p *parser) parseUnary(outer *schema.Path) (Expr, error) {
	p.skipSpace()
	if p.peek() == '(' {
		return p.parseParens(outer)
	}
	if strings.EqualFold(p.peekPath(), "not") {
		p.pos += len("not")
		p.skipSpace()
		if p.peek() != '(' {
			return nil, p.expected(`"(" after "not"`)
		}
		x, err := p.parseParens(outer)
		if err != nil {
			return nil, err
		}
		return &Not{X: x}, nil
	}
	return p.parseComparison(outer)
}

func (p *parser) parseParens(outer *schema.Path) (Expr, error) {
	open := p.pos
	p.pos++
	if err := p.enter(open); err != nil {
		return nil, err
	}
	e, err := p.parseOr(outer)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.peek() != ')' {
		return nil, p.expected(`"and", "or" or ")" (closing "(" at offset ` + strconv.Itoa(open) + ")")
	}
	p.pos++
	p.depth--
	return e, nil
}

// parseComparison parses `attrPath op value`, `attrPath pr`, or a value
// path `attrPath "[" valFilter "]" ["." subAttr op value]`.
func (p *parser) parseComparison(outer *schema.Path) (Expr, error) {
	start := p.pos
	tok := p.readPath()
	if tok == "" {
		return nil, p.expected("an attribute path")
	}
	if outer != nil {
		sub := outer.Attr.Sub(tok)
		if sub == nil {
			return nil, filterErr("no sub-attribute %q of %q at offset %d", tok, outer.Attr.Name, start)
		}
		if p.peek() == '[' {
			return nil, filterErr("nested value filter at offset %d: a filter inside [...] cannot have its own [...]", p.pos)
		}
		return p.parseOpValue(schema.Path{Schema: outer.Schema, Attr: outer.Attr, Sub: sub}, start)
	}
	path, err := p.rt.ParsePath(tok)
	if err != nil {
		return nil, filterErr("%s (at offset %d)", detail(err), start)
	}
	if path.Attr == nil {
		return nil, filterErr("%q at offset %d names a whole extension, not an attribute", tok, start)
	}
	if p.peek() != '[' {
		return p.parseOpValue(path, start)
	}
	if err := checkValuePath(path, start); err != nil {
		return nil, err
	}
	f, err := p.parseBrackets(path)
	if err != nil {
		return nil, err
	}
	vp := &ValuePath{Path: path, Filter: f}
	if p.peek() == '.' {
		p.pos++
		subStart := p.pos
		name := p.readPath()
		sub := path.Attr.Sub(name)
		if sub == nil || name == "" {
			return nil, filterErr("no sub-attribute %q of %q at offset %d", name, path.Attr.Name, subStart)
		}
		c, err := p.parseOpValue(schema.Path{Schema: path.Schema, Attr: path.Attr, Sub: sub}, subStart)
		if err != nil {
			return nil, err
		}
		vp.Filter = &And{Left: f, Right: c}
	}
	return vp, nil
}

// checkValuePath checks that a value filter may follow path.
func checkValuePath(path schema.Path, at int) error {
	if path.Attr == nil || path.Sub != nil || path.Attr.Type != schema.Complex || !path.Attr.MultiValued {
		return filterErr("a value filter [...] at offset %d needs a multi-valued complex attribute, and %q is not one", at, path.String())
	}
	return nil
}

// parseBrackets parses "[" valFilter "]" at pos for the attribute outer.
func (p *parser) parseBrackets(outer schema.Path) (Expr, error) {
	open := p.pos
	p.pos++
	if err := p.enter(open); err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.peek() == ']' {
		return nil, filterErr("empty value filter [] at offset %d", open)
	}
	f, err := p.parseOr(&outer)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.peek() != ']' {
		return nil, p.expected(`"and", "or" or "]" (closing "[" at offset ` + strconv.Itoa(open) + ")")
	}
	p.pos++
	p.depth--
	return f, nil
}

var ops = []Op{Eq, Ne, Co, Sw, Ew, Pr, Gt, Ge, Lt, Le}

func isOrdering(op Op) bool { return op == Gt || op == Ge || op == Lt || op == Le }

func isSubstring(op Op) bool { return op == Co || op == Sw || op == Ew }

// parseOpValue parses the operator and value after the attribute path
// (which started at offset start), and type-checks them.
func (p *parser) parseOpValue(path schema.Path, start int) (Expr, error) {
	if path.Attr.Returned == schema.Never || path.Sub != nil && path.Sub.Returned == schema.Never {
		return nil, filterErr("attribute %q at offset %d cannot be used in a filter", path.String(), start)
	}
	const opList = "an operator (eq, ne, co, sw, ew, pr, gt, ge, lt, le)"
	if p.skipSpace() == 0 {
		return nil, p.expected(opList + " after " + strconv.Quote(path.String()))
	}
	opStart := p.pos
	word := p.peekPath()
	var op Op
	for _, o := range ops {
		if strings.EqualFold(word, string(o)) {
			op = o
		}
	}
	if op == "" {
		return nil, p.expected(opList)
	}
	p.pos += len(word)
	p.terms++
	if p.terms > p.lim.terms {
		return nil, filterErr("filter has more than %d comparisons (at offset %d)", p.lim.terms, start)
	}
	leaf := path.Leaf()
	if op == Pr {
		return &Compare{Path: path, Op: Pr}, nil
	}
	p.skipSpace()
	lit, err := p.readLiteral(op)
	if err != nil {
		return nil, err
	}
	if lit.kind == litNull {
		if op != Eq && op != Ne {
			return nil, filterErr("null at offset %d can only be compared with eq or ne, not %s", lit.off, op)
		}
		return &Compare{Path: path, Op: op}, nil
	}
	if leaf.Type == schema.Complex {
		// RFC 7643 §2.4: a multi-valued attribute compared as a whole is
		// compared on its "value" sub-attribute; so is a single complex
		// reference such as manager (Entra sends `manager eq "id"`).
		v := leaf.Sub("value")
		if v == nil {
			example := ""
			if len(leaf.SubAttributes) > 0 {
				example = " such as " + strconv.Quote(path.String()+"."+leaf.SubAttributes[0].Name)
			}
			return nil, filterErr("attribute %q at offset %d is complex: compare one of its sub-attributes%s, or use pr", path.String(), start, example)
		}
		path.Sub, leaf = v, v
	}
	val, err := coerce(path, leaf, op, lit, opStart)
	if err != nil {
		return nil, err
	}
	return &Compare{Path: path, Op: op, Value: val}, nil
}

type litKind int

const (
	litString litKind = iota // a JSON string
	litBare                  // an unquoted word that is not a keyword or number
	litNumber
	litTrue
	litFalse
	litNull
)

type literal struct {
	kind litKind
	text string // the string's value, or the token's text
	off  int
}

// isBareChar reports whether c may appear in an unquoted value.
func isBareChar(c byte) bool {
	return c > ' ' && c != 0x7f && c != '(' && c != ')' && c != '[' && c != ']' && c != '"'
}

func (p *parser) readLiteral(op Op) (literal, error) {
	start := p.pos
	if p.peek() == '"' {
		i := p.pos + 1
		for i < len(p.s) && p.s[i] != '"' {
			if p.s[i] == '\\' {
				i++
			}
			i++
		}
		if i >= len(p.s) {
			return literal{}, filterErr("unterminated string starting at offset %d", start)
		}
		var s string
		if err := json.Unmarshal([]byte(p.s[start:i+1]), &s); err != nil {
			return literal{}, filterErr("invalid string at offset %d: bad escape sequence or control character", start)
		}
		p.pos = i + 1
		return literal{kind: litString, text: s, off: start}, nil
	}
	for !p.eof() && isBareChar(p.s[p.pos]) {
		p.pos++
	}
	tok := p.s[start:p.pos]
	if tok == "" {
		return literal{}, p.expected("a value after " + string(op))
	}
	l := literal{kind: litBare, text: tok, off: start}
	switch {
	case tok == "true":
		l.kind = litTrue
	case tok == "false":
		l.kind = litFalse
	case tok == "null":
		l.kind = litNull
	case isNumber(tok):
		l.kind = litNumber
	}
	return l, nil
}

// isNumber reports whether s is a JSON number.
func isNumber(s string) bool {
	i := 0
	digits := func() int {
		j := i
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		return i - j
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	if i < len(s) && s[i] == '0' {
		i++
	} else if i >= len(s) || s[i] < '1' || s[i] > '9' {
		return false
	} else {
		digits()
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// coerce checks op and the literal against the attribute leaf and returns
// the value to store in the Compare.
func coerce(path schema.Path, leaf *schema.Attribute, op Op, l literal, opStart int) (any, error) {
	name := path.String()
	badOp := func() error {
		return filterErr("operator %s at offset %d is not supported for %s attribute %q", op, opStart, leaf.Type, name)
	}
	badValue := func(want string) error {
		return filterErr("attribute %q is %s: expected %s at offset %d, found %s", name, article(leaf.Type), want, l.off, describe(l))
	}
	switch leaf.Type {
	case schema.Boolean:
		if op != Eq && op != Ne {
			return nil, badOp()
		}
		switch l.kind {
		case litTrue:
			return true, nil
		case litFalse:
			return false, nil
		case litString, litBare:
			switch strings.ToLower(strings.TrimSpace(l.text)) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
		}
		return nil, badValue("true or false")
	case schema.Integer, schema.Decimal:
		if isSubstring(op) {
			return nil, badOp()
		}
		if l.kind != litNumber {
			return nil, badValue("a number")
		}
		if leaf.Type == schema.Integer {
			if _, err := strconv.ParseInt(l.text, 10, 64); err != nil {
				return nil, badValue("an integer")
			}
		} else if _, err := strconv.ParseFloat(l.text, 64); err != nil {
			return nil, badValue("a number within range")
		}
		return json.Number(l.text), nil
	case schema.DateTime:
		if isSubstring(op) {
			return nil, badOp()
		}
		if l.kind == litString || l.kind == litBare {
			if _, err := time.Parse(time.RFC3339Nano, l.text); err == nil {
				return l.text, nil
			}
		}
		return nil, badValue(`an RFC 3339 date-time such as "2026-01-02T15:04:05Z"`)
	default: // string, reference, binary
		if leaf.Type == schema.Binary && isOrdering(op) {
			return nil, badOp()
		}
		return l.text, nil
	}
}

func article(t schema.Type) string {
	switch t {
	case schema.Integer:
		return "an integer"
	case schema.Boolean:
		return "a boolean"
	case schema.Decimal:
		return "a decimal"
	case schema.DateTime:
		return "a dateTime"
	}
	return "a " + string(t)
}

func describe(l literal) string {
	switch l.kind {
	case litString:
		return "the string " + strconv.Quote(l.text)
	case litNumber:
		return "the number " + l.text
	}
	return strconv.Quote(l.text)
}
