using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using ScimFunctions.Provisioning.Scim;

namespace ScimFunctions.Provisioning.Sync.Entitlements;

/// <summary>What kind of value an entitlement key names.</summary>
public enum EntitlementKind
{
    Role,
    Skill,
    Language,
    Division,
}

/// <summary>An entitlement key of the projection, parsed.</summary>
public sealed record EntitlementKey(EntitlementKind Kind, string Name);

/// <summary>How entitlements live in a projection (SCIM path → value), so the mapping row's stored projection
/// is the memory of what rules granted. One key per value:
/// <list type="bullet">
/// <item><c>roles[value eq "Agent"]</c> → <c>granted</c></item>
/// <item><c>urn:…:genesys:purecloud:2.0:User:routingSkills[name eq "Billing"].proficiency</c> → <c>3</c> (languages alike)</item>
/// <item><c>urn:…:enterprise:2.0:User:division</c> → the division name</item>
/// </list>
/// A value the rules granted before and no longer give is kept as <see cref="Revoked"/> in the desired
/// projection, so every diff (from the stored projection or from what the target holds) removes it, and
/// only it. Values on the target with no key (granted by hand) are never touched.</summary>
public static class EntitlementProjection
{
    public const string Granted = "granted";

    /// <summary>Marks a value rules granted before and no longer give: the diff removes it.</summary>
    public const string Revoked = "(revoked)";

    /// <summary>Not a SCIM path: the rule groups the user was in when last converged, so a group change
    /// finds who left it. Never sent.</summary>
    public const string GroupsKey = "scimfn:entitlementGroups";

    public const string RolesAttribute = "roles";
    public const string SkillsAttribute = "routingSkills";
    public const string LanguagesAttribute = "routingLanguages";
    public const string NameAttribute = "name";
    public const string ProficiencyAttribute = "proficiency";

    private const string RolePrefix = RolesAttribute + "[value eq \"";
    private static readonly string SkillPrefix = $"{ScimSchemas.GenesysUser}:{SkillsAttribute}[name eq \"";
    private static readonly string LanguagePrefix = $"{ScimSchemas.GenesysUser}:{LanguagesAttribute}[name eq \"";
    private const string ProficiencySuffix = "\"]." + ProficiencyAttribute;
    private const string EntrySuffix = "\"]";

    public static readonly string DivisionKey = ScimSchemas.EnterpriseUser + ":division";

    public static string RoleKey(string name) => RolePrefix + Escape(name) + EntrySuffix;

    public static string SkillKey(string name) => SkillPrefix + Escape(name) + ProficiencySuffix;

    public static string LanguageKey(string name) => LanguagePrefix + Escape(name) + ProficiencySuffix;

    public static string Key(EntitlementKind kind, string name) => kind switch
    {
        EntitlementKind.Role => RoleKey(name),
        EntitlementKind.Skill => SkillKey(name),
        EntitlementKind.Language => LanguageKey(name),
        _ => DivisionKey,
    };

    /// <summary>Names the rule-granted values a rejected PATCH carried, for its failure message. A target's own
    /// detail is redacted of quoted values (it may echo a userName or e-mail); these names come from the
    /// connector's rules, not from the directory, so they can name what the target refused.</summary>
    private static readonly System.Text.Json.JsonSerializerOptions Unescaped = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string DescribeSent(IReadOnlyDictionary<string, string> desired, IReadOnlyList<ScimFunctions.Provisioning.Scim.ScimPatchOperation> ops)
    {
        var sent = string.Join("\n", ops.Select(o => $"{o.Path} {o.Value?.ToJsonString(Unescaped)}"));
        var names = desired
            .Select(kv => (Key: Parse(kv.Key), kv.Value))
            .Where(p => p.Key is not null && IsGranted(p.Value))
            .Select(p => p.Key!.Kind == EntitlementKind.Division ? (Kind: "division", Name: p.Value) : (Kind: p.Key.Kind.ToString().ToLowerInvariant(), p.Key.Name))
            .Where(p => sent.Contains(p.Name, StringComparison.Ordinal))
            .Select(p => $"{p.Kind} '{p.Name}'")
            .Order(StringComparer.Ordinal)
            .ToList();
        return names.Count == 0 ? "" : " Rule-granted values in the change: " + string.Join(", ", names) + ".";
    }

