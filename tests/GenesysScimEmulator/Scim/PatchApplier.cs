using System.Text.Json.Nodes;

namespace GenesysScimEmulator.Scim;

public sealed record PatchOperation(string Op, string? Path, JsonNode? Value);

/// <summary>A parsed PATCH path: <c>[urn:]attribute[[filter]][.subAttribute]</c>.
/// <see cref="Attribute"/> is null when the path names a whole extension.</summary>
public sealed record PatchPath(string? Extension, string? Attribute, IReadOnlyList<EqualsFilter>? Filter, string? SubAttribute);

/// <summary>What the patch applier needs to know about a resource type.</summary>
/// <param name="CoreUrn">Core schema URN; a path may be prefixed with it.</param>
/// <param name="CoreAttributes">Canonical names of core attributes.</param>
/// <param name="Extensions">Extension URN → canonical attribute names.</param>
/// <param name="MultiValuedKeys">Multi-valued attribute → the fields that identify one of its values
/// (an <c>add</c> of a value with the same key replaces it, as Genesys keeps one value per key).</param>
/// <param name="ReadOnly">Attributes whose write is refused with 400 mutability.</param>
/// <param name="Ignored">Attributes whose write is silently dropped.</param>
public sealed record PatchSchema(
    string CoreUrn,
    IReadOnlyList<string> CoreAttributes,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Extensions,
    IReadOnlyDictionary<string, string[]> MultiValuedKeys,
    IReadOnlySet<string> ReadOnly,
    IReadOnlySet<string> Ignored)
{
    public static PatchSchema ForUsers(EmulatorOptions options)
    {
        var readOnly = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { Attr.Id, Attr.Meta, Attr.Schemas };
        var ignored = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        (options.UserGroupsWrite == WritePolicy.Reject ? readOnly : ignored).Add(Attr.Groups);
        return new(
            ScimUrns.User,
            Attr.UserCore,
            new Dictionary<string, IReadOnlyList<string>> { [ScimUrns.Enterprise] = Attr.Enterprise, [ScimUrns.Genesys] = Attr.Genesys },
            new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase)
            {
                [Attr.Emails] = [Attr.Type],
                [Attr.PhoneNumbers] = [Attr.Type],
                [Attr.Roles] = [Attr.Value],
                [Attr.Groups] = [Attr.Value],
                [Attr.RoutingSkills] = [Attr.Name],
                [Attr.RoutingLanguages] = [Attr.Name],
                [Attr.ExternalIds] = [Attr.Authority, Attr.Value],
            },
            readOnly,
            ignored);
    }

    public static readonly PatchSchema Groups = new(
        ScimUrns.Group,
        Attr.GroupCore,
        new Dictionary<string, IReadOnlyList<string>>(),
        new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase) { [Attr.Members] = [Attr.Value] },
        new HashSet<string>(StringComparer.OrdinalIgnoreCase) { Attr.Id, Attr.Meta, Attr.Schemas },
        new HashSet<string>());
}

/// <summary>RFC 7644 §3.5.2 PATCH over a resource's JSON view. The result is validated afterwards by the
/// resource model exactly like a PUT body, so PATCH and PUT share every model rule.</summary>
public static class PatchApplier
{
    public const string Add = "add";
    public const string Replace = "replace";
    public const string Remove = "remove";

