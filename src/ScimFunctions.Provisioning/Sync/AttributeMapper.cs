using System.Globalization;
using System.Text.Json;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Scim;

namespace ScimFunctions.Provisioning.Sync;

/// <summary>One validated mapping rule.</summary>
public sealed record MappedAttribute(ScimPath Path, string? Source, IReadOnlyList<string> Transforms, string? Default, string? Constant)
{
    public bool IsManager => Path.IsManager;
}

/// <summary>The desired SCIM attributes of a user: SCIM path → value (booleans as <c>true</c>/<c>false</c>),
/// plus the manager it is still waiting for.</summary>
public sealed record ProjectionResult(IReadOnlyDictionary<string, string> Values, string? PendingManagerId);

/// <summary>Turns a Graph user into its desired SCIM attributes according to the configured mapping.
/// The mapping decides which attributes are owned: nothing else is ever written.</summary>
public sealed class AttributeMapper
{
    public const string Setting = "Sync__AttributeMapping";

    private static readonly string[] KnownTransforms = ["lower", "upper", "trim", "first", "e164"];

    private readonly string? _defaultCountryCode;

    public AttributeMapper(IReadOnlyList<AttributeMappingRule> rules, string? defaultCountryCode = null, IReadOnlySet<string>? supportedSchemas = null)
    {
        _defaultCountryCode = defaultCountryCode;
        var attributes = new List<MappedAttribute>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < rules.Count; i++)
        {
            var rule = rules[i];
            if (string.IsNullOrWhiteSpace(rule.Target))
            {
                throw new FormatException($"Setting {Setting}: rule {i} has no 'target' (the SCIM path to write).");
            }

            ScimPath path;
            try
            {
                path = ScimPath.Parse(rule.Target);
            }
            catch (FormatException ex)
            {
                throw new FormatException($"Setting {Setting}: rule {i}: {ex.Message}", ex);
            }

            if (rule.Source is null && rule.Constant is null && rule.Default is null)
            {
                throw new FormatException($"Setting {Setting}: rule {i} ('{path}') needs a 'source' Graph property or a 'constant'.");
            }

            var transforms = (rule.Transforms ?? [])
                .Concat((rule.Transform ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                .Select(t => t.Trim().ToLowerInvariant())
                .ToList();
            foreach (var t in transforms)
            {
                if (!KnownTransforms.Contains(t))
                {
                    throw new FormatException($"Setting {Setting}: rule {i} ('{path}') has unknown transform '{t}'; known: {string.Join(", ", KnownTransforms)}.");
                }
            }

            if (!seen.Add(path.Text))
            {
                throw new FormatException($"Setting {Setting}: '{path}' is mapped twice.");
            }

            if (path.Attribute.Equals(ScimAttributes.Members, StringComparison.OrdinalIgnoreCase) || path.Attribute.Equals("groups", StringComparison.OrdinalIgnoreCase)
                || path.Attribute.Equals("id", StringComparison.OrdinalIgnoreCase) || path.Attribute.Equals("meta", StringComparison.OrdinalIgnoreCase)
                || path.Attribute.Equals("password", StringComparison.OrdinalIgnoreCase))
            {
                throw new FormatException($"Setting {Setting}: '{path}' cannot be mapped (read-only or managed elsewhere).");
            }

            if (path.Schema is not null && supportedSchemas is not null && !supportedSchemas.Contains(path.Schema))
            {
                // The target does not take this extension: leave the rule out rather than send what it rejects.
                continue;
            }

            attributes.Add(new MappedAttribute(path, rule.Constant is null ? rule.Source?.Trim() : null, transforms, rule.Default, rule.Constant));
        }

        if (!attributes.Any(a => a.Path.Text == ScimAttributes.UserName))
        {
            throw new FormatException($"Setting {Setting} must map 'userName' (the target requires it to create a user).");
        }

        if (!attributes.Any(a => a.Path.IsBoolean))
        {
            // Disabling a leaver writes active=false, so 'active' is always owned.
            attributes.Add(new MappedAttribute(ScimPath.Parse(ScimAttributes.Active), "accountEnabled", [], null, null));
        }

        Attributes = attributes;
        ManagerAttribute = attributes.FirstOrDefault(a => a.IsManager);
    }

    public IReadOnlyList<MappedAttribute> Attributes { get; }

    public MappedAttribute? ManagerAttribute { get; }

    public MappedAttribute? Find(string path) => Attributes.FirstOrDefault(a => a.Path.Text == path);

    /// <summary>The default mapping, matching Entra's Genesys Cloud gallery app.</summary>
    public static List<AttributeMappingRule> DefaultRules(string? division = null)
    {
        var rules = new List<AttributeMappingRule>
        {
            new() { Target = "userName", Source = "userPrincipalName" },
            new() { Target = "displayName", Source = "displayName" },
            new() { Target = "active", Source = "accountEnabled" },
            new() { Target = "emails[type eq \"work\"].value", Source = "mail" },
            new() { Target = "title", Source = "jobTitle" },
            new() { Target = "phoneNumbers[type eq \"work\"].value", Source = "businessPhones", Transforms = ["first", "e164"] },
            new() { Target = "phoneNumbers[type eq \"mobile\"].value", Source = "mobilePhone", Transforms = ["e164"] },
            new() { Target = ScimSchemas.EnterpriseUser + ":department", Source = "department" },
            new() { Target = ScimSchemas.EnterpriseUser + ":manager", Source = "manager" },
            new() { Target = ScimSchemas.EnterpriseUser + ":employeeNumber", Source = "employeeId" },
            new() { Target = "externalId", Source = "id" },
        };
        if (!string.IsNullOrWhiteSpace(division))
        {
            rules.Add(new() { Target = ScimSchemas.EnterpriseUser + ":division", Constant = division });
        }

        return rules;
    }

    /// <summary>Reads <c>Sync:AttributeMapping</c>: a JSON array in one setting, or an array section
    /// (<c>Sync__AttributeMapping__0__Target</c>…); absent means the default.</summary>
    public static List<AttributeMappingRule> ParseRules(string? json, List<AttributeMappingRule>? bound, string? division)
    {
        List<AttributeMappingRule>? rules = bound is { Count: > 0 } ? bound : null;
        if (!string.IsNullOrWhiteSpace(json))
        {
            try
            {
                rules = JsonSerializer.Deserialize(json, SyncJsonContext.Default.ListAttributeMappingRule)
                    ?? throw new FormatException($"Setting {Setting} is JSON null; give an array of rules or leave it out for the default.");
            }
            catch (JsonException ex)
            {
                throw new FormatException($"Setting {Setting} is not a valid JSON array of rules: {ex.Message}", ex);
            }
        }

        rules ??= DefaultRules(division);
        if (!string.IsNullOrWhiteSpace(division) && !rules.Any(r => r.Target.EndsWith(":division", StringComparison.OrdinalIgnoreCase)))
        {
            rules.Add(new() { Target = ScimSchemas.EnterpriseUser + ":division", Constant = division });
        }

        return rules;
    }

    /// <summary>The desired attributes. <paramref name="managerScimId"/> is the target id of the user's
    /// manager when the manager is provisioned; otherwise the manager is left out and reported pending.</summary>
    public ProjectionResult Project(DirectoryUser user, string? managerScimId)
    {
        var values = new SortedDictionary<string, string>(StringComparer.Ordinal);
        string? pendingManager = null;
        foreach (var attribute in Attributes)
        {
            string? value;
            if (attribute.IsManager && attribute.Constant is null)
            {
                value = managerScimId;
                if (value is null && !string.IsNullOrEmpty(user.ManagerId))
                {
                    pendingManager = user.ManagerId;
                }
            }
            else
            {
                value = Evaluate(attribute, user);
            }

            if (!string.IsNullOrEmpty(value))
            {
                values[attribute.Path.Text] = value;
            }
        }

        return new ProjectionResult(values, pendingManager);
    }

    private string? Evaluate(MappedAttribute attribute, DirectoryUser user)
    {
        if (attribute.Constant is not null)
        {
            return attribute.Constant;
        }

        IReadOnlyList<string> values = attribute.Source is null ? [] : ReadSource(user, attribute.Source);
        foreach (var transform in attribute.Transforms)
        {
            values = transform switch
            {
                "first" => values.Where(v => !string.IsNullOrWhiteSpace(v)).Take(1).ToList(),
                "lower" => values.Select(v => v.ToLowerInvariant()).ToList(),
                "upper" => values.Select(v => v.ToUpperInvariant()).ToList(),
                "trim" => values.Select(v => v.Trim()).ToList(),
                "e164" => values.Select(v => PhoneNumbers.ToE164(v, _defaultCountryCode)).OfType<string>().ToList(),
                _ => values,
            };
        }

        var result = values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));
        if (result is null)
        {
            return attribute.Default;
        }

