package patch

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"testing"

	"github.com/scimd/scimd/scim"
	"github.com/scimd/scimd/scim/schema"
)

// FuzzParse: any body either parses or fails with a 400 SCIM error.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		ops(`[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"x"}]`),
		ops(`[{"op":"replace","value":{"name.givenName":"K","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"1"}}]`),
		ops(`[{"op":"Remove","path":"members","value":[{"value":"u1"}]}]`),
		`{"Operations":{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","value":{"manager":"m"}}}`,
		`{"schemas":7,"Operations":[]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var body map[string]any
		if dec.Decode(&body) != nil {
			return
		}
		for _, rt := range schema.ResourceTypes {
			_, err := Parse(rt, body)
			checkClientError(t, err)
		}
	})
}

func checkClientError(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var se *scim.Error
	var ve *schema.Error
	switch {
	case errors.As(err, &se):
		if se.Status != http.StatusBadRequest || se.ScimType == "" {
			t.Fatalf("error %v: want a 400 with a scimType", err)
		}
	case errors.As(err, &ve):
		if ve.ScimType == "" {
			t.Fatalf("error %v without scimType", err)
		}
	default:
		t.Fatalf("error %v (%T) is not a SCIM client error", err, err)
	}
}

// FuzzApply applies two random operations to a user and to a group: it
// never panics, a failure changes nothing, and a success leaves a resource
// that decodes to itself through the schema, has its required attributes,
// and whose read-only attributes are untouched.
func FuzzApply(f *testing.F) {
	f.Add("replace", `emails[type eq "work"].value`, `"w@x"`, "add", "manager", `[{"value":"m"}]`)
	f.Add("Remove", "members", `[{"value":"u1"}]`, "add", "members", `"u2"`)
	f.Add("replace", "", `{"name.givenName":"G","active":"False","id":"x"}`, "remove", "name.givenName", ``)
	f.Add("add", `emails[type eq "home" and primary eq true]`, `{"value":"h@x"}`, "replace", "emails[value ew \"x\"].primary", `true`)
	f.Add("remove", "userName", ``, "replace", "displayName", `""`)
	f.Add("replace", "members", `[]`, "remove", `members[display eq "alice"]`, ``)
	f.Add("add", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", `{"department":"D"}`, "replace", "meta.created", `"x"`)
	f.Fuzz(func(t *testing.T, op1, path1, value1, op2, path2, value2 string) {
		var list []any
		for _, o := range [][3]string{{op1, path1, value1}, {op2, path2, value2}} {
			m := map[string]any{"op": o[0]}
			if o[1] != "" {
				m["path"] = o[1]
			}
			if o[2] != "" {
				dec := json.NewDecoder(bytes.NewReader([]byte(o[2])))
				dec.UseNumber()
				var v any
				if dec.Decode(&v) != nil {
					return
				}
				m["value"] = v
			}
			list = append(list, m)
		}
		body := map[string]any{"Operations": list}
		starts := map[*schema.ResourceType]string{
			schema.UserType: `{"userName":"u","name":{"givenName":"A"},"active":true,
				"emails":[{"value":"a@x","type":"work","primary":true},{"value":"b@x","type":"home"}],
				"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"m0"}}}`,
			schema.GroupType: `{"displayName":"g","externalId":"e"}`,
		}
		for rt, start := range starts {
			parsed, err := Parse(rt, body)
			checkClientError(t, err)
			if err != nil {
				continue
			}
			for _, loaded := range []bool{false, true} {
				res := resource(t, rt, start)
				if loaded {
					res.Members, res.MembersLoaded = []scim.Member{{Value: "u1", Type: "User", Display: "alice"}}, true
				}
				before := scim.CloneAttrs(res.Attrs)
				err := Apply(rt, res, parsed)
				if errors.Is(err, ErrMembersNotLoaded) {
					if loaded || !NeedsMembers(rt, parsed) {
						t.Fatalf("ErrMembersNotLoaded with loaded=%v", loaded)
					}
					continue
				}
				checkClientError(t, err)
				if err != nil {
					if !reflect.DeepEqual(before, res.Attrs) {
						t.Fatalf("failed Apply changed the resource: %v", err)
					}
					continue
				}
				if res.ID != "id-1" {
					t.Fatalf("id changed to %q", res.ID)
				}
				for _, k := range []string{"id", "meta", "schemas", "groups", "members", "password"} {
					if _, ok := res.Attrs[k]; ok {
						t.Fatalf("%s in attributes: %v", k, res.Attrs)
					}
				}
				again, err := rt.Decode(res.Attrs)
				if err != nil {
					t.Fatalf("result does not decode: %v\n%v", err, res.Attrs)
				}
				if !reflect.DeepEqual(again, res.Attrs) {
					t.Fatalf("result is not canonical:\n%v\n%v", res.Attrs, again)
				}
				if err := rt.CheckRequired(res.Attrs); err != nil {
					t.Fatalf("result lacks a required attribute: %v", err)
				}
				if c := res.MemberChanges; c != nil {
					if res.MembersLoaded {
						t.Fatalf("both MemberChanges and MembersLoaded")
					}
					rm := map[string]bool{}
					for _, v := range c.Remove {
						rm[v] = true
					}
					for _, m := range c.Add {
						if rm[m.Value] || m.Value == "" {
							t.Fatalf("bad member changes %+v", c)
						}
					}
				}
			}
		}
	})
}