    /// <summary>Reads a <c>ScimV2PatchRequest</c>: <c>schemas</c> with the PatchOp URN and
    /// <c>Operations</c> with a capital O.</summary>
    public static IReadOnlyList<PatchOperation> ParseRequest(JsonObject body, bool caseInsensitiveOp)
    {
        var schemas = body.Get(Attr.Schemas) as JsonArray;
        if (schemas is null || !schemas.Any(s => s.ScalarText() is { } urn && urn.Equals(ScimUrns.PatchOp, StringComparison.OrdinalIgnoreCase)))
        {
            throw ScimException.InvalidSyntax($"A PATCH body needs \"schemas\": [\"{ScimUrns.PatchOp}\"].");
        }

        if (body["Operations"] is not JsonArray operations)
        {
            throw ScimException.InvalidSyntax(body.Has("Operations")
                ? "\"Operations\" must be spelt with a capital O."
                : "A PATCH body needs an \"Operations\" array.");
        }

        if (operations.Count == 0)
        {
            throw ScimException.InvalidSyntax("\"Operations\" is empty.");
        }

        var result = new List<PatchOperation>();
        foreach (var node in operations)
        {
            if (node is not JsonObject operation)
            {
                throw ScimException.InvalidSyntax("Each entry of \"Operations\" must be an object.");
            }

            var op = operation.GetString("op", "op") ?? throw ScimException.InvalidSyntax("Each operation needs an \"op\".");
            var normalized = caseInsensitiveOp ? op.ToLowerInvariant() : op;
            if (normalized is not (Add or Replace or Remove))
            {
                throw ScimException.InvalidSyntax($"op '{op}' is not one of add, replace, remove.");
            }

            var path = operation.GetString("path", "path");
            if (normalized == Remove && string.IsNullOrWhiteSpace(path))
            {
                throw new ScimException(400, ScimTypes.NoTarget, "op 'remove' requires a path.");
            }

            result.Add(new PatchOperation(normalized, string.IsNullOrWhiteSpace(path) ? null : path.Trim(), operation.Get(Attr.Value)?.DeepClone()));
        }

        return result;
    }

    public static void Apply(JsonObject resource, PatchOperation operation, PatchSchema schema)
    {
        if (operation.Path is not null)
        {
            ApplyAt(resource, operation.Op, ParsePath(operation.Path, schema), operation.Value, schema);
            return;
        }

        if (operation.Value is not JsonObject values)
        {
            throw ScimException.InvalidSyntax($"op '{operation.Op}' without a path needs an object value.");
        }

        foreach (var (key, value) in values.ToList())
        {
            var extension = schema.Extensions.Keys.FirstOrDefault(urn => urn.Equals(key, StringComparison.OrdinalIgnoreCase));
            if (extension is not null && value is JsonObject extensionValues)
            {
                foreach (var (subKey, subValue) in extensionValues.ToList())
                {
                    ApplyAt(resource, operation.Op, ParsePath($"{extension}:{subKey}", schema), subValue?.DeepClone(), schema);
                }
            }
            else
            {
                ApplyAt(resource, operation.Op, ParsePath(key, schema), value?.DeepClone(), schema);
            }
        }
    }

