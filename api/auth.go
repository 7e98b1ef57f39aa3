package api

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/scimd/scimd/scim"
)

// authenticate admits requests that carry a valid, unrevoked, unexpired
// SCIM bearer token. The token is looked up by its SHA-256 on every
// request, so a revocation (from any replica) takes effect on the next one.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, err := s.token(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.touch(t.ID)
		ctx := scim.WithActor(r.Context(), scim.Actor{Name: t.Name, Kind: "token", Source: clientIP(r), RequestID: requestID(r.Context())})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func unauthorized(detail string) error {
	return scim.Errorf(http.StatusUnauthorized, "", "%s", detail)
}

func (s *Server) token(r *http.Request) (*scim.Token, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, unauthorized("authentication required: send Authorization: Bearer <token>")
	}
	scheme, secret, _ := strings.Cut(strings.TrimSpace(h), " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
		return nil, unauthorized("the Authorization header must use the Bearer scheme")
	}
	hash := scim.HashToken(secret)
	t, err := s.Store.TokenByHash(r.Context(), hash)
	if errors.Is(err, scim.ErrNotFound) {
		return nil, unauthorized("invalid bearer token")
	}
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(t.Hash, hash) != 1 {
		return nil, unauthorized("invalid bearer token")
	}
	switch t.State(s.Now()) {
	case "revoked":
		return nil, unauthorized("the bearer token has been revoked")
	case "expired":
		return nil, unauthorized("the bearer token has expired")
	}
	return t, nil
}

// touch records that a token was used; FlushTouches writes the records in
// one batch, so that authentication costs no write per request.
func (s *Server) touch(id string) {
	s.touchMu.Lock()
	s.touched[id] = s.Now()
	s.touchMu.Unlock()
}

// FlushTouches writes the last-used times recorded since the last flush.
func (s *Server) FlushTouches(ctx context.Context) error {
	s.touchMu.Lock()
	batch := s.touched
	s.touched = map[string]time.Time{}
	s.touchMu.Unlock()
	return s.Store.TouchTokens(ctx, batch)
}

// RunTouchFlusher flushes last-used times every interval until ctx ends,
// then once more.
func (s *Server) RunTouchFlusher(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := s.FlushTouches(context.Background()); err != nil {
				s.Logger.Warn("record token use", "err", err)
			}
			return
		case <-t.C:
			if err := s.FlushTouches(ctx); err != nil {
				s.Logger.Warn("record token use", "err", err)
			}
		}
	}
}
