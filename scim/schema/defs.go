package schema

// Schema URNs.
const (
	UserURN           = "urn:ietf:params:scim:schemas:core:2.0:User"
	EnterpriseUserURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	GroupURN          = "urn:ietf:params:scim:schemas:core:2.0:Group"
)

// str, and the other constructors below, build attribute definitions with
// RFC 7643's defaults (readWrite, returned default, no uniqueness).
func str(name, desc string) *Attribute {
	return &Attribute{Name: name, Type: String, Mutability: ReadWrite, Returned: Default, Uniqueness: None, Description: desc}
}

func ref(name, desc string, types ...string) *Attribute {
	return &Attribute{Name: name, Type: Reference, ReferenceTypes: types, Mutability: ReadWrite, Returned: Default, Uniqueness: None, Description: desc}
}

func boolean(name, desc string) *Attribute {
	return &Attribute{Name: name, Type: Boolean, Mutability: ReadWrite, Returned: Default, Uniqueness: None, Description: desc}
}

func complexAttr(name, desc string, multi bool, subs ...*Attribute) *Attribute {
	return &Attribute{Name: name, Type: Complex, MultiValued: multi, Mutability: ReadWrite, Returned: Default, Uniqueness: None, Description: desc, SubAttributes: subs}
}

func canon(a *Attribute, values ...string) *Attribute {
	a.CanonicalValues = values
	return a
}

// multiValued builds the usual value/display/type/primary multi-valued
// complex attribute of RFC 7643 §2.4.
func multiValued(name, desc string, valueType Type, types ...string) *Attribute {
	value := str("value", "The value of the "+name+".")
	value.Type = valueType
	if valueType == Reference {
		value.ReferenceTypes = []string{"external"}
	}
	return complexAttr(name, desc, true,
		value,
		str("display", "A human-readable name, primarily used for display purposes."),
		canon(str("type", "A label indicating the attribute's function."), types...),
		boolean("primary", "A Boolean value indicating the 'primary' or preferred attribute value for this attribute."),
	)
}

// User is the RFC 7643 §4.1 core User schema.
var User = &Schema{
	ID:          UserURN,
	Name:        "User",
	Description: "User Account",
	Attributes: []*Attribute{
		{Name: "userName", Type: String, Required: true, Mutability: ReadWrite, Returned: Default, Uniqueness: Server,
			Description: "Unique identifier for the User, used by the user to directly authenticate to the service provider. Unique case-insensitively."},
		complexAttr("name", "The components of the user's real name.", false,
			str("formatted", "The full name, including all middle names, titles, and suffixes as appropriate, formatted for display."),
			str("familyName", "The family name of the User."),
			str("givenName", "The given name of the User."),
			str("middleName", "The middle name(s) of the User."),
			str("honorificPrefix", "The honorific prefix(es) of the User."),
			str("honorificSuffix", "The honorific suffix(es) of the User."),
		),
		str("displayName", "The name of the User, suitable for display to end-users."),
		str("nickName", "The casual way to address the user in real life."),
		ref("profileUrl", "A fully qualified URL pointing to a page representing the User's online profile.", "external"),
		str("title", "The user's title, such as \"Vice President\"."),
		str("userType", "Used to identify the relationship between the organization and the user."),
		str("preferredLanguage", "Indicates the User's preferred written or spoken language."),
		str("locale", "Used to indicate the User's default location for purposes of localizing items."),
		str("timezone", "The User's time zone in the 'Olson' time zone database format."),
		boolean("active", "A Boolean value indicating the User's administrative status."),
		{Name: "password", Type: String, Mutability: WriteOnly, Returned: Never, Uniqueness: None,
			Description: "The User's cleartext password. Write-only: never returned, and not stored by scimd."},
		multiValued("emails", "Email addresses for the user.", String, "work", "home", "other"),
		multiValued("phoneNumbers", "Phone numbers for the User.", String, "work", "home", "mobile", "fax", "pager", "other"),
		multiValued("ims", "Instant messaging addresses for the User.", String, "aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"),
		multiValued("photos", "URLs of photos of the User.", Reference, "photo", "thumbnail"),
		complexAttr("addresses", "A physical mailing address for this User.", true,
			str("formatted", "The full mailing address, formatted for display or use with a mailing label."),
			str("streetAddress", "The full street address component."),
			str("locality", "The city or locality component."),
			str("region", "The state or region component."),
			str("postalCode", "The zip code or postal code component."),
			str("country", "The country name component."),
			canon(str("type", "A label indicating the attribute's function."), "work", "home", "other"),
			boolean("primary", "A Boolean value indicating the 'primary' or preferred address."),
		),
		{Name: "groups", Type: Complex, MultiValued: true, Mutability: ReadOnly, Returned: Default, Uniqueness: None,
			Description: "A list of groups to which the user belongs, either through direct membership or through nested groups. Derived from group membership; read-only.",
			SubAttributes: []*Attribute{
				{Name: "value", Type: String, CaseExact: true, Mutability: ReadOnly, Returned: Default, Uniqueness: None, Description: "The identifier of the User's group."},
				{Name: "$ref", Type: Reference, CaseExact: true, ReferenceTypes: []string{"User", "Group"}, Mutability: ReadOnly, Returned: Default, Uniqueness: None, Description: "The URI of the corresponding 'Group' resource."},
				{Name: "display", Type: String, Mutability: ReadOnly, Returned: Default, Uniqueness: None, Description: "A human-readable name."},
				{Name: "type", Type: String, CanonicalValues: []string{"direct", "indirect"}, Mutability: ReadOnly, Returned: Default, Uniqueness: None, Description: "How the user is a member: 'direct' or 'indirect'."},
			}},
		multiValued("entitlements", "A list of entitlements for the User.", String),
		multiValued("roles", "A list of roles for the User.", String),
		multiValued("x509Certificates", "A list of certificates issued to the User.", Binary),
	},
}

