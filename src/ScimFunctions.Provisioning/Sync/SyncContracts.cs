namespace ScimFunctions.Provisioning.Sync;

/// <summary>One decision of the engine, with the reason for it. A dry run returns these and writes nothing.</summary>
/// <param name="ObjectKind"><c>user</c> or <c>group</c> (<c>subscription</c> for a lifecycle item).</param>
/// <param name="ObjectId">The Entra object id.</param>
/// <param name="Action">What is (or would be) done; JSON writes its word (create, add-members, ...).</param>
/// <param name="Reason">Why, in words an operator understands (e.g. "department changed", "not in scope").</param>
/// <param name="Detail">Optional: the changed attribute paths, member counts, the target id.</param>
public sealed record PlannedOperation(ObjectKind ObjectKind, string ObjectId, PlanAction Action, string Reason, string? Detail = null);

/// <summary>An object that could not be converged, and why.</summary>
public sealed record ObjectFailure(ObjectKind ObjectKind, string ObjectId, string Reason);

/// <summary>What a run did (or, for a dry run, would do). The CLI prints it; <c>--json</c> serialises it.</summary>
public sealed record SyncSummary(
    int Created,
    int Updated,
    int Disabled,
    int Deleted,
    int Unchanged,
    int GroupsUpdated,
    int MembersAdded,
    int MembersRemoved,
    int Failed,
    int Staged,
    long ScimRequests,
    long ScimWrites,
    IReadOnlyList<string> UnmatchedGroups,
    IReadOnlyList<ObjectFailure> Failures,
    IReadOnlyList<PlannedOperation> Operations)
{
    /// <summary>Entra display name by group id, for the groups this run looked at (plans show names, not only ids).</summary>
    public IReadOnlyDictionary<string, string> GroupNames { get; init; } = new Dictionary<string, string>();
}

/// <summary>Progress of a long run, for a terminal.</summary>
public sealed record SyncProgress(string Phase, int Done, int Total);
