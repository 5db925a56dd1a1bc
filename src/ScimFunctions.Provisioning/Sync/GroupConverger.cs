using System.Text.Json.Nodes;
using Azure;
using Microsoft.Extensions.Logging;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;

namespace ScimFunctions.Provisioning.Sync;

/// <summary>Keeps a target group's members equal to the mapped, active target ids of the Entra group's
/// members. Only managed users are ever added or removed; members the connector does not manage are
/// left alone. Changes go out as chunked add/remove PATCHes with the stored version.</summary>
public sealed class GroupConverger(
    StateStore store,
    IDirectorySource directory,
    IScimClient scim,
    SyncOptions options,
    ProvisioningMetrics metrics,
    TimeProvider time,
    ILogger logger)
{
    private const int PointReadLimit = 100;
    private const int StateConflictRetries = 5;

    private readonly HashSet<string> _include = new((options.Groups.Include ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), StringComparer.OrdinalIgnoreCase);

    public bool IsIncluded(string objectId, string? displayName) =>
        _include.Count == 0 || _include.Contains(objectId) || (displayName is not null && _include.Contains(displayName));

    public async Task<GroupOutcome> ConvergeAsync(GroupRequest request, RunContext run, UserIndex? index = null, CancellationToken cancellationToken = default)
    {
        TableKeys.Validate(request.ObjectId, "group object id");
        DirectoryGroup? group = request.Observed;
        var read = request.Removed || group is not null;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                if (!read)
                {
                    group = await directory.GetGroupAsync(request.ObjectId, options.Groups.Transitive, cancellationToken);
                    read = true;
                }

                return await ConvergeOnceAsync(request, group, run, index, cancellationToken);
            }
            catch (StateConflictException) when (attempt < StateConflictRetries)
            {
                metrics.Conflicts.Add(1, ProvisioningMetrics.Kind(ObjectKind.Group));
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

            return await ApplyMembersAsync(mapping, mapping.ScimId, mapping.DisplayName, new HashSet<string>(StringComparer.Ordinal), new HashSet<string>(StringComparer.Ordinal), "deleted in Entra", GroupState.Removed, request, run, index, cancellationToken);
        }

        if (!IsIncluded(id, group.DisplayName))
        {
            return Done(id, PlanAction.Skip, "not listed in Sync__Groups__Include", group.DisplayName);
        }

        // Resolve the target group: the stored link, an explicit map entry, or the same displayName.
        var scimId = mapping is { State: GroupState.Managed } ? mapping.ScimId : null;
        string? version = mapping?.State == GroupState.Managed ? mapping.TargetVersion : null;
        JsonObject? targetBody = null;
        if (scimId is null)
        {
            var resolved = await ResolveTargetAsync(group, run, cancellationToken);
            if (resolved is null)
            {
                var why = $"no target group named '{TargetName(group)}'";
                if (!run.DryRun && (mapping is null || mapping.State != GroupState.Unmatched || mapping.DisplayName != group.DisplayName))
                {
                    await store.SaveGroupAsync(new GroupMapping(id, null, null, GroupState.Unmatched, group.DisplayName, null, null, new HashSet<string>(StringComparer.Ordinal), ETag: mapping?.ETag ?? default), cancellationToken);
                    EngineLog.GroupUnmatched(logger, id, why);
                }

                return new GroupOutcome(id, PlanAction.Skip, [new PlannedOperation(ObjectKind.Group, id, PlanAction.Skip, "unmatched: " + why, group.DisplayName)], 0, 0, Unmatched: true, group.DisplayName);
            }

            scimId = resolved.Id;
            version = resolved.Version;
            targetBody = resolved.Body;
        }

        index ??= group.MemberIds.Count > PointReadLimit ? await UserIndex.LoadAsync(store, cancellationToken) : UserIndex.PointReads(store);
        var desired = new HashSet<string>(StringComparer.Ordinal);
        var pending = new HashSet<string>(StringComparer.Ordinal);
        var neverProvisioned = new HashSet<string>(StringComparer.Ordinal);
        var owners = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var memberId in group.MemberIds.Distinct(StringComparer.Ordinal))
        {
            if (!TableKeys.IsValid(memberId))
            {
                continue;
            }

            var key = await index.GetAsync(memberId, cancellationToken);
            // A plan sees the users it would disable as the real run would: no longer active.
            var wouldBeDisabled = run.DryRun && run.SimulatedInactive.ContainsKey(memberId);
            if (key is { IsActive: true } && !wouldBeDisabled)
            {
                desired.Add(key.ScimId!);
                owners[key.ScimId!] = memberId;
            }
            else if (run.DryRun && run.SimulatedActive.TryGetValue(memberId, out var simulated))
            {
                desired.Add(simulated == "(new)" ? "(new:" + memberId + ")" : simulated);
            }
            else
            {
                pending.Add(memberId);
                if (key is null || key.State == LifecycleState.Failed)
                {
                    neverProvisioned.Add(memberId);
                }
            }
        }

        var link = mapping ?? new GroupMapping(id, scimId, version, GroupState.Managed, group.DisplayName, null, null, new HashSet<string>(StringComparer.Ordinal));
        if (link.State != GroupState.Managed || link.ScimId != scimId)
        {
            // A new link: nothing applied yet, read the target's members.
            link = link with { ScimId = scimId, TargetVersion = version, State = GroupState.Managed, Members = null, MembersHash = null };
        }

        return await ApplyMembersAsync(link, scimId, group.DisplayName, desired, pending, null, GroupState.Managed, request, run, index, cancellationToken, targetBody, isNewLink: mapping?.State != GroupState.Managed || mapping.ScimId != scimId, neverProvisioned, owners);
    }

    private async Task<GroupOutcome> ApplyMembersAsync(GroupMapping mapping, string scimId, string? displayName, HashSet<string> desired, HashSet<string> pending, string? removalReason, GroupState finalState,
        GroupRequest request, RunContext run, UserIndex? index, CancellationToken cancellationToken, JsonObject? targetBody = null, bool isNewLink = false, HashSet<string>? neverProvisioned = null,
        Dictionary<string, string>? owners = null)
    {
        var id = mapping.ObjectId;
        index ??= UserIndex.PointReads(store);
        var version = mapping.TargetVersion;

        // What the target holds: the stored applied set while it is trusted; otherwise read it.
        HashSet<string> current;
        if (targetBody is null && (mapping.Members is null || request.VerifyTarget || isNewLink))
        {
            var got = await scim.GetGroupAsync(scimId, request.VerifyTarget && mapping.Members is not null && !isNewLink ? version : null, cancellationToken);
            if (got.Outcome == ScimOutcome.NotModified && mapping.Members is not null)
            {
                targetBody = null;
            }
            else if (got.Outcome == ScimOutcome.NotFound)
            {
                return await TargetGroupGoneAsync(mapping, displayName, run, cancellationToken);
            }
            else if (!got.IsSuccess || got.Value is null)
            {
                throw Failure(got.Outcome, got.Error, id, "read");
            }
            else
            {
                targetBody = got.Value.Body;
                version = got.Value.Version;
            }
        }

        current = targetBody is not null ? await ManagedMembersAsync(targetBody, scimId, index, cancellationToken) : new HashSet<string>(mapping.Members ?? new HashSet<string>(), StringComparer.Ordinal);
        var add = desired.Except(current).ToList();
        var remove = current.Except(desired).ToList();
        var pendingChanged = !pending.SetEquals(mapping.PendingMembers);
        var stateChanged = mapping.State != finalState || mapping.Members is null || !mapping.Members.SetEquals(desired) || mapping.TargetVersion != version || mapping.LastError is not null;

        var operations = new List<PlannedOperation>();
        var reason = removalReason ?? "membership differs";
        if (add.Count > 0)
        {
            operations.Add(new PlannedOperation(ObjectKind.Group, id, PlanAction.AddMembers, reason, $"{add.Count} member(s) to target group {scimId}"));
        }

        if (remove.Count > 0)
        {
            operations.Add(new PlannedOperation(ObjectKind.Group, id, PlanAction.RemoveMembers, reason, $"{remove.Count} member(s) from target group {scimId}"));
        }

        if (add.Count == 0 && remove.Count == 0)
        {
            operations.Add(new PlannedOperation(ObjectKind.Group, id, PlanAction.None, pending.Count > 0 ? $"members converged; {pending.Count} not provisioned" : "members converged", displayName));
        }

        if (run.DryRun)
        {
            return new GroupOutcome(id, add.Count + remove.Count > 0 ? PlanAction.Update : PlanAction.None, operations, add.Count, remove.Count, false, displayName);
        }

        if (add.Count > 0 || remove.Count > 0)
        {
            for (var attempt = 0; ; attempt++)
            {
                if (index.IsLoaded || attempt > 0)
                {
                    // The index is a snapshot from the start of a long run, and a version conflict means someone
                    // (often a leaver's follow-up) changed the group meanwhile: confirm each member to add is still
                    // active, or a leaver already taken out is put back.
                    add = await ConfirmAddsAsync(add, desired, pending, owners, index, cancellationToken);
                    if (add.Count == 0 && remove.Count == 0)
                    {
                        break;
                    }
                }

                var patched = await scim.PatchGroupMembersAsync(scimId, add, remove, version, cancellationToken);
                if (patched.IsSuccess)
                {
                    version = patched.Value?.Version ?? version;
                    break;
                }

                if (patched.Outcome == ScimOutcome.NotFound)
                {
                    return await TargetGroupGoneAsync(mapping, displayName, run, cancellationToken);
                }

                if (patched.Outcome == ScimOutcome.VersionConflict && attempt < options.ConflictRetries)
                {
                    // Someone else edited the group: read it, recompute against what it holds, retry.
                    metrics.Conflicts.Add(1, ProvisioningMetrics.Kind(ObjectKind.Group));
                    var fresh = await scim.GetGroupAsync(scimId, cancellationToken: cancellationToken);
                    if (!fresh.IsSuccess || fresh.Value is null)
                    {
                        throw Failure(fresh.Outcome, fresh.Error, id, "re-read after a version conflict");
                    }

                    version = fresh.Value.Version;
                    current = await ManagedMembersAsync(fresh.Value.Body, scimId, index, cancellationToken);
                    add = desired.Except(current).ToList();
                    remove = current.Except(desired).ToList();
                    if (add.Count == 0 && remove.Count == 0)
                    {
                        break;
                    }

                    continue;
                }

                if (ScimFailures.IsRefusal(patched.Outcome, ObjectKind.Group))
                {
                    var message = $"The target refused the member change of group {scimId}{ScimFailures.Detail(patched.Error)}.";
                    await store.SaveGroupAsync(mapping with { LastError = message, LastErrorAt = time.GetUtcNow() }, cancellationToken);
                    metrics.Failures.Add(1, ProvisioningMetrics.Kind(ObjectKind.Group));
                    throw new ProvisioningException(ScimFailures.Classify(patched.Outcome, ObjectKind.Group).Reason, message, isTransient: false);
                }

                throw Failure(patched.Outcome, patched.Error, id, "member patch");
            }

            metrics.Updates.Add(1, ProvisioningMetrics.Kind(ObjectKind.Group));
            if (request.SeenAt is { } seen)
            {
                metrics.Lag.Record(Math.Max(0, (time.GetUtcNow() - seen).TotalSeconds), ProvisioningMetrics.Kind(ObjectKind.Group));
            }

            var detail = $"+{add.Count} -{remove.Count}";
            EngineLog.Updated(logger, ObjectKind.Group, id, scimId, removalReason is null ? "members" : "members removed", detail);
        }
        else if (!stateChanged && !pendingChanged)
        {
            metrics.NoOps.Add(1, ProvisioningMetrics.Kind(ObjectKind.Group));
            EngineLog.Unchanged(logger, ObjectKind.Group, id, "members converged");
            return new GroupOutcome(id, PlanAction.None, operations, 0, 0, false, displayName);
        }

        var updated = mapping with
        {
            ScimId = finalState == GroupState.Removed ? mapping.ScimId : scimId,
            TargetVersion = version,
            State = finalState,
            DisplayName = displayName ?? mapping.DisplayName,
            Members = desired,
            MembersHash = null,
            PendingMembers = pending,
            LastError = null,
            LastErrorAt = null,
            AppliedAt = add.Count + remove.Count > 0 ? time.GetUtcNow() : mapping.AppliedAt,
        };
        // Members never provisioned: note the wait, so their joiner brings this group back. Known leavers
        // (disabled or deleted rows) get no pending row: a leaver keeps its Entra groups, so that would cost
        // a write per group at every disable; a rejoin finds these groups by their pending set instead.
        // The pending rows go first: a crash before the group row is saved is repaired by the redelivery,
        // which sees the same members as newly pending; the other order left a group row saying "pending"
        // with no pending row, and the redelivery saw nothing new.
        var newlyPending = pending.Except(mapping.PendingMembers).ToList();
        foreach (var memberId in newlyPending.Where(m => neverProvisioned?.Contains(m) == true))
        {
            await store.AddPendingAsync(memberId, ObjectKind.Group, id, cancellationToken);
        }

        await store.SaveGroupAsync(updated, cancellationToken);

        // A member's joiner (or rejoin) that ran between this convergence's read of it and the pending row (or
        // the group row) looked for waiting groups too early and found none: read each newly pending member
        // again, and if one is active now, converge again with it.
        var joined = false;
        foreach (var memberId in newlyPending)
        {
            if (await store.GetUserAsync(memberId, cancellationToken) is { } row && new UserKey(row.ObjectId, row.ScimId, row.State) is { IsActive: true } key)
            {
                index.Update(key);
                joined = true;
            }
        }

        if (joined)
        {
            throw new StateConflictException($"A member of group {id} was provisioned while the group was being converged.");
        }

        foreach (var memberId in mapping.PendingMembers.Except(pending))
        {
            await store.RemovePendingAsync(memberId, ObjectKind.Group, id, cancellationToken);
        }

        return new GroupOutcome(id, add.Count + remove.Count > 0 ? PlanAction.Update : PlanAction.None, operations, add.Count, remove.Count, false, displayName)
        {
            MemberChanges = [.. add.Select(m => new MemberChange(m, owners?.GetValueOrDefault(m), Added: true)), .. remove.Select(m => new MemberChange(m, null, Added: false))],
            TargetGroupId = scimId,
        };
    }

    /// <summary>The members to add that are still active, by point read; the others move from desired to pending.</summary>
    private async Task<List<string>> ConfirmAddsAsync(List<string> add, HashSet<string> desired, HashSet<string> pending, Dictionary<string, string>? owners, UserIndex index, CancellationToken cancellationToken)
    {
        var confirmed = new List<string>(add.Count);
        foreach (var scimId in add)
        {
            if (owners is null || !owners.TryGetValue(scimId, out var memberId))
            {
                confirmed.Add(scimId);
                continue;
            }

            var row = await store.GetUserAsync(memberId, cancellationToken);
            var key = row is null ? null : new UserKey(row.ObjectId, row.ScimId, row.State);
            if (key is { IsActive: true } && key.ScimId == scimId)
            {
                confirmed.Add(scimId);
                continue;
            }

            desired.Remove(scimId);
            pending.Add(memberId);
            if (key is not null)
            {
                index.Update(key);
            }
        }

        return confirmed;
    }

    private static async Task<HashSet<string>> ManagedMembersAsync(JsonObject body, string scimId, UserIndex index, CancellationToken cancellationToken)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        if (body[ScimAttributes.Members] is not JsonArray members)
        {
            return result;
        }

        foreach (var member in members.OfType<JsonObject>())
        {
            var value = UserConverger.TargetString(member, ScimAttributes.Value, scimId);
            if (!string.IsNullOrEmpty(value) && await index.IsManagedScimIdAsync(value, cancellationToken))
            {
                result.Add(value);
            }
        }

        return result;
    }

    private async Task<ScimResource?> ResolveTargetAsync(DirectoryGroup group, RunContext run, CancellationToken cancellationToken)
    {
        var name = TargetName(group);
        if (name.StartsWith("id:", StringComparison.OrdinalIgnoreCase))
        {
            var byId = await scim.GetGroupAsync(name[3..].Trim(), cancellationToken: cancellationToken);
            if (byId.Outcome == ScimOutcome.NotFound)
            {
                return null;
            }

            return byId.IsSuccess ? byId.Value : throw Failure(byId.Outcome, byId.Error, group.Id, "read of the mapped target group");
        }

        var found = await scim.FindGroupByDisplayNameAsync(name, cancellationToken);
        if (found.IsSuccess && found.Value is not null)
        {
            return found.Value;
        }

        if (found.Outcome != ScimOutcome.NotFound)
        {
            throw Failure(found.Outcome, found.Error, group.Id, "group lookup");
        }

        if (!scim.Capabilities.CanCreateGroups)
        {
            return null;
        }

        if (run.DryRun)
        {
            return new ScimResource("(new group " + name + ")", null, new JsonObject());
        }

        var created = await scim.CreateGroupAsync(name, group.Id, cancellationToken);
        if (!created.IsSuccess || created.Value is null)
        {
            throw Failure(created.Outcome, created.Error, group.Id, "group create");
        }

        EngineLog.Provisioned(logger, ObjectKind.Group, group.Id, created.Value.Id, PlanAction.Create);
        metrics.Creates.Add(1, ProvisioningMetrics.Kind(ObjectKind.Group));
        return created.Value;
    }

    private string TargetName(DirectoryGroup group) =>
        options.Groups.Map.TryGetValue(group.Id, out var byId) ? byId
        : options.Groups.Map.TryGetValue(group.DisplayName, out var byName) ? byName
        : group.DisplayName;

    private async Task<GroupOutcome> TargetGroupGoneAsync(GroupMapping mapping, string? displayName, RunContext run, CancellationToken cancellationToken)
    {
        var why = $"target group {mapping.ScimId} no longer exists";
        if (!run.DryRun)
        {
            await store.SaveGroupAsync(mapping with { State = GroupState.Unmatched, ScimId = null, TargetVersion = null, Members = null, MembersHash = null, LastError = why, LastErrorAt = time.GetUtcNow() }, cancellationToken);
            EngineLog.GroupUnmatched(logger, mapping.ObjectId, why);
        }

        return new GroupOutcome(mapping.ObjectId, PlanAction.Skip, [new PlannedOperation(ObjectKind.Group, mapping.ObjectId, PlanAction.Skip, "unmatched: " + why, displayName)], 0, 0, Unmatched: true, displayName);
    }

    private ProvisioningException Failure(ScimOutcome outcome, ScimError? error, string objectId, string what) =>
        ScimFailures.For(outcome, error, ObjectKind.Group, objectId, what, metrics);

    private static GroupOutcome Done(string id, PlanAction action, string reason, string? displayName) =>
        new(id, action, [new PlannedOperation(ObjectKind.Group, id, action, reason, displayName)], 0, 0, false, displayName);
}
