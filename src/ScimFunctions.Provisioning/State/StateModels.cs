using Azure;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.Provisioning.State;

/// <summary>Where a mapped target user stands in its lifecycle.</summary>
public enum LifecycleState
{
    /// <summary>Provisioned and active on the target.</summary>
    Active,
    /// <summary><c>active=false</c> on the target since <see cref="UserMapping.DisabledSince"/>; deleted after the grace period.</summary>
    Disabled,
    /// <summary>Deleted on the target by this connector; the row stays as a tombstone.</summary>
    Deleted,
    /// <summary>Never provisioned: the last attempt failed permanently (see <see cref="UserMapping.LastError"/>).</summary>
    Failed,
}

/// <summary>Who brought the target user under management. Only these may ever be deleted.</summary>
public enum MappingOrigin
{
    /// <summary>This connector created the target user.</summary>
    Created,
    /// <summary>An existing target user was recognised as the same person and linked.</summary>
    Adopted,
}

/// <summary>One row per Entra user this connector has provisioned (or tried to): the memory of the engine.</summary>
/// <param name="Projection">Compact copy of the last applied projection (SCIM path → value); null when unknown.</param>
/// <param name="ObservedAt">When the Graph data that produced the last write was read; an older snapshot
/// (e.g. from a delta sweep) is not applied over it.</param>
/// <param name="PendingManagerId">The Entra id of a manager not yet provisioned; the manager is added when it is.</param>
public sealed record UserMapping(
    string ObjectId,
    string? ScimId,
    string? TargetVersion,
    string? ProjectionHash,
    IReadOnlyDictionary<string, string>? Projection,
    LifecycleState State,
    DateTimeOffset? DisabledSince,
    MappingOrigin? Origin,
    string? LastError = null,
    DateTimeOffset? LastErrorAt = null,
    double? LastLagSeconds = null,
    DateTimeOffset? ObservedAt = null,
    DateTimeOffset? AppliedAt = null,
    string? PendingManagerId = null,
    DateTimeOffset? RecreatedAt = null,
    ETag ETag = default)
{
    public bool IsProvisioned => ScimId is not null && State is LifecycleState.Active or LifecycleState.Disabled;
}

public enum GroupState
{
    /// <summary>Matched to a target group; members are converged.</summary>
    Managed,
    /// <summary>No target group with that name (or map entry); reported, not a failure.</summary>
    Unmatched,
    /// <summary>The Entra group is gone; the members this connector added were removed.</summary>
    Removed,
}

/// <summary>One row per Entra group seen by the engine.</summary>
/// <param name="Members">Target user ids this connector last applied as members (managed members only);
/// null when the set is too large to store, then only <paramref name="MembersHash"/> is kept and the
/// target is read when needed.</param>
/// <param name="PendingMembers">Entra ids of members not yet provisioned; added when they are.</param>
public sealed record GroupMapping(
    string ObjectId,
    string? ScimId,
    string? TargetVersion,
    GroupState State,
    string? DisplayName,
    IReadOnlySet<string>? Members,
    string? MembersHash,
    IReadOnlySet<string> PendingMembers,
    string? LastError = null,
    DateTimeOffset? LastErrorAt = null,
    DateTimeOffset? AppliedAt = null,
    ETag ETag = default);

/// <summary>A delta cursor (the whole deltaLink URL, kept as a property) and when it was last advanced.</summary>
public sealed record DeltaCursor(string Name, string? Link, DateTimeOffset? UpdatedAt, DateTimeOffset? LastFullResyncAt, ETag ETag = default);

/// <summary>A destructive action held back by the threshold, waiting for an operator.</summary>
/// <param name="Action"><c>disable</c> or <c>delete</c>.</param>
public sealed record StagedAction(string ObjectId, PlanAction Action, string Reason, DateTimeOffset StagedAt, string? ScimId);

/// <summary>Set when the threshold trips: nothing destructive runs until an operator releases or discards.</summary>
public sealed record DestructiveHold(DateTimeOffset Since, string Reason);

/// <summary>Another writer changed the row since it was read: re-read and re-decide.</summary>
public sealed class StateConflictException(string message, Exception? innerException = null) : Exception(message, innerException);

/// <summary>The light view of a user row used to index members and count managed users.</summary>
public sealed record UserKey(string ObjectId, string? ScimId, LifecycleState State)
{
    public bool IsActive => State == LifecycleState.Active && ScimId is not null;

    public bool IsManaged => ScimId is not null && State is LifecycleState.Active or LifecycleState.Disabled;
}

/// <summary>One destructive action counted in the threshold's window: when, and the hash of action and object id.</summary>
public sealed record LedgerEntry(DateTimeOffset At, string Key);
/// <summary>A sweep's listing of the target, for one joiner it queued: the target user holding the joiner's
/// externalId or userName (<paramref name="ScimId"/>), or none (null) when <paramref name="ListedAt"/> came.</summary>
/// <param name="UserName">The userName the joiner was matched on; a different one now makes the hint void.</param>
public sealed record TargetHint(string ObjectId, string UserName, string? ScimId, string? Why, DateTimeOffset ListedAt);
