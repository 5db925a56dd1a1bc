using System.Text.Json;
using System.Text.Json.Nodes;

namespace ScimFunctions.Provisioning.Directory;

/// <summary>A member reference in a snapshot group: its id and, when given, its <c>@odata.type</c>.</summary>
internal sealed record SnapshotMember(string Id, string? ODataType);

internal sealed record SnapshotGroup(string Id, string DisplayName, IReadOnlyList<SnapshotMember> Members);

/// <summary>A whole directory read from a snapshot file and checked: every user has an id and the right
/// types, no id appears twice, and the file is not empty.</summary>
internal sealed class SnapshotFile
{
    private const int MaxReportedProblems = 20;

    private static readonly HashSet<string> OwnFields = new(StringComparer.Ordinal)
    {
        "id", "userPrincipalName", "displayName", "accountEnabled", "mail", "jobTitle", "department",
        "employeeId", "mobilePhone", "businessPhones", "manager",
    };

    private SnapshotFile(OrderedDictionary<string, DirectoryUser> users, OrderedDictionary<string, SnapshotGroup> groups)
    {
        Users = users;
        Groups = groups;
        UsersByPrincipalName = users.Values
            .Where(u => u.UserPrincipalName is not null)
            .ToDictionary(u => u.UserPrincipalName!, StringComparer.OrdinalIgnoreCase);
    }

    public OrderedDictionary<string, DirectoryUser> Users { get; }

    public OrderedDictionary<string, SnapshotGroup> Groups { get; }

    public Dictionary<string, DirectoryUser> UsersByPrincipalName { get; }

    /// <summary>Reads and checks <paramref name="path"/>.</summary>
    /// <exception cref="DirectoryUnavailableException">The file is missing, unreadable, empty, not JSON or
    /// not a valid snapshot; the message names the file and every problem found (up to 20).</exception>
    public static async Task<SnapshotFile> ReadAsync(string path, CancellationToken cancellationToken = default) =>
        Parse(path, await ReadBytesAsync(path, cancellationToken));

