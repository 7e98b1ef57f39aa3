package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/scimd/scimd/scim"
)

// AuditRecorder records audit entries that change nothing else. The store
// audits successful writes in their own transactions; this records the
// SCIM writes that failed.
type AuditRecorder interface {
	// RecordAudit appends rec; empty actor fields come from
	// scim.ActorFrom(ctx).
	RecordAudit(ctx context.Context, rec scim.AuditRecord) error
}

// auditFailure records a failed SCIM write (POST, PUT, PATCH, DELETE but
// searches) with its status and scimType only: error details may quote
// request values.
func (s *Server) auditFailure(r *http.Request, err error) {
	if s.Audit == nil || r.Method == http.MethodGet || r.Method == http.MethodHead || strings.HasSuffix(r.URL.Path, "/.search") {
		return
	}
	code, scimType, _, _ := errorStatus(err)
	if code == 499 {
		return
	}
	action := map[string]string{http.MethodPost: "create", http.MethodPut: "update", http.MethodPatch: "update", http.MethodDelete: "delete"}[r.Method]
	if action == "" {
		action = strings.ToLower(r.Method)
	}
	rec := scim.AuditRecord{Action: action, ResourceID: r.PathValue("id"), Outcome: "failure: " + strconv.Itoa(code)}
	if scimType != "" {
		rec.Outcome += " " + scimType
	}
	switch {
	case strings.Contains(r.URL.Path, "/Users"):
		rec.ResourceType = "User"
	case strings.Contains(r.URL.Path, "/Groups"):
		rec.ResourceType = "Group"
	}
	// The request's context may be done; the record must still be written.
	if err := s.Audit.RecordAudit(context.WithoutCancel(r.Context()), rec); err != nil {
		s.Logger.Warn("audit failed SCIM write", "request_id", requestID(r.Context()), "err", err)
	}
}