        return attribute.Path.IsBoolean ? NormaliseBoolean(result) : result;
    }

    private static string NormaliseBoolean(string value) =>
        bool.TryParse(value, out var b) ? (b ? "true" : "false") : value.ToLowerInvariant();

    /// <summary>A Graph property by its Graph name (case-insensitive); lists come back whole.</summary>
    public static IReadOnlyList<string> ReadSource(DirectoryUser user, string source)
    {
        string? single = source.ToLowerInvariant() switch
        {
            "id" or "objectid" => user.Id,
            "userprincipalname" => user.UserPrincipalName,
            "displayname" => user.DisplayName,
            "accountenabled" => user.AccountEnabled ? "true" : "false",
            "mail" => user.Mail,
            "jobtitle" => user.JobTitle,
            "department" => user.Department,
            "employeeid" => user.EmployeeId,
            "mobilephone" => user.MobilePhone,
            "businessphones" => null,
            "manager" => user.ManagerId,
            _ => LookupProperty(user, source),
        };
        if (source.Equals("businessPhones", StringComparison.OrdinalIgnoreCase))
        {
            return user.BusinessPhones;
        }

        return single is null ? [] : [single];
    }

    private static string? LookupProperty(DirectoryUser user, string name)
    {
        if (user.Properties.TryGetValue(name, out var value))
        {
            return value;
        }

        foreach (var (key, v) in user.Properties)
        {
            if (key.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return v;
            }
        }

        return null;
    }

    /// <summary>Formats for the log and plan: never values, only paths.</summary>
    public static string Paths(IEnumerable<string> paths) => string.Join(", ", paths);

    internal static string FormatBoolean(bool value) => value.ToString(CultureInfo.InvariantCulture).ToLowerInvariant();
}
