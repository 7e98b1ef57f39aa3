package scim

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// TokenPrefix starts every scimd bearer token, so that secret scanners and
// people recognise one.
const TokenPrefix = "scimd_"

// NewTokenSecret returns a new bearer token (256 random bits after
// TokenPrefix) and its hash, the only form in which it is stored.
func NewTokenSecret() (secret string, hash []byte) {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	secret = TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return secret, HashToken(secret)
}

// HashToken returns the SHA-256 of a presented token.
func HashToken(secret string) []byte {
	h := sha256.Sum256([]byte(strings.TrimSpace(secret)))
	return h[:]
}

// IssueToken creates and stores a token named name (trimmed; 1 to 100
// characters) that expires ttl after now (never if ttl is 0), and returns
// it with its secret, which exists nowhere else. It returns ErrConflict if
// an active token has that name, and a 400 *Error for a bad name.
func IssueToken(ctx context.Context, st Tokens, name string, ttl time.Duration, now time.Time) (*Token, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return nil, "", BadRequest("invalidValue", "give the token a name of 1 to 100 characters, e.g. okta or entra")
	}
	secret, hash := NewTokenSecret()
	t := &Token{Name: name, Hash: hash, CreatedAt: now.UTC().Truncate(time.Millisecond)}
	if ttl > 0 {
		t.ExpiresAt = t.CreatedAt.Add(ttl)
	}
	if err := st.CreateToken(ctx, t); err != nil {
		return nil, "", err
	}
	return t, secret, nil
}

// ParseLifetime parses a lifetime such as "90d", "2w", "12h" or any Go
// duration; "", "0" and "never" mean none (0).
func ParseLifetime(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "never" || s == "0" {
		return 0, nil
	}
	bad := fmt.Errorf("bad lifetime %q: use e.g. 90d, 2w, 12h or never", s)
	unit := map[byte]time.Duration{'d': 24 * time.Hour, 'w': 7 * 24 * time.Hour}
	if u, ok := unit[s[len(s)-1]]; ok {
		n, err := strconv.Atoi(s[:len(s)-1])
		if err != nil || n <= 0 || n > 100000 {
			return 0, bad
		}
		return time.Duration(n) * u, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, bad
	}
	return d, nil
}
