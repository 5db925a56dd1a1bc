namespace ScimFunctions.Provisioning.Directory;

/// <summary>The current truth about Entra users and groups. Two implementations: Microsoft Graph and
/// snapshot files. A <c>null</c> result means a real "not found" (Graph 404, or absent from a
/// snapshot); every failure throws <see cref="DirectoryUnavailableException"/>.</summary>
public interface IDirectorySource
{
    /// <summary>One user by object id, or by userPrincipalName when <paramref name="idOrUserPrincipalName"/> contains '@'.</summary>
    Task<DirectoryUser?> GetUserAsync(string idOrUserPrincipalName, CancellationToken cancellationToken = default);

    /// <summary>Several users at once, for reconciliation: found users keyed by the id asked for; an id
    /// absent from the result is a real "not found". Any failure throws. The Graph source batches 20
    /// reads per request; this default reads them one by one.</summary>
    async Task<IReadOnlyDictionary<string, DirectoryUser>> GetUsersAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken = default)
    {
        var users = new Dictionary<string, DirectoryUser>(StringComparer.Ordinal);
        foreach (var id in ids.Distinct(StringComparer.Ordinal))
        {
            if (await GetUserAsync(id, cancellationToken) is { } user)
            {
                users[id] = user;
            }
        }

        return users;
    }

    /// <summary>One group with its member user ids (following every page).</summary>
    Task<DirectoryGroup?> GetGroupAsync(string id, bool transitive = false, CancellationToken cancellationToken = default);

    /// <summary>The object ids of every group whose displayName is exactly <paramref name="displayName"/>
    /// (case-insensitive, as Graph's <c>$filter=displayName eq</c> compares): empty when none, several when the
    /// name is ambiguous. Used to resolve entitlement rules that name a group instead of giving its id.</summary>
    Task<IReadOnlyList<string>> FindGroupIdsByDisplayNameAsync(string displayName, CancellationToken cancellationToken = default);

    /// <summary>Users changed since <paramref name="cursor"/> (null: enumerate everything).</summary>
    Task<DeltaResult<DirectoryUser>> GetUserChangesAsync(string? cursor, CancellationToken cancellationToken = default);

    /// <summary>Groups changed since <paramref name="cursor"/> (null: enumerate everything, members as additions).</summary>
    Task<DeltaResult<GroupChange>> GetGroupChangesAsync(string? cursor, CancellationToken cancellationToken = default);

    /// <summary>One page of users delta: from <paramref name="link"/> (null: the first page of a full enumeration;
    /// a stored cursor: the first page of an incremental round; a page's <see cref="DeltaPageResult{T}.NextLink"/>:
    /// the next page). <paramref name="fullRound"/> says the page belongs to a full enumeration (a full round
    /// lists every manager). The default reads the whole round as one page, for sources whose rounds are small
    /// (snapshot files); the Graph source reads one Graph page.</summary>
    async Task<DeltaPageResult<DirectoryUser>> GetUserChangesPageAsync(string? link, bool fullRound, CancellationToken cancellationToken = default)
    {
        var round = await GetUserChangesAsync(link, cancellationToken);
        return new DeltaPageResult<DirectoryUser>(round.Changed, round.Removed, null, round.Cursor, Restarted: link is not null && round.IsFullResync);
    }

    /// <summary>One page of groups delta, as <see cref="GetUserChangesPageAsync"/>. A group can be on several pages,
    /// each with part of its member changes.</summary>
    async Task<DeltaPageResult<GroupChange>> GetGroupChangesPageAsync(string? link, bool fullRound, CancellationToken cancellationToken = default)
    {
        var round = await GetGroupChangesAsync(link, cancellationToken);
        return new DeltaPageResult<GroupChange>(round.Changed, round.Removed, null, round.Cursor, Restarted: link is not null && round.IsFullResync);
    }
}
