using System.Text.Json.Nodes;
using GenesysScimEmulator.Http;
using GenesysScimEmulator.Scim;

namespace GenesysScimEmulator.State;

/// <summary>A resource as stored after a read or write: its JSON and its version (for the ETag).</summary>
public sealed record StoredResource(JsonObject Body, long Version);

/// <summary>One page of a list.</summary>
public sealed record ResourcePage(int TotalResults, IReadOnlyList<JsonObject> Resources);

/// <summary>All users and groups, in memory, behind one lock. Every SCIM rule about identity, versions,
/// uniqueness and soft deletion lives here; attribute rules live in <see cref="UserModel"/> and
/// <see cref="GroupModel"/>, PATCH mechanics in <see cref="PatchApplier"/>.</summary>
public sealed class EmulatorStore(TimeProvider time, EmulatorSettings settings)
{
    private const string UserNameInUse = "User name already in use by non-deleted user.";
    private const string VersionMismatch = "Version does not match current version.";

    private readonly Lock gate = new();
    private readonly Dictionary<string, UserEntity> users = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, GroupEntity> groups = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, string> liveUserNames = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, string> liveExternalIds = new(StringComparer.Ordinal);

    // Soft-deleted users by userName, so a create finds the one to revive without a scan of every user (a scan
    // under the lock made a 100,000-user initial load quadratic in the emulator, not in the connector).
    private readonly Dictionary<string, List<UserEntity>> deletedUserNames = new(StringComparer.OrdinalIgnoreCase);
    private long sequence;

    // ---- Users ----

    /// <param name="id">Fixed id (seed and admin only); null mints a new one.</param>
    public StoredResource CreateUser(JsonObject body, ResourceUrls urls, string? id = null)
    {
        var options = settings.Current;
        lock (gate)
        {
            var normalized = UserModel.Normalize(body, null, options, IsLiveUser);
            var userName = normalized.Data[Attr.UserName]!.GetValue<string>();
            if (liveUserNames.ContainsKey(userName))
            {
                throw new ScimException(409, ScimTypes.Uniqueness, UserNameInUse);
            }

            // Genesys revives a deleted user on re-creation, without its default role.
            var deleted = deletedUserNames.GetValueOrDefault(userName)?.MaxBy(u => u.Sequence);
            if (deleted is null && !string.IsNullOrEmpty(options.DefaultRole) && !normalized.Data.ContainsKey(Attr.Roles))
            {
                normalized.Data[Attr.Roles] = new JsonArray(new JsonObject { [Attr.Value] = options.DefaultRole });
            }

            UserEntity user;
            if (deleted is not null && options.ReuseDeletedUserId && id is null)
            {
                // Stays flagged deleted through Commit so a failed revival leaves it as it was.
                Commit(deleted, normalized);
                ForgetDeleted(deleted);
                deleted.Deleted = false;
                Index(deleted);
                return Render(deleted, urls);
            }
            else
            {
                id ??= Guid.NewGuid().ToString();
                if (users.ContainsKey(id))
                {
                    throw new ScimException(409, ScimTypes.Uniqueness, $"A user with id '{id}' already exists.");
                }

                user = new UserEntity(id) { Sequence = ++sequence };
                users[id] = user;
            }

            try
            {
                Commit(user, normalized);
            }
            catch (ScimException) when (user.Version == 0)
            {
                users.Remove(user.Id);
                throw;
            }

            return Render(user, urls);
        }
    }

    public StoredResource? GetUser(string id, ResourceUrls urls)
    {
        lock (gate)
        {
            return users.TryGetValue(id, out var user) && !user.Deleted ? Render(user, urls) : null;
        }
    }

    public ResourcePage ListUsers(ScimFilter? filter, int startIndex, int count, ResourceUrls urls)
    {
        var options = settings.Current;
        var predicate = UserFilters.Predicate(filter, options);
        lock (gate)
        {
            var matches = Ordered(users.Values.Where(u => !u.Deleted && predicate(u)), u => u.Id, u => u.Sequence, options).ToList();
            var page = Page(matches, startIndex, count).Select(u => Render(u, urls).Body).ToList();
            return new ResourcePage(matches.Count, page);
        }
    }

