using ScimFunctions.Provisioning.Directory;

namespace ScimFunctions.Tests.Sync.Converging;

/// <summary>Entra in memory: users and groups by id; an absent id is Graph's 404 (null), <see cref="Down"/> is a
/// failed read (<see cref="DirectoryUnavailableException"/>, never "not found"). Delta rounds are not a
/// converger's business and throw.</summary>
internal sealed class InMemoryDirectory : IDirectorySource
{
    private readonly Dictionary<string, DirectoryUser> _users = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DirectoryGroup> _groups = new(StringComparer.Ordinal);

    public bool Down { get; set; }

    public int UserReads { get; private set; }

    public void Put(DirectoryUser user) => _users[user.Id] = user;

    public void Remove(string id) => _users.Remove(id);

    public void Put(DirectoryGroup group) => _groups[group.Id] = group;

    public Task<DirectoryUser?> GetUserAsync(string idOrUserPrincipalName, CancellationToken cancellationToken = default)
    {
        UserReads++;
        ThrowIfDown();
        return Task.FromResult(_users.GetValueOrDefault(idOrUserPrincipalName));
    }

    public Task<DirectoryGroup?> GetGroupAsync(string id, bool transitive = false, CancellationToken cancellationToken = default)
    {
        ThrowIfDown();
        return Task.FromResult(_groups.GetValueOrDefault(id));
    }

    public Task<IReadOnlyList<string>> FindGroupIdsByDisplayNameAsync(string displayName, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<string>>([.. _groups.Values.Where(g => string.Equals(g.DisplayName, displayName, StringComparison.OrdinalIgnoreCase)).Select(g => g.Id)]);

    public Task<DeltaResult<DirectoryUser>> GetUserChangesAsync(string? cursor, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("Delta rounds are the sweeper's, not a converger's.");

    public Task<DeltaResult<GroupChange>> GetGroupChangesAsync(string? cursor, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("Delta rounds are the sweeper's, not a converger's.");

    private void ThrowIfDown()
    {
        if (Down)
        {
            throw new DirectoryUnavailableException("Graph answered 503.");
        }
    }
}
