namespace ScimFunctions.Provisioning.Scim;

/// <summary>Resource paths, relative to the base URL. Genesys documents lower-case paths (U1); RFC 7644
/// servers use the capitalised endpoint names.</summary>
internal static class ScimPaths
{
    public static string Users(ScimTargetProfile profile) => profile == ScimTargetProfile.Genesys ? "users" : "Users";

    public static string Groups(ScimTargetProfile profile) => profile == ScimTargetProfile.Genesys ? "groups" : "Groups";

    public static string ServiceProviderConfig(ScimTargetProfile profile) =>
        profile == ScimTargetProfile.Genesys ? "serviceproviderconfig" : "ServiceProviderConfig";
}

/// <summary>HTTP header names this client reads or writes beyond the standard set.</summary>
internal static class ScimHeaders
{
    public const string ETag = "ETag";
    public const string IfMatch = "If-Match";
    public const string IfNoneMatch = "If-None-Match";

    /// <summary>Genesys Cloud puts a correlation id on every response; support asks for it.</summary>
    public const string GenesysCorrelationId = "ININ-Correlation-Id";
}

/// <summary>Attribute names and query parameters the client itself builds requests with.</summary>
internal static class ScimAttributes
{
    public const string Id = "id";
    public const string UserName = "userName";
    public const string ExternalId = "externalId";
    public const string DisplayName = "displayName";
    public const string Active = "active";
    public const string Members = "members";
    public const string Value = "value";
    public const string Schemas = "schemas";
    public const string Meta = "meta";
    public const string Version = "version";
    public const string Groups = "groups";
    public const string Password = "password";
    public const string Operations = "Operations";
    public const string Op = "op";
    public const string Path = "path";
    public const string Resources = "Resources";
    public const string TotalResults = "totalResults";
    public const string ScimType = "scimType";
    public const string Detail = "detail";

    /// <summary>Attributes Genesys fills from "expensive secondary calls"; a page above 25 must drop them (U9).</summary>
    public static readonly IReadOnlyList<string> ExpensiveUserAttributes = ["externalId", "roles", "routingSkills", "routingLanguages"];
}

/// <summary>SCIM error scimType values the client branches on (RFC 7644 §3.12).</summary>
internal static class ScimErrorTypes
{
    public const string InvalidVersion = "invalidVers";
    public const string Uniqueness = "uniqueness";
}

/// <summary>Media types per profile: Genesys's Platform API speaks application/json, RFC 7644 servers scim+json.</summary>
internal static class ScimMediaTypes
{
    public const string Json = "application/json";
    public const string ScimJson = "application/scim+json";
}