    public StoredResource ReplaceUser(string id, JsonObject body, string? ifMatch, ResourceUrls urls)
    {
        var options = settings.Current;
        lock (gate)
        {
            var user = LiveUser(id);
            CheckVersion(user.Version, ifMatch, options);
            Commit(user, UserModel.Normalize(body, user, options, IsLiveUser));
            return Render(user, urls);
        }
    }

    public StoredResource PatchUser(string id, IReadOnlyList<PatchOperation> operations, string? ifMatch, ResourceUrls urls)
    {
        var options = settings.Current;
        var schema = PatchSchema.ForUsers(options);
        lock (gate)
        {
            var user = LiveUser(id);
            CheckVersion(user.Version, ifMatch, options);
            var view = UserModel.WritableView(user, urls, options);
            foreach (var operation in operations)
            {
                PatchApplier.Apply(view, operation, schema);
            }

            Commit(user, UserModel.Normalize(view, user, options, IsLiveUser));
            return Render(user, urls);
        }
    }

    /// <summary>Soft delete: gone from lists and reads, userName free, memberships dropped.</summary>
    public void DeleteUser(string id, string? ifMatch)
    {
        var options = settings.Current;
        lock (gate)
        {
            var user = LiveUser(id);
            CheckVersion(user.Version, ifMatch, options);
            Unindex(user);
            user.Deleted = true;
            if (!deletedUserNames.TryGetValue(user.UserName, out var named))
            {
                deletedUserNames[user.UserName] = named = [];
            }

            named.Add(user);
            user.Version++;
            user.LastModified = time.GetUtcNow();
            foreach (var group in groups.Values.Where(g => g.RemoveMember(user.Id)).ToList())
            {
                Touch(group);
            }
        }
    }

    // ---- Groups ----

    public StoredResource? GetGroup(string id, ResourceUrls urls)
    {
        lock (gate)
        {
            return groups.TryGetValue(id, out var group) ? RenderGroup(group, urls) : null;
        }
    }

    public ResourcePage ListGroups(ScimFilter? filter, int startIndex, int count, ResourceUrls urls)
    {
        var options = settings.Current;
        var predicate = GroupFilters.Predicate(filter);
        lock (gate)
        {
            var matches = Ordered(groups.Values.Where(predicate), g => g.Id, g => g.Sequence, options).ToList();
            var page = Page(matches, startIndex, count).Select(g => RenderGroup(g, urls).Body).ToList();
            return new ResourcePage(matches.Count, page);
        }
    }

    public StoredResource ReplaceGroup(string id, JsonObject body, string? ifMatch, ResourceUrls urls)
    {
        var options = settings.Current;
        lock (gate)
        {
            var group = ExistingGroup(id);
            CheckVersion(group.Version, ifMatch, options);
            Commit(group, GroupModel.Normalize(body, group, options, IsLiveUser));
            return RenderGroup(group, urls);
        }
    }

    public StoredResource PatchGroup(string id, IReadOnlyList<PatchOperation> operations, string? ifMatch, ResourceUrls urls)
    {
        var options = settings.Current;
        var memberValues = operations.Sum(op => PatchApplier.CountValues(op, Attr.Members));
        if (options.MaxMembersPerPatch > 0 && memberValues > options.MaxMembersPerPatch)
        {
            throw ScimException.InvalidValue($"The request carries {memberValues} member values; at most {options.MaxMembersPerPatch} are allowed per request.");
        }

        lock (gate)
        {
            var group = ExistingGroup(id);
            CheckVersion(group.Version, ifMatch, options);
            var view = GroupModel.WritableView(group, urls, options);
            foreach (var operation in operations)
            {
                PatchApplier.Apply(view, operation, PatchSchema.Groups);
            }

            Commit(group, GroupModel.Normalize(view, group, options, IsLiveUser));
            return RenderGroup(group, urls);
        }
    }

    // ---- Administration (not SCIM) ----

