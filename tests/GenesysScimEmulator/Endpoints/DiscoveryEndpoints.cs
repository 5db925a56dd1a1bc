using GenesysScimEmulator.Http;
using GenesysScimEmulator.Scim;
using GenesysScimEmulator.State;

namespace GenesysScimEmulator.Endpoints;

/// <summary>/serviceproviderconfig, /resourcetypes[/{name}], /schemas[/{id}].</summary>
public static class DiscoveryEndpoints
{
    public static void MapDiscoveryEndpoints(this IEndpointRouteBuilder scim, bool legacy)
    {
        scim.MapGet("/serviceproviderconfig", (HttpContext context, EmulatorState state) =>
        {
            var version = DiscoveryDocuments.ServiceProviderConfigVersion;
            if (context.NotModified(version))
            {
                return context.NotModifiedResult(version);
            }

            var body = DiscoveryDocuments.ServiceProviderConfig(context.Urls(legacy).BaseUrl, state.StartedAt, state.Settings.Current);
            return context.Resource(new StoredResource(body, version));
        });

        scim.MapGet("/resourcetypes", (HttpContext context) =>
        {
            var baseUrl = context.Urls(legacy).BaseUrl;
            var types = DiscoveryDocuments.ResourceTypeNames.Select(name => DiscoveryDocuments.ResourceType(name, baseUrl)!).ToList();
            return ScimHttp.Json(ScimQuery.ListResponse(types.Count, 1, types));
        });

        scim.MapGet("/resourcetypes/{name}", (HttpContext context, string name) =>
            DiscoveryDocuments.ResourceType(name, context.Urls(legacy).BaseUrl) is { } type
                ? ScimHttp.Json(type)
                : throw ScimException.NotFound($"Resource type '{name}' not found; known: {string.Join(", ", DiscoveryDocuments.ResourceTypeNames)}."));

        scim.MapGet("/schemas", (HttpContext context) =>
        {
            // The vendor documents the filter parameter as "Filtered results are invalid and return 403".
            if (context.Request.Query.ContainsKey("filter"))
            {
                throw new PlatformException(403, "not.authorized", "Filtered results are invalid.");
            }

            var schemas = DiscoveryDocuments.Schemas(context.Urls(legacy).BaseUrl).ToList();
            return ScimHttp.Json(ScimQuery.ListResponse(schemas.Count, 1, schemas));
        });

        scim.MapGet("/schemas/{id}", (HttpContext context, string id) =>
            DiscoveryDocuments.Schema(id, context.Urls(legacy).BaseUrl) is { } schema
                ? ScimHttp.Json(schema)
                : throw ScimException.NotFound($"Schema '{id}' not found."));
    }
}
