namespace ScimFunctions.Cli;

/// <summary>A group as a person reads it: the Entra display name, and the target group's name when it differs
/// (a <c>Sync__Groups__Map</c> entry). Either may be unknown; the ids are kept for JSON.</summary>
/// <param name="TargetName">The target group's display name: the map entry, or the Entra name (groups are matched by
/// it); null when the map names the target group by id (<c>id:…</c>) or the Entra name is unknown.</param>
internal sealed record GroupName(string Id, string? EntraName, string? TargetName, string? TargetId)
{
    public string Label => EntraName is null
        ? TargetName is null ? Id : $"{Id} (target \"{TargetName}\")"
        : TargetName is null || string.Equals(TargetName, EntraName, StringComparison.OrdinalIgnoreCase)
            ? EntraName
            : $"{EntraName} (target \"{TargetName}\")";

    /// <summary>The target name from the group map, matched as the converger matches it (by id, then by Entra name).</summary>
    public static string? TargetNameOf(IReadOnlyDictionary<string, string> map, string id, string? entraName)
    {
        var mapped = map.TryGetValue(id, out var byId) ? byId
            : entraName is not null && map.TryGetValue(entraName, out var byName) ? byName
            : entraName;
        return mapped is not null && mapped.StartsWith("id:", StringComparison.OrdinalIgnoreCase) ? null : mapped;
    }
}

/// <summary>Group names by Entra id for the report classes; an id it does not know is shown as the id.</summary>
internal sealed class GroupNameBook(IReadOnlyDictionary<string, GroupName> names)
{
    public static GroupNameBook Empty { get; } = new(new Dictionary<string, GroupName>());

    public GroupName? Find(string? id) => id is not null && names.TryGetValue(id, out var name) ? name : null;

    /// <summary>The name to print; the id when the name is unknown.</summary>
    public string Label(string id) => Find(id)?.Label ?? id;

    /// <summary>The name with the id, for lines that must stay traceable (failures): <c>Sales Team (g-1…)</c>.</summary>
    public string LabelWithId(string id) => Find(id) is { EntraName: not null } name ? $"{name.Label} ({id})" : id;
}
