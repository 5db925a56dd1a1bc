using System.Text.Json.Nodes;

namespace GenesysScimEmulator.Scim;

/// <summary>ServiceProviderConfig, ResourceTypes and Schemas as the emulator serves them. The vendor does
/// not document the actual values (U4); these follow the safe reading: no bulk, no sort, ETags, PATCH,
/// filter with 25 results per page. Schema and ResourceType resources carry no version or lastModified.</summary>
public static class DiscoveryDocuments
{
    public const long ServiceProviderConfigVersion = 1;

    public static readonly string[] ResourceTypeNames = ["User", "Group", "ServiceProviderConfig", "ResourceType", "Schema"];

    public static JsonObject ServiceProviderConfig(string baseUrl, DateTimeOffset started, EmulatorOptions options) => new()
    {
        ["schemas"] = new JsonArray(ScimUrns.ServiceProviderConfig),
        ["documentationUri"] = "https://developer.genesys.cloud/useragentmanagement/scim/scim-documentation",
        ["patch"] = new JsonObject { ["supported"] = true },
        ["bulk"] = new JsonObject { ["supported"] = false, ["maxOperations"] = 0, ["maxPayloadSize"] = 0 },
        ["filter"] = new JsonObject { ["supported"] = true, ["maxResults"] = 25 },
        ["changePassword"] = new JsonObject { ["supported"] = true },
        ["sort"] = new JsonObject { ["supported"] = false },
        ["etag"] = new JsonObject { ["supported"] = true },
        ["authenticationSchemes"] = new JsonArray(new JsonObject
        {
            ["name"] = "OAuth Bearer Token",
            ["description"] = "Authentication scheme using the OAuth 2.0 client credentials grant.",
            ["specUri"] = "https://tools.ietf.org/html/rfc6750",
            ["documentationUri"] = "https://developer.genesys.cloud/authorization/platform-auth/",
            ["type"] = "oauthbearertoken",
            ["primary"] = true,
        }),
        ["meta"] = ResourceMeta.Create("ServiceProviderConfig", $"{baseUrl}/serviceproviderconfig", ServiceProviderConfigVersion, started, options),
    };

    public static JsonObject? ResourceType(string name, string baseUrl)
    {
        var canonical = ResourceTypeNames.FirstOrDefault(n => n.Equals(name, StringComparison.OrdinalIgnoreCase));
        if (canonical is null)
        {
            return null;
        }

        var (endpoint, schema, description) = canonical switch
        {
            "User" => ("/Users", ScimUrns.User, "User Account"),
            "Group" => ("/Groups", ScimUrns.Group, "Group"),
            "ServiceProviderConfig" => ("/ServiceProviderConfig", ScimUrns.ServiceProviderConfig, "Service provider configuration"),
            "ResourceType" => ("/ResourceTypes", ScimUrns.ResourceType, "Resource type"),
            _ => ("/Schemas", ScimUrns.Schema, "Schema"),
        };
        var result = new JsonObject
        {
            ["schemas"] = new JsonArray("urn:ietf:params:scim:schemas:core:2.0:ResourceType"),
            ["id"] = canonical,
            ["name"] = canonical,
            ["endpoint"] = endpoint,
            ["description"] = description,
            ["schema"] = schema,
        };
        if (canonical == "User")
        {
            result["schemaExtensions"] = new JsonArray(
                new JsonObject { ["schema"] = ScimUrns.Enterprise, ["required"] = false },
                new JsonObject { ["schema"] = ScimUrns.Genesys, ["required"] = false });
        }

        result["meta"] = new JsonObject { ["resourceType"] = "ResourceType", ["location"] = $"{baseUrl}/resourcetypes/{canonical}" };
        return result;
    }

    public static IEnumerable<JsonObject> Schemas(string baseUrl) =>
        SchemaIds.Select(id => Schema(id, baseUrl)!);

    public static readonly string[] SchemaIds =
        [ScimUrns.User, ScimUrns.Group, ScimUrns.Enterprise, ScimUrns.Genesys, ScimUrns.ServiceProviderConfig, ScimUrns.ResourceType, ScimUrns.Schema];

    public static JsonObject? Schema(string id, string baseUrl)
    {
        var canonical = SchemaIds.FirstOrDefault(s => s.Equals(id, StringComparison.OrdinalIgnoreCase));
        if (canonical is null)
        {
            return null;
        }

        var (name, description, attributes) = canonical switch
        {
            ScimUrns.User => ("User", "User Account", UserAttributes()),
            ScimUrns.Group => ("Group", "Group", GroupAttributes()),
            ScimUrns.Enterprise => ("EnterpriseUser", "Enterprise User", EnterpriseAttributes()),
            ScimUrns.Genesys => ("GenesysUser", "Genesys Cloud user extension", GenesysAttributes()),
            ScimUrns.ServiceProviderConfig => ("ServiceProviderConfig", "Service provider configuration", new JsonArray(
                Attribute("documentationUri", "reference", mutability: "readOnly"),
                Attribute("patch", "complex", mutability: "readOnly", required: true),
                Attribute("bulk", "complex", mutability: "readOnly", required: true),
                Attribute("filter", "complex", mutability: "readOnly", required: true),
                Attribute("changePassword", "complex", mutability: "readOnly", required: true),
                Attribute("sort", "complex", mutability: "readOnly", required: true),
                Attribute("etag", "complex", mutability: "readOnly", required: true),
                Attribute("authenticationSchemes", "complex", multiValued: true, mutability: "readOnly", required: true))),
            ScimUrns.ResourceType => ("ResourceType", "Resource type", new JsonArray(
                Attribute("id", mutability: "readOnly"),
                Attribute("name", mutability: "readOnly", required: true),
                Attribute("description", mutability: "readOnly"),
                Attribute("endpoint", "reference", mutability: "readOnly", required: true),
                Attribute("schema", "reference", mutability: "readOnly", required: true, caseExact: true),
                Attribute("schemaExtensions", "complex", multiValued: true, mutability: "readOnly"))),
            _ => ("Schema", "Schema", new JsonArray(
                Attribute("id", mutability: "readOnly", required: true),
                Attribute("name", mutability: "readOnly"),
                Attribute("description", mutability: "readOnly"),
                Attribute("attributes", "complex", multiValued: true, mutability: "readOnly", required: true))),
        };
        return new JsonObject
        {
            ["schemas"] = new JsonArray(ScimUrns.Schema),
            ["id"] = canonical,
            ["name"] = name,
            ["description"] = description,
            ["attributes"] = attributes,
            ["meta"] = new JsonObject { ["resourceType"] = "Schema", ["location"] = $"{baseUrl}/schemas/{canonical}" },
        };
    }

