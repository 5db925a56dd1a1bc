using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ScimFunctions.Provisioning.Sync.Entitlements;

/// <summary>One routing skill or language a rule grants.</summary>
public sealed class RoutingGrantSetting
{
    public string? Name { get; set; }

    public double? Proficiency { get; set; }
}

/// <summary>One entitlement rule as configured: an Entra group and what its members get.</summary>
public sealed class EntitlementRuleSetting
{
    /// <summary>Entra group object id, or its displayName (resolved to the id at start).</summary>
    public string? Group { get; set; }

    /// <summary>Count members of nested groups too.</summary>
    public bool Transitive { get; set; }

    public List<string>? Roles { get; set; }

    public string? Division { get; set; }

    /// <summary>Decides the division when a user is in several groups that give one: the highest wins.</summary>
    public int? Priority { get; set; }

    public List<RoutingGrantSetting>? Skills { get; set; }

    public List<RoutingGrantSetting>? Languages { get; set; }
}

/// <summary>The whole <c>Sync__Entitlements</c> setting.</summary>
public sealed class EntitlementSettings
{
    /// <summary>Division of a user whose groups give none. Null: the division is left as it is.</summary>
    public string? DefaultDivision { get; set; }

    public List<EntitlementRuleSetting>? Rules { get; set; }
}

/// <summary>A routing skill or language with its proficiency (0.0–5.0).</summary>
public sealed record RoutingGrant(string Name, double Proficiency);

/// <summary>One validated rule. A rule configured with a group displayName has <see cref="GroupName"/> set and
/// an empty <see cref="GroupId"/> until <see cref="EntitlementResolver"/> resolves the name to exactly one group;
/// nothing reads members of a rule that is not resolved.</summary>
public sealed record EntitlementRule(
    int Index,
    string GroupId,
    bool Transitive,
    IReadOnlyList<string> Roles,
    string? Division,
    int Priority,
    IReadOnlyList<RoutingGrant> Skills,
    IReadOnlyList<RoutingGrant> Languages,
    string? GroupName = null)
{
    public bool IsResolved => GroupId.Length > 0;

    public string Label => GroupName is null
        ? $"rule {Index.ToString(CultureInfo.InvariantCulture)} (group {GroupId})"
        : IsResolved
            ? $"rule {Index.ToString(CultureInfo.InvariantCulture)} (group '{GroupName}' = {GroupId})"
            : $"rule {Index.ToString(CultureInfo.InvariantCulture)} (group '{GroupName}')";
}

/// <summary>The validated entitlement rules. <see cref="Parse"/> is the ONE place the setting is checked:
/// every problem names <c>Sync__Entitlements</c> and the rule.</summary>
public sealed record EntitlementRules(IReadOnlyList<EntitlementRule> Rules, string? DefaultDivision)
{
    public const string Setting = "Sync__Entitlements";

    /// <summary>Genesys takes at most this many routing skills, and as many languages, per user.</summary>
    public const int MaxRoutingEntries = 50;

    public static readonly EntitlementRules None = new([], null);

    public bool IsEmpty => Rules.Count == 0 && DefaultDivision is null;

    public bool GivesDivision => DefaultDivision is not null || Rules.Any(r => r.Division is not null);

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNameCaseInsensitive = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>Parses and validates; throws <see cref="FormatException"/> listing every problem.</summary>
    public static EntitlementRules Parse(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return None;
        }

        EntitlementSettings? settings;
        try
        {
            settings = JsonSerializer.Deserialize<EntitlementSettings>(json, Json);
        }
        catch (JsonException ex)
        {
            throw new FormatException($"Setting {Setting} is not valid JSON of the form {{\"defaultDivision\":…,\"rules\":[…]}}: {ex.Message}", ex);
        }

        var problems = new List<string>();
        var defaultDivision = settings?.DefaultDivision;
        if (defaultDivision is not null && string.IsNullOrWhiteSpace(defaultDivision))
        {
            problems.Add($"Setting {Setting}: 'defaultDivision' is empty; leave it out or name a Genesys division.");
        }