    /// <exception cref="DirectoryUnavailableException">The file is missing or unreadable.</exception>
    public static async Task<byte[]> ReadBytesAsync(string path, CancellationToken cancellationToken = default)
    {
        try
        {
            return await File.ReadAllBytesAsync(path, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.SecurityException)
        {
            var problem = ex is FileNotFoundException or DirectoryNotFoundException ? "it does not exist" : $"it cannot be read ({ex.Message})";
            throw Invalid(path, problem, ex);
        }
    }

    public static SnapshotFile Parse(string path, ReadOnlySpan<byte> content)
    {
        if (content.StartsWith("\uFEFF"u8))
        {
            content = content[3..];
        }

        if (content.Trim(" \t\r\n"u8).IsEmpty)
        {
            throw Invalid(path, "it is empty. A snapshot is the whole directory; an empty one is refused, never read as \"everyone left\"");
        }

        JsonNode? root;
        try
        {
            root = JsonNode.Parse(content, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException ex)
        {
            var where = ex.LineNumber is { } line ? $" at line {line + 1}, position {(ex.BytePositionInLine ?? 0) + 1}" : "";
            throw Invalid(path, $"it is not valid JSON{where}", ex);
        }

        var problems = new List<string>();
        if (root is not JsonObject document)
        {
            throw Invalid(path, "$ must be an object with \"users\" and \"groups\" arrays");
        }

        var users = ReadUsers(document, problems);
        var groups = ReadGroups(document, users, problems);
        if (problems.Count > 0)
        {
            var shown = problems.Take(MaxReportedProblems).ToList();
            var more = problems.Count > shown.Count ? $" (and {problems.Count - shown.Count} more)" : "";
            throw Invalid(path, $"{problems.Count} problem{(problems.Count == 1 ? "" : "s")}: {string.Join("; ", shown)}{more}");
        }

        return new SnapshotFile(users, groups);
    }

    private static OrderedDictionary<string, DirectoryUser> ReadUsers(JsonObject document, List<string> problems)
    {
        var users = new OrderedDictionary<string, DirectoryUser>(StringComparer.Ordinal);
        if (!document.TryGetPropertyValue("users", out var usersNode) || usersNode is null)
        {
            problems.Add("$.users is missing");
            return users;
        }

        if (usersNode is not JsonArray array)
        {
            problems.Add($"$.users must be an array, not {Kind(usersNode)}");
            return users;
        }

        if (array.Count == 0)
        {
            problems.Add("$.users is empty. A snapshot is the whole directory; an empty one is refused, never read as \"everyone left\"");
            return users;
        }

        var firstPathOfId = new Dictionary<string, string>(StringComparer.Ordinal);
        var firstPathOfPrincipalName = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < array.Count; i++)
        {
            var at = $"$.users[{i}]";
            if (array[i] is not JsonObject user)
            {
                problems.Add($"{at} must be an object, not {Kind(array[i])}");
                continue;
            }

            var before = problems.Count;
            var id = RequiredString(user, "id", at, problems);
            var principalName = OptionalString(user, "userPrincipalName", at, problems);
            var displayName = OptionalString(user, "displayName", at, problems);
            bool? accountEnabled = null;
            if (!user.TryGetPropertyValue("accountEnabled", out var enabledNode) || enabledNode is null)
            {
                problems.Add($"{at}.accountEnabled is missing: it must be true or false (a guess could disable or revive someone)");
            }
            else if (enabledNode.GetValueKind() is JsonValueKind.True or JsonValueKind.False)
            {
                accountEnabled = enabledNode.GetValue<bool>();
            }
            else
            {
                problems.Add($"{at}.accountEnabled must be true or false, not {Kind(enabledNode)}");
            }

            var mail = OptionalString(user, "mail", at, problems);
            var jobTitle = OptionalString(user, "jobTitle", at, problems);
            var department = OptionalString(user, "department", at, problems);
            var employeeId = OptionalString(user, "employeeId", at, problems);
            var mobilePhone = OptionalString(user, "mobilePhone", at, problems);
            var businessPhones = StringArray(user, "businessPhones", at, problems);
            string? managerId = null;
            if (user.TryGetPropertyValue("manager", out var managerNode) && managerNode is not null)
            {
                if (managerNode is JsonObject manager)
                {
                    managerId = RequiredString(manager, "id", $"{at}.manager", problems);
                }
                else
                {
                    problems.Add($"{at}.manager must be an object {{ \"id\": … }} or null, not {Kind(managerNode)}");
                }
            }

            var properties = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (name, value) in user)
            {
                if (!OwnFields.Contains(name) && !name.StartsWith('@') && !name.Contains("@odata", StringComparison.Ordinal))
                {
                    GraphPayload.Flatten(properties, name, value);
                }
            }

            if (id is null || problems.Count > before)
            {
                continue;
            }

            if (!firstPathOfId.TryAdd(id, at))
            {
                problems.Add($"{at}.id '{id}' is a duplicate of {firstPathOfId[id]}.id");
                continue;
            }

            if (principalName is not null && !firstPathOfPrincipalName.TryAdd(principalName, at))
            {
                // The name itself is personal data and this message is logged: the paths are enough.
                problems.Add($"{at}.userPrincipalName is a duplicate of {firstPathOfPrincipalName[principalName]}.userPrincipalName (names are compared without case)");
                continue;
            }

            users[id] = new DirectoryUser(
                id, principalName, displayName, accountEnabled!.Value, mail, jobTitle, department, employeeId, mobilePhone,
                businessPhones, managerId, properties);
        }

        return users;
    }

