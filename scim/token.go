package scim

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
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