    public static PatchPath ParsePath(string path, PatchSchema schema)
    {
        string? extension = null;
        var rest = path;
        foreach (var urn in schema.Extensions.Keys.Append(schema.CoreUrn))
        {
            if (!path.StartsWith(urn, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (path.Length == urn.Length)
            {
                return urn == schema.CoreUrn
                    ? throw ScimException.InvalidPath($"Path '{path}' names the core schema, not an attribute.")
                    : new PatchPath(urn, null, null, null);
            }

            if (path[urn.Length] != ':')
            {
                continue;
            }

            extension = urn == schema.CoreUrn ? null : urn;
            rest = path[(urn.Length + 1)..];
            break;
        }

        if (extension is null && rest.StartsWith("urn:", StringComparison.OrdinalIgnoreCase))
        {
            throw ScimException.InvalidPath($"Path '{path}' names an unknown schema.");
        }

        var end = rest.IndexOfAny(['[', '.']);
        var name = end < 0 ? rest : rest[..end];
        var known = extension is null ? schema.CoreAttributes : schema.Extensions[extension];
        var attribute = known.FirstOrDefault(a => a.Equals(name, StringComparison.OrdinalIgnoreCase))
            ?? throw ScimException.InvalidPath($"Path '{path}' names no attribute of this resource ('{name}').");

        IReadOnlyList<EqualsFilter>? filter = null;
        string? sub = null;
        if (end >= 0 && rest[end] == '[')
        {
            var close = rest.LastIndexOf(']');
            if (close < end)
            {
                throw ScimException.InvalidPath($"Missing ']' in path '{path}'.");
            }

            filter = FilterParser.ParseClauses(rest[(end + 1)..close], ScimException.InvalidPath);
            var after = rest[(close + 1)..];
            if (after.Length > 0)
            {
                sub = after.StartsWith('.') && after.Length > 1
                    ? after[1..]
                    : throw ScimException.InvalidPath($"Unexpected '{after}' after ']' in path '{path}'.");
            }
        }
        else if (end >= 0)
        {
            sub = rest[(end + 1)..];
            if (sub.Length == 0)
            {
                throw ScimException.InvalidPath($"Path '{path}' ends with '.'.");
            }
        }

        return new PatchPath(extension, attribute, filter, sub);
    }

    private static void ApplyAt(JsonObject resource, string op, PatchPath path, JsonNode? value, PatchSchema schema)
    {
        var container = resource;
        if (path.Extension is not null)
        {
            var extension = resource.Get(path.Extension) as JsonObject;
            if (path.Attribute is null)
            {
                ApplyToWholeExtension(resource, op, path.Extension, value, schema);
                return;
            }

            if (extension is null)
            {
                if (op == Remove)
                {
                    return;
                }

                extension = [];
                resource.SetAnyCase(path.Extension, extension);
            }

            container = extension;
        }
        else if (path.Attribute is not null)
        {
            if (schema.ReadOnly.Contains(path.Attribute))
            {
                throw ScimException.Mutability($"Attribute '{path.Attribute}' is read-only.");
            }

            if (schema.Ignored.Contains(path.Attribute))
            {
                return;
            }
        }

        var name = path.Attribute!;
        var keys = schema.MultiValuedKeys.GetValueOrDefault(name);
        if (path.Filter is not null)
        {
            if (keys is null)
            {
                throw ScimException.InvalidPath($"'{name}' is not multi-valued; a value filter cannot select from it.");
            }

            ApplyFiltered(container, op, name, path.Filter, path.SubAttribute, value);
        }
        else if (path.SubAttribute is not null)
        {
            ApplySubAttribute(container, op, name, path.SubAttribute, value);
        }
        else if (op == Remove)
        {
            if (keys is not null && value is JsonArray or JsonObject && container.Get(name) is JsonArray existing)
            {
                // Entra's member removal: {"op":"remove","path":"members","value":[{"value":"id"}]}.
                var doomed = AsItems(value).Select(item => KeyOf(item, keys)).Where(key => key is not null).ToHashSet(KeyComparer(name, keys));
                for (var i = existing.Count - 1; i >= 0; i--)
                {
                    if (KeyOf(existing[i], keys) is { } key && doomed.Contains(key))
                    {
                        existing.RemoveAt(i);
                    }
                }
            }
            else
            {
                container.RemoveAnyCase(name);
            }
        }
        else if (keys is not null)
        {
            var target = op == Replace ? [] : container.Get(name) as JsonArray ?? [];
            var positions = new Dictionary<string, int>(KeyComparer(name, keys));
            for (var i = 0; i < target.Count; i++)
            {
                if (KeyOf(target[i], keys) is { } key)
                {
                    positions.TryAdd(key, i);
                }
            }

            foreach (var item in AsItems(value))
            {
                var key = KeyOf(item, keys);
                if (key is not null && positions.TryGetValue(key, out var index))
                {
                    target[index] = item.DeepClone();
                }
                else
                {
                    target.Add(item.DeepClone());
                    if (key is not null)
                    {
                        positions[key] = target.Count - 1;
                    }
                }
            }

            container.SetAnyCase(name, target);
        }
        else if (op == Add && container.Get(name) is JsonObject existingObject && value is JsonObject additions)
        {
            foreach (var (key, item) in additions.ToList())
            {
                existingObject.SetAnyCase(key, item?.DeepClone());
            }
        }
        else
        {
            container.SetAnyCase(name, value?.DeepClone());
        }
    }

    private static void ApplyToWholeExtension(JsonObject resource, string op, string extension, JsonNode? value, PatchSchema schema)
    {
        if (op == Remove)
        {
            resource.RemoveAnyCase(extension);
            return;
        }

        if (value is not JsonObject values)
        {
            throw ScimException.InvalidSyntax($"The value for '{extension}' must be an object.");
        }

        foreach (var (key, item) in values.ToList())
        {
            ApplyAt(resource, op, ParsePath($"{extension}:{key}", schema), item?.DeepClone(), schema);
        }
    }

    private static void ApplyFiltered(JsonObject container, string op, string name, IReadOnlyList<EqualsFilter> filter, string? sub, JsonNode? value)
    {
        var array = container.Get(name) as JsonArray;
        var matches = array?.OfType<JsonObject>().Where(element => Matches(element, filter, name)).ToList() ?? [];
        if (op == Remove)
        {
            foreach (var match in matches)
            {
                if (sub is null)
                {
                    array!.Remove(match);
                }
                else
                {
                    match.RemoveAnyCase(sub);
                }
            }

            return;
        }

        if (sub is null && value is not JsonObject)
        {
            throw ScimException.InvalidSyntax($"A value filter path without a sub-attribute needs an object value (e.g. {{\"value\": \"…\"}}).");
        }

        if (matches.Count == 0)
        {
            // No element matches: create one from the filter (Entra's replace of emails[type eq "work"].value).
            var element = new JsonObject();
            foreach (var clause in filter)
            {
                element[clause.Attribute] = clause.Value;
            }

            matches.Add(element);
            if (array is null)
            {
                array = [];
                container.SetAnyCase(name, array);
            }

            array.Add(element);
        }

        foreach (var match in matches)
        {
            if (sub is not null)
            {
                match.SetAnyCase(sub, value?.DeepClone());
            }
            else
            {
                foreach (var (key, item) in ((JsonObject)value!).ToList())
                {
                    match.SetAnyCase(key, item?.DeepClone());
                }
            }
        }
    }

    private static void ApplySubAttribute(JsonObject container, string op, string name, string sub, JsonNode? value)
    {
        var current = container.Get(name);
        if (op == Remove)
        {
            switch (current)
            {
                case JsonObject obj:
                    obj.RemoveAnyCase(sub);
                    break;
                case JsonArray array:
                    foreach (var element in array.OfType<JsonObject>())
                    {
                        element.RemoveAnyCase(sub);
                    }

                    break;
            }

            return;
        }

        if (current is JsonArray elements)
        {
            foreach (var element in elements.OfType<JsonObject>())
            {
                element.SetAnyCase(sub, value?.DeepClone());
            }

            return;
        }

        var target = current as JsonObject ?? [];
        target.SetAnyCase(sub, value?.DeepClone());
        container.SetAnyCase(name, target);
    }

    private static IEnumerable<JsonNode> AsItems(JsonNode? value) => value switch
    {
        null => [],
        JsonArray array => array.Where(item => item is not null).Select(item => item!),
        _ => [value],
    };

    /// <summary>Value filters compare case-insensitively (types, role names), except routing skill and
    /// language names, which Genesys treats as case-sensitive: <c>routingSkills[name eq "billing"]</c>
    /// does not select "Billing".</summary>
    private static bool Matches(JsonObject element, IReadOnlyList<EqualsFilter> filter, string attribute) =>
        filter.All(clause => element.Get(clause.Attribute).ScalarText() is { } text
            && text.Equals(clause.Value, CaseSensitiveName(attribute, clause.Attribute) ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase));

    private static bool CaseSensitiveName(string attribute, string keyAttribute) =>
        keyAttribute.Equals(Attr.Name, StringComparison.OrdinalIgnoreCase)
        && (attribute.Equals(Attr.RoutingSkills, StringComparison.OrdinalIgnoreCase) || attribute.Equals(Attr.RoutingLanguages, StringComparison.OrdinalIgnoreCase));

    private static StringComparer KeyComparer(string attribute, string[] keys) =>
        CaseSensitiveName(attribute, keys[0]) ? StringComparer.Ordinal : StringComparer.OrdinalIgnoreCase;

    /// <summary>The identity of a multi-valued element (e.g. the type of an email, the value of a
    /// member), or null when it lacks one of the key fields.</summary>
    private static string? KeyOf(JsonNode? element, string[] keys)
    {
        if (element is not JsonObject obj)
        {
            return null;
        }

        var parts = new string[keys.Length];
        for (var i = 0; i < keys.Length; i++)
        {
            if (obj.Get(keys[i]).ScalarText() is not { } part)
            {
                return null;
            }

            parts[i] = part;
        }

        return string.Join('\u001f', parts);
    }

    /// <summary>Member values an operation carries, for the per-request member cap.</summary>
    public static int CountValues(PatchOperation operation, string attribute)
    {
        if (operation.Path is null)
        {
            return operation.Value is JsonObject values && values.Get(attribute) is JsonArray array ? array.Count : 0;
        }

        if (!operation.Path.StartsWith(attribute, StringComparison.OrdinalIgnoreCase))
        {
            return 0;
        }

        return operation.Value switch
        {
            JsonArray array => array.Count,
            null when operation.Path.Contains('[', StringComparison.Ordinal) => 1,
            null => 0,
            _ => 1,
        };
    }
}