    /// <summary>Adds a group as Genesys administrators do outside SCIM. Members may be given by user id
    /// or, for hand-written seeds, by userName.</summary>
    public StoredResource AddGroup(JsonObject body, ResourceUrls urls)
    {
        lock (gate)
        {
            var displayName = body.GetString(Attr.DisplayName, Attr.DisplayName);
            if (string.IsNullOrWhiteSpace(displayName))
            {
                throw ScimException.InvalidValue("A group needs a displayName.");
            }

            if (groups.Values.Any(g => g.DisplayName.Equals(displayName, StringComparison.OrdinalIgnoreCase)))
            {
                throw new ScimException(409, ScimTypes.Uniqueness, $"A group named '{displayName}' already exists.");
            }

            var id = body.GetString(Attr.Id, Attr.Id) ?? Guid.NewGuid().ToString();
            if (groups.ContainsKey(id))
            {
                throw new ScimException(409, ScimTypes.Uniqueness, $"A group with id '{id}' already exists.");
            }

            var members = new List<string>();
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var node in body.GetArray(Attr.Members, Attr.Members) ?? [])
            {
                var reference = (node as JsonObject)?.GetString(Attr.Value, "members.value") ?? node.ScalarText()
                    ?? throw ScimException.InvalidValue("Each member needs a 'value' (a user id or userName).");
                var memberId = IsLiveUser(reference) ? reference
                    : liveUserNames.GetValueOrDefault(reference)
                    ?? throw ScimException.InvalidValue($"Group '{displayName}': member '{reference}' is neither a user id nor a userName.");
                if (seen.Add(memberId))
                {
                    members.Add(memberId);
                }
            }

            var group = new GroupEntity(id)
            {
                Sequence = ++sequence,
                DisplayName = displayName,
                ExternalId = body.GetString(Attr.ExternalId, Attr.ExternalId),
                Members = members,
            };
            groups[id] = group;
            Touch(group);
            return RenderGroup(group, urls);
        }
    }

    /// <summary>An administrator edits the user in Genesys: the version moves on, optionally with
    /// attribute changes (applied like a PATCH replace without path). Returns the new version.</summary>
    public long EditUserConcurrently(string id, JsonObject? changes = null)
    {
        var options = settings.Current;
        lock (gate)
        {
            var user = LiveUser(id);
            if (changes is { Count: > 0 })
            {
                var urls = new ResourceUrls("");
                var view = UserModel.WritableView(user, urls, options);
                PatchApplier.Apply(view, new PatchOperation(PatchApplier.Replace, null, changes), PatchSchema.ForUsers(options));
                Commit(user, UserModel.Normalize(view, user, options, IsLiveUser));
            }
            else
            {
                user.Version++;
                user.LastModified = time.GetUtcNow();
            }

            return user.Version;
        }
    }

    public long EditGroupConcurrently(string id)
    {
        lock (gate)
        {
            var group = ExistingGroup(id);
            Touch(group);
            return group.Version;
        }
    }

    /// <summary>Whether <paramref name="id"/> names a user or a group (for the concurrent-edit fault).</summary>
    public bool IsUser(string id)
    {
        lock (gate)
        {
            return IsLiveUser(id);
        }
    }

    public bool IsGroup(string id)
    {
        lock (gate)
        {
            return groups.ContainsKey(id);
        }
    }

    /// <summary>Everything, as GET shows it: live users, soft-deleted users, groups.</summary>
    public JsonObject Snapshot(ResourceUrls urls)
    {
        lock (gate)
        {
            var ordered = users.Values.OrderBy(u => u.Sequence).ToList();
            return new JsonObject
            {
                ["users"] = new JsonArray([.. ordered.Where(u => !u.Deleted).Select(u => (JsonNode)Render(u, urls).Body)]),
                ["deletedUsers"] = new JsonArray([.. ordered.Where(u => u.Deleted).Select(u => (JsonNode)Render(u, urls).Body)]),
                ["groups"] = new JsonArray([.. groups.Values.OrderBy(g => g.Sequence).Select(g => (JsonNode)RenderGroup(g, urls).Body)]),
            };
        }
    }

    public (int Users, int DeletedUsers, int Groups) Counts()
    {
        lock (gate)
        {
            var deleted = users.Values.Count(u => u.Deleted);
            return (users.Count - deleted, deleted, groups.Count);
        }
    }

    public void Clear()
    {
        lock (gate)
        {
            users.Clear();
            groups.Clear();
            liveUserNames.Clear();
            liveExternalIds.Clear();
            deletedUserNames.Clear();
        }
    }

    // ---- Internals (all called under the lock) ----

    private bool IsLiveUser(string id) => users.TryGetValue(id, out var user) && !user.Deleted;

    private UserEntity LiveUser(string id) =>
        users.TryGetValue(id, out var user) && !user.Deleted ? user : throw ScimException.NotFound($"User '{id}' not found.");

    private GroupEntity ExistingGroup(string id) =>
        groups.TryGetValue(id, out var group) ? group : throw ScimException.NotFound($"Group '{id}' not found.");

    private void Commit(UserEntity user, NormalizedUser normalized)
    {
        var data = normalized.Data;
        var userName = data[Attr.UserName]!.GetValue<string>();
        if (liveUserNames.TryGetValue(userName, out var owner) && owner != user.Id)
        {
            throw new ScimException(409, ScimTypes.Uniqueness, UserNameInUse);
        }

        var externalId = data[Attr.ExternalId]?.GetValue<string>();
        if (externalId is not null && liveExternalIds.TryGetValue(externalId, out var holder) && holder != user.Id)
        {
            throw new ScimException(409, ScimTypes.Uniqueness, $"externalId '{externalId}' is already in use (authority {ScimUrns.ScimAuthority}).");
        }

        var candidate = new UserEntity(user.Id) { Data = data };
        foreach (var (authority, value) in UserModel.ExternalIds(candidate).Where(e => e.Authority != ScimUrns.ScimAuthority))
        {
            var clash = users.Values.FirstOrDefault(u => !u.Deleted && u.Id != user.Id && UserModel.ExternalIds(u).Contains((authority, value)));
            if (clash is not null)
            {
                throw new ScimException(409, ScimTypes.Uniqueness, $"External id '{value}' for authority '{authority}' is already in use.");
            }
        }

        Unindex(user);
        user.Data = data;
        user.HasPassword |= normalized.PasswordGiven;
        user.Version++;
        user.LastModified = time.GetUtcNow();
        Index(user);
    }

    private void Commit(GroupEntity group, NormalizedGroup normalized)
    {
        group.DisplayName = normalized.DisplayName;
        group.ExternalId = normalized.ExternalId;
        group.Members = normalized.Members;
        Touch(group);
    }

    private void Touch(GroupEntity group)
    {
        group.Version++;
        group.LastModified = time.GetUtcNow();
    }

    private void ForgetDeleted(UserEntity user)
    {
        if (deletedUserNames.TryGetValue(user.UserName, out var named) && named.Remove(user) && named.Count == 0)
        {
            deletedUserNames.Remove(user.UserName);
        }
    }

    private void Index(UserEntity user)
    {
        if (user.Deleted)
        {
            return;
        }

        liveUserNames[user.UserName] = user.Id;
        if (user.ExternalId is { } externalId)
        {
            liveExternalIds[externalId] = user.Id;
        }
    }

    private void Unindex(UserEntity user)
    {
        if (user.Version == 0 || user.Deleted)
        {
            return;
        }

        if (liveUserNames.GetValueOrDefault(user.UserName) == user.Id)
        {
            liveUserNames.Remove(user.UserName);
        }

        if (user.ExternalId is { } externalId && liveExternalIds.GetValueOrDefault(externalId) == user.Id)
        {
            liveExternalIds.Remove(externalId);
        }
    }

    private StoredResource Render(UserEntity user, ResourceUrls urls)
    {
        var memberOf = groups.Values.Where(g => g.HasMember(user.Id)).OrderBy(g => g.Sequence);
        return new StoredResource(UserModel.Render(user, memberOf, urls, settings.Current), user.Version);
    }

    private StoredResource RenderGroup(GroupEntity group, ResourceUrls urls) =>
        new(GroupModel.Render(group, urls, settings.Current), group.Version);

    private static void CheckVersion(long version, string? ifMatch, EmulatorOptions options)
    {
        if (ifMatch is null || ETags.Matches(ifMatch, version, out var problem))
        {
            return;
        }

        var detail = problem is null ? VersionMismatch : $"{VersionMismatch} If-Match {problem}";
        throw options.ConflictStatus == 409
            ? new ScimException(409, null, detail)
            : new ScimException(400, ScimTypes.InvalidVers, detail);
    }

    private static IEnumerable<T> Ordered<T>(IEnumerable<T> items, Func<T, string> id, Func<T, long> sequence, EmulatorOptions options) =>
        options.ShuffleListOrder
            ? items.OrderBy(item => StringComparer.Ordinal.GetHashCode(id(item))).ThenBy(id, StringComparer.Ordinal)
            : items.OrderBy(sequence);

    private static IEnumerable<T> Page<T>(List<T> items, int startIndex, int count) =>
        items.Skip(Math.Max(startIndex, 1) - 1).Take(Math.Max(count, 0));
}
