using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;

namespace ScimFunctions.Provisioning.Directory;

/// <summary>The directory read from a snapshot file (Graph's JSON shapes; see docs/directory.md). A snapshot
/// is the whole directory: a user or group absent from it is removed — reported as a soft delete, so the
/// engine disables before it ever deletes. A delta is the difference from the last snapshot seen, whose
/// state lives in an <see cref="ISnapshotStateStore"/> under the content hash the cursor names. A file
/// that is missing, empty or invalid throws <see cref="DirectoryUnavailableException"/>: nothing is applied.</summary>
public sealed class SnapshotDirectorySource(string path, ISnapshotStateStore stateStore, ILogger<SnapshotDirectorySource> logger) : IDirectorySource
{
    public const string CursorPrefix = "snapshot:";
    private const string UsersKind = "users";
    private const string GroupsKind = "groups";

    private readonly Lock sync = new();
    private CachedSnapshot? cached;

    public string Path { get; } = System.IO.Path.GetFullPath(path);

    public async Task<DirectoryUser?> GetUserAsync(string idOrUserPrincipalName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(idOrUserPrincipalName);
        var snapshot = await ReadAsync(cancellationToken);
        if (idOrUserPrincipalName.Contains('@', StringComparison.Ordinal))
        {
            return snapshot.UsersByPrincipalName.GetValueOrDefault(idOrUserPrincipalName);
        }

        return snapshot.Users.GetValueOrDefault(idOrUserPrincipalName);
    }

    public async Task<IReadOnlyList<string>> FindGroupIdsByDisplayNameAsync(string displayName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(displayName);
        var snapshot = await ReadAsync(cancellationToken);
        return [.. snapshot.Groups.Values.Where(g => string.Equals(g.DisplayName, displayName, StringComparison.OrdinalIgnoreCase)).Select(g => g.Id).Order(StringComparer.Ordinal)];
    }

    public async Task<DirectoryGroup?> GetGroupAsync(string id, bool transitive = false, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        var snapshot = await ReadAsync(cancellationToken);
        if (!snapshot.Groups.TryGetValue(id, out var group))
        {
            return null;
        }

        if (!transitive)
        {
            return new DirectoryGroup(group.Id, group.DisplayName, DirectUserMembers(snapshot, group));
        }

        // Nested groups are expanded; a cycle is visited once.
        var members = new List<string>();
        var seenMembers = new HashSet<string>(StringComparer.Ordinal);
        var seenGroups = new HashSet<string>(StringComparer.Ordinal) { group.Id };
        var pending = new Queue<SnapshotGroup>([group]);
        while (pending.TryDequeue(out var current))
        {
            foreach (var member in current.Members)
            {
                if (IsGroup(snapshot, member))
                {
                    if (seenGroups.Add(member.Id) && snapshot.Groups.TryGetValue(member.Id, out var nested))
                    {
                        pending.Enqueue(nested);
                    }
                }
                else if (IsUser(snapshot, member) && seenMembers.Add(member.Id))
                {
                    members.Add(member.Id);
                }
            }
        }

        return new DirectoryGroup(group.Id, group.DisplayName, members);
    }

    public async Task<DeltaResult<DirectoryUser>> GetUserChangesAsync(string? cursor, CancellationToken cancellationToken = default)
    {
        var snapshot = await ReadAsync(cancellationToken);
        var current = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var user in snapshot.Users.Values)
        {
            current[user.Id] = Fingerprint(user);
        }

        var previous = await LoadStateAsync(UsersKind, cursor, SnapshotStateJsonContext.Default.SortedDictionaryStringString, cancellationToken);
        var changed = previous is null
            ? [.. snapshot.Users.Values]
            : snapshot.Users.Values.Where(u => !previous.TryGetValue(u.Id, out var before) || before != current[u.Id]).ToList();
        List<DirectoryRemoval> removed = previous is null
            ? []
            : [.. previous.Keys.Where(id => !current.ContainsKey(id)).Select(id => new DirectoryRemoval(id, RemovalReason.SoftDeleted))];

