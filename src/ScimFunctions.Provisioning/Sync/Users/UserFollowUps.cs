using ScimFunctions.Provisioning.Notifications;
using ScimFunctions.Provisioning.State;

namespace ScimFunctions.Provisioning.Sync.Users;

/// <summary>Who must converge again because of what happened to a user: the reports and groups that waited for
/// it to be provisioned, or the managed groups a leaver must drop out of.</summary>
public sealed class UserFollowUps(StateStore store)
{
    /// <summary>Who was waiting for this user to be provisioned: reports (manager) and groups (membership).
    /// A leaver who is back (<paramref name="wasLeaver"/>) is also waited for by the managed groups that kept
    /// it in their pending set: no pending rows are written for known leavers.</summary>
    internal async Task<IReadOnlyList<FollowUp>> BecameActiveAsync(string objectId, bool wasLeaver, CancellationToken cancellationToken = default)
    {
        var waiting = await store.ListPendingAsync(objectId, cancellationToken);
        var result = waiting
            .Where(w => TableKeys.IsValid(w.Id))
            .Select(w => new FollowUp(w.Kind == ObjectKind.Group ? WorkItemKind.Group : WorkItemKind.User, w.Id, w.Kind == ObjectKind.Group ? "member provisioned" : "manager provisioned"))
            .ToList();
        if (wasLeaver)
        {
            await foreach (var group in store.ListGroupsAsync(cancellationToken))
            {
                if (group.State == GroupState.Managed && group.PendingMembers.Contains(objectId) && !result.Any(f => f.Kind == WorkItemKind.Group && f.ObjectId == group.ObjectId))
                {
                    result.Add(new FollowUp(WorkItemKind.Group, group.ObjectId, "member back"));
                }
            }
        }

        return result;
    }

    /// <summary>Managed groups that still list the leaver as a member.</summary>
    internal async Task<IReadOnlyList<FollowUp>> LeftAsync(UserMapping mapping, CancellationToken cancellationToken = default)
    {
        var result = new List<FollowUp>();
        await foreach (var group in store.ListGroupsAsync(cancellationToken))
        {
            if (group.State == GroupState.Managed && (group.Members is null || group.Members.Contains(mapping.ScimId!)))
            {
                result.Add(new FollowUp(WorkItemKind.Group, group.ObjectId, "member left"));
            }
        }

        return result;
    }
}
