package api_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/discovery")

// TestDiscoveryGolden compares the discovery endpoints with golden files
// (go test ./api -run TestDiscoveryGolden -update rewrites them).
func TestDiscoveryGolden(t *testing.T) {
	ts := newServer(t)
	for _, tc := range []struct{ path, golden string }{
		{"/ServiceProviderConfig", "service_provider_config.json"},
		{"/ServiceProviderConfigs", "service_provider_config.json"},
		{"/ResourceTypes", "resource_types.json"},
		{"/ResourceTypes/User", "resource_type_user.json"},
		{"/ResourceTypes/Group", "resource_type_group.json"},
		{"/Schemas", "schemas.json"},
		{"/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", "schema_user.json"},
		{"/Schemas/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "schema_enterprise_user.json"},
		{"/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group", "schema_group.json"},
	} {
		r := ts.do(t, "GET", tc.path, nil).must(t, http.StatusOK)
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/scim+json") {
			t.Errorf("%s: Content-Type %q", tc.path, ct)
		}
		var out bytes.Buffer
		if err := json.Indent(&out, bytes.ReplaceAll(r.Raw, []byte(ts.URL), []byte("https://scimd.example")), "", "  "); err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		file := filepath.Join("testdata", "discovery", tc.golden)
		if *update {
			if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, out.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if diff := cmp.Diff(string(want), out.String()); diff != "" {
			t.Errorf("GET %s differs from %s (-want +got):\n%s", tc.path, file, diff)
		}
	}
	ts.do(t, "GET", "/Schemas/urn:nope", nil).scimError(t, http.StatusNotFound, "")
	ts.do(t, "GET", "/ResourceTypes/Nope", nil).scimError(t, http.StatusNotFound, "")
}

// TestSchemasForEntra checks what Entra's schema discovery relies on,
// independently of the golden files.
func TestSchemasForEntra(t *testing.T) {
	ts := newServer(t)
	r := ts.do(t, "GET", "/Schemas", nil).must(t, http.StatusOK)
	var ids []string
	attrs := map[string]map[string]any{}
	for _, s := range r.get("Resources").([]any) {
		m := s.(map[string]any)
		ids = append(ids, m["id"].(string))
		for _, a := range m["attributes"].([]any) {
			am := a.(map[string]any)
			attrs[m["name"].(string)+"."+am["name"].(string)] = am
		}
	}
	if diff := cmp.Diff([]string{
		"urn:ietf:params:scim:schemas:core:2.0:User",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
		"urn:ietf:params:scim:schemas:core:2.0:Group",
	}, ids); diff != "" {
		t.Errorf("/Schemas ids (-want +got):\n%s", diff)
	}
	if r.str("totalResults") != "3" || r.str("itemsPerPage") != "3" {
		t.Errorf("/Schemas list counts: %s", r.Raw[:200])
	}
	for _, c := range []struct{ attr, key, want string }{
		{"User.active", "type", "boolean"},
		{"User.groups", "mutability", "readOnly"},
		{"User.password", "mutability", "writeOnly"},
		{"User.password", "returned", "never"},
		{"User.userName", "uniqueness", "server"},
		{"User.userName", "type", "string"},
		{"User.emails", "type", "complex"},
		{"Group.members", "type", "complex"},
		{"EnterpriseUser.manager", "type", "complex"},
	} {
		if got, _ := attrs[c.attr][c.key].(string); got != c.want {
			t.Errorf("%s %s = %q, want %q", c.attr, c.key, got, c.want)
		}
	}
	if attrs["User.userName"]["caseExact"] != false || attrs["User.userName"]["required"] != true {
		t.Errorf("userName: %v", attrs["User.userName"])
	}
	if attrs["User.emails"]["multiValued"] != true || attrs["User.active"]["multiValued"] != false {
		t.Errorf("multiValued of emails/active wrong")
	}
}