    private static JsonArray UserAttributes() => new(
        Attribute(Attr.UserName, required: true, uniqueness: "server", description: "The user's Genesys Cloud email address. Must be unique."),
        Attribute(Attr.DisplayName, required: true),
        Attribute(Attr.Active, "boolean"),
        Attribute(Attr.Title),
        Attribute(Attr.Password, mutability: "writeOnly", returned: "never"),
        Attribute(Attr.ExternalId, caseExact: true),
        Attribute(Attr.Emails, "complex", multiValued: true, subAttributes: new JsonArray(
            Attribute(Attr.Value, description: "Immutable when type is 'other' (it is the userName)."),
            Attribute(Attr.Type, canonicalValues: Attr.EmailTypes),
            Attribute(Attr.Primary, "boolean"))),
        Attribute(Attr.PhoneNumbers, "complex", multiValued: true, subAttributes: new JsonArray(
            Attribute(Attr.Value, description: "E.164 or tel URI, e.g. tel:+nnnnnnnn;ext=xxxxx."),
            Attribute(Attr.Type, canonicalValues: Attr.PhoneTypes),
            Attribute(Attr.Primary, "boolean"))),
        Attribute(Attr.Groups, "complex", multiValued: true, mutability: "readOnly", subAttributes: new JsonArray(
            Attribute(Attr.Value, mutability: "readOnly"),
            Attribute(Attr.Ref, "reference", mutability: "readOnly"),
            Attribute(Attr.Type, mutability: "readOnly"))),
        Attribute(Attr.Roles, "complex", multiValued: true, subAttributes: new JsonArray(Attribute(Attr.Value))));

    private static JsonArray EnterpriseAttributes() => new(
        Attribute(Attr.Division, description: "Division name."),
        Attribute(Attr.Department),
        Attribute(Attr.Manager, "complex", subAttributes: new JsonArray(
            Attribute(Attr.Value, description: "The manager's user id."),
            Attribute(Attr.Ref, "reference", mutability: "readOnly"))),
        Attribute(Attr.EmployeeNumber),
        Attribute(Attr.DateHire, description: "YYYY-MM-DD."));

    private static JsonArray GenesysAttributes() => new(
        Attribute(Attr.RoutingSkills, "complex", multiValued: true, description: "At most 50.", subAttributes: new JsonArray(
            Attribute(Attr.Name, required: true, caseExact: true),
            Attribute(Attr.Proficiency, "decimal", description: "0.0 to 5.0."))),
        Attribute(Attr.RoutingLanguages, "complex", multiValued: true, description: "At most 50.", subAttributes: new JsonArray(
            Attribute(Attr.Name, required: true, caseExact: true),
            Attribute(Attr.Proficiency, "decimal", description: "0.0 to 5.0."))),
        Attribute(Attr.ExternalIds, "complex", multiValued: true, description: $"Always includes the immutable '{ScimUrns.ScimAuthority}' entry mirroring externalId.", subAttributes: new JsonArray(
            Attribute(Attr.Authority, required: true, caseExact: true),
            Attribute(Attr.Value, required: true, caseExact: true))));

    private static JsonArray GroupAttributes() => new(
        Attribute(Attr.DisplayName, required: true, mutability: "readOnly", description: "Required in PUT bodies but cannot be changed."),
        Attribute(Attr.ExternalId, caseExact: true),
        Attribute(Attr.Members, "complex", multiValued: true, subAttributes: new JsonArray(
            Attribute(Attr.Value, description: "A user id."),
            Attribute(Attr.Ref, "reference", mutability: "readOnly"),
            Attribute(Attr.Type, mutability: "readOnly"))));

    private static JsonObject Attribute(
        string name,
        string type = "string",
        bool multiValued = false,
        bool required = false,
        bool caseExact = false,
        string mutability = "readWrite",
        string returned = "default",
        string uniqueness = "none",
        string? description = null,
        string[]? canonicalValues = null,
        JsonArray? subAttributes = null)
    {
        var result = new JsonObject
        {
            ["name"] = name,
            ["type"] = type,
            ["multiValued"] = multiValued,
            ["required"] = required,
            ["caseExact"] = caseExact,
            ["mutability"] = mutability,
            ["returned"] = returned,
            ["uniqueness"] = uniqueness,
        };
        if (description is not null)
        {
            result["description"] = description;
        }

        if (canonicalValues is not null)
        {
            result["canonicalValues"] = new JsonArray([.. canonicalValues.Select(v => (JsonNode)v)]);
        }

        if (subAttributes is not null)
        {
            result["subAttributes"] = subAttributes;
        }

        return result;
    }
}
