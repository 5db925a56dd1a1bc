using System.Text.Json;
using System.Text.Json.Nodes;

namespace GenesysScimEmulator.Scim;

/// <summary>Reads SCIM JSON where attribute names are case-insensitive (RFC 7643 §2.1) and every
/// wrong type becomes a 400 naming the attribute.</summary>
public static class JsonAccess
{
    /// <summary>The property whose name equals <paramref name="name"/> ignoring case, or null.</summary>
    public static KeyValuePair<string, JsonNode?>? Find(this JsonObject obj, string name)
    {
        if (obj.TryGetPropertyValue(name, out var exact))
        {
            return new(name, exact);
        }

        foreach (var property in obj)
        {
            if (string.Equals(property.Key, name, StringComparison.OrdinalIgnoreCase))
            {
                return property;
            }
        }

        return null;
    }

    public static JsonNode? Get(this JsonObject obj, string name) => obj.Find(name)?.Value;

    public static bool Has(this JsonObject obj, string name) => obj.Find(name) is not null;

    /// <summary>Removes the property named <paramref name="name"/> in any case; true when one was there.</summary>
    public static bool RemoveAnyCase(this JsonObject obj, string name)
    {
        var found = obj.Find(name);
        return found is not null && obj.Remove(found.Value.Key);
    }

    /// <summary>Sets <paramref name="name"/>, replacing a property spelt in another case.</summary>
    public static void SetAnyCase(this JsonObject obj, string name, JsonNode? value)
    {
        obj.RemoveAnyCase(name);
        obj[name] = value;
    }

    public static string? GetString(this JsonObject obj, string name, string attributePath)
    {
        var node = obj.Get(name);
        return node switch
        {
            null => null,
            JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
            _ => throw ScimException.InvalidValue($"Attribute '{attributePath}' must be a string."),
        };
    }

    /// <summary>A boolean, also accepting "true"/"false" strings in any case (Entra sends "False").</summary>
    public static bool? GetBoolean(this JsonObject obj, string name, string attributePath)
    {
        var node = obj.Get(name);
        if (node is null)
        {
            return null;
        }

        if (node is JsonValue value)
        {
            switch (value.GetValueKind())
            {
                case JsonValueKind.True:
                    return true;
                case JsonValueKind.False:
                    return false;
                case JsonValueKind.String when bool.TryParse(value.GetValue<string>(), out var parsed):
                    return parsed;
            }
        }

        throw ScimException.InvalidValue($"Attribute '{attributePath}' must be a boolean.");
    }

    public static JsonArray? GetArray(this JsonObject obj, string name, string attributePath) => obj.Get(name) switch
    {
        null => null,
        JsonArray array => array,
        _ => throw ScimException.InvalidValue($"Attribute '{attributePath}' must be an array."),
    };

    public static JsonObject? GetObject(this JsonObject obj, string name, string attributePath) => obj.Get(name) switch
    {
        null => null,
        JsonObject child => child,
        _ => throw ScimException.InvalidValue($"Attribute '{attributePath}' must be an object."),
    };

    /// <summary>Elements of a multi-valued complex attribute, each required to be an object.</summary>
    public static IEnumerable<JsonObject> Objects(this JsonArray? array, string attributePath)
    {
        if (array is null)
        {
            yield break;
        }

        foreach (var item in array)
        {
            yield return item as JsonObject
                ?? throw ScimException.InvalidValue($"Each value of '{attributePath}' must be an object.");
        }
    }

    /// <summary>Text of a scalar for comparisons: strings as is, booleans and numbers as JSON text.</summary>
    public static string? ScalarText(this JsonNode? node) => node switch
    {
        JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
        JsonValue value => value.ToJsonString(),
        _ => null,
    };
}
