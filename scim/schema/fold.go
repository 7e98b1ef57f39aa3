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
	if f, ok := foldASCII(s); ok {
		return f
	}
	// Normalise again after folding: folding can produce sequences that
	// are not in NFC.
	// A Caser is stateful, so each call takes its own.
	return norm.NFC.String(cases.Fold().String(norm.NFC.String(s)))
}

// foldASCII folds an all-ASCII string (the common case, and the one on
// every row a filter scans): there NFC changes nothing and case folding is
// lowering A–Z. It reports false for any other string.
func foldASCII(s string) (string, bool) {
	upper := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return "", false
		}
		if 'A' <= c && c <= 'Z' {
			upper = true
		}
	}
	if !upper {
		return s, true
	}
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b), true
}
