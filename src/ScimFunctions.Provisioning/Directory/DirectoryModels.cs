namespace ScimFunctions.Provisioning.Directory;

/// <summary>An Entra user as the engine needs it: the properties Graph returns under the names Graph uses.</summary>
/// <param name="Properties">Any further selected property (e.g. <c>givenName</c>, <c>companyName</c>,
/// <c>extension_…</c>) keyed by its Graph name, as text. The attribute mapping reads these by name.</param>
public sealed record DirectoryUser(
    string Id,
    string? UserPrincipalName,
    string? DisplayName,
    bool AccountEnabled,
    string? Mail,
    string? JobTitle,
    string? Department,
    string? EmployeeId,
    string? MobilePhone,
    IReadOnlyList<string> BusinessPhones,
    string? ManagerId,
    IReadOnlyDictionary<string, string> Properties)
{
    /// <summary>False when the source could not say who the manager is: an incremental Graph delta round
    /// reports <c>manager@delta</c> only when the manager changed, so a user changed for another reason
    /// arrives with <see cref="ManagerId"/> null and this false. Keep the manager you already have.
    /// Always true from single-user reads, full enumerations and snapshot files.</summary>
    public bool ManagerKnown { get; init; } = true;
}

/// <summary>An Entra group and its member user ids (direct or transitive, as the read asked).</summary>
public sealed record DirectoryGroup(string Id, string DisplayName, IReadOnlyList<string> MemberIds);

/// <summary>Why delta reported an object as removed: <c>changed</c> is a soft delete (restorable),
/// <c>deleted</c> is permanent.</summary>
public enum RemovalReason
{
    SoftDeleted,
    HardDeleted,
}

public sealed record DirectoryRemoval(string Id, RemovalReason Reason);

/// <summary>A group seen in a delta round. Member changes are merged across pages.</summary>
public sealed record GroupChange(string Id, string? DisplayName, IReadOnlyList<string> MembersAdded, IReadOnlyList<string> MembersRemoved);

/// <summary>One complete delta round (all pages followed).</summary>
/// <param name="Cursor">Where to resume next time: the whole deltaLink URL for Graph, an opaque
/// marker for snapshot files. Store it only after the changes are safely handled.</param>
/// <param name="IsFullResync">True on a first run, or when the old cursor expired (410 / syncStateNotFound)
/// and everything was enumerated again.</param>
public sealed record DeltaResult<T>(
    IReadOnlyList<T> Changed,
    IReadOnlyList<DirectoryRemoval> Removed,
    string Cursor,
    bool IsFullResync);

/// <summary>One page of a delta round, for a sweep that stores a checkpoint after each page.</summary>
/// <param name="NextLink">Where the round goes on (an <c>@odata.nextLink</c>); null on the round's last page.</param>
/// <param name="DeltaLink">On the last page only: the cursor for the next round.</param>
/// <param name="Restarted">The link asked for could not be used (expired, or not a link of this source) and this
/// page is the first of a full enumeration instead: what earlier pages of the old round said still stands
/// (it was queued), but the round is now a full one.</param>
public sealed record DeltaPageResult<T>(
    IReadOnlyList<T> Changed,
    IReadOnlyList<DirectoryRemoval> Removed,
    string? NextLink,
    string? DeltaLink,
    bool Restarted);

/// <summary>Raised for every directory failure that is not a real "not found": throttling past the
/// retry budget, timeouts, 5xx, auth errors, malformed snapshots. Never read as "the object is gone".</summary>
public sealed class DirectoryUnavailableException(string message, Exception? innerException = null, bool isTransient = true)
    : Exception(message, innerException)
{
    public bool IsTransient { get; } = isTransient;
}
