using System.Globalization;
using ScimFunctions.Provisioning.Directory;

namespace ScimFunctions.Benchmarks;

/// <summary>The directory in memory, for the latency figures (Graph's own latency is not this connector's): users and
/// groups that the benchmark changes one at a time. <c>joiners</c> users exist from the start but only join when
/// <see cref="Join"/> adds them.</summary>
internal sealed class MemoryDirectory : IDirectorySource
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, DirectoryUser> users = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DirectoryUser> waiting = new(StringComparer.Ordinal);
    private readonly List<(string Id, string Name, HashSet<string> Members)> groups = [];
    private readonly Dictionary<string, string> kinds = new(StringComparer.Ordinal);
    private readonly List<string> present = [];

    public MemoryDirectory(int userCount, int joiners, int groups)
    {
        for (var i = 0; i < userCount + joiners; i++)
        {
            var user = new DirectoryUser(
                Id(1, i), $"user{i:D6}@contoso.example", $"User {i:D6}", true, $"user{i:D6}@contoso.example", "Agent", "Sales",
                (100000 + i).ToString(CultureInfo.InvariantCulture), null, [$"+1 206 555 {i % 10000:D4}"], null, new Dictionary<string, string>());
            (i < userCount ? users : waiting)[user.Id] = user;
            if (i < userCount)
            {
                present.Add(user.Id);
            }
        }

        for (var g = 0; g < groups; g++)
        {
            this.groups.Add((Id(2, g), $"Queue {g:D2}", [.. present.Where((_, i) => i % groups == g)]));
        }
    }

    public IReadOnlyList<string> GroupNames => [.. groups.Select(g => g.Name)];

    public string KindOf(string objectId)
    {
        lock (gate)
        {
            return kinds.GetValueOrDefault(objectId, "mover");
        }
    }

    /// <summary>The next waiting user joins, in the first group.</summary>
    public string Join(int index)
    {
        lock (gate)
        {
            var user = waiting.Values.ElementAt(0);
            waiting.Remove(user.Id);
            users[user.Id] = user;
            groups[index % groups.Count].Members.Add(user.Id);
            kinds[user.Id] = "joiner";
            return user.Id;
        }
    }

    /// <summary>A user's title changes (users counted from the start of the list).</summary>
    public string Move(int index)
    {
        lock (gate)
        {
            var id = present[index % present.Count];
            users[id] = users[id] with { JobTitle = $"Agent (move {index})" };
            kinds[id] = "mover";
            return id;
        }
    }

    /// <summary>A user is disabled (users counted from the end of the list, apart from the movers).</summary>
    public string Leave(int index)
    {
        lock (gate)
        {
            var id = present[present.Count - 1 - (index % present.Count)];
            users[id] = users[id] with { AccountEnabled = false };
            kinds[id] = "leaver";
            return id;
        }
    }

    /// <summary>A user moves from its group to the next one; the next group is the one notified.</summary>
    public string MoveMember(int index)
    {
        lock (gate)
        {
            var id = present[(present.Count / 2) + (index % (present.Count / 2))];
            var from = groups.FindIndex(g => g.Members.Contains(id));
            var to = (from + 1) % groups.Count;
            groups[to].Members.Add(id);
            return groups[to].Id;
        }
    }

    public Task<DirectoryUser?> GetUserAsync(string idOrUserPrincipalName, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            return Task.FromResult(users.GetValueOrDefault(idOrUserPrincipalName) ?? users.Values.FirstOrDefault(u => string.Equals(u.UserPrincipalName, idOrUserPrincipalName, StringComparison.OrdinalIgnoreCase)));
        }
    }

    public Task<DirectoryGroup?> GetGroupAsync(string id, bool transitive = false, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            var group = groups.FirstOrDefault(g => g.Id == id);
            return Task.FromResult(group.Id is null ? null : new DirectoryGroup(group.Id, group.Name, [.. group.Members]));
        }
    }

    public Task<IReadOnlyList<string>> FindGroupIdsByDisplayNameAsync(string displayName, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            return Task.FromResult<IReadOnlyList<string>>([.. groups.Where(g => string.Equals(g.Name, displayName, StringComparison.OrdinalIgnoreCase)).Select(g => g.Id)]);
        }
    }

    public Task<DeltaResult<DirectoryUser>> GetUserChangesAsync(string? cursor, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            return Task.FromResult(new DeltaResult<DirectoryUser>([.. users.Values], [], "memory", IsFullResync: true));
        }
    }

    public Task<DeltaResult<GroupChange>> GetGroupChangesAsync(string? cursor, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            return Task.FromResult(new DeltaResult<GroupChange>([.. groups.Select(g => new GroupChange(g.Id, g.Name, [.. g.Members], []))], [], "memory", IsFullResync: true));
        }
    }

    private static string Id(int kind, int index) => $"{kind:D8}-0000-4000-8000-{index:D12}";
}