    private static OrderedDictionary<string, SnapshotGroup> ReadGroups(JsonObject document, OrderedDictionary<string, DirectoryUser> users, List<string> problems)
    {
        var groups = new OrderedDictionary<string, SnapshotGroup>(StringComparer.Ordinal);
        if (!document.TryGetPropertyValue("groups", out var groupsNode) || groupsNode is null)
        {
            // Absent groups would read as "every group was deleted"; the file must say so with [].
            problems.Add("$.groups is missing (write \"groups\": [] for a directory without groups)");
            return groups;
        }

        if (groupsNode is not JsonArray array)
        {
            problems.Add($"$.groups must be an array, not {Kind(groupsNode)}");
            return groups;
        }

        var firstPathOfId = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < array.Count; i++)
        {
            var at = $"$.groups[{i}]";
            if (array[i] is not JsonObject group)
            {
                problems.Add($"{at} must be an object, not {Kind(array[i])}");
                continue;
            }

            var before = problems.Count;
            var id = RequiredString(group, "id", at, problems);
            var displayName = RequiredString(group, "displayName", at, problems);
            var members = new List<SnapshotMember>();
            if (group.TryGetPropertyValue("members", out var membersNode) && membersNode is not null)
            {
                if (membersNode is not JsonArray memberArray)
                {
                    problems.Add($"{at}.members must be an array, not {Kind(membersNode)}");
                }
                else
                {
                    for (var m = 0; m < memberArray.Count; m++)
                    {
                        var memberAt = $"{at}.members[{m}]";
                        if (memberArray[m] is not JsonObject member)
                        {
                            problems.Add($"{memberAt} must be an object {{ \"id\": … }}, not {Kind(memberArray[m])}");
                            continue;
                        }

                        var memberId = RequiredString(member, "id", memberAt, problems);
                        var type = OptionalString(member, GraphNames.ODataType, memberAt, problems);
                        if (memberId is not null)
                        {
                            members.Add(new SnapshotMember(memberId, type));
                        }
                    }
                }
            }

            if (id is null || displayName is null || problems.Count > before)
            {
                continue;
            }

            if (!firstPathOfId.TryAdd(id, at))
            {
                problems.Add($"{at}.id '{id}' is a duplicate of {firstPathOfId[id]}.id");
                continue;
            }

            if (users.ContainsKey(id))
            {
                problems.Add($"{at}.id '{id}' is also the id of a user; Entra object ids are unique");
                continue;
            }

            groups[id] = new SnapshotGroup(id, displayName, [.. members.DistinctBy(member => member.Id)]);
        }

        return groups;
    }

    private static string? RequiredString(JsonObject obj, string name, string at, List<string> problems)
    {
        if (!obj.TryGetPropertyValue(name, out var node) || node is null)
        {
            problems.Add($"{at}.{name} is missing");
            return null;
        }

        if (node.GetValueKind() != JsonValueKind.String)
        {
            problems.Add($"{at}.{name} must be a string, not {Kind(node)}");
            return null;
        }

        var value = node.GetValue<string>();
        if (string.IsNullOrWhiteSpace(value))
        {
            problems.Add($"{at}.{name} is empty");
            return null;
        }

        return value;
    }

    private static string? OptionalString(JsonObject obj, string name, string at, List<string> problems)
    {
        if (!obj.TryGetPropertyValue(name, out var node) || node is null)
        {
            return null;
        }

        if (node.GetValueKind() != JsonValueKind.String)
        {
            problems.Add($"{at}.{name} must be a string or null, not {Kind(node)}");
            return null;
        }

        return node.GetValue<string>();
    }

    private static List<string> StringArray(JsonObject obj, string name, string at, List<string> problems)
    {
        if (!obj.TryGetPropertyValue(name, out var node) || node is null)
        {
            return [];
        }

        if (node is not JsonArray array)
        {
            problems.Add($"{at}.{name} must be an array of strings, not {Kind(node)}");
            return [];
        }

        var values = new List<string>(array.Count);
        for (var i = 0; i < array.Count; i++)
        {
            if (array[i] is { } item && item.GetValueKind() == JsonValueKind.String)
            {
                values.Add(item.GetValue<string>());
            }
            else
            {
                problems.Add($"{at}.{name}[{i}] must be a string, not {Kind(array[i])}");
            }
        }

        return values;
    }

    private static string Kind(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "an object",
        JsonArray => "an array",
        _ => node.GetValueKind() switch
        {
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            _ => "null",
        },
    };

    private static DirectoryUnavailableException Invalid(string path, string problem, Exception? inner = null) =>
        new($"Snapshot file '{path}' is not usable, nothing was applied: {problem}.", inner, isTransient: false);
}
