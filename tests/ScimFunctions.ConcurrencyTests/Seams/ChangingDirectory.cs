using System.Globalization;
using Microsoft.Extensions.Time.Testing;
using ScimFunctions.Provisioning.Directory;

namespace ScimFunctions.ConcurrencyTests.Seams;

/// <summary>Entra in memory, changed by the scenario while rounds run. Every change gets a version; a delta
/// cursor is the version it was issued at, and a round returns what changed after it (removals included)
/// exactly as Graph delta does, or everything and no removals when the cursor is null or expired
/// (<see cref="ExpireCursors"/>: Graph's syncStateNotFound). A delta round reads its data at the start and
/// then "takes" <see cref="RoundSeconds"/> on the clock, yielding in between, so other workers run while
/// it is in flight. Every read advances the clock one second: Graph reads take time, and the engine's
/// "which read is newer" decisions need time to move.</summary>
public sealed class ChangingDirectory(FakeTimeProvider time, Func<string, ValueTask> yield) : IDirectorySource
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (DirectoryUser? User, long Version)> _users = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (DirectoryGroup? Group, long Version, HashSet<string> Removed)> _groups = new(StringComparer.Ordinal);
    private long _version;
    private long _expiredBefore;

    public int RoundSeconds { get; set; } = 30;

    /// <summary>Runs whenever a read moved the clock (scheduled messages may be due now).</summary>
    public Action? ClockMoved { get; init; }

    public int Reads { get; private set; }

    // ---------------- the scenario changes Entra ----------------

    public void PutUser(DirectoryUser user)
    {
        lock (_gate)
        {
            _users[user.Id] = (user, ++_version);
        }
    }

    public void DeleteUser(string id)
    {
        lock (_gate)
        {
            _users[id] = (null, ++_version);
            foreach (var (gid, entry) in _groups.ToList())
            {
                if (entry.Group is { } g && g.MemberIds.Contains(id))
                {
                    entry.Removed.Add(id);
                    _groups[gid] = (g with { MemberIds = g.MemberIds.Where(m => m != id).ToList() }, ++_version, entry.Removed);
                }
            }
        }
    }

    public void Update(string id, Func<DirectoryUser, DirectoryUser> change)
    {
        lock (_gate)
        {
            var current = _users[id].User ?? throw new InvalidOperationException($"User {id} is deleted.");
            _users[id] = (change(current), ++_version);
        }
    }

    public void PutGroup(DirectoryGroup group)
    {
        lock (_gate)
        {
            var removed = _groups.TryGetValue(group.Id, out var old) && old.Group is { } before
                ? [.. old.Removed, .. before.MemberIds.Except(group.MemberIds, StringComparer.Ordinal)]
                : new HashSet<string>(StringComparer.Ordinal);
            _groups[group.Id] = (group, ++_version, removed);
        }
    }

    public void DeleteGroup(string id)
    {
        lock (_gate)
        {
            _groups[id] = (null, ++_version, []);
        }
    }

    /// <summary>Every cursor issued so far is expired: the next round is a full resync.</summary>
    public void ExpireCursors()
    {
        lock (_gate)
        {
            _expiredBefore = _version + 1;
        }
    }

    public DirectoryUser? User(string id)
    {
        lock (_gate)
        {
            return _users.TryGetValue(id, out var entry) ? entry.User : null;
        }
    }

    public IReadOnlyList<DirectoryUser> Users()
    {
        lock (_gate)
        {
            return _users.Values.Where(e => e.User is not null).Select(e => e.User!).ToList();
        }
    }

    public IReadOnlyList<DirectoryGroup> Groups()
    {
        lock (_gate)
        {
            return _groups.Values.Where(e => e.Group is not null).Select(e => e.Group!).ToList();
        }
    }

    // ---------------- the engine reads ----------------

    public async Task<DirectoryUser?> GetUserAsync(string idOrUserPrincipalName, CancellationToken cancellationToken = default)
    {
        await ReadAsync("graph get user " + idOrUserPrincipalName);
        lock (_gate)
        {
            if (idOrUserPrincipalName.Contains('@', StringComparison.Ordinal))
            {
                return _users.Values.Select(e => e.User).FirstOrDefault(u => u?.UserPrincipalName == idOrUserPrincipalName);
            }

            return _users.TryGetValue(idOrUserPrincipalName, out var entry) ? entry.User : null;
        }
    }

    public async Task<IReadOnlyList<string>> FindGroupIdsByDisplayNameAsync(string displayName, CancellationToken cancellationToken = default)
    {
        await ReadAsync("graph find group " + displayName);
        lock (_gate)
        {
            return [.. _groups.Where(g => g.Value.Group is not null && string.Equals(g.Value.Group.DisplayName, displayName, StringComparison.OrdinalIgnoreCase)).Select(g => g.Key).Order(StringComparer.Ordinal)];
        }
    }

    public async Task<DirectoryGroup?> GetGroupAsync(string id, bool transitive = false, CancellationToken cancellationToken = default)
    {
        await ReadAsync("graph get group " + id);
        lock (_gate)
        {
            return _groups.TryGetValue(id, out var entry) ? entry.Group : null;
        }
    }

    public async Task<DeltaResult<DirectoryUser>> GetUserChangesAsync(string? cursor, CancellationToken cancellationToken = default)
    {
        await ReadAsync("graph user delta (start)");
        DeltaResult<DirectoryUser> result;
        lock (_gate)
        {
            var (since, full) = Since(cursor);
            var changed = _users.Values.Where(e => e.User is not null && (full || e.Version > since)).Select(e => e.User!).ToList();
            var removed = full ? [] : _users.Where(e => e.Value.User is null && e.Value.Version > since).Select(e => new DirectoryRemoval(e.Key, RemovalReason.HardDeleted)).ToList();
            result = new DeltaResult<DirectoryUser>(changed, removed, Cursor(), full);
        }

        await RestOfRoundAsync("graph user delta");
        return result;
    }

    public async Task<DeltaResult<GroupChange>> GetGroupChangesAsync(string? cursor, CancellationToken cancellationToken = default)
    {
        await ReadAsync("graph group delta (start)");
        DeltaResult<GroupChange> result;
        lock (_gate)
        {
            var (since, full) = Since(cursor);
            var changed = _groups.Values.Where(e => e.Group is not null && (full || e.Version > since))
                .Select(e => new GroupChange(e.Group!.Id, e.Group.DisplayName, e.Group.MemberIds, full ? [] : e.Removed.ToList())).ToList();
            var removed = full ? [] : _groups.Where(e => e.Value.Group is null && e.Value.Version > since).Select(e => new DirectoryRemoval(e.Key, RemovalReason.HardDeleted)).ToList();
            result = new DeltaResult<GroupChange>(changed, removed, Cursor(), full);
        }

        await RestOfRoundAsync("graph group delta");
        return result;
    }

    private (long Since, bool Full) Since(string? cursor)
    {
        if (cursor is null || !cursor.StartsWith('v') || !long.TryParse(cursor.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var since) || since < _expiredBefore)
        {
            return (0, true);
        }

        return (since, false);
    }

    private string Cursor() => "v" + _version.ToString(CultureInfo.InvariantCulture);

    private async ValueTask ReadAsync(string what)
    {
        await yield(what);
        lock (_gate)
        {
            Reads++;
        }

        time.Advance(TimeSpan.FromSeconds(1));
        ClockMoved?.Invoke();
    }

    private async ValueTask RestOfRoundAsync(string what)
    {
        // The remaining pages: the round ends later, and others run meanwhile.
        for (var i = 0; i < 3; i++)
        {
            await yield(what + " (page)");
            time.Advance(TimeSpan.FromSeconds(Math.Max(1, RoundSeconds / 3)));
            ClockMoved?.Invoke();
        }
    }
}
