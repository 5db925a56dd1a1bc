using System.Text.Json.Nodes;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.State;

namespace ScimFunctions.Provisioning.Sync.Groups;

/// <summary>The members a target group should hold, from the Entra group's members: the target ids of mapped,
/// active users (<see cref="ScimIds"/>, each with its object id in <see cref="Owners"/>), and the members not yet
/// provisioned (<see cref="Pending"/>; those with no row or a failed one also in <see cref="NeverProvisioned"/>,
/// which get a pending row). The sets change when a member to add turns out to have left meanwhile.</summary>
internal sealed record DesiredMembers(HashSet<string> ScimIds, HashSet<string> Pending, HashSet<string> NeverProvisioned, Dictionary<string, string> Owners)
{
    /// <summary>No member at all: a group deleted in Entra loses the members this connector added.</summary>
    public static DesiredMembers None() => new([], [], [], []);

    public static async Task<DesiredMembers> FromAsync(DirectoryGroup group, UserIndex index, RunContext run, CancellationToken cancellationToken = default)
    {
        var desired = None();
        foreach (var memberId in group.MemberIds.Distinct(StringComparer.Ordinal))
        {
            if (!TableKeys.IsValid(memberId))
            {
                continue;
            }

            var key = await index.GetAsync(memberId, cancellationToken);

            // A plan sees the users it would disable as the real run would: no longer active; and the users it
            // would create or adopt as members (the simulated sets stay empty outside a plan).
            if (key is { IsActive: true } && !run.SimulatedInactive.ContainsKey(memberId))
            {
                desired.ScimIds.Add(key.ScimId!);
                desired.Owners[key.ScimId!] = memberId;
            }
            else if (run.SimulatedActive.TryGetValue(memberId, out var simulated))
            {
                desired.ScimIds.Add(simulated.MemberId(memberId));
            }
            else
            {
                desired.Pending.Add(memberId);
                if (key is null || key.State == LifecycleState.Failed)
                {
                    desired.NeverProvisioned.Add(memberId);
                }
            }
        }

        return desired;
    }
}

/// <summary>One group's member convergence, handed to <see cref="GroupMemberSync"/> instead of fourteen parameters.</summary>
/// <param name="Mapping">The row (or the new link) the change starts from.</param>
/// <param name="RemovalReason">Set when the Entra group is gone: why its members are removed.</param>
/// <param name="FinalState">The row's state after the change (<see cref="GroupState.Removed"/> for a gone group).</param>
/// <param name="TargetBody">The target group as the resolution just read it (a new link), else null.</param>
/// <param name="IsNewLink">The row did not link this target group yet: its members are read, not trusted.</param>
internal sealed record GroupCall(
    GroupRequest Request,
    RunContext Run,
    GroupMapping Mapping,
    string ScimId,
    string? DisplayName,
    DesiredMembers Desired,
    string? RemovalReason,
    GroupState FinalState,
    UserIndex Index,
    JsonObject? TargetBody,
    bool IsNewLink,
    CancellationToken CancellationToken)
{
    public string Id => Mapping.ObjectId;
}

/// <summary>The members to add and remove in one PATCH round.</summary>
internal sealed record MemberPlan(List<string> Add, List<string> Remove)
{
    public bool IsEmpty => Add.Count == 0 && Remove.Count == 0;

    public static MemberPlan Between(HashSet<string> desired, HashSet<string> current) => new([.. desired.Except(current)], [.. current.Except(desired)]);
}
