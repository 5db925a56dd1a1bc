using Microsoft.Extensions.Logging;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;
using static ScimFunctions.Provisioning.Sync.Users.UserOutcomes;

namespace ScimFunctions.Provisioning.Sync.Users;

/// <summary>Mover and rejoin: a provisioned user in scope and enabled. Diffs the projection against the stored copy
/// of the last applied one and PATCHes only the changed owned attributes with the stored version (no GET first);
/// a disabled row is reactivated on the same target user. A PATCH answering 404 means the target user was deleted
/// outside the connector: recreated (<c>Sync__RecreateDeletedTargetUsers</c>) or reported.</summary>
public sealed class UserMover(
    StateStore store,
    IScimClient scim,
    AttributeMapper mapper,
    UserRows rows,
    UserFollowUps followUps,
    UserPatcher patcher,
    SyncOptions options,
    ProvisioningMetrics metrics,
    TimeProvider time,
    ILogger<UserMover> logger)
{
    /// <summary>Nothing to write: active, the same projection and pending manager as last applied, no error stored.</summary>
    internal static bool IsUnchanged(UserMapping mapping, ProjectionResult projection) =>
        mapping.State != LifecycleState.Disabled
        && mapping.Projection is not null
        && mapping.LastError is null
        && string.Equals(mapping.PendingManagerId, projection.PendingManagerId, StringComparison.Ordinal)
        && ScimProjection.Hash(projection.Values) == mapping.ProjectionHash;

    internal async Task<UserOutcome> MoveAsync(UserCall call)
    {
        var mapping = call.Existing!;
        var (id, desired, projection, cancellationToken) = (call.Id, call.Desired, call.Projection!, call.CancellationToken);
        var reactivating = mapping.State == LifecycleState.Disabled;

        if (IsUnchanged(mapping, projection))
        {
            metrics.NoOps.Add(1, ProvisioningMetrics.Kind(ObjectKind.User));
            EngineLog.Unchanged(logger, ObjectKind.User, id, "projection unchanged");
            var waiting = call.RecomputeFollowUps ? await followUps.BecameActiveAsync(id, wasLeaver: true, cancellationToken) : [];
            return call.Done(PlanAction.None, "mapped attributes unchanged", call.Decision(), followUps: waiting);
        }

        var stored = mapping.Projection;
        var version = mapping.TargetVersion;
        if (stored is null)
        {
            // No record of what was applied (an old row): ask the target what it holds.
            var got = await scim.GetUserAsync(mapping.ScimId!, cancellationToken: cancellationToken);
            if (got.Outcome == ScimOutcome.NotFound)
            {
                return await RecreateAsync(call);
            }

            var held = ScimFailures.EnsureOk(got, ObjectKind.User, id, "read", metrics);
            stored = ScimProjection.ReadCurrent(held.Body, mapper);
            version = held.Version;
        }

        var ops = ScimProjection.Diff(stored, desired, mapper);
        var changed = ScimProjection.ChangedPaths(stored, desired, mapper);
        var decision = call.Decision() with { Stored = stored, ChangedPaths = changed, Patch = ops };
        var action = reactivating ? PlanAction.Reactivate : ops.Count > 0 ? PlanAction.Update : PlanAction.None;
        var reason = reactivating ? "back in scope and enabled in Entra within the grace period" : ops.Count > 0 ? "changed: " + Paths(changed) : "bookkeeping only";
        var detail = ops.Count > 0 ? Paths(changed) : null;
        if (call.Run.DryRun)
        {
            return call.Done(action, reason, decision, detail);
        }

        ScimResource? resource = null;
        if (ops.Count > 0)
        {
            resource = await patcher.PatchAsync(mapping.ScimId!, ops, version, desired, id, cancellationToken);
            if (resource is null)
            {
                return await RecreateAsync(call);
            }
        }

        var updated = mapping with
        {
            TargetVersion = resource?.Version ?? version,
            ProjectionHash = ScimProjection.Hash(desired),
            Projection = desired,
            State = LifecycleState.Active,
            DisabledSince = null,
            LastError = null,
            LastErrorAt = null,
            ObservedAt = call.ObservedAt,
            AppliedAt = ops.Count > 0 ? time.GetUtcNow() : mapping.AppliedAt,
            LastLagSeconds = ops.Count > 0 ? rows.Lag(call.Request) : mapping.LastLagSeconds,
            PendingManagerId = projection.PendingManagerId,
        };
        await rows.SaveAsync(updated, mapping, cancellationToken);

        if (ops.Count > 0)
        {
            metrics.Updates.Add(1, ProvisioningMetrics.Kind(ObjectKind.User));
            rows.RecordLag(call.Request);
            EngineLog.Updated(logger, ObjectKind.User, id, mapping.ScimId, action, detail!);
        }
        else
        {
            EngineLog.Unchanged(logger, ObjectKind.User, id, "row refreshed");
        }

        var follow = reactivating || call.Run.ForceFollowUps ? await followUps.BecameActiveAsync(id, wasLeaver: true, cancellationToken) : [];
        return call.Done(action, reason, decision, detail, follow);
    }

    /// <summary>The target user was deleted outside the connector (404 on the PATCH or the read).</summary>
    private async Task<UserOutcome> RecreateAsync(UserCall call)
    {
        var mapping = call.Existing!;
        var (id, desired, cancellationToken) = (call.Id, call.Desired, call.CancellationToken);
        Task<UserOutcome> Report() => rows.FailPermanentAsync(call, FailureReasons.TargetUserDeleted,
            $"Target user {mapping.ScimId} was deleted on the target outside this connector; Sync__RecreateDeletedTargetUsers is false, so it is reported, not recreated.");
        if (call.Run.DryRun)
        {
            return options.RecreateDeletedTargetUsers ? call.Done(PlanAction.Recreate, "deleted on the target outside this connector", call.Decision()) : await Report();
        }

        if (await store.GetUserAsync(id, cancellationToken) is { } fresh && fresh.ETag != mapping.ETag)
        {
            // The row changed since it was read (PurgeDisabled deleted this leaver in the meantime): the target
            // user is gone for a known reason, so decide again from the row as it is now (a rejoin: a new joiner).
            throw new StateConflictException($"The user {id} row changed while its target user {mapping.ScimId} disappeared.");
        }

        if (!options.RecreateDeletedTargetUsers)
        {
            return await Report();
        }

        var created = await scim.CreateUserAsync(ScimProjection.BuildCreateBody(desired, mapper), cancellationToken);
        ScimResource resource;
        if (created.Outcome == ScimOutcome.Ok && created.Value is not null)
        {
            resource = created.Value;
        }
        else if (created.Outcome == ScimOutcome.Uniqueness && desired.TryGetValue(ScimAttributes.UserName, out var userName)
            && await scim.FindUserAsync(ScimAttributes.UserName, userName, cancellationToken) is { Outcome: ScimOutcome.Ok, Value: { } found })
        {
            resource = found;
        }
        else
        {
            return await rows.FailAsync(call, created, "recreate");
        }

        var now = time.GetUtcNow();
        var updated = mapping with
        {
            ScimId = resource.Id,
            TargetVersion = resource.Version,
            ProjectionHash = ScimProjection.Hash(desired),
            Projection = desired,
            State = LifecycleState.Active,
            DisabledSince = null,
            Origin = MappingOrigin.Created,
            LastError = null,
            LastErrorAt = null,
            ObservedAt = call.ObservedAt,
            AppliedAt = now,
            RecreatedAt = now,
            PendingManagerId = call.Projection!.PendingManagerId,
            LastLagSeconds = rows.Lag(call.Request),
        };
        await store.SaveUserAsync(updated, cancellationToken);
        metrics.Creates.Add(1, ProvisioningMetrics.Kind(ObjectKind.User));
        EngineLog.Provisioned(logger, ObjectKind.User, id, resource.Id, PlanAction.Recreate);
        return call.Done(PlanAction.Recreate, $"target user {mapping.ScimId} was deleted outside this connector", call.Decision(), $"new target {resource.Id}",
            await followUps.BecameActiveAsync(id, mapping.State == LifecycleState.Disabled || call.Run.ForceFollowUps, cancellationToken));
    }
}
