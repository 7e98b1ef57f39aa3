package patch

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scimd/scimd/scim"
	"github.com/scimd/scimd/scim/schema"
)

const ent = schema.EnterpriseUserURN

func decodeJSON(t *testing.T, s string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("bad test JSON %s: %v", s, err)
	}
	return m
}

func resource(t *testing.T, rt *schema.ResourceType, attrs string) *scim.Resource {
	t.Helper()
	a, err := rt.Decode(decodeJSON(t, attrs))
	if err != nil {
		t.Fatalf("decode %s: %v", attrs, err)
	}
	return &scim.Resource{Type: rt, ID: "id-1", Attrs: a}
}

// ops wraps operations (a JSON array) in a PatchOp body.
func ops(list string) string {
	return `{"schemas":["` + URN + `"],"Operations":` + list + `}`
}

func run(t *testing.T, res *scim.Resource, body string) error {
	t.Helper()
	parsed, err := Parse(res.Type, decodeJSON(t, body))
	if err != nil {
		return err
	}
	return Apply(res.Type, res, parsed)
}

func scimType(err error) string {
	var se *scim.Error
	if errors.As(err, &se) {
		if se.Status != http.StatusBadRequest {
			return "status " + se.Error()
		}
		return se.ScimType
	}
	var ve *schema.Error
	if errors.As(err, &ve) {
		return ve.ScimType
	}
	if err == nil {
		return ""
	}
	return "not a SCIM error: " + err.Error()
}

const baseUser = `{"userName":"bjensen","name":{"givenName":"Barbara","familyName":"Jensen"},
	"emails":[{"value":"b@home.example","type":"home","primary":true}],"active":true}`

