package schema

import (
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Fold returns the case-insensitive comparison key of s: NFC normalisation,
// then Unicode case folding. Composed and decomposed forms and case
// variants of one name fold to the same key. It is the single definition
// of "case-insensitive" in scimd: uniqueness indexes, lookups and filters
// all compare folded strings.
func Fold(s string) string {
	// Normalise again after folding: folding can produce sequences that
	// are not in NFC.
	// A Caser is stateful, so each call takes its own.
	return norm.NFC.String(cases.Fold().String(norm.NFC.String(s)))
}
