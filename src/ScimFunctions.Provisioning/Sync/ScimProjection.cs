using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.Sync.Entitlements;

namespace ScimFunctions.Provisioning.Sync;

/// <summary>Between projections (SCIM path → value) and SCIM JSON: the create body, the values a target
/// resource currently holds for the owned paths, the minimal PATCH from one projection to another, and
/// the hash that makes "nothing changed" cost nothing.</summary>
public static class ScimProjection
{
    public static string Hash(IReadOnlyDictionary<string, string> projection)
    {
        var builder = new StringBuilder();
        foreach (var (key, value) in EntitlementProjection.ForHash(projection).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            builder.Append(key).Append('\u001f').Append(value).Append('\u001e');
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(builder.ToString())).AsSpan(0, 16));
    }

    /// <summary>A copy with <c>active</c> set; used for disable and reactivate.</summary>
    public static SortedDictionary<string, string> WithActive(IReadOnlyDictionary<string, string> projection, bool active)
    {
        var copy = new SortedDictionary<string, string>(projection.ToDictionary(p => p.Key, p => p.Value), StringComparer.Ordinal)
        {
            [ScimAttributes.Active] = active ? "true" : "false",
        };
        return copy;
    }

    public static bool IsActive(IReadOnlyDictionary<string, string>? projection) =>
        projection is null || !projection.TryGetValue(ScimAttributes.Active, out var v) || !v.Equals("false", StringComparison.OrdinalIgnoreCase);

    /// <summary>The POST body for a new user.</summary>
    public static JsonObject BuildCreateBody(IReadOnlyDictionary<string, string> projection, AttributeMapper mapper)
    {
        var body = new JsonObject();
        var schemas = new JsonArray(ScimSchemas.User);
        body[ScimAttributes.Schemas] = schemas;
        foreach (var attribute in mapper.Attributes)
        {
            if (!projection.TryGetValue(attribute.Path.Text, out var value))
            {
                continue;
            }

            var path = attribute.Path;
            JsonObject container = body;
            if (path.Schema is not null)
            {
                if (body[path.Schema] is not JsonObject extension)
                {
                    extension = new JsonObject();
                    body[path.Schema] = extension;
                    schemas.Add(path.Schema);
                }

                container = extension;
            }

            Set(container, path, ToNode(path, value));
        }

        EntitlementProjection.AddToCreateBody(body, projection, mapper);
        return body;
    }

    private static void Set(JsonObject container, ScimPath path, JsonNode value)
    {
        if (path.IsManager)
        {
            container[path.Attribute] = new JsonObject { [ScimAttributes.Value] = value };
            return;
        }

        if (path.FilterAttribute is not null)
        {
            if (container[path.Attribute] is not JsonArray array)
            {
                array = [];
                container[path.Attribute] = array;
            }

            var entry = array.OfType<JsonObject>().FirstOrDefault(e => Matches(e, path));
            if (entry is null)
            {
                entry = new JsonObject { [path.FilterAttribute] = path.FilterValue };
                array.Add(entry);
            }

            entry[path.SubAttribute!] = value;
            return;
        }

        if (path.SubAttribute is not null)
        {
            if (container[path.Attribute] is not JsonObject complex)
            {
                complex = new JsonObject();
                container[path.Attribute] = complex;
            }

            complex[path.SubAttribute] = value;
            return;
        }

        container[path.Attribute] = value;
    }

    /// <summary>What the target resource currently holds for each owned path (absent paths are left out).</summary>
    public static SortedDictionary<string, string> ReadCurrent(JsonObject resource, AttributeMapper mapper)
    {
        var values = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var attribute in mapper.Attributes)
        {
            var value = Read(resource, attribute.Path);
            if (!string.IsNullOrEmpty(value))
            {
                values[attribute.Path.Text] = value;
            }
        }

        EntitlementProjection.ReadCurrent(resource, values, mapper);
        return values;
    }

    private static string? Read(JsonObject resource, ScimPath path)
    {
        JsonObject? container = resource;
        if (path.Schema is not null)
        {
            container = GetIgnoreCase(resource, path.Schema) as JsonObject;
            if (container is null)
            {
                return null;
            }
        }

        var node = GetIgnoreCase(container, path.Attribute);
        if (node is null)
        {
            return null;
        }

        if (path.IsManager)
        {
            return node is JsonObject manager ? Scalar(GetIgnoreCase(manager, ScimAttributes.Value)) : Scalar(node);
        }

        if (path.FilterAttribute is not null)
        {
            var entry = (node as JsonArray)?.OfType<JsonObject>().FirstOrDefault(e => Matches(e, path));
            return entry is null ? null : Scalar(GetIgnoreCase(entry, path.SubAttribute!));
        }

        if (path.SubAttribute is not null)
        {
            return node is JsonObject complex ? Scalar(GetIgnoreCase(complex, path.SubAttribute)) : null;
        }

        return Scalar(node);
    }

    private static bool Matches(JsonObject entry, ScimPath path) =>
        string.Equals(Scalar(GetIgnoreCase(entry, path.FilterAttribute!)), path.FilterValue, StringComparison.OrdinalIgnoreCase);

    private static JsonNode? GetIgnoreCase(JsonObject obj, string name)
    {
        if (obj.TryGetPropertyValue(name, out var node))
        {
            return node;
        }

        foreach (var (key, value) in obj)
        {
            if (key.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }

        return null;
    }

    private static string? Scalar(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v when v.TryGetValue<bool>(out var b) => b ? "true" : "false",
        JsonValue v => v.ToJsonString(),
        _ => null,
    };

    private static JsonValue ToNode(ScimPath path, string value) =>
        path.IsBoolean ? JsonValue.Create(value.Equals("true", StringComparison.OrdinalIgnoreCase)) : JsonValue.Create(value);

    public static bool ValueEquals(ScimPath path, string? a, string? b) =>
        string.Equals(a, b, path.IsCaseInsensitive || path.IsBoolean ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);

    /// <summary>The owned paths whose value differs between <paramref name="current"/> and <paramref name="desired"/>.</summary>
    public static List<string> ChangedPaths(IReadOnlyDictionary<string, string>? current, IReadOnlyDictionary<string, string> desired, AttributeMapper mapper)
    {
        var changed = new List<string>();
        foreach (var attribute in mapper.Attributes)
        {
            string? cur = null;
            current?.TryGetValue(attribute.Path.Text, out cur);
            desired.TryGetValue(attribute.Path.Text, out var des);
            if (!ValueEquals(attribute.Path, cur, des))
            {
                changed.Add(attribute.Path.Text);
            }
        }

        changed.AddRange(EntitlementProjection.ChangedKeys(current, desired, mapper));
        return changed;
    }

    /// <summary>The minimal PATCH that turns <paramref name="current"/> into <paramref name="desired"/>,
    /// touching owned paths only: replace what changed, remove what was cleared, add new entries of
    /// multi-valued attributes as whole entries (<c>add emails [{type, value}]</c>, which every RFC 7644
    /// server accepts, where a filtered add may not match anything).</summary>
    public static List<ScimPatchOperation> Diff(IReadOnlyDictionary<string, string>? current, IReadOnlyDictionary<string, string> desired, AttributeMapper mapper)
    {
        current ??= new Dictionary<string, string>();
        var ops = new List<ScimPatchOperation>();
        var newEntries = new Dictionary<string, (ScimPath Path, JsonObject Entry)>(StringComparer.Ordinal);
        var removedEntries = new HashSet<string>(StringComparer.Ordinal);

        foreach (var attribute in mapper.Attributes)
        {
            var path = attribute.Path;
            current.TryGetValue(path.Text, out var cur);
            desired.TryGetValue(path.Text, out var des);
            if (ValueEquals(path, cur, des))
            {
                continue;
            }

            if (des is null)
            {
                if (path.FilterAttribute is not null)
                {
                    // Remove the whole entry unless another owned sub-attribute of it stays.
                    var siblingsStay = mapper.Attributes.Any(a => a.Path.EntryPath == path.EntryPath && a.Path.Text != path.Text && desired.ContainsKey(a.Path.Text));
                    if (siblingsStay)
                    {
                        ops.Add(ScimPatchOperation.Remove(path.Text));
                    }
                    else if (removedEntries.Add(path.EntryPath))
                    {
                        ops.Add(ScimPatchOperation.Remove(path.EntryPath));
                    }
                }
                else
                {
                    ops.Add(ScimPatchOperation.Remove(path.Text));
                }

                continue;
            }

            if (path.FilterAttribute is not null)
            {
                var entryExists = mapper.Attributes.Any(a => a.Path.EntryPath == path.EntryPath && current.ContainsKey(a.Path.Text));
                if (!entryExists)
                {
                    if (!newEntries.TryGetValue(path.EntryPath, out var pending))
                    {
                        pending = (path, new JsonObject { [path.FilterAttribute] = path.FilterValue });
                        newEntries[path.EntryPath] = pending;
                    }

                    pending.Entry[path.SubAttribute!] = ToNode(path, des);
                    continue;
                }

                ops.Add(ScimPatchOperation.Replace(path.Text, ToNode(path, des)));
                continue;
            }

            JsonNode value = path.IsManager ? new JsonObject { [ScimAttributes.Value] = des } : ToNode(path, des);
            ops.Add(ScimPatchOperation.Replace(path.Text, value));
        }

        foreach (var (_, (path, entry)) in newEntries)
        {
            var attributePath = path.Schema is null ? path.Attribute : $"{path.Schema}:{path.Attribute}";
            ops.Add(ScimPatchOperation.Add(attributePath, new JsonArray(entry)));
        }

        // Entitlements: one operation per value granted, changed or revoked by rules.
        EntitlementProjection.Diff(current, desired, mapper, ops);
        return ops;
    }
}