        var next = await SaveStateAsync(UsersKind, current, SnapshotStateJsonContext.Default.SortedDictionaryStringString, cancellationToken);
        DirectoryLog.SnapshotRoundCompleted(logger, UsersKind, changed.Count, removed.Count, previous is null);
        return new DeltaResult<DirectoryUser>(changed, removed, next, previous is null);
    }

    public async Task<DeltaResult<GroupChange>> GetGroupChangesAsync(string? cursor, CancellationToken cancellationToken = default)
    {
        var snapshot = await ReadAsync(cancellationToken);
        var current = new SortedDictionary<string, SnapshotGroupState>(StringComparer.Ordinal);
        foreach (var group in snapshot.Groups.Values)
        {
            current[group.Id] = new SnapshotGroupState(group.DisplayName, [.. DirectUserMembers(snapshot, group)]);
        }

        var previous = await LoadStateAsync(GroupsKind, cursor, SnapshotStateJsonContext.Default.SortedDictionaryStringSnapshotGroupState, cancellationToken);
        var changed = new List<GroupChange>();
        foreach (var group in snapshot.Groups.Values)
        {
            var now = current[group.Id];
            if (previous is null || !previous.TryGetValue(group.Id, out var before))
            {
                changed.Add(new GroupChange(group.Id, now.DisplayName, now.Members, []));
                continue;
            }

            var beforeMembers = before.Members.ToHashSet(StringComparer.Ordinal);
            var nowMembers = now.Members.ToHashSet(StringComparer.Ordinal);
            var added = now.Members.Where(m => !beforeMembers.Contains(m)).ToList();
            var removedMembers = before.Members.Where(m => !nowMembers.Contains(m)).ToList();
            if (added.Count > 0 || removedMembers.Count > 0 || before.DisplayName != now.DisplayName)
            {
                changed.Add(new GroupChange(group.Id, now.DisplayName, added, removedMembers));
            }
        }

        List<DirectoryRemoval> removed = previous is null
            ? []
            : [.. previous.Keys.Where(id => !current.ContainsKey(id)).Select(id => new DirectoryRemoval(id, RemovalReason.SoftDeleted))];
        var next = await SaveStateAsync(GroupsKind, current, SnapshotStateJsonContext.Default.SortedDictionaryStringSnapshotGroupState, cancellationToken);
        DirectoryLog.SnapshotRoundCompleted(logger, GroupsKind, changed.Count, removed.Count, previous is null);
        return new DeltaResult<GroupChange>(changed, removed, next, previous is null);
    }

    /// <summary>Checks the file on every call (a snapshot can be replaced at any time): unchanged size and
    /// write time reuse what was read; otherwise it is read, and parsed again only if its content changed.</summary>
    internal async Task<SnapshotFile> ReadAsync(CancellationToken cancellationToken)
    {
        var info = new FileInfo(Path);
        var stamp = info.Exists ? (info.LastWriteTimeUtc, info.Length) : default;
        lock (sync)
        {
            if (info.Exists && cached is { } fresh && fresh.Stamp == stamp)
            {
                return fresh.File;
            }
        }

        SnapshotFile file;
        byte[] hash;
        try
        {
            var content = await SnapshotFile.ReadBytesAsync(Path, cancellationToken);
            hash = SHA256.HashData(content);
            lock (sync)
            {
                if (cached is { } same && same.Hash.AsSpan().SequenceEqual(hash))
                {
                    cached = same with { Stamp = stamp };
                    return same.File;
                }
            }

            file = SnapshotFile.Parse(Path, content);
        }
        catch (DirectoryUnavailableException ex)
        {
            DirectoryLog.SnapshotRejected(logger, Path, ex.Message);
            throw;
        }

        lock (sync)
        {
            cached = new CachedSnapshot(stamp, hash, file);
        }

        DirectoryLog.SnapshotRead(logger, Path, file.Users.Count, file.Groups.Count);
        return file;
    }

    private async Task<T?> LoadStateAsync<T>(string kind, string? cursor, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
        where T : class
    {
        if (cursor is null)
        {
            return null;
        }

        var prefix = $"{CursorPrefix}{kind}:";
        var hash = cursor.StartsWith(prefix, StringComparison.Ordinal) ? cursor[prefix.Length..] : null;
        if (hash is null || hash.Length != 32 || !hash.All(char.IsAsciiHexDigitLower))
        {
            // A Graph delta link carries its delta token in the query: never log that part.
            var shown = cursor.Split('?')[0];
            DirectoryLog.SnapshotStateMissing(logger, kind, shown.Length > 80 ? shown[..80] + "…" : shown, $"not a snapshot {kind} cursor");
            return null;
        }

        var content = await stateStore.LoadAsync($"{kind}-{hash}", cancellationToken);
        if (content is null)
        {
            DirectoryLog.SnapshotStateMissing(logger, kind, cursor, "no state saved under it (pruned, or another state folder)");
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(content, typeInfo);
        }
        catch (JsonException)
        {
            DirectoryLog.SnapshotStateMissing(logger, kind, cursor, "the saved state is unreadable");
            return null;
        }
    }

    private async Task<string> SaveStateAsync<T>(string kind, T state, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
    {
        var content = JsonSerializer.SerializeToUtf8Bytes(state, typeInfo);
        var hash = Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 16));
        await stateStore.SaveAsync($"{kind}-{hash}", content, cancellationToken);
        return $"{CursorPrefix}{kind}:{hash}";
    }

    private static List<string> DirectUserMembers(SnapshotFile snapshot, SnapshotGroup group) =>
        [.. group.Members.Where(m => IsUser(snapshot, m)).Select(m => m.Id)];

    /// <summary>A member is a user when typed so, or untyped and not one of the snapshot's groups.</summary>
    private static bool IsUser(SnapshotFile snapshot, SnapshotMember member) => member.ODataType is null
        ? !snapshot.Groups.ContainsKey(member.Id)
        : string.Equals(member.ODataType, GraphNames.UserType, StringComparison.OrdinalIgnoreCase);

    private static bool IsGroup(SnapshotFile snapshot, SnapshotMember member) => member.ODataType is null
        ? snapshot.Groups.ContainsKey(member.Id)
        : string.Equals(member.ODataType, GraphNames.GroupType, StringComparison.OrdinalIgnoreCase);

    /// <summary>A stable hash of everything the engine can see of a user.</summary>
    internal static string Fingerprint(DirectoryUser user)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var value in new[] { user.Id, user.UserPrincipalName, user.DisplayName, user.AccountEnabled ? "1" : "0", user.Mail, user.JobTitle, user.Department, user.EmployeeId, user.MobilePhone, user.ManagerId })
            {
                writer.WriteStringValue(value);
            }

            writer.WriteStartArray();
            foreach (var phone in user.BusinessPhones)
            {
                writer.WriteStringValue(phone);
            }

            writer.WriteEndArray();
            foreach (var (key, value) in user.Properties.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                writer.WriteStringValue(key);
                writer.WriteStringValue(value);
            }

            writer.WriteEndArray();
        }

        return Convert.ToHexStringLower(SHA256.HashData(buffer.WrittenSpan).AsSpan(0, 16));
    }

    private sealed record CachedSnapshot((DateTime Written, long Length) Stamp, byte[] Hash, SnapshotFile File);
}

/// <summary>A group as the last snapshot showed it: its name and direct user members.</summary>
public sealed record SnapshotGroupState(string DisplayName, List<string> Members);

[JsonSerializable(typeof(SortedDictionary<string, string>))]
[JsonSerializable(typeof(SortedDictionary<string, SnapshotGroupState>))]
internal sealed partial class SnapshotStateJsonContext : JsonSerializerContext;
