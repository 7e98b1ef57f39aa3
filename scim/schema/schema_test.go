package schema_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scimd/scimd/scim/schema"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

func decodeJSON(t testing.TB, s string) map[string]any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDecode(t *testing.T) {
	for _, c := range []struct {
		name, in, want string
	}{
		{"canonical names, any case", `{"USERNAME":"a","Name":{"GivenName":"A"},"EXTERNALID":"x"}`,
			`{"externalId":"x","name":{"givenName":"A"},"userName":"a"}`},
		{"ignored: id, meta, schemas, groups, unknown", `{"userName":"a","id":"1","meta":{},"schemas":["x"],"groups":[{"value":"g"}],"shoe":1,"urn:x:y":{"a":1}}`,
			`{"userName":"a"}`},
		{"string booleans", `{"userName":"a","active":"False","emails":[{"value":"e","primary":"TRUE"}]}`,
			`{"active":false,"emails":[{"primary":true,"value":"e"}],"userName":"a"}`},
		{"nulls and empties dropped", `{"userName":"a","title":null,"roles":[],"name":{},"nickName":""}`,
			`{"userName":"a"}`},
		{"single value wrapped", `{"userName":"a","emails":{"value":"e"}}`,
			`{"emails":[{"value":"e"}],"userName":"a"}`},
		{"password dropped", `{"userName":"a","password":"secret"}`, `{"userName":"a"}`},
		{"one primary kept", `{"userName":"a","emails":[{"value":"1","primary":true},{"value":"2","primary":true}]}`,
			`{"emails":[{"primary":true,"value":"1"},{"value":"2"}],"userName":"a"}`},
		{"manager as bare string", `{"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":"m1"}}`,
			`{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"m1"}},"userName":"a"}`},
		{"manager as one-element array", `{"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:user":{"Manager":[{"value":"m1","displayName":"ro"}]}}`,
			`{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"m1"}},"userName":"a"}`},
		{"URN-qualified core attribute", `{"urn:ietf:params:scim:schemas:core:2.0:User:userName":"a"}`, `{"userName":"a"}`},
		{"number for a string", `{"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":701984}}`,
			`{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"701984"},"userName":"a"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := schema.UserType.Decode(decodeJSON(t, c.in))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(got)
			if string(b) != c.want {
				t.Errorf("got  %s\nwant %s", b, c.want)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, in := range []string{
		`{"userName":true}`,
		`{"userName":"a","active":"yes"}`,
		`{"userName":"a","active":1}`,
		`{"userName":"a","title":["x","y"]}`,
		`{"userName":"a","name":"Bob"}`,
		`{"userName":"a","emails":[{"value":{"x":1}}]}`,
		`{"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":"x"}`,
	} {
		_, err := schema.UserType.Decode(decodeJSON(t, in))
		var se *schema.Error
		if !errors.As(err, &se) || se.ScimType != "invalidValue" || se.Detail == "" {
			t.Errorf("Decode(%s) err = %v, want invalidValue", in, err)
		}
	}
	if err := schema.UserType.CheckRequired(map[string]any{"title": "x"}); err == nil || !strings.Contains(err.Error(), "userName") {
		t.Errorf("CheckRequired without userName: %v", err)
	}
	if err := schema.GroupType.CheckRequired(map[string]any{}); err == nil || !strings.Contains(err.Error(), "displayName") {
		t.Errorf("CheckRequired without displayName: %v", err)
	}
}

func TestFold(t *testing.T) {
	same := [][]string{
		{"Alice@Example.COM", "alice@example.com"},
		{"José", "JOSÉ", "Jose\u0301"},
		{"straße", "STRASSE", "Strasse"},
		{"ΣΊΣΥΦΟΣ", "σίσυφος", "σίσυφοσ"},
	}
	for _, group := range same {
		for _, s := range group[1:] {
			if schema.Fold(s) != schema.Fold(group[0]) {
				t.Errorf("Fold(%q) = %q != Fold(%q) = %q", s, schema.Fold(s), group[0], schema.Fold(group[0]))
			}
		}
	}
	// The ASCII fast path agrees with full folding on every ASCII byte.
	for c := 0; c < 0x80; c++ {
		s := "x" + string(rune(c)) + "Y"
		if got, want := schema.Fold(s), norm.NFC.String(cases.Fold().String(s)); got != want {
			t.Errorf("Fold(%q) = %q, want %q", s, got, want)
		}
	}
	if schema.Fold("alice") == schema.Fold("alice2") || schema.Fold("é") == schema.Fold("e") {
		t.Error("Fold conflates different names")
	}
}

func TestParsePath(t *testing.T) {
	for in, want := range map[string]string{
		"userName":       "userName",
		"NAME.givenname": "name.givenName",
		"urn:ietf:params:scim:schemas:core:2.0:User:name.familyName":               "name.familyName",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
		"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:department":    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":               "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
		"meta.lastModified": "meta.lastModified",
		"id":                "id",
		"emails.value":      "emails.value",
	} {
		p, err := schema.UserType.ParsePath(in)
		if err != nil || p.String() != want {
			t.Errorf("ParsePath(%q) = %q, %v; want %q", in, p.String(), err, want)
		}
	}
	for _, in := range []string{"shoe", "name.shoe", "userName.x", "urn:example:x:y", "urn:ietf:params:scim:schemas:core:2.0:User", ""} {
		if _, err := schema.UserType.ParsePath(in); err == nil {
			t.Errorf("ParsePath(%q) succeeded", in)
		}
	}
}

func render(t *testing.T, rt *schema.ResourceType, attributes, excluded string, doc map[string]any) string {
	t.Helper()
	p, err := rt.ParseProjection(attributes, excluded)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(p.Render(rt, doc)); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(buf.String())
}

func TestProjection(t *testing.T) {
	doc := map[string]any{
		"id": "1", "externalId": "x", "userName": "a", "title": "T",
		"name":   map[string]any{"givenName": "G", "familyName": "F"},
		"emails": []any{map[string]any{"value": "e", "type": "work"}},
		"groups": []any{map[string]any{"value": "g", "display": "G", "type": "direct"}},
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]any{"department": "D"},
		"meta": map[string]any{"resourceType": "User", "created": "c", "lastModified": "m", "location": "l", "version": `W/"1"`},
	}
	const ent = `"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`
	for _, c := range []struct {
		name, attrs, excl, want string
	}{
		{"default: schema order, everything", "", "",
			`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User",` + ent + `],"id":"1","externalId":"x","userName":"a","name":{"familyName":"F","givenName":"G"},"title":"T","emails":[{"value":"e","type":"work"}],"groups":[{"value":"g","display":"G","type":"direct"}],` + ent + `:{"department":"D"},"meta":{"resourceType":"User","created":"c","lastModified":"m","location":"l","version":"W/\"1\""}}`},
		{"attributes: only those plus always", "userName,name.givenName", "",
			`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"1","userName":"a","name":{"givenName":"G"},"meta":{"resourceType":"User"}}`},
		{"attributes: an extension attribute", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "",
			`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User",` + ent + `],"id":"1",` + ent + `:{"department":"D"},"meta":{"resourceType":"User"}}`},
		{"excludedAttributes", "", "emails,groups,name.familyName,meta,externalId," + strings.Trim(ent, `"`),
			`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"1","userName":"a","name":{"givenName":"G"},"title":"T","meta":{"resourceType":"User"}}`},
		{"the core schema URN: all core attributes", "urn:ietf:params:scim:schemas:core:2.0:User", "",
			`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"1","userName":"a","name":{"familyName":"F","givenName":"G"},"title":"T","emails":[{"value":"e","type":"work"}],"groups":[{"value":"g","display":"G","type":"direct"}],"meta":{"resourceType":"User"}}`},
		{"id cannot be excluded", "", "id", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := render(t, schema.UserType, c.attrs, c.excl, doc)
			if c.want == "" {
				if !strings.Contains(got, `"id":"1"`) {
					t.Errorf("id excluded: %s", got)
				}
				return
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	p, _ := schema.GroupType.ParseProjection("", "members")
	if p.Wants(schema.GroupType, "members") {
		t.Error("excludedAttributes=members still wants members")
	}
	p, _ = schema.GroupType.ParseProjection("displayName", "")
	if p.Wants(schema.GroupType, "members") {
		t.Error("attributes=displayName wants members")
	}
	p, _ = schema.GroupType.ParseProjection("members.value", "")
	if !p.Wants(schema.GroupType, "members") {
		t.Error("attributes=members.value does not want members")
	}
	if _, err := schema.UserType.ParseProjection("shoeSize", ""); err == nil {
		t.Error("unknown attribute accepted in attributes")
	}
}

// FuzzDecode feeds arbitrary JSON to the resource decoder: it must never
// panic, and what it accepts must decode to itself again (canonical).
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"userName":"a","active":"True","emails":[{"value":"e","primary":true}]}`,
		`{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":["m"]}}`,
		`{"displayName":"g","members":[{"value":"1"},"2",null]}`,
		`{"name":{"givenName":1.5e300},"x509Certificates":"abc","addresses":[[]]}`,
		`{"userName":{"a":[{"b":null}]},"active":null}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		d := json.NewDecoder(strings.NewReader(in))
		d.UseNumber()
		var m map[string]any
		if d.Decode(&m) != nil || m == nil {
			return
		}
		for _, rt := range schema.ResourceTypes {
			out, err := rt.Decode(m)
			if err != nil {
				var se *schema.Error
				if !errors.As(err, &se) {
					t.Fatalf("error of type %T: %v", err, err)
				}
				continue
			}
			again, err := rt.Decode(roundTrip(t, out))
			if err != nil {
				t.Fatalf("decoded output does not decode: %v\n%v", err, out)
			}
			if diff := cmp.Diff(out, again); diff != "" {
				t.Fatalf("decode is not idempotent (-first +second):\n%s", diff)
			}
		}
	})
}

func roundTrip(t *testing.T, m map[string]any) map[string]any {
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return decodeJSON(t, string(b))
}

func BenchmarkFold(b *testing.B) {
	for _, s := range []string{"user012345@example.com", "User012345@Example.com", "José.García@example.com"} {
		b.Run(s, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				schema.Fold(s)
			}
		})
	}
}
