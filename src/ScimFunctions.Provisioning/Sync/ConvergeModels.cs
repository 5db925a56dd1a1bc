using System.Text.Json.Serialization;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Notifications;
using ScimFunctions.Provisioning.Scim;

namespace ScimFunctions.Provisioning.Sync;

/// <summary>What the engine decided for one object (<see cref="PlannedOperation.Action"/>). The JSON names are the
/// words the CLI's output, the staged-actions table and the destructive ledger have always used; see
/// <see cref="WireNames{TEnum}"/>.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<PlanAction>))]
public enum PlanAction
{
    [JsonStringEnumMemberName("create")] Create,
    [JsonStringEnumMemberName("adopt")] Adopt,
    [JsonStringEnumMemberName("update")] Update,
    [JsonStringEnumMemberName("disable")] Disable,
    [JsonStringEnumMemberName("reactivate")] Reactivate,
    [JsonStringEnumMemberName("delete")] Delete,
    [JsonStringEnumMemberName("recreate")] Recreate,
    [JsonStringEnumMemberName("add-members")] AddMembers,
    [JsonStringEnumMemberName("remove-members")] RemoveMembers,
    [JsonStringEnumMemberName("none")] None,
    [JsonStringEnumMemberName("stage")] Stage,
    [JsonStringEnumMemberName("skip")] Skip,
    [JsonStringEnumMemberName("fail")] Fail,

    /// <summary>A managed user differs on the target from what was last applied (edited outside the connector).</summary>
    [JsonStringEnumMemberName("drift")] Drift,

    /// <summary>The answer to a Graph subscription lifecycle event (the event is the operation's detail).</summary>
    [JsonStringEnumMemberName("lifecycle")] Lifecycle,
}

/// <summary>What kind of object a decision, a failure or a pending row is about.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ObjectKind>))]
public enum ObjectKind
{
    [JsonStringEnumMemberName("user")] User,
    [JsonStringEnumMemberName("group")] Group,

    /// <summary>A Graph subscription (a lifecycle work item's operation).</summary>
    [JsonStringEnumMemberName("subscription")] Subscription,
}

/// <summary>Converge one user.</summary>
/// <param name="Observed">The user as a delta round or a full enumeration saw it; saves the Graph read
/// unless the mapping was written from a newer read (<paramref name="ObservedAt"/> older than the row's).</param>
/// <param name="Removed">Delta reported the user removed (<c>@removed</c>): a leaver without a Graph read.</param>
/// <param name="SeenAt">When the change was first seen (notification or sweep), for the lag metric.</param>
public sealed record UserRequest(
    string ObjectId,
    DirectoryUser? Observed = null,
    DateTimeOffset? ObservedAt = null,
    RemovalReason? Removed = null,
    DateTimeOffset? SeenAt = null)
{
    /// <summary>Set by a full run: the mapping rows it read in pages and the target's users it listed once,
    /// shared by all its requests instead of one point read and one lookup per user.</summary>
    public FullRunState? FullRun { get; init; }
}

/// <summary>What a full run read once for all its users. <paramref name="Rows"/> may only conclude "nothing to
/// do" for a user: any other decision reads the row again (the run's copy can be minutes old).</summary>
public sealed record FullRunState(IReadOnlyDictionary<string, State.UserMapping> Rows, TargetUserIndex? Target);

/// <summary>Converge one group.</summary>
/// <param name="Observed">The group with its full member list, when the caller already read it.</param>
/// <param name="VerifyTarget">Read the target group (If-None-Match) instead of trusting the stored member set: drift repair.</param>
public sealed record GroupRequest(string ObjectId, DirectoryGroup? Observed = null, bool Removed = false, bool VerifyTarget = false, DateTimeOffset? SeenAt = null);

/// <summary>Another object to converge because of what this one did (a group waiting for a new member,
/// a report waiting for its manager, groups to drop a leaver from).</summary>
public sealed record FollowUp(WorkItemKind Kind, string ObjectId, string Reason);

/// <summary>Everything the engine decided about one user, for plans and <c>explain</c>.</summary>
/// <param name="Found">The user exists in the directory.</param>
/// <param name="OutOfScopeReason">Null when in scope.</param>
/// <param name="Desired">The projection the target should hold (null for a leaver without data).</param>
/// <param name="Stored">The last applied projection.</param>
/// <param name="ChangedPaths">Owned SCIM paths that differ.</param>
/// <param name="Patch">The PATCH operations that would be (or were) sent.</param>
public sealed record UserDecision(
    bool Found,
    string? OutOfScopeReason,
    IReadOnlyDictionary<string, string>? Desired,
    IReadOnlyDictionary<string, string>? Stored,
    IReadOnlyList<string> ChangedPaths,
    IReadOnlyList<ScimPatchOperation> Patch,
    string? PendingManagerId);

public sealed record UserOutcome(string ObjectId, PlanAction Action, IReadOnlyList<PlannedOperation> Operations, IReadOnlyList<FollowUp> FollowUps, UserDecision? Decision);

public sealed record GroupOutcome(string ObjectId, PlanAction Action, IReadOnlyList<PlannedOperation> Operations, int MembersAdded, int MembersRemoved, bool Unmatched, string? DisplayName)
{
    /// <summary>The members a real run added or removed (target user ids, with the Entra id where the converger knew
    /// it), for each member's history.</summary>
    public IReadOnlyList<MemberChange> MemberChanges { get; init; } = [];

    /// <summary>The target group the members were changed in.</summary>
    public string? TargetGroupId { get; init; }
}

/// <summary>One member added to (<paramref name="Added"/>) or removed from a target group.</summary>
/// <param name="ObjectId">The member's Entra id; null when only the target id is at hand (a member who left the Entra group).</param>
public sealed record MemberChange(string ScimId, string? ObjectId, bool Added);