func TestApplyUser(t *testing.T) {
	tests := []struct {
		name  string
		start string
		body  string
		want  string // attributes after, as JSON (decoded through the schema)
	}{
		{"Entra E7 default: filtered replace creates the work email; sub-attribute replace", baseUser,
			ops(`[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"updatedEmail@microsoft.com"},
				{"op":"Replace","path":"name.familyName","value":"updatedFamilyName"}]`),
			`{"userName":"bjensen","name":{"givenName":"Barbara","familyName":"updatedFamilyName"},"active":true,
				"emails":[{"value":"b@home.example","type":"home","primary":true},{"value":"updatedEmail@microsoft.com","type":"work"}]}`},
		{"Entra E7 default: filtered replace updates the existing work email",
			`{"userName":"u","emails":[{"value":"old@x","type":"work","primary":true},{"value":"h@x","type":"home"}]}`,
			ops(`[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"new@x"}]`),
			`{"userName":"u","emails":[{"value":"new@x","type":"work","primary":true},{"value":"h@x","type":"home"}]}`},
		{"Entra add to a filtered path with no match creates the element", `{"userName":"u"}`,
			ops(`[{"op":"Add","path":"emails[type eq \"work\"].value","value":"w@x"}]`),
			`{"userName":"u","emails":[{"value":"w@x","type":"work"}]}`},
		{"Entra flag: path-less replace with dotted and URN keys", baseUser,
			ops(`[{"op":"replace","value":{"displayName":"Bjfe","name.givenName":"Kkom","name.familyName":"Unua",
				"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"Aklq"}}]`),
			`{"userName":"bjensen","displayName":"Bjfe","name":{"givenName":"Kkom","familyName":"Unua"},
				"emails":[{"value":"b@home.example","type":"home","primary":true}],"active":true,
				"` + ent + `":{"employeeNumber":"Aklq"}}`},
		{"Okta deactivate: path-less replace", baseUser,
			ops(`[{"op":"replace","value":{"active":false}}]`),
			strings.Replace(baseUser, `"active":true`, `"active":false`, 1)},
		{"Entra default disable: string False", baseUser,
			ops(`[{"op":"Replace","path":"active","value":"False"}]`),
			strings.Replace(baseUser, `"active":true`, `"active":false`, 1)},
		{"lower-case string true", strings.Replace(baseUser, `"active":true`, `"active":false`, 1),
			ops(`[{"op":"replace","path":"active","value":"true"}]`), baseUser},
		{"Entra add nickName", `{"userName":"u"}`,
			ops(`[{"op":"Add","path":"nickName","value":"Babs"}]`), `{"userName":"u","nickName":"Babs"}`},
		{"URN-qualified extension path", `{"userName":"u"}`,
			ops(`[{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Retail"}]`),
			`{"userName":"u","` + ent + `":{"department":"Retail"}}`},
		{"URN-qualified core path", `{"userName":"u"}`,
			ops(`[{"op":"replace","path":"urn:ietf:params:scim:schemas:core:2.0:User:name.givenName","value":"G"}]`),
			`{"userName":"u","name":{"givenName":"G"}}`},
		{"Entra E9 manager: bare path, array value", `{"userName":"u"}`,
			ops(`[{"op":"Add","path":"manager","value":[{"$ref":"http://x/Users/m1","value":"m1"}]}]`),
			`{"userName":"u","` + ent + `":{"manager":{"value":"m1","$ref":"http://x/Users/m1"}}}`},
		{"manager as a bare string replaces the whole value (no stale $ref)",
			`{"userName":"u","` + ent + `":{"manager":{"value":"m1","$ref":"http://x/Users/m1"}}}`,
			ops(`[{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"m2"}]`),
			`{"userName":"u","` + ent + `":{"manager":{"value":"m2"}}}`},
		{"manager as {value}", `{"userName":"u"}`,
			ops(`[{"op":"replace","path":"manager","value":{"value":"m3"}}]`),
			`{"userName":"u","` + ent + `":{"manager":{"value":"m3"}}}`},
		{"manager removed by replace with empty", `{"userName":"u","` + ent + `":{"manager":{"value":"m1"},"department":"D"}}`,
			ops(`[{"op":"Replace","path":"manager","value":""}]`),
			`{"userName":"u","` + ent + `":{"department":"D"}}`},
		{"Entra null update: empty string and null clear", `{"userName":"u","title":"T","nickName":"N"}`,
			ops(`[{"op":"Replace","path":"title","value":""},{"op":"Replace","path":"nickName","value":null}]`),
			`{"userName":"u"}`},
		{"add merges a complex attribute", baseUser,
			ops(`[{"op":"add","path":"name","value":{"middleName":"M"}}]`),
			strings.Replace(baseUser, `"familyName":"Jensen"`, `"familyName":"Jensen","middleName":"M"`, 1)},
		{"replace of a multi-valued attribute replaces the list", baseUser,
			ops(`[{"op":"replace","path":"emails","value":[{"value":"n@x","type":"work"}]}]`),
			`{"userName":"bjensen","name":{"givenName":"Barbara","familyName":"Jensen"},"emails":[{"value":"n@x","type":"work"}],"active":true}`},
		{"add of an existing email does not duplicate", baseUser,
			ops(`[{"op":"add","path":"emails","value":[{"value":"B@HOME.example","type":"home"}]}]`),
			baseUser},
		{"primary stays unique: the new primary wins", baseUser,
			ops(`[{"op":"add","path":"emails","value":[{"value":"w@x","type":"work","primary":true}]}]`),
			`{"userName":"bjensen","name":{"givenName":"Barbara","familyName":"Jensen"},"active":true,
				"emails":[{"value":"b@home.example","type":"home"},{"value":"w@x","type":"work","primary":true}]}`},
		{"primary set through a filter", `{"userName":"u","emails":[{"value":"a@x","type":"work","primary":true},{"value":"b@x","type":"home"}]}`,
			ops(`[{"op":"replace","path":"emails[type eq \"home\"].primary","value":"True"}]`),
			`{"userName":"u","emails":[{"value":"a@x","type":"work"},{"value":"b@x","type":"home","primary":true}]}`},
		{"remove through a filter", `{"userName":"u","emails":[{"value":"a@x","type":"work"},{"value":"b@x","type":"home"}]}`,
			ops(`[{"op":"remove","path":"emails[type eq \"work\"]"}]`),
			`{"userName":"u","emails":[{"value":"b@x","type":"home"}]}`},
		{"remove of what is not there succeeds", baseUser,
			ops(`[{"op":"remove","path":"emails[type eq \"work\"]"},{"op":"remove","path":"nickName"},{"op":"Remove","path":"name.honorificPrefix"},
				{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]`),
			baseUser},
		{"remove listed values of a multi-valued attribute", `{"userName":"u","emails":[{"value":"a@x"},{"value":"b@x"}]}`,
			ops(`[{"op":"remove","path":"emails","value":[{"value":"a@x"}]}]`),
			`{"userName":"u","emails":[{"value":"b@x"}]}`},
		{"remove a whole multi-valued attribute", baseUser,
			ops(`[{"op":"remove","path":"emails"}]`),
			`{"userName":"bjensen","name":{"givenName":"Barbara","familyName":"Jensen"},"active":true}`},
		{"remove a whole extension", `{"userName":"u","` + ent + `":{"department":"D"}}`,
			ops(`[{"op":"remove","path":"` + ent + `"}]`), `{"userName":"u"}`},
		{"add a whole extension object", `{"userName":"u"}`,
			ops(`[{"op":"add","path":"` + ent + `","value":{"department":"D","manager":"m"}}]`),
			`{"userName":"u","` + ent + `":{"department":"D","manager":{"value":"m"}}}`},
		{"path-less value with an extension object", `{"userName":"u"}`,
			ops(`[{"op":"add","value":{"` + ent + `":{"costCenter":"C"},"nickName":"N"}}]`),
			`{"userName":"u","nickName":"N","` + ent + `":{"costCenter":"C"}}`},
		{"password is accepted and dropped", `{"userName":"u"}`,
			ops(`[{"op":"replace","value":{"password":"secret"}},{"op":"add","path":"password","value":"s2"}]`),
			`{"userName":"u"}`},
		{"id echoed with its own value is ignored (Okta)", `{"userName":"u"}`,
			ops(`[{"op":"replace","value":{"id":"id-1","userName":"v","meta":{"resourceType":"User"},"schemas":["x"]}}]`),
			`{"userName":"v"}`},
		{"unknown keys of a path-less value are ignored", `{"userName":"u"}`,
			ops(`[{"op":"replace","value":{"nosuch":1,"name.nosuch":2,"nickName":"N"}}]`),
			`{"userName":"u","nickName":"N"}`},
		{"op names and member names in any case", `{"userName":"u"}`,
			`{"SCHEMAS":["` + strings.ToLower(URN) + `"],"operations":[{"OP":"ADD","PATH":"NICKNAME","VALUE":"N"}]}`,
			`{"userName":"u","nickName":"N"}`},
		{"empty Operations changes nothing", baseUser, ops(`[]`), baseUser},
		{"sub-attribute of a multi-valued attribute without a filter: every element",
			`{"userName":"u","emails":[{"value":"a@x","type":"work"},{"value":"b@x","type":"home"}]}`,
			ops(`[{"op":"replace","path":"emails.display","value":"D"}]`),
			`{"userName":"u","emails":[{"value":"a@x","type":"work","display":"D"},{"value":"b@x","type":"home","display":"D"}]}`},
		{"filtered add with an and-filter builds the element", `{"userName":"u"}`,
			ops(`[{"op":"add","path":"addresses[type eq \"work\" and country eq \"NZ\"].formatted","value":"18/2111"}]`),
			`{"userName":"u","addresses":[{"type":"work","country":"NZ","formatted":"18/2111"}]}`},
		{"operations apply in order", `{"userName":"u"}`,
			ops(`[{"op":"add","path":"nickName","value":"A"},{"op":"remove","path":"nickName"},{"op":"add","path":"nickName","value":"B"}]`),
			`{"userName":"u","nickName":"B"}`},
		{"Microsoft reference: capitalised sub-attribute names in values", `{"userName":"u"}`,
			ops(`[{"op":"add","path":"emails","value":[{"Value":"a@x","Type":"work","Primary":"true"}]}]`),
			`{"userName":"u","emails":[{"value":"a@x","type":"work","primary":true}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := resource(t, schema.UserType, tc.start)
			if err := run(t, res, tc.body); err != nil {
				t.Fatalf("error: %v", err)
			}
			want := resource(t, schema.UserType, tc.want).Attrs
			if diff := cmp.Diff(want, res.Attrs); diff != "" {
				t.Errorf("attributes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestApplyErrors(t *testing.T) {
	tests := []struct {
		name string
		rt   *schema.ResourceType
		body string
		want string // scimType
	}{
		{"not JSON ops", schema.UserType, `{"Operations":"x"}`, "invalidSyntax"},
		{"no Operations", schema.UserType, `{"schemas":["` + URN + `"]}`, "invalidSyntax"},
		{"wrong schemas", schema.UserType, `{"schemas":["` + schema.UserURN + `"],"Operations":[]}`, "invalidSyntax"},
		{"unknown op", schema.UserType, ops(`[{"op":"move","path":"nickName","value":"x"}]`), "invalidSyntax"},
		{"missing op", schema.UserType, ops(`[{"path":"nickName","value":"x"}]`), "invalidSyntax"},
		{"operation not an object", schema.UserType, ops(`["add"]`), "invalidSyntax"},
		{"unknown attribute", schema.UserType, ops(`[{"op":"add","path":"nosuch","value":"x"}]`), "invalidPath"},
		{"unknown sub-attribute", schema.UserType, ops(`[{"op":"add","path":"name.nosuch","value":"x"}]`), "invalidPath"},
		{"malformed path", schema.UserType, ops(`[{"op":"add","path":"emails[type eq","value":"x"}]`), "invalidFilter"},
		{"path not a string", schema.UserType, ops(`[{"op":"add","path":7,"value":"x"}]`), "invalidPath"},
		{"remove without path", schema.UserType, ops(`[{"op":"remove"}]`), "noTarget"},
		{"add without value", schema.UserType, ops(`[{"op":"add","path":"nickName"}]`), "invalidValue"},
		{"path-less add with a non-object", schema.UserType, ops(`[{"op":"add","value":"x"}]`), "invalidValue"},
		{"wrong type", schema.UserType, ops(`[{"op":"replace","path":"active","value":"maybe"}]`), "invalidValue"},
		{"array for a single value", schema.UserType, ops(`[{"op":"replace","path":"nickName","value":["a","b"]}]`), "invalidValue"},
		{"id is read-only", schema.UserType, ops(`[{"op":"replace","path":"id","value":"other"}]`), "mutability"},
		{"id in a value object with another value", schema.UserType, ops(`[{"op":"replace","value":{"id":"other"}}]`), "mutability"},
		{"meta is read-only", schema.UserType, ops(`[{"op":"replace","path":"meta.created","value":"2020-01-01T00:00:00Z"}]`), "mutability"},
		{"groups is read-only", schema.UserType, ops(`[{"op":"add","path":"groups","value":[{"value":"g"}]}]`), "mutability"},
		{"schemas is read-only", schema.UserType, ops(`[{"op":"remove","path":"schemas"}]`), "mutability"},
		{"manager.displayName is read-only", schema.UserType, ops(`[{"op":"replace","path":"manager.displayName","value":"x"}]`), "mutability"},
		{"userName removed: required", schema.UserType, ops(`[{"op":"remove","path":"userName"}]`), "invalidValue"},
		{"userName replaced with empty: required", schema.UserType, ops(`[{"op":"replace","path":"userName","value":""}]`), "invalidValue"},
		{"filtered replace that matches nothing and cannot build", schema.UserType,
			ops(`[{"op":"replace","path":"emails[value co \"nomatch\"].type","value":"work"}]`), "noTarget"},
		{"filtered replace with an array", schema.UserType,
			ops(`[{"op":"replace","path":"emails[type eq \"home\"]","value":[{"value":"a"},{"value":"b"}]}]`), "invalidValue"},
		{"displayName removed from a group", schema.GroupType, ops(`[{"op":"remove","path":"displayName"}]`), "invalidValue"},
		{"member without value", schema.GroupType, ops(`[{"op":"add","path":"members","value":[{"display":"x"}]}]`), "invalidValue"},
		{"member value immutable", schema.GroupType, ops(`[{"op":"replace","path":"members[value eq \"m1\"].value","value":"m9"}]`), "mutability"},
		{"member display read-only", schema.GroupType, ops(`[{"op":"replace","path":"members[value eq \"m1\"].display","value":"x"}]`), "mutability"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := baseUser
			if tc.rt == schema.GroupType {
				start = `{"displayName":"g"}`
			}
			res := resource(t, tc.rt, start)
			res.Members, res.MembersLoaded = []scim.Member{{Value: "m1", Type: "User"}}, true
			before := scim.CloneAttrs(res.Attrs)
			err := run(t, res, tc.body)
			if got := scimType(err); got != tc.want {
				t.Fatalf("error %v: scimType %q, want %q", err, got, tc.want)
			}
			if diff := cmp.Diff(before, res.Attrs); diff != "" {
				t.Errorf("a failed PATCH changed the resource (-before +after):\n%s", diff)
			}
		})
	}
}

func TestApplyMembers(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		want     *scim.MemberChanges // nil: none
		replaced []scim.Member       // non-nil: the whole list is replaced by this
	}{
		{"Entra add", ops(`[{"op":"Add","path":"members","value":[{"$ref":null,"value":"u1"}]}]`),
			&scim.MemberChanges{Add: []scim.Member{{Value: "u1"}}}, nil},
		{"Entra default remove removes exactly the listed members", ops(`[{"op":"Remove","path":"members","value":[{"$ref":null,"value":"u1"},{"value":"u2"}]}]`),
			&scim.MemberChanges{Remove: []string{"u1", "u2"}}, nil},
		{"Entra remove with empty list removes nothing", ops(`[{"op":"Remove","path":"members","value":[]}]`), nil, nil},
		{"remove with null value removes nothing", ops(`[{"op":"remove","path":"members","value":null}]`), nil, nil},
		{"Entra flag and Okta: filter remove", ops(`[{"op":"remove","path":"members[value eq \"u1\"]"},{"op":"remove","path":"members[value eq \"u2\" or value eq \"u3\"]"}]`),
			&scim.MemberChanges{Remove: []string{"u1", "u2", "u3"}}, nil},
		{"RFC remove all: no value, no filter", ops(`[{"op":"remove","path":"members"}]`),
			&scim.MemberChanges{RemoveAll: true}, nil},
		{"Okta O14: remove and add", ops(`[{"op":"remove","path":"members[value eq \"u1\"]"},{"op":"add","path":"members","value":[{"value":"u2","display":"x"}]}]`),
			&scim.MemberChanges{Remove: []string{"u1"}, Add: []scim.Member{{Value: "u2"}}}, nil},
		{"add then remove of the same member cancels the add", ops(`[{"op":"add","path":"members","value":[{"value":"u1"}]},{"op":"remove","path":"members[value eq \"u1\"]"}]`),
			&scim.MemberChanges{Remove: []string{"u1"}}, nil},
		{"remove all then add", ops(`[{"op":"remove","path":"members"},{"op":"add","path":"members","value":[{"value":"u1","type":"User"}]}]`),
			&scim.MemberChanges{RemoveAll: true, Add: []scim.Member{{Value: "u1", Type: "User"}}}, nil},
		{"scalar member value (Microsoft reference)", ops(`[{"op":"add","path":"members","value":"u7"}]`),
			&scim.MemberChanges{Add: []scim.Member{{Value: "u7"}}}, nil},
		{"Okta O15 replace", ops(`[{"op":"replace","path":"members","value":[{"value":"u1","display":"a"},{"value":"u2"}]}]`),
			nil, []scim.Member{{Value: "u1"}, {Value: "u2"}}},
		{"Okta empty push", ops(`[{"op":"replace","path":"members","value":[]}]`), nil, []scim.Member{}},
		{"Okta path-less rename with members", ops(`[{"op":"replace","value":{"id":"id-1","displayName":"g","members":[]}}]`), nil, []scim.Member{}},
		{"replace then add", ops(`[{"op":"replace","path":"members","value":[{"value":"u1"}]},{"op":"add","path":"members","value":[{"value":"u2"}]}]`),
			nil, []scim.Member{{Value: "u1"}, {Value: "u2"}}},
		{"Okta rename with unchanged name touches nothing", ops(`[{"op":"replace","value":{"id":"id-1","displayName":"g"}}]`), nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := resource(t, schema.GroupType, `{"displayName":"g"}`)
			parsed, err := Parse(schema.GroupType, decodeJSON(t, tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if NeedsMembers(schema.GroupType, parsed) {
				t.Fatalf("NeedsMembers: true, want false")
			}
			if err := Apply(schema.GroupType, res, parsed); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, res.MemberChanges); diff != "" {
				t.Errorf("member changes (-want +got):\n%s", diff)
			}
			if tc.replaced == nil {
				if res.MembersLoaded {
					t.Errorf("MembersLoaded set: the store would rewrite the member list")
				}
				return
			}
			if !res.MembersLoaded {
				t.Fatalf("MembersLoaded not set for a replace")
			}
			if diff := cmp.Diff(tc.replaced, res.Members); diff != "" {
				t.Errorf("members (-want +got):\n%s", diff)
			}
			if res.Attrs["members"] != nil {
				t.Errorf("members left in Attrs")
			}
		})
	}
}

func TestApplyMembersLoaded(t *testing.T) {
	start := []scim.Member{{Value: "u1", Type: "User", Display: "alice"}, {Value: "g2", Type: "Group", Display: "team"}}
	tests := []struct {
		name string
		body string
		want []scim.Member
	}{
		{"remove by type filter", ops(`[{"op":"remove","path":"members[type eq \"Group\"]"}]`), []scim.Member{{Value: "u1", Type: "User"}}},
		{"remove by display filter", ops(`[{"op":"remove","path":"members[display eq \"ALICE\"]"}]`), []scim.Member{{Value: "g2", Type: "Group"}}},
		{"add through a filter creates", ops(`[{"op":"add","path":"members[value eq \"u3\"]","value":{"type":"User"}}]`),
			[]scim.Member{{Value: "u1", Type: "User"}, {Value: "g2", Type: "Group"}, {Value: "u3", Type: "User"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := resource(t, schema.GroupType, `{"displayName":"g"}`)
			parsed, err := Parse(schema.GroupType, decodeJSON(t, tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if !NeedsMembers(schema.GroupType, parsed) {
				t.Fatalf("NeedsMembers false")
			}
			if err := Apply(schema.GroupType, res, parsed); !errors.Is(err, ErrMembersNotLoaded) {
				t.Fatalf("without members: %v, want ErrMembersNotLoaded", err)
			}
			res.Members, res.MembersLoaded = append([]scim.Member(nil), start...), true
			if err := Apply(schema.GroupType, res, parsed); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, res.Members); diff != "" {
				t.Errorf("members (-want +got):\n%s", diff)
			}
		})
	}
}

// A resource loaded with its members for the response, patched with
// delta-shaped operations, must not hand the list back to the store.
func TestApplyMembersLoadedForResponse(t *testing.T) {
	res := resource(t, schema.GroupType, `{"displayName":"g"}`)
	res.Members, res.MembersLoaded = []scim.Member{{Value: "u1", Type: "User"}}, true
	if err := run(t, res, ops(`[{"op":"add","path":"members","value":[{"value":"u2"}]}]`)); err != nil {
		t.Fatal(err)
	}
	if res.MembersLoaded || res.Members != nil {
		t.Errorf("MembersLoaded %v, Members %v: want the list dropped", res.MembersLoaded, res.Members)
	}
	if diff := cmp.Diff(&scim.MemberChanges{Add: []scim.Member{{Value: "u2"}}}, res.MemberChanges); diff != "" {
		t.Errorf("member changes (-want +got):\n%s", diff)
	}
}