    public static string FormatProficiency(double proficiency) => proficiency.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>The entitlement a key names, or null for any other key.</summary>
    public static EntitlementKey? Parse(string key)
    {
        if (key == DivisionKey)
        {
            return new EntitlementKey(EntitlementKind.Division, "");
        }

        if (key.StartsWith(RolePrefix, StringComparison.Ordinal) && key.EndsWith(EntrySuffix, StringComparison.Ordinal))
        {
            return new EntitlementKey(EntitlementKind.Role, Unescape(key[RolePrefix.Length..^EntrySuffix.Length]));
        }

        if (key.StartsWith(SkillPrefix, StringComparison.Ordinal) && key.EndsWith(ProficiencySuffix, StringComparison.Ordinal))
        {
            return new EntitlementKey(EntitlementKind.Skill, Unescape(key[SkillPrefix.Length..^ProficiencySuffix.Length]));
        }

        if (key.StartsWith(LanguagePrefix, StringComparison.Ordinal) && key.EndsWith(ProficiencySuffix, StringComparison.Ordinal))
        {
            return new EntitlementKey(EntitlementKind.Language, Unescape(key[LanguagePrefix.Length..^ProficiencySuffix.Length]));
        }

        return null;
    }

    /// <summary>Keys this file handles: entitlement keys the attribute mapping does not own (a mapped
    /// division stays the mapping's).</summary>
    private static IEnumerable<(string Key, EntitlementKey Entitlement, string Value)> Entries(IReadOnlyDictionary<string, string> projection, AttributeMapper mapper)
    {
        foreach (var (key, value) in projection)
        {
            if (Parse(key) is { } entitlement && (entitlement.Kind != EntitlementKind.Division || mapper.Find(key) is null))
            {
                yield return (key, entitlement, value);
            }
        }
    }

    /// <summary>True when the projection holds an entitlement granted (not revoked) by rules.</summary>
    public static bool IsGranted(string value) => value != Revoked;

    /// <summary>The projection the hash is taken over: revoke markers are bookkeeping, not state.</summary>
    public static IEnumerable<KeyValuePair<string, string>> ForHash(IReadOnlyDictionary<string, string> projection) =>
        projection.Where(p => p.Value != Revoked || Parse(p.Key) is null);

    /// <summary>Puts the granted entitlements into a create body.</summary>
    public static void AddToCreateBody(JsonObject body, IReadOnlyDictionary<string, string> projection, AttributeMapper mapper)
    {
        foreach (var (_, entitlement, value) in Entries(projection, mapper).Where(e => IsGranted(e.Value)))
        {
            switch (entitlement.Kind)
            {
                case EntitlementKind.Role:
                    Array(body, RolesAttribute).Add(new JsonObject { [ScimAttributes.Value] = entitlement.Name });
                    break;
                case EntitlementKind.Skill:
                    Array(Extension(body, ScimSchemas.GenesysUser), SkillsAttribute).Add(Routing(entitlement.Name, value));
                    break;
                case EntitlementKind.Language:
                    Array(Extension(body, ScimSchemas.GenesysUser), LanguagesAttribute).Add(Routing(entitlement.Name, value));
                    break;
                case EntitlementKind.Division:
                    Extension(body, ScimSchemas.EnterpriseUser)["division"] = value;
                    break;
            }
        }
    }

    /// <summary>Adds what the target holds (every role, skill, language and the division, granted by rules or
    /// by hand) to a projection read from a resource.</summary>
    public static void ReadCurrent(JsonObject resource, IDictionary<string, string> values, AttributeMapper mapper)
    {
        foreach (var role in (Get(resource, RolesAttribute) as JsonArray ?? []).OfType<JsonObject>())
        {
            if (Get(role, ScimAttributes.Value) is JsonValue v && v.TryGetValue<string>(out var name) && !string.IsNullOrEmpty(name))
            {
                values[RoleKey(name)] = Granted;
            }
        }

        var genesys = Get(resource, ScimSchemas.GenesysUser) as JsonObject;
        ReadRouting(genesys, SkillsAttribute, SkillKey, values);
        ReadRouting(genesys, LanguagesAttribute, LanguageKey, values);
        if (mapper.Find(DivisionKey) is null && Get(resource, ScimSchemas.EnterpriseUser) is JsonObject enterprise
            && Get(enterprise, "division") is JsonValue division && division.TryGetValue<string>(out var divisionName) && !string.IsNullOrEmpty(divisionName))
        {
            values[DivisionKey] = divisionName;
        }
    }

    /// <summary>The entitlement keys whose value the diff would change.</summary>
    public static IEnumerable<string> ChangedKeys(IReadOnlyDictionary<string, string>? current, IReadOnlyDictionary<string, string> desired, AttributeMapper mapper) =>
        Entries(desired, mapper).Where(e => Differs(current, e.Key, e.Entitlement, e.Value)).Select(e => e.Key);

