using System.Text.Json;
using System.Text.Json.Nodes;

namespace ScimFunctions.Provisioning.Scim;

/// <summary>Resource versions as opaque strings (U6): the ETag header verbatim, else <c>meta.version</c> quoted.
/// A weak <c>W/</c> prefix is kept; versions are compared ordinally, never parsed.</summary>
internal static class ScimVersion
{
    public static string? FromResponse(string? etagHeader, JsonObject? body)
    {
        if (!string.IsNullOrWhiteSpace(etagHeader))
        {
            return etagHeader.Trim();
        }

        return FromMeta(body);
    }

    public static string? FromMeta(JsonObject? resource)
    {
        var meta = resource?[ScimAttributes.Meta] as JsonObject;
        var version = meta?[ScimAttributes.Version] switch
        {
            JsonValue value when value.TryGetValue<string>(out var text) => text,
            JsonValue value when value.GetValueKind() == JsonValueKind.Number => value.ToJsonString(),
            _ => null,
        };
        return string.IsNullOrWhiteSpace(version) ? null : Quote(version.Trim());
    }

    /// <summary>The value to put in If-Match / If-None-Match: as stored, quoted if someone stored it bare.</summary>
    public static string Quote(string version) =>
        version.StartsWith('"') || version.StartsWith("W/\"", StringComparison.Ordinal) ? version : "\"" + version + "\"";
}
