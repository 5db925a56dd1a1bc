namespace GenesysScimEmulator.Scim;

/// <summary>Schema URNs the emulator serves. Kept here (not shared with the client library) so the
/// emulator stays an independent witness of what Genesys sends.</summary>
public static class ScimUrns
{
    public const string User = "urn:ietf:params:scim:schemas:core:2.0:User";
    public const string Group = "urn:ietf:params:scim:schemas:core:2.0:Group";
    public const string Enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    public const string Genesys = "urn:ietf:params:scim:schemas:extension:genesys:purecloud:2.0:User";
    public const string PatchOp = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
    public const string ListResponse = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
    public const string Error = "urn:ietf:params:scim:api:messages:2.0:Error";
    public const string ServiceProviderConfig = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
    public const string ResourceType = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
    public const string Schema = "urn:ietf:params:scim:schemas:core:2.0:Schema";

    /// <summary>Authority of the immutable Genesys externalIds entry that mirrors the core externalId.</summary>
    public const string ScimAuthority = "x-pc:scimv2:v1";
}

/// <summary>RFC 7644 §3.12 scimType values.</summary>
public static class ScimTypes
{
    public const string InvalidFilter = "invalidFilter";
    public const string Uniqueness = "uniqueness";
    public const string Mutability = "mutability";
    public const string InvalidSyntax = "invalidSyntax";
    public const string InvalidPath = "invalidPath";
    public const string NoTarget = "noTarget";
    public const string InvalidValue = "invalidValue";
    public const string InvalidVers = "invalidVers";
}

/// <summary>Attribute names as Genesys spells them.</summary>
public static class Attr
{
    public const string Schemas = "schemas";
    public const string Id = "id";
    public const string ExternalId = "externalId";
    public const string UserName = "userName";
    public const string DisplayName = "displayName";
    public const string Active = "active";
    public const string Title = "title";
    public const string Password = "password";
    public const string Emails = "emails";
    public const string PhoneNumbers = "phoneNumbers";
    public const string Roles = "roles";
    public const string Groups = "groups";
    public const string Members = "members";
    public const string Meta = "meta";
    public const string Value = "value";
    public const string Type = "type";
    public const string Primary = "primary";
    public const string Ref = "$ref";

    public const string Division = "division";
    public const string Department = "department";
    public const string Manager = "manager";
    public const string EmployeeNumber = "employeeNumber";
    public const string DateHire = "dateHire";

    public const string RoutingSkills = "routingSkills";
    public const string RoutingLanguages = "routingLanguages";
    public const string ExternalIds = "externalIds";
    public const string Authority = "authority";
    public const string Name = "name";
    public const string Proficiency = "proficiency";

    public static readonly string[] UserCore =
        [Schemas, Id, ExternalId, UserName, DisplayName, Active, Title, Password, Emails, PhoneNumbers, Roles, Groups, Meta];

    public static readonly string[] Enterprise = [Division, Department, Manager, EmployeeNumber, DateHire];

    public static readonly string[] Genesys = [RoutingSkills, RoutingLanguages, ExternalIds];

    public static readonly string[] GroupCore = [Schemas, Id, ExternalId, DisplayName, Members, Meta];

    public static readonly string[] EmailTypes = ["work", "other"];

    public static readonly string[] PhoneTypes =
        ["work", "work2", "work3", "work4", "home", "mobile", "other", "microsoftteams", "zoomphone", "eightbyeight"];
}
