using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;

namespace ScimFunctions.Provisioning.Sync.Groups;

/// <summary>Which target group an Entra group converges: an explicit map entry (<c>Sync__Groups__Map</c>, by name
/// or <c>id:</c>), else the same displayName; created when the target allows it (<c>Scim__CreateGroups</c>). A group
/// with no target group is recorded as unmatched, not failed.</summary>
public sealed class GroupTargetResolver(
    StateStore store,
    IScimClient scim,
    SyncOptions options,
    ProvisioningMetrics metrics,
    TimeProvider time,
    ILogger<GroupTargetResolver> logger)
{
    /// <summary>The target group, or null when there is none to link.</summary>
    internal async Task<ScimResource?> ResolveAsync(DirectoryGroup group, RunContext run, CancellationToken cancellationToken = default)
    {
        var name = TargetName(group);
        if (name.StartsWith("id:", StringComparison.OrdinalIgnoreCase))
        {
            var byId = await scim.GetGroupAsync(name[3..].Trim(), cancellationToken: cancellationToken);
            if (byId.Outcome == ScimOutcome.NotFound)
            {
                return null;
            }

            return byId.IsSuccess ? byId.Value : throw ScimFailures.For(byId, ObjectKind.Group, group.Id, "read of the mapped target group", metrics);
        }

        var found = await scim.FindGroupByDisplayNameAsync(name, cancellationToken);
        if (found.IsSuccess && found.Value is not null)
        {
            return found.Value;
        }

        if (found.Outcome != ScimOutcome.NotFound)
        {
            throw ScimFailures.For(found, ObjectKind.Group, group.Id, "group lookup", metrics);
        }

        if (!scim.Capabilities.CanCreateGroups)
        {
            return null;
        }

        if (run.DryRun)
        {
            // The plan's stand-in for the group it would create; its id is only ever shown, never sent.
            return new ScimResource("(new group " + name + ")", null, new JsonObject());
        }

        // A 409 here (a group of this name created since the lookup) is GroupNameTaken, transient: the retry's
        // lookup links the group that won.
        var created = await scim.CreateGroupAsync(name, group.Id, cancellationToken);
        if (!created.IsSuccess || created.Value is null)
        {
            throw ScimFailures.For(created, ObjectKind.Group, group.Id, "group create", metrics);
        }

        EngineLog.Provisioned(logger, ObjectKind.Group, group.Id, created.Value.Id, PlanAction.Create);
        metrics.Creates.Add(1, ProvisioningMetrics.Kind(ObjectKind.Group));
        return created.Value;
    }

    internal string TargetName(DirectoryGroup group) =>
        options.Groups.Map.TryGetValue(group.Id, out var byId) ? byId
        : options.Groups.Map.TryGetValue(group.DisplayName, out var byName) ? byName
        : group.DisplayName;

    /// <summary>No target group for this Entra group: the row says so (written once per name), status lists it.</summary>
    internal async Task<GroupOutcome> UnmatchedAsync(DirectoryGroup group, GroupMapping? mapping, RunContext run, CancellationToken cancellationToken = default)
    {
        var why = $"no target group named '{TargetName(group)}'";
        if (!run.DryRun && (mapping is null || mapping.State != GroupState.Unmatched || mapping.DisplayName != group.DisplayName))
        {
            await store.SaveGroupAsync(new GroupMapping(group.Id, null, null, GroupState.Unmatched, group.DisplayName, null, null, new HashSet<string>(StringComparer.Ordinal), ETag: mapping?.ETag ?? default), cancellationToken);
            EngineLog.GroupUnmatched(logger, group.Id, why);
        }

        return Unmatched(group.Id, why, group.DisplayName);
    }

    /// <summary>The linked target group answered 404: unlinked and unmatched until a group of that name exists again.</summary>
    internal async Task<GroupOutcome> GoneAsync(GroupMapping mapping, string? displayName, RunContext run, CancellationToken cancellationToken = default)
    {
        var why = $"target group {mapping.ScimId} no longer exists";
        if (!run.DryRun)
        {
            await store.SaveGroupAsync(mapping with { State = GroupState.Unmatched, ScimId = null, TargetVersion = null, Members = null, MembersHash = null, LastError = why, LastErrorAt = time.GetUtcNow() }, cancellationToken);
            EngineLog.GroupUnmatched(logger, mapping.ObjectId, why);
        }

        return Unmatched(mapping.ObjectId, why, displayName);
    }

    private static GroupOutcome Unmatched(string id, string why, string? displayName) =>
        new(id, PlanAction.Skip, [new PlannedOperation(ObjectKind.Group, id, PlanAction.Skip, "unmatched: " + why, displayName)], 0, 0, Unmatched: true, displayName);
}
