using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;

namespace ScimFunctions.Provisioning.Sync;

/// <summary>What <c>scimfn status</c> shows.</summary>
/// <param name="UsersByState">Mapped users per lifecycle state (<c>Active</c>, <c>Disabled</c>, <c>Deleted</c>, <c>Failed</c>).</param>
/// <param name="GroupsByState">Groups per state (<c>Managed</c>, <c>Unmatched</c>, <c>Removed</c>).</param>
/// <param name="LastUserSweep">When the users delta cursor last advanced (sweep or full sync).</param>
/// <param name="Failures">Objects whose last attempt failed, with the error and when.</param>
/// <param name="Hold">Set while destructive actions wait for an operator.</param>
public sealed record SyncStatus(
    IReadOnlyDictionary<string, int> UsersByState,
    IReadOnlyDictionary<string, int> GroupsByState,
    DateTimeOffset? LastUserSweep,
    DateTimeOffset? LastGroupSweep,
    IReadOnlyList<GraphSubscription> Subscriptions,
    IReadOnlyList<StatusFailure> Failures,
    IReadOnlyList<StagedAction> Staged,
    DestructiveHold? Hold,
    IReadOnlyList<string> UnmatchedGroups);

public sealed record StatusFailure(ObjectKind ObjectKind, string ObjectId, string Error, DateTimeOffset? At);

/// <summary>What <c>scimfn explain</c> shows: why the engine would do what it would do for one user.</summary>
public sealed record UserExplanation(
    string Query,
    string? ObjectId,
    bool FoundInDirectory,
    bool InScope,
    string? OutOfScopeReason,
    IReadOnlyDictionary<string, string>? Projection,
    IReadOnlyDictionary<string, string>? LastApplied,
    IReadOnlyList<string> ChangedPaths,
    IReadOnlyList<ScimPatchOperation> Patch,
    string? PendingManagerId,
    IReadOnlyList<PlannedOperation> Operations,
    UserMapping? Mapping)
{
    /// <summary>Each entitlement the rules give (or revoke), the rule groups that give it and its change.</summary>
    public IReadOnlyList<Entitlements.EntitlementLine> Entitlements { get; init; } = [];
}

public enum WorkItemStatus
{
    /// <summary>Converged and stored: complete the message.</summary>
    Done,
    /// <summary>Try again later (throttled, unavailable, conflicts): abandon or reschedule.</summary>
    Transient,
    /// <summary>Retrying cannot help (the target rejects a value): dead-letter with the reason.</summary>
    Permanent,
}

/// <summary>The outcome of one queued work item, for the function to settle the message.</summary>
/// <param name="FollowUps">Work to queue before completing (groups waiting for a new member, reports for their manager).</param>
/// <param name="SweepRequested">A lifecycle item: run a delta sweep now.</param>
public sealed record WorkItemResult(
    WorkItemStatus Status,
    string? Reason,
    string? Description,
    IReadOnlyList<FollowUp> FollowUps,
    bool SweepRequested,
    IReadOnlyList<PlannedOperation> Operations)
{
    public static WorkItemResult Done(IReadOnlyList<PlannedOperation> operations, IReadOnlyList<FollowUp>? followUps = null, bool sweepRequested = false) =>
        new(WorkItemStatus.Done, null, null, followUps ?? [], sweepRequested, operations);

    public static WorkItemResult Failed(ProvisioningException ex) =>
        new(ex.IsTransient ? WorkItemStatus.Transient : WorkItemStatus.Permanent, ex.Reason, ex.Message, [], false, []);
}
