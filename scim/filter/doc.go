// Package filter parses RFC 7644 §3.4.2.2 filter expressions into an AST,
// evaluates them against resource documents (Match, the reference
// semantics), and parses PATCH paths (RFC 7644 §3.5.2).
//
// # Syntax
//
// The whole grammar of RFC 7644 Figure 1: comparisons "attr op value" with
// eq ne co sw ew gt ge lt le, "attr pr", "and", "or", "not (…)" (also
// "not(…)"), parentheses, and value filters "emails[type eq "work"]" and
// "emails[type eq "work"].value eq "x"" (parsed as
// emails[type eq "work" and value eq "x"]). Operators and keywords are
// case-insensitive; not binds tighter than and, and than or; and and or are
// left-associative. Attribute names are case-insensitive and may be
// URN-qualified (urn:…:enterprise:2.0:User:manager.value); inside brackets
// they name sub-attributes of the bracketed attribute. Value filters do not
// nest and apply only to multi-valued complex attributes.
//
// Values are JSON literals: strings (with JSON escapes), numbers, true,
// false and null. An unquoted word that is not one of these (userName eq
// bjensen) is accepted as a string. Values are checked against the
// compared attribute when parsing:
//
//   - boolean: true or false, or a string "true"/"false" in any case; eq and
//     ne only.
//   - integer, decimal: a number (an integer for integer attributes); no co,
//     sw, ew.
//   - dateTime: a string holding an RFC 3339 date-time; no co, sw, ew.
//   - string, reference, binary: a string; a number or an unquoted
//     true/false is taken as its text. binary has no gt, ge, lt, le.
//   - null: only with eq (not present) and ne (present), for any attribute.
//   - complex: without a sub-attribute, only pr and eq/ne null. A
//     multi-valued complex attribute with a "value" sub-attribute compared
//     with any other operator is compared on that sub-attribute
//     (RFC 7643 §2.4: emails co "@x" is emails.value co "@x").
//
// Attributes that are never returned (password) cannot be filtered on.
//
// Limits: MaxLength bytes, MaxDepth levels of parentheses and brackets,
// MaxTerms comparisons. All errors, including unknown attributes and
// exceeded limits, are *schema.Error with scimType invalidFilter and a
// detail naming the problem and its byte offset.
//
// # Semantics
//
// Match is the reference semantics; the SQL translation in sqlstore must
// agree with it. A document is a whole resource: canonical attribute names
// as produced by schema Decode, plus "id", "externalId", "meta" (with
// "created" and "lastModified" as RFC 3339 strings), "groups" (users) or
// "members" (groups), and extension attributes under their URN.
//
//   - The values of a path are the stored value, or the elements of a stored
//     array; for a sub-attribute of a multi-valued attribute (emails.value),
//     the sub-attribute's value in every element that has one. Only present
//     values count: a value is present unless it is null, "", [] or {}, and
//     the others are treated exactly as if they were missing.
//   - "pr" is true when the path has a present value; "eq null" is not pr;
//     "ne null" is pr.
//   - eq co sw ew gt ge lt le are true when some value satisfies them; on an
//     absent attribute they are false (so eq "" is never true).
//   - ne is exactly not eq: true when no value is equal, so an absent
//     attribute is ne anything.
//   - Strings: when the compared attribute (the leaf: emails.value, not
//     emails) is not caseExact, both sides are compared as schema.Fold keys.
//     co, sw, ew are substring, prefix and suffix tests (every string
//     contains ""); gt ge lt le compare the (folded) strings bytewise.
//   - dateTime values compare as instants; a stored value that does not
//     parse as RFC 3339 never matches.
//   - integer and decimal values compare numerically: exactly when both are
//     integers within int64, else as float64.
//   - boolean values compare with eq and ne.
//   - A value of the wrong type for its attribute never matches (so it is
//     ne anything).
//   - attr[filter] is true when some element of attr is a (non-empty) object
//     that satisfies filter, evaluated against that element with these same
//     rules.
//
// # Rendering
//
// String on every node renders filter syntax that Parse turns back into an
// equal expression: canonical attribute names, values as JSON literals,
// every and/or group in parentheses. Because rendering may add parentheses
// and spell out names, the rendering of a filter close to the limits may
// itself exceed them.
package filter