        var rules = new List<EntitlementRule>();
        var groups = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var input = settings?.Rules ?? [];
        for (var i = 0; i < input.Count; i++)
        {
            var rule = input[i];
            var where = $"Setting {Setting}: rule {i.ToString(CultureInfo.InvariantCulture)}";
            var group = rule.Group?.Trim();
            if (string.IsNullOrEmpty(group))
            {
                problems.Add($"{where} has no 'group' (the Entra group object id or displayName).");
                continue;
            }

            // Not a GUID: a displayName, resolved to exactly one group id at start (EntitlementResolver).
            var byName = !Guid.TryParse(group, out _);
            where = byName ? $"{where} (group '{group}')" : $"{where} (group {group})";
            if (!groups.Add(group))
            {
                problems.Add($"{where}: the group has another rule already; put everything it gives in one rule.");
            }

            var roles = new List<string>();
            foreach (var role in rule.Roles ?? [])
            {
                if (string.IsNullOrWhiteSpace(role))
                {
                    problems.Add($"{where} has an empty role name.");
                }
                else if (!roles.Contains(role.Trim(), StringComparer.OrdinalIgnoreCase))
                {
                    roles.Add(role.Trim());
                }
            }

            string? division = null;
            if (rule.Division is not null)
            {
                if (string.IsNullOrWhiteSpace(rule.Division))
                {
                    problems.Add($"{where} has an empty division name.");
                }
                else if (rule.Priority is null)
                {
                    problems.Add($"{where} gives division '{rule.Division.Trim()}' but no 'priority' (the highest priority wins when a user is in several such groups).");
                }
                else
                {
                    division = rule.Division.Trim();
                }
            }

            var skills = Routing(rule.Skills, "skill", where, problems);
            var languages = Routing(rule.Languages, "language", where, problems);
            if (roles.Count == 0 && rule.Division is null && skills.Count == 0 && languages.Count == 0)
            {
                problems.Add($"{where} gives nothing (no roles, division, skills or languages).");
            }

            rules.Add(new EntitlementRule(i, byName ? "" : group, rule.Transitive, roles, division, rule.Priority ?? 0, skills, languages, byName ? group : null));
        }

        foreach (var tie in rules.Where(r => r.Division is not null).GroupBy(r => r.Priority).Where(g => g.Select(r => r.Division).Distinct(StringComparer.Ordinal).Count() > 1))
        {
            problems.Add($"Setting {Setting}: {string.Join(" and ", tie.Select(r => r.Label))} give different divisions at the same priority {tie.Key.ToString(CultureInfo.InvariantCulture)}; give them different priorities.");
        }

        // A user in every rule group gets the union: that bound must fit the target's limit.
        CheckReachable(rules.SelectMany(r => r.Skills), "skills", problems);
        CheckReachable(rules.SelectMany(r => r.Languages), "languages", problems);

        if (problems.Count > 0)
        {
            throw new FormatException(string.Join(Environment.NewLine, problems));
        }

        return new EntitlementRules(rules, defaultDivision?.Trim());
    }

    private static List<RoutingGrant> Routing(List<RoutingGrantSetting>? entries, string what, string where, List<string> problems)
    {
        var result = new List<RoutingGrant>();
        for (var j = 0; j < (entries?.Count ?? 0); j++)
        {
            var entry = entries![j];
            if (string.IsNullOrWhiteSpace(entry.Name))
            {
                problems.Add($"{where}: {what} {j.ToString(CultureInfo.InvariantCulture)} has no name.");
                continue;
            }

            if (entry.Proficiency is not { } proficiency || double.IsNaN(proficiency) || proficiency is < 0 or > 5)
            {
                problems.Add($"{where}: {what} '{entry.Name}' needs a proficiency from 0.0 to 5.0 (got {entry.Proficiency?.ToString(CultureInfo.InvariantCulture) ?? "none"}).");
                continue;
            }

            // Skill and language names are case-sensitive in Genesys: keep them exactly as written.
            if (result.Any(r => r.Name == entry.Name))
            {
                problems.Add($"{where}: {what} '{entry.Name}' is listed twice.");
                continue;
            }

            result.Add(new RoutingGrant(entry.Name, proficiency));
        }

        return result;
    }

    private static void CheckReachable(IEnumerable<RoutingGrant> grants, string what, List<string> problems)
    {
        var names = grants.Select(g => g.Name).Distinct(StringComparer.Ordinal).Count();
        if (names > MaxRoutingEntries)
        {
            problems.Add($"Setting {Setting}: the rules give {names.ToString(CultureInfo.InvariantCulture)} different routing {what}; a user in all their groups would get more than the {MaxRoutingEntries.ToString(CultureInfo.InvariantCulture)} Genesys allows.");
        }
    }
}
