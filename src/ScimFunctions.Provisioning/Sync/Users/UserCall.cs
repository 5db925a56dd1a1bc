using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.State;

namespace ScimFunctions.Provisioning.Sync.Users;

/// <summary>What one user convergence has established before a step decides: the request, the run, the mapping
/// row as read (<see cref="Existing"/>), the directory user (null for a leaver without data) and its projection,
/// and when that data was read. Handed from step to step instead of seven parameters.</summary>
internal sealed record UserCall(
    UserRequest Request,
    RunContext Run,
    UserMapping? Existing,
    DirectoryUser? User,
    ProjectionResult? Projection,
    DateTimeOffset ObservedAt,
    CancellationToken CancellationToken)
{
    public string Id => Request.ObjectId;

    /// <summary>The attributes the target should hold. Only steps for a user in scope ask (joiner, mover).</summary>
    public IReadOnlyDictionary<string, string> Desired => Projection?.Values ?? throw new InvalidOperationException($"User {Id} has no projection at this step.");

    /// <summary>A disabled or deleted row: the user comes back, so groups that kept it pending are told too.</summary>
    public bool WasLeaver => Existing is { State: LifecycleState.Disabled or LifecycleState.Deleted };

    /// <summary>A redelivered item recomputes follow-ups the first try may have lost; a plan queues nothing.</summary>
    public bool RecomputeFollowUps => Run.ForceFollowUps && !Run.DryRun;

    /// <summary>The decision as far as the directory and the row tell it; steps add what they compare.</summary>
    public UserDecision Decision() => new(true, null, Projection?.Values, Existing?.Projection, [], [], Projection?.PendingManagerId);

    public UserOutcome Done(PlanAction action, string reason, UserDecision? decision, string? detail = null, IReadOnlyList<FollowUp>? followUps = null) =>
        UserOutcomes.Done(Id, action, reason, decision, detail, followUps);
}

internal static class UserOutcomes
{
    public static UserOutcome Done(string id, PlanAction action, string reason, UserDecision? decision, string? detail = null, IReadOnlyList<FollowUp>? followUps = null) =>
        new(id, action, [new PlannedOperation(ObjectKind.User, id, action, reason, detail)], followUps ?? [], decision);

    public static string Paths(IEnumerable<string> paths) => AttributeMapper.Paths(paths);
}