    /// <summary>One operation per changed value: add of new roles / skills / languages (one add per attribute),
    /// replace of a changed proficiency or division, remove of a revoked value. Never a whole-list write.</summary>
    public static void Diff(IReadOnlyDictionary<string, string>? current, IReadOnlyDictionary<string, string> desired, AttributeMapper mapper, List<ScimPatchOperation> ops)
    {
        var addRoles = new JsonArray();
        var addSkills = new JsonArray();
        var addLanguages = new JsonArray();
        foreach (var (key, entitlement, value) in Entries(desired, mapper).OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            if (!Differs(current, key, entitlement, value))
            {
                continue;
            }

            var held = current is not null && current.TryGetValue(key, out var c) && IsGranted(c);
            switch (entitlement.Kind)
            {
                case EntitlementKind.Division:
                    ops.Add(ScimPatchOperation.Replace(DivisionKey, JsonValue.Create(value)));
                    break;
                case EntitlementKind.Role when !IsGranted(value):
                    ops.Add(ScimPatchOperation.Remove(key));
                    break;
                case EntitlementKind.Role:
                    addRoles.Add(new JsonObject { [ScimAttributes.Value] = entitlement.Name });
                    break;
                case EntitlementKind.Skill or EntitlementKind.Language when !IsGranted(value):
                    ops.Add(ScimPatchOperation.Remove(key[..^(ProficiencyAttribute.Length + 1)]));
                    break;
                case EntitlementKind.Skill or EntitlementKind.Language when held:
                    ops.Add(ScimPatchOperation.Replace(key, JsonValue.Create(ParseProficiency(value))));
                    break;
                case EntitlementKind.Skill:
                    addSkills.Add(Routing(entitlement.Name, value));
                    break;
                case EntitlementKind.Language:
                    addLanguages.Add(Routing(entitlement.Name, value));
                    break;
            }
        }

        if (addRoles.Count > 0)
        {
            ops.Add(ScimPatchOperation.Add(RolesAttribute, addRoles));
        }

        if (addSkills.Count > 0)
        {
            ops.Add(ScimPatchOperation.Add($"{ScimSchemas.GenesysUser}:{SkillsAttribute}", addSkills));
        }

        if (addLanguages.Count > 0)
        {
            ops.Add(ScimPatchOperation.Add($"{ScimSchemas.GenesysUser}:{LanguagesAttribute}", addLanguages));
        }
    }

    private static bool Differs(IReadOnlyDictionary<string, string>? current, string key, EntitlementKey entitlement, string desired)
    {
        string? held = null;
        if (current is not null && current.TryGetValue(key, out var c) && IsGranted(c))
        {
            held = c;
        }

        if (!IsGranted(desired))
        {
            return held is not null;
        }

        return entitlement.Kind switch
        {
            EntitlementKind.Role => held is null,
            EntitlementKind.Division => !string.Equals(held, desired, StringComparison.OrdinalIgnoreCase),
            _ => held is null || ParseProficiency(held) != ParseProficiency(desired),
        };
    }

    private static double ParseProficiency(string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var p) ? p : double.NaN;

    private static JsonObject Routing(string name, string proficiency) =>
        new() { [NameAttribute] = name, [ProficiencyAttribute] = ParseProficiency(proficiency) };

    private static void ReadRouting(JsonObject? genesys, string attribute, Func<string, string> key, IDictionary<string, string> values)
    {
        var entries = genesys is null ? null : Get(genesys, attribute) as JsonArray;
        foreach (var entry in entries ?? [])
        {
            if (entry is JsonObject obj && Get(obj, NameAttribute) is JsonValue n && n.TryGetValue<string>(out var name) && !string.IsNullOrEmpty(name))
            {
                var proficiency = Get(obj, ProficiencyAttribute) is JsonValue p && p.TryGetValue<double>(out var d) ? d : 0;
                values[key(name)] = FormatProficiency(proficiency);
            }
        }
    }

    private static JsonObject Extension(JsonObject body, string schema)
    {
        if (body[schema] is not JsonObject extension)
        {
            extension = new JsonObject();
            body[schema] = extension;
            if (body[ScimAttributes.Schemas] is JsonArray schemas && !schemas.Any(s => s?.GetValue<string>() == schema))
            {
                schemas.Add(schema);
            }
        }

        return extension;
    }

    private static JsonArray Array(JsonObject container, string name)
    {
        if (container[name] is not JsonArray array)
        {
            array = [];
            container[name] = array;
        }

        return array;
    }

    private static JsonNode? Get(JsonObject obj, string name)
    {
        if (obj.TryGetPropertyValue(name, out var node))
        {
            return node;
        }

        return obj.FirstOrDefault(p => p.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;
    }

    private static string Escape(string name) => name.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);

    private static string Unescape(string text)
    {
        var builder = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\' && i + 1 < text.Length)
            {
                i++;
            }

            builder.Append(text[i]);
        }

        return builder.ToString();
    }
}
