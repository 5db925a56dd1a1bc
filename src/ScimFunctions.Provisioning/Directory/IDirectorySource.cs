namespace ScimFunctions.Provisioning.Directory;

/// <summary>The current truth about Entra users and groups. Two implementations: Microsoft Graph and
/// snapshot files. A <c>null</c> result means a real "not found" (Graph 404, or absent from a
/// snapshot); every failure throws <see cref="DirectoryUnavailableException"/>.</summary>
public interface IDirectorySource
{
    /// <summary>One user by object id, or by userPrincipalName when <paramref name="idOrUserPrincipalName"/> contains '@'.</summary>
    Task<DirectoryUser?> GetUserAsync(string idOrUserPrincipalName, CancellationToken cancellationToken = default);

    /// <summary>One group with its member user ids (following every page).</summary>
    Task<DirectoryGroup?> GetGroupAsync(string id, bool transitive = false, CancellationToken cancellationToken = default);

    /// <summary>Users changed since <paramref name="cursor"/> (null: enumerate everything).</summary>
    Task<DeltaResult<DirectoryUser>> GetUserChangesAsync(string? cursor, CancellationToken cancellationToken = default);

    /// <summary>Groups changed since <paramref name="cursor"/> (null: enumerate everything, members as additions).</summary>
    Task<DeltaResult<GroupChange>> GetGroupChangesAsync(string? cursor, CancellationToken cancellationToken = default);
}
