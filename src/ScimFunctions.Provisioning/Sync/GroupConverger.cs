using System.Text.Json.Nodes;
using Azure;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.State;
using ScimFunctions.Provisioning.Sync.Groups;

namespace ScimFunctions.Provisioning.Sync;

/// <summary>Keeps a target group's members equal to the mapped, active target ids of the Entra group's members.
/// This class decides what applies (gone from Entra, not included, which target group) and hands one
/// <see cref="GroupCall"/> to <see cref="GroupMemberSync"/>; <see cref="GroupTargetResolver"/> finds (or creates)
/// the target group. Only managed users are ever added or removed; members the connector does not manage are
/// left alone.</summary>
public sealed class GroupConverger(
    StateStore store,
    IDirectorySource directory,
    GroupTargetResolver targets,
    GroupMemberSync members,
    SyncOptions options,
    ProvisioningMetrics metrics)
{
    /// <summary>Above this many members a convergence loads the whole user index instead of a point read each.</summary>
    private const int PointReadLimit = 100;

    private readonly HashSet<string> _include = new((options.Groups.Include ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), StringComparer.OrdinalIgnoreCase);

    public bool IsIncluded(string objectId, string? displayName) =>
        _include.Count == 0 || _include.Contains(objectId) || (displayName is not null && _include.Contains(displayName));

    public async Task<GroupOutcome> ConvergeAsync(GroupRequest request, RunContext run, UserIndex? index = null, CancellationToken cancellationToken = default)
    {
        TableKeys.Validate(request.ObjectId, "group object id");
        var group = request.Observed;
        var read = request.Removed || group is not null;
        try
        {
            return await ConflictRetry.OnRowConflictAsync(async () =>
            {
                // The directory is read once however often the row conflicts.
                if (!read)
                {
                    group = await directory.GetGroupAsync(request.ObjectId, options.Groups.Transitive, cancellationToken);
                    read = true;
                }

                return await ConvergeOnceAsync(request, group, run, index, cancellationToken);
            }, ObjectKind.Group, metrics);
        }
        catch (RequestFailedException ex) when (ex.Status != 400)
        {
            throw StateFailures.FromTable(ex);
        }
        catch (DirectoryUnavailableException ex)
        {
            throw StateFailures.FromDirectory(ex);
        }
    }

    private async Task<GroupOutcome> ConvergeOnceAsync(GroupRequest request, DirectoryGroup? group, RunContext run, UserIndex? index, CancellationToken cancellationToken)
    {
        var id = request.ObjectId;
        var mapping = await store.GetGroupAsync(id, cancellationToken);

        if (group is null)
        {
            // Gone from Entra (404 or delta @removed): take out the members this connector put in, stop managing.
            if (mapping is not { State: GroupState.Managed, ScimId: not null })
            {
                return Done(id, PlanAction.Skip, "not in the directory and not managed", mapping?.DisplayName);
            }

            return await members.ApplyAsync(new GroupCall(request, run, mapping, mapping.ScimId, mapping.DisplayName, DesiredMembers.None(), "deleted in Entra", GroupState.Removed,
                index ?? UserIndex.PointReads(store), TargetBody: null, IsNewLink: false, cancellationToken));
        }

        if (!IsIncluded(id, group.DisplayName))
        {
            return Done(id, PlanAction.Skip, "not listed in Sync__Groups__Include", group.DisplayName);
        }

        // The target group: the stored link, else an explicit map entry or the same displayName.
        var (scimId, version, targetBody) = (mapping?.ScimId, mapping?.TargetVersion, (JsonObject?)null);
        if (mapping is not { State: GroupState.Managed, ScimId: not null })
        {
            if (await targets.ResolveAsync(group, run, cancellationToken) is not { } resolved)
            {
                return await targets.UnmatchedAsync(group, mapping, run, cancellationToken);
            }

            (scimId, version, targetBody) = (resolved.Id, resolved.Version, resolved.Body);
        }

        index ??= group.MemberIds.Count > PointReadLimit ? await UserIndex.LoadAsync(store, cancellationToken) : UserIndex.PointReads(store);
        var desired = await DesiredMembers.FromAsync(group, index, run, cancellationToken);
        var isNewLink = mapping?.State != GroupState.Managed || mapping.ScimId != scimId;
        var link = mapping ?? new GroupMapping(id, scimId, version, GroupState.Managed, group.DisplayName, null, null, new HashSet<string>(StringComparer.Ordinal));
        if (link.State != GroupState.Managed || link.ScimId != scimId)
        {
            // A new link: nothing applied yet, read the target's members.
            link = link with { ScimId = scimId, TargetVersion = version, State = GroupState.Managed, Members = null, MembersHash = null };
        }

        return await members.ApplyAsync(new GroupCall(request, run, link, scimId!, group.DisplayName, desired, null, GroupState.Managed, index, targetBody, isNewLink, cancellationToken));
    }

    private static GroupOutcome Done(string id, PlanAction action, string reason, string? displayName) =>
        new(id, action, [new PlannedOperation(ObjectKind.Group, id, action, reason, displayName)], 0, 0, false, displayName);
}
