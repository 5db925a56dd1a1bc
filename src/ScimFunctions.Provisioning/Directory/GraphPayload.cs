using System.Collections;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Serialization;
using Microsoft.Kiota.Serialization.Json;

namespace ScimFunctions.Provisioning.Directory;

/// <summary>A reference inside <c>members@delta</c> or <c>manager@delta</c>.</summary>
internal readonly record struct DeltaReference(string Id, string? ODataType, RemovalReason? Removed)
{
    /// <summary>Graph always types directory references; an untyped one is taken for a user, so a member
    /// is never silently dropped.</summary>
    public bool IsUser => ODataType is null || string.Equals(ODataType, GraphNames.UserType, StringComparison.OrdinalIgnoreCase);
}

/// <summary>Graph's JSON names that the SDK leaves untyped.</summary>
internal static class GraphNames
{
    public const string Removed = "@removed";
    public const string MembersDelta = "members@delta";
    public const string ManagerDelta = "manager@delta";
    public const string ODataType = "@odata.type";
    public const string UserType = "#microsoft.graph.user";
    public const string GroupType = "#microsoft.graph.group";
    public const string ReasonDeleted = "deleted";
}

/// <summary>Reads the parts of Graph payloads that arrive untyped in <c>AdditionalData</c> — as Kiota
/// <see cref="UntypedNode"/>s from the SDK, or as <see cref="JsonElement"/>s from System.Text.Json —
/// and turns property values into the text <see cref="DirectoryUser.Properties"/> holds.</summary>
internal static class GraphPayload
{
    /// <summary>The removal an entry carries (<c>@removed</c>), or null. Any reason other than
    /// <c>deleted</c> counts as a soft delete: the reversible reading is the safe one.</summary>
    public static RemovalReason? RemovalOf(IDictionary<string, object>? additionalData) =>
        additionalData is not null && additionalData.TryGetValue(GraphNames.Removed, out var value)
            ? RemovalOf(ToJsonNode(value))
            : null;

    public static RemovalReason? RemovalOf(JsonNode? removed)
    {
        if (removed is null)
        {
            return null;
        }

        var reason = removed is JsonObject o && o["reason"] is JsonValue v && v.TryGetValue<string>(out var text) ? text : null;
        return string.Equals(reason, GraphNames.ReasonDeleted, StringComparison.OrdinalIgnoreCase)
            ? RemovalReason.HardDeleted
            : RemovalReason.SoftDeleted;
    }

    /// <summary>The references of a <c>…@delta</c> annotation; null when the annotation is absent.</summary>
    /// <exception cref="FormatException">The annotation is present but not an array of objects with ids.</exception>
    public static IReadOnlyList<DeltaReference>? ReferencesOf(IDictionary<string, object>? additionalData, string annotation)
    {
        if (additionalData is null || !additionalData.TryGetValue(annotation, out var value))
        {
            return null;
        }

        var node = ToJsonNode(value);
        if (node is null)
        {
            return [];
        }

        if (node is not JsonArray array)
        {
            throw new FormatException($"'{annotation}' is not an array.");
        }

        var references = new List<DeltaReference>(array.Count);
        foreach (var item in array)
        {
            if (item is not JsonObject entry || entry["id"] is not JsonValue idValue || !idValue.TryGetValue<string>(out var id) || string.IsNullOrEmpty(id))
            {
                throw new FormatException($"An entry of '{annotation}' has no id.");
            }

            var type = entry[GraphNames.ODataType] is JsonValue typeValue && typeValue.TryGetValue<string>(out var t) ? t : null;
            references.Add(new DeltaReference(id, type, RemovalOf(entry[GraphNames.Removed])));
        }

        return references;
    }

    /// <summary>Converts what the SDK or System.Text.Json left untyped into a JSON node.</summary>
    public static JsonNode? ToJsonNode(object? value) => value switch
    {
        null => null,
        JsonNode node => node,
        JsonElement element => element.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined ? null : JsonNode.Parse(element.GetRawText()),
        UntypedNull => null,
        UntypedArray array => new JsonArray([.. array.GetValue().Select(ToJsonNode)]),
        UntypedObject obj => ToJsonObject(obj.GetValue().Select(p => KeyValuePair.Create(p.Key, (object?)p.Value))),
        UntypedString s => s.GetValue() is { } text ? JsonValue.Create(text) : null,
        UntypedBoolean b => JsonValue.Create(b.GetValue()),
        UntypedInteger i => JsonValue.Create(i.GetValue()),
        UntypedLong l => JsonValue.Create(l.GetValue()),
        UntypedFloat f => JsonValue.Create(f.GetValue()),
        UntypedDouble d => JsonValue.Create(d.GetValue()),
        UntypedDecimal m => JsonValue.Create(m.GetValue()),
        string s => JsonValue.Create(s),
        bool b => JsonValue.Create(b),
        int i => JsonValue.Create(i),
        long l => JsonValue.Create(l),
        double d => JsonValue.Create(d),
        float f => JsonValue.Create(f),
        decimal m => JsonValue.Create(m),
        DateTimeOffset t => JsonValue.Create(t.ToString("O", CultureInfo.InvariantCulture)),
        Date date => JsonValue.Create(date.ToString()),
        Guid g => JsonValue.Create(g.ToString()),
        IParsable parsable => ParsableToJson(parsable),
        IDictionary<string, object> map => ToJsonObject(map.Select(p => KeyValuePair.Create(p.Key, (object?)p.Value))),
        IEnumerable sequence => new JsonArray([.. sequence.Cast<object?>().Select(ToJsonNode)]),
        _ => JsonValue.Create(Convert.ToString(value, CultureInfo.InvariantCulture)),
    };

    /// <summary>Adds a property to <paramref name="into"/> as text: scalars as invariant text, arrays as
    /// compact JSON, objects flattened into dotted names (<c>employeeOrgData.division</c>). Nulls are left out.</summary>
    public static void AddProperty(IDictionary<string, string> into, string name, object? value) =>
        Flatten(into, name, ToJsonNode(value));

    public static void Flatten(IDictionary<string, string> into, string name, JsonNode? node)
    {
        switch (node)
        {
            case null:
                return;
            case JsonObject obj:
                foreach (var (key, child) in obj)
                {
                    if (!key.StartsWith('@'))
                    {
                        Flatten(into, $"{name}.{key}", child);
                    }
                }

                return;
            case JsonArray array:
                into[name] = array.ToJsonString();
                return;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                into[name] = value.GetValue<string>();
                return;
            case JsonValue value when value.GetValueKind() is JsonValueKind.True or JsonValueKind.False:
                into[name] = value.GetValue<bool>() ? "true" : "false";
                return;
            default:
                into[name] = node.ToJsonString();
                return;
        }
    }

    private static JsonObject ToJsonObject(IEnumerable<KeyValuePair<string, object?>> properties)
    {
        var result = new JsonObject();
        foreach (var (key, value) in properties)
        {
            result[key] = ToJsonNode(value);
        }

        return result;
    }

    private static JsonNode? ParsableToJson(IParsable parsable)
    {
        using var writer = new JsonSerializationWriter();
        writer.WriteObjectValue(null, parsable);
        using var content = writer.GetSerializedContent();
        return JsonNode.Parse(content);
    }
}