// EnterpriseUser is the RFC 7643 §4.3 Enterprise User extension.
var EnterpriseUser = &Schema{
	ID:          EnterpriseUserURN,
	Name:        "EnterpriseUser",
	Description: "Enterprise User",
	Attributes: []*Attribute{
		str("employeeNumber", "Numeric or alphanumeric identifier assigned to a person."),
		str("costCenter", "Identifies the name of a cost center."),
		str("organization", "Identifies the name of an organization."),
		str("division", "Identifies the name of a division."),
		str("department", "Identifies the name of a department."),
		complexAttr("manager", "The User's manager.", false,
			&Attribute{Name: "value", Type: String, CaseExact: true, Mutability: ReadWrite, Returned: Default, Uniqueness: None, Description: "The id of the SCIM resource representing the User's manager."},
			&Attribute{Name: "$ref", Type: Reference, CaseExact: true, ReferenceTypes: []string{"User"}, Mutability: ReadWrite, Returned: Default, Uniqueness: None, Description: "The URI of the SCIM resource representing the User's manager."},
			&Attribute{Name: "displayName", Type: String, Mutability: ReadOnly, Returned: Default, Uniqueness: None, Description: "The displayName of the User's manager."},
		),
	},
}

// Group is the RFC 7643 §4.2 core Group schema.
var Group = &Schema{
	ID:          GroupURN,
	Name:        "Group",
	Description: "Group",
	Attributes: []*Attribute{
		{Name: "displayName", Type: String, Required: true, Mutability: ReadWrite, Returned: Default, Uniqueness: Server,
			Description: "A human-readable name for the Group. Unique case-insensitively."},
		{Name: "members", Type: Complex, MultiValued: true, Mutability: ReadWrite, Returned: Default, Uniqueness: None,
			Description: "A list of members of the Group.",
			SubAttributes: []*Attribute{
				{Name: "value", Type: String, CaseExact: true, Mutability: Immutable, Returned: Default, Uniqueness: None, Description: "Identifier of the member of this Group."},
				{Name: "$ref", Type: Reference, CaseExact: true, ReferenceTypes: []string{"User", "Group"}, Mutability: Immutable, Returned: Default, Uniqueness: None, Description: "The URI corresponding to a SCIM resource that is a member of this Group."},
				{Name: "display", Type: String, Mutability: ReadOnly, Returned: Default, Uniqueness: None, Description: "A human-readable name of the member."},
				{Name: "type", Type: String, CanonicalValues: []string{"User", "Group"}, Mutability: Immutable, Returned: Default, Uniqueness: None, Description: "A label indicating the type of resource, e.g., 'User' or 'Group'."},
			}},
	},
}

// The resource types scimd serves.
var (
	UserType = &ResourceType{ID: "User", Endpoint: "/Users", Description: "User Account", Schema: User,
		Extensions: []Extension{{Schema: EnterpriseUser, Required: false}}}
	GroupType = &ResourceType{ID: "Group", Endpoint: "/Groups", Description: "Group", Schema: Group}
)

// ResourceTypes lists every resource type, in discovery order.
var ResourceTypes = []*ResourceType{UserType, GroupType}

// Schemas lists every schema, in discovery order.
var Schemas = []*Schema{User, EnterpriseUser, Group}
