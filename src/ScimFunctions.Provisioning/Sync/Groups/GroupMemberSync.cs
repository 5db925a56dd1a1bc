using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;

namespace ScimFunctions.Provisioning.Sync.Groups;

/// <summary>Makes a linked target group's managed members equal to the desired set, in steps: read what the target
/// holds (the stored applied set while it is trusted), diff, plan, PATCH (chunked, with the stored version; a
/// version conflict re-reads and re-diffs, <see cref="ConflictRetry"/>), save the row, and the pending-member
/// bookkeeping around it. Only managed users are ever added or removed.</summary>
public sealed class GroupMemberSync(
    StateStore store,
    IScimClient scim,
    GroupTargetResolver targets,
    SyncOptions options,
    ProvisioningMetrics metrics,
    TimeProvider time,
    ILogger<GroupMemberSync> logger)
{
    private sealed record TargetMembers(HashSet<string> Current, string? Version);

    internal async Task<GroupOutcome> ApplyAsync(GroupCall change)
    {
        var (mapping, desired, run) = (change.Mapping, change.Desired, change.Run);
        if (await ReadTargetAsync(change) is not { } target)
        {
            return await targets.GoneAsync(mapping, change.DisplayName, run, change.CancellationToken);
        }

        var plan = MemberPlan.Between(desired.ScimIds, target.Current);
        var pendingChanged = !desired.Pending.SetEquals(mapping.PendingMembers);
        var stateChanged = mapping.State != change.FinalState || mapping.Members is null || !mapping.Members.SetEquals(desired.ScimIds) || mapping.TargetVersion != target.Version || mapping.LastError is not null;
        var operations = Operations(change, plan);
        if (run.DryRun)
        {
            return Outcome(change, plan, operations);
        }

        var version = target.Version;
        if (!plan.IsEmpty)
        {
            var written = await PatchAsync(change, plan, version);
            if (written.End == VersionedWriteEnd.Gone)
            {
                return await targets.GoneAsync(mapping, change.DisplayName, run, change.CancellationToken);
            }

            (plan, version) = (written.Plan, written.Version);
            metrics.Updates.Add(1, ProvisioningMetrics.Kind(ObjectKind.Group));
            if (change.Request.SeenAt is { } seen)
            {
                metrics.Lag.Record(Math.Max(0, (time.GetUtcNow() - seen).TotalSeconds), ProvisioningMetrics.Kind(ObjectKind.Group));
            }

            var counts = $"+{plan.Add.Count} -{plan.Remove.Count}";
            EngineLog.Updated(logger, ObjectKind.Group, change.Id, change.ScimId, change.RemovalReason is null ? "members" : "members removed", counts);
        }
        else if (!stateChanged && !pendingChanged)
        {
            metrics.NoOps.Add(1, ProvisioningMetrics.Kind(ObjectKind.Group));
            EngineLog.Unchanged(logger, ObjectKind.Group, change.Id, "members converged");
            return Outcome(change, plan, operations);
        }

        await SaveAsync(change, plan, version);

        // What was written, member by member, for each member's history.
        return Outcome(change, plan, operations) with
        {
            MemberChanges = [.. plan.Add.Select(m => new MemberChange(m, desired.Owners.GetValueOrDefault(m), Added: true)), .. plan.Remove.Select(m => new MemberChange(m, null, Added: false))],
            TargetGroupId = change.ScimId,
        };
    }

    /// <summary>What the target holds: the stored applied set while it is trusted (no read), otherwise the target
    /// group read (If-None-Match when verifying a stored set). Null when the target group is gone.</summary>
    private async Task<TargetMembers?> ReadTargetAsync(GroupCall change)
    {
        var (mapping, body, version) = (change.Mapping, change.TargetBody, change.Mapping.TargetVersion);
        if (body is null && (mapping.Members is null || change.Request.VerifyTarget || change.IsNewLink))
        {
            var verify = change.Request.VerifyTarget && mapping.Members is not null && !change.IsNewLink;
            var got = await scim.GetGroupAsync(change.ScimId, verify ? version : null, change.CancellationToken);
            if (got.Outcome == ScimOutcome.NotFound)
            {
                return null;
            }

            if (got.Outcome != ScimOutcome.NotModified || mapping.Members is null)
            {
                var held = ScimFailures.EnsureOk(got, ObjectKind.Group, change.Id, "read", metrics);
                (body, version) = (held.Body, held.Version);
            }
        }

        var current = body is not null
            ? await ManagedMembersAsync(body, change.ScimId, change.Index, change.CancellationToken)
            : new HashSet<string>(mapping.Members ?? new HashSet<string>(), StringComparer.Ordinal);
        return new(current, version);
    }

    private static List<PlannedOperation> Operations(GroupCall change, MemberPlan plan)
    {
        var operations = new List<PlannedOperation>();
        var reason = change.RemovalReason ?? "membership differs";
        if (plan.Add.Count > 0)
        {
            operations.Add(new PlannedOperation(ObjectKind.Group, change.Id, PlanAction.AddMembers, reason, $"{plan.Add.Count} member(s) to target group {change.ScimId}"));
        }

        if (plan.Remove.Count > 0)
        {
            operations.Add(new PlannedOperation(ObjectKind.Group, change.Id, PlanAction.RemoveMembers, reason, $"{plan.Remove.Count} member(s) from target group {change.ScimId}"));
        }

        if (plan.IsEmpty)
        {
            var pending = change.Desired.Pending.Count;
            operations.Add(new PlannedOperation(ObjectKind.Group, change.Id, PlanAction.None, pending > 0 ? $"members converged; {pending} not provisioned" : "members converged", change.DisplayName));
        }

        return operations;
    }

    /// <summary>The PATCH rounds. Before each one the members to add are confirmed when the index may be stale (a
    /// snapshot from the start of a long run) or after a version conflict (someone, often a leaver's follow-up,
    /// changed the group meanwhile): otherwise a leaver already taken out is put back.</summary>
    private async Task<VersionedWriteResult<MemberPlan>> PatchAsync(GroupCall change, MemberPlan plan, string? version)
    {
        var (scimId, index, desired) = (change.ScimId, change.Index, change.Desired);
        var write = new VersionedWrite<MemberPlan>(
            ObjectKind.Group, change.Id, scimId,
            Send: (p, atVersion, ct) => scim.PatchGroupMembersAsync(scimId, p.Add, p.Remove, atVersion, ct),
            Read: ct => scim.GetGroupAsync(scimId, cancellationToken: ct),
            Replan: async (fresh, ct) => MemberPlan.Between(desired.ScimIds, await ManagedMembersAsync(fresh.Body, scimId, index, ct)),
            IsEmpty: p => p.IsEmpty)
        {
            BeforeSend = async (p, attempt, ct) => index.IsLoaded || attempt > 0 ? p with { Add = await ConfirmAddsAsync(p.Add, desired, index, ct) } : p,
        };
        var result = await ConflictRetry.OnVersionConflictAsync(write, plan, version, options.ConflictRetries, metrics, change.CancellationToken);
        if (result.End != VersionedWriteEnd.Refused)
        {
            return result;
        }

        var answer = result.Answer!;
        if (ScimFailures.IsRefusal(answer.Outcome, ObjectKind.Group))
        {
            var message = $"The target refused the member change of group {scimId}{ScimFailures.Detail(answer.Error)}.";
            await store.SaveGroupAsync(change.Mapping with { LastError = message, LastErrorAt = time.GetUtcNow() }, change.CancellationToken);
            metrics.Failures.Add(1, ProvisioningMetrics.Kind(ObjectKind.Group));
            throw new ProvisioningException(ScimFailures.Classify(answer.Outcome, ObjectKind.Group).Reason, message, isTransient: false);
        }

        throw ScimFailures.For(answer, ObjectKind.Group, change.Id, "member patch", metrics);
    }

    /// <summary>Saves the row with the pending bookkeeping around it. Members never provisioned get a pending row,
    /// so their joiner brings this group back; known leavers (disabled or deleted rows) do not: a leaver keeps its
    /// Entra groups, so that would cost a write per group at every disable, and a rejoin finds these groups by
    /// their pending set instead. The pending rows go first: a crash before the group row is saved is repaired by
    /// the redelivery, which sees the same members as newly pending; the other order left a group row saying
    /// "pending" with no pending row, and the redelivery saw nothing new.</summary>
    private async Task SaveAsync(GroupCall change, MemberPlan applied, string? version)
    {
        var (mapping, desired, cancellationToken) = (change.Mapping, change.Desired, change.CancellationToken);
        var updated = mapping with
        {
            ScimId = change.FinalState == GroupState.Removed ? mapping.ScimId : change.ScimId,
            TargetVersion = version,
            State = change.FinalState,
            DisplayName = change.DisplayName ?? mapping.DisplayName,
            Members = desired.ScimIds,
            MembersHash = null,
            PendingMembers = desired.Pending,
            LastError = null,
            LastErrorAt = null,
            AppliedAt = applied.IsEmpty ? mapping.AppliedAt : time.GetUtcNow(),
        };
        var newlyPending = desired.Pending.Except(mapping.PendingMembers).ToList();
        foreach (var memberId in newlyPending.Where(desired.NeverProvisioned.Contains))
        {
            await store.AddPendingAsync(memberId, ObjectKind.Group, change.Id, cancellationToken);
        }

        await store.SaveGroupAsync(updated, cancellationToken);
        await ThrowIfAnyJoinedAsync(change, newlyPending);
        foreach (var memberId in mapping.PendingMembers.Except(desired.Pending))
        {
            await store.RemovePendingAsync(memberId, ObjectKind.Group, change.Id, cancellationToken);
        }
    }

    /// <summary>A member's joiner (or rejoin) that ran between this convergence's read of it and the pending row (or
    /// the group row) looked for waiting groups too early and found none: read each newly pending member again,
    /// and if one is active now, converge again with it.</summary>
    private async Task ThrowIfAnyJoinedAsync(GroupCall change, List<string> newlyPending)
    {
        var joined = false;
        foreach (var memberId in newlyPending)
        {
            if (await store.GetUserAsync(memberId, change.CancellationToken) is { } row && new UserKey(row.ObjectId, row.ScimId, row.State) is { IsActive: true } key)
            {
                change.Index.Update(key);
                joined = true;
            }
        }

        if (joined)
        {
            throw new StateConflictException($"A member of group {change.Id} was provisioned while the group was being converged.");
        }
    }

    /// <summary>The members to add that are still active, by point read; the others move from desired to pending.</summary>
    private async Task<List<string>> ConfirmAddsAsync(List<string> add, DesiredMembers desired, UserIndex index, CancellationToken cancellationToken)
    {
        var confirmed = new List<string>(add.Count);
        foreach (var scimId in add)
        {
            if (!desired.Owners.TryGetValue(scimId, out var memberId))
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

            desired.ScimIds.Remove(scimId);
            desired.Pending.Add(memberId);
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
            var value = TargetValues.String(member, ScimAttributes.Value, scimId);
            if (!string.IsNullOrEmpty(value) && await index.IsManagedScimIdAsync(value, cancellationToken))
            {
                result.Add(value);
            }
        }

        return result;
    }

    private static GroupOutcome Outcome(GroupCall change, MemberPlan plan, List<PlannedOperation> operations) =>
        new(change.Id, plan.IsEmpty ? PlanAction.None : PlanAction.Update, operations, plan.Add.Count, plan.Remove.Count, false, change.DisplayName);
}
