using System.Text.Json.Nodes;

namespace GenesysScimEmulator.Scim;

/// <summary>The <c>attributes</c> / <c>excludedAttributes</c> query parameters (reference §5.4).
/// Names may be short (<c>externalId</c>), dotted (<c>meta.version</c>), core-URN qualified, an extension
/// URN alone or an extension URN with a sub-attribute (<c>…:enterprise:2.0:User:manager.value</c>).
/// Always-returned attributes (users: id, userName, active, meta; groups: id, meta; both: schemas) stay.</summary>
public sealed class AttributeSelection
{
    private readonly List<Item>? included;
    private readonly List<Item> excluded;
    private readonly HashSet<string> always;

    private AttributeSelection(List<Item>? included, List<Item> excluded, HashSet<string> always)
    {
        this.included = included;
        this.excluded = excluded;
        this.always = always;
    }

    public bool IsDefault => included is null && excluded.Count == 0;

    public static AttributeSelection ForUsers(IEnumerable<string?> attributes, IEnumerable<string?> excludedAttributes) =>
        Parse(attributes, excludedAttributes, ScimUrns.User, Attr.UserCore,
            new Dictionary<string, string[]> { [ScimUrns.Enterprise] = Attr.Enterprise, [ScimUrns.Genesys] = Attr.Genesys },
            [Attr.Schemas, Attr.Id, Attr.UserName, Attr.Active, Attr.Meta]);

    public static AttributeSelection ForGroups(IEnumerable<string?> attributes, IEnumerable<string?> excludedAttributes) =>
        Parse(attributes, excludedAttributes, ScimUrns.Group, Attr.GroupCore, [], [Attr.Schemas, Attr.Id, Attr.Meta]);

    /// <summary>Whether a response would carry the attribute (for the large-page rule).</summary>
    public bool Returns(string? extension, string attribute)
    {
        if (extension is null && always.Contains(attribute))
        {
            return true;
        }

        if (included is not null)
        {
            return included.Any(i => i.Extension == extension && (i.Attribute is null || i.Attribute == attribute));
        }

        return !excluded.Any(e => e.Extension == extension && (e.Attribute is null || (e.Attribute == attribute && e.Sub is null)));
    }

    public JsonObject Apply(JsonObject resource)
    {
        if (IsDefault)
        {
            return resource;
        }

        var result = new JsonObject();
        foreach (var (key, value) in resource)
        {
            var isExtension = key.StartsWith("urn:", StringComparison.Ordinal);
            if (isExtension)
            {
                if (value is JsonObject extension && SelectExtension(key, extension) is { } selected)
                {
                    result[key] = selected;
                }
            }
            else if (always.Contains(key))
            {
                result[key] = value?.DeepClone();
            }
            else if (Select(null, key, value) is { } selected)
            {
                result[key] = selected;
            }
        }

        return result;
    }

    private JsonObject? SelectExtension(string urn, JsonObject extension)
    {
        if (included is not null && included.Any(i => i.Extension == urn && i.Attribute is null))
        {
            return (JsonObject)extension.DeepClone();
        }

        if (included is null && excluded.Any(e => e.Extension == urn && e.Attribute is null))
        {
            return null;
        }

        var result = new JsonObject();
        foreach (var (key, value) in extension)
        {
            if (Select(urn, key, value) is { } selected)
            {
                result[key] = selected;
            }
        }

        return result.Count > 0 ? result : null;
    }

    private JsonNode? Select(string? extension, string attribute, JsonNode? value)
    {
        if (included is not null)
        {
            var matches = included.Where(i => i.Extension == extension && i.Attribute == attribute).ToList();
            if (matches.Count == 0)
            {
                return null;
            }

            return matches.Any(m => m.Sub is null) ? value?.DeepClone() : KeepSubs(value, matches.Select(m => m.Sub!).ToList());
        }

        var exclusions = excluded.Where(e => e.Extension == extension && e.Attribute == attribute).ToList();
        if (exclusions.Any(e => e.Sub is null))
        {
            return null;
        }

        return exclusions.Count == 0 ? value?.DeepClone() : DropSubs(value, exclusions.Select(e => e.Sub!).ToList());
    }

    private static JsonNode? KeepSubs(JsonNode? value, List<string> subs) => Reshape(value, obj =>
    {
        foreach (var key in obj.Select(p => p.Key).ToList())
        {
            if (!subs.Contains(key, StringComparer.OrdinalIgnoreCase))
            {
                obj.Remove(key);
            }
        }
    });

    private static JsonNode? DropSubs(JsonNode? value, List<string> subs) => Reshape(value, obj =>
    {
        foreach (var sub in subs)
        {
            obj.RemoveAnyCase(sub);
        }
    });

    private static JsonNode? Reshape(JsonNode? value, Action<JsonObject> change)
    {
        var copy = value?.DeepClone();
        switch (copy)
        {
            case JsonObject obj:
                change(obj);
                break;
            case JsonArray array:
                foreach (var element in array.OfType<JsonObject>())
                {
                    change(element);
                }

                break;
        }

        return copy;
    }

    private static AttributeSelection Parse(
        IEnumerable<string?> attributes,
        IEnumerable<string?> excludedAttributes,
        string coreUrn,
        string[] core,
        Dictionary<string, string[]> extensions,
        string[] always)
    {
        var include = Split(attributes).Select(name => ParseItem(name, coreUrn, core, extensions, "attributes")).ToList();
        var exclude = Split(excludedAttributes).Select(name => ParseItem(name, coreUrn, core, extensions, "excludedAttributes")).ToList();

        // attributes wins when both are given (RFC 7644 §3.9 says not to send both).
        return new AttributeSelection(include.Count > 0 ? include : null, include.Count > 0 ? [] : exclude, [.. always]);
    }

    private static IEnumerable<string> Split(IEnumerable<string?> values) =>
        values.Where(v => v is not null)
            .SelectMany(v => v!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static Item ParseItem(string name, string coreUrn, string[] core, Dictionary<string, string[]> extensions, string parameter)
    {
        foreach (var (urn, names) in extensions)
        {
            if (name.Equals(urn, StringComparison.OrdinalIgnoreCase))
            {
                return new Item(urn, null, null);
            }

            if (name.StartsWith(urn + ":", StringComparison.OrdinalIgnoreCase))
            {
                var (attribute, sub) = SplitDotted(name[(urn.Length + 1)..]);
                var known = names.FirstOrDefault(n => n.Equals(attribute, StringComparison.OrdinalIgnoreCase))
                    ?? throw ScimException.InvalidValue($"Unknown attribute '{name}' in {parameter}.");
                return new Item(urn, known, sub);
            }
        }

        var local = name.StartsWith(coreUrn + ":", StringComparison.OrdinalIgnoreCase) ? name[(coreUrn.Length + 1)..] : name;
        var (coreAttribute, coreSub) = SplitDotted(local);
        var canonical = core.FirstOrDefault(n => n.Equals(coreAttribute, StringComparison.OrdinalIgnoreCase))
            ?? throw ScimException.InvalidValue($"Unknown attribute '{name}' in {parameter}.");
        return new Item(null, canonical, coreSub);
    }

    private static (string Attribute, string? Sub) SplitDotted(string name)
    {
        var dot = name.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? (name, null) : (name[..dot], name[(dot + 1)..]);
    }

    private sealed record Item(string? Extension, string? Attribute, string? Sub);
}
