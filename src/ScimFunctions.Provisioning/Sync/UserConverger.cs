using Azure;
using Microsoft.Extensions.Logging;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Notifications;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;
using ScimFunctions.Provisioning.Sync.Entitlements;

namespace ScimFunctions.Provisioning.Sync;

/// <summary>Turns "user X may have changed" into the fewest correct SCIM writes: joiner (adopt or create),
/// mover (PATCH of changed owned attributes with the stored version), leaver (active=false, delete later),
/// rejoin (reactivate the same target user). Reads the mapping row first; writes it last, with its ETag.</summary>
public sealed class UserConverger(
    StateStore store,
    IDirectorySource directory,
    IScimClient scim,
    AttributeMapper mapper,
    ScopeEvaluator scope,
    DestructiveGate gate,
    SyncOptions options,
    ProvisioningMetrics metrics,
    TimeProvider time,
    ILogger logger,
    EntitlementResolver? entitlements = null)
{
    private const int StateConflictRetries = 5;

    public async Task<UserOutcome> ConvergeAsync(UserRequest request, RunContext run, CancellationToken cancellationToken = default)
    {
        TableKeys.Validate(request.ObjectId, "user object id");
        var read = new GraphRead();
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await ConvergeOnceAsync(request, run, read, cancellationToken);
            }
            catch (StateConflictException) when (attempt < StateConflictRetries)
            {
                // Another writer changed the mapping row: read it again and decide again.
                metrics.Conflicts.Add(1, ProvisioningMetrics.Kind(ObjectKind.User));
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

    /// <summary>The Graph user, read at most once per convergence however often the row conflicts.</summary>
    private sealed class GraphRead
    {
        public bool Done { get; set; }
        public DirectoryUser? User { get; set; }
        public DateTimeOffset At { get; set; }

        /// <summary>The full run's copy of the row was used once; from now on the row is read from the table.</summary>
        public bool PreloadSpent { get; set; }
    }

    private async Task<UserOutcome> ConvergeOnceAsync(UserRequest request, RunContext run, GraphRead read, CancellationToken cancellationToken)
    {
        var id = request.ObjectId;

        // A full run's copy of the row saves the point read when it shows nothing to do; any other decision
        // starts again from a fresh read (Restart), so every write still rests on the row's current ETag.
        var known = read.PreloadSpent ? null : request.FullRun?.Rows.GetValueOrDefault(id);
        var mapping = known ?? await store.GetUserAsync(id, cancellationToken);
        Task<UserOutcome> Restart()
        {
            read.PreloadSpent = true;
            return ConvergeOnceAsync(request, run, read, cancellationToken);
        }

        // A snapshot (delta) not newer than the data the row was written from is not trusted: read Graph instead.
        // Equal times are not "newer": a round's ObservedAt is when it started, so a read at that instant may
        // already hold a later change.
        var snapshotUsable = request.ObservedAt is { } seen && (mapping?.ObservedAt is null || seen > mapping.ObservedAt);

        // A snapshot never disables an active user by itself: a webhook item may have read Graph after the
        // round did and found nothing to write (the user came back, or was never gone), which leaves no newer
        // ObservedAt on the row. A leaver is rare, so it costs one Graph read to confirm.
        if (snapshotUsable && mapping is { State: LifecycleState.Active, ScimId: not null }
            && (request.Removed is not null || request.Observed is { AccountEnabled: false }))
        {
            snapshotUsable = false;
        }

        DirectoryUser? user;
        DateTimeOffset observedAt;
        bool gone;
        if (request.Removed is not null && snapshotUsable)
        {
            user = null;
            gone = true;
            observedAt = request.ObservedAt!.Value;
        }
        else if (request.Observed is not null && snapshotUsable)
        {
            user = request.Observed;
            gone = false;
            observedAt = request.ObservedAt!.Value;
        }
        else
        {
            if (!read.Done)
            {
                read.At = time.GetUtcNow();
                read.User = await directory.GetUserAsync(id, cancellationToken);
                read.Done = true;
            }

            user = read.User;
            gone = user is null;
            observedAt = read.At;
        }

        if (gone && known is not null)
        {
            return await Restart();
        }

        if (gone)
        {
            var why = request.Removed is RemovalReason.HardDeleted ? "deleted in Entra" : request.Removed is RemovalReason.SoftDeleted ? "soft-deleted in Entra" : "not found in the directory";
            return await LeaverAsync(mapping, null, why, observedAt, request, run, new UserDecision(false, null, null, mapping?.Projection, [], [], null), cancellationToken);
        }

        var outOfScope = await scope.OutOfScopeReasonAsync(user!, cancellationToken);
        if (outOfScope is not null && known is not null)
        {
            return await Restart();
        }

        if (outOfScope is not null && snapshotUsable && mapping is { State: LifecycleState.Active, ScimId: not null })
        {
            // Leaving scope on the word of a snapshot: confirm with Graph, as for a removal.
            return await ConvergeOnceAsync(request with { Observed = null, ObservedAt = null, Removed = null }, run, read, cancellationToken);
        }

        if (outOfScope is not null)
        {
            var scopeWhy = (mapping is { IsProvisioned: true } ? "left scope: " : "not in scope: ") + outOfScope;
            return await LeaverAsync(mapping, null, scopeWhy, observedAt, request, run, new UserDecision(true, outOfScope, null, mapping?.Projection, [], [], null), cancellationToken);
        }

        // The manager reference is the manager's target id, known only once the manager is provisioned.
        string? managerScimId = null;
        if (mapper.ManagerAttribute is not null && user!.ManagerKnown && !string.IsNullOrEmpty(user.ManagerId) && TableKeys.IsValid(user.ManagerId))
        {
            var manager = known is not null ? request.FullRun!.Rows.GetValueOrDefault(user.ManagerId) : await store.GetUserAsync(user.ManagerId, cancellationToken);
            managerScimId = manager is { IsProvisioned: true } ? manager.ScimId
                : run.DryRun && run.SimulatedActive.ContainsKey(user.ManagerId) ? "(new)" : null;
        }

        var projection = mapper.Project(user!, managerScimId);
        if (!user!.ManagerKnown && mapper.ManagerAttribute is { } managerAttribute && mapping is not null)
        {
            // An incremental delta round says nothing about an unchanged manager: keep what was applied.
            var kept = new SortedDictionary<string, string>(projection.Values.ToDictionary(p => p.Key, p => p.Value), StringComparer.Ordinal);
            kept.Remove(managerAttribute.Path.Text);
            if (mapping.Projection?.TryGetValue(managerAttribute.Path.Text, out var appliedManager) == true)
            {
                kept[managerAttribute.Path.Text] = appliedManager;
            }

            projection = new ProjectionResult(kept, mapping.PendingManagerId);
        }

        if (entitlements is { Enabled: true })
        {
            // Roles, division, skills and languages from the user's rule groups (Sync/Entitlements).
            projection = await entitlements.ProjectAsync(id, projection, mapping?.Projection, cancellationToken);
        }

        var desired = projection.Values;
        var provisioned = mapping is { IsProvisioned: true };
        if (known is not null && !(user.AccountEnabled && provisioned && IsUnchanged(mapping!, projection)))
        {
            return await Restart();
        }

        if (!user!.AccountEnabled)
        {
            if (provisioned && mapping!.State == LifecycleState.Active)
            {
                return await LeaverAsync(mapping, desired, "account disabled in Entra", observedAt, request, run, Decision(true, desired, mapping, projection.PendingManagerId), cancellationToken);
            }

            // A redelivery may follow a crash between this leaver's row write and its follow-ups: recompute them,
            // or the groups keep the leaver until the next reconcile.
            var leaverFollowUps = provisioned && run.ForceFollowUps && !run.DryRun ? await LeaverFollowUpsAsync(mapping!, cancellationToken) : [];
            return Done(id, provisioned ? PlanAction.None : PlanAction.Skip, provisioned ? "already disabled" : "account disabled in Entra; not provisioned",
                Decision(true, desired, mapping, projection.PendingManagerId), followUps: leaverFollowUps);
        }

        if (!provisioned)
        {
            return await JoinerAsync(mapping, user, projection, observedAt, request, run, cancellationToken);
        }

        return await MoverAsync(mapping!, projection, observedAt, request, run, cancellationToken);
    }

    // ---------------- joiner ----------------

    private async Task<UserOutcome> JoinerAsync(UserMapping? existing, DirectoryUser user, ProjectionResult projection, DateTimeOffset observedAt, UserRequest request, RunContext run, CancellationToken cancellationToken)
    {
        var id = user.Id;
        var desired = projection.Values;
        var decision = Decision(true, desired, existing, projection.PendingManagerId);

        // A full run that listed the target knows whether the person is there: a match is read by id and adopted,
        // a miss goes straight to the POST (whose 409 still catches a user created since the listing).
        // A sweep's listing left a hint per joiner in Table Storage instead (TargetHintWriter).
        var listedAbsent = false;
        TargetMatch? match = null;
        if (desired.TryGetValue(ScimAttributes.UserName, out var indexedName))
        {
            if (request.FullRun?.Target is { } index)
            {
                match = index.Find(id, indexedName);
                listedAbsent = match is null;
            }
            else if (request.FullRun is null && !run.DryRun)
            {
                match = TargetHintWriter.Usable(await store.GetTargetHintAsync(id, cancellationToken), indexedName, time.GetUtcNow(), out listedAbsent);
            }
        }

        if (match is not null)
        {
            var listed = await scim.GetUserAsync(match.ScimId, cancellationToken: cancellationToken);
            if (listed.Outcome == ScimOutcome.Ok && listed.Value is { } found)
            {
                return await AdoptAsync(existing, found, projection, observedAt, request, run, match.Why, cancellationToken);
            }

            // Deleted since the listing: look the person up as without an index.
            EnsureSuccessOrNotFound(listed, id, "read of the listed target user");
        }

        if (!listedAbsent)
        {
            // Look for the person on the target first: externalId is the anchor this connector writes.
            var byExternalId = await scim.FindUserAsync(ScimAttributes.ExternalId, id, cancellationToken);
            if (byExternalId.Outcome == ScimOutcome.Ok && byExternalId.Value is { } anchored)
            {
                return await AdoptAsync(existing, anchored, projection, observedAt, request, run, "target user carries this object id as externalId", cancellationToken);
            }

            EnsureSuccessOrNotFound(byExternalId, id, "look up by externalId");
        }

        if (!desired.TryGetValue(ScimAttributes.UserName, out var userName))
        {
            return await FailPermanentAsync(existing, id, FailureReasons.TargetRejectedValue, "The user has no value for userName (check the attribute mapping source).", run, decision, cancellationToken);
        }

        if (run.DryRun && listedAbsent)
        {
            run.SimulatedActive[id] = "(new)";
            return Done(id, PlanAction.Create, "new in scope; the target's listing holds no user with this externalId or userName", decision, Paths(desired.Keys));
        }

        if (run.DryRun)
        {
            // Plan: a userName clash would be adopted or reported; a read tells which.
            var byName = await scim.FindUserAsync(ScimAttributes.UserName, userName, cancellationToken);
            if (byName.Outcome == ScimOutcome.Ok && byName.Value is { } named)
            {
                return await AdoptAsync(existing, named, projection, observedAt, request, run, "target user has the same userName", cancellationToken);
            }

            run.SimulatedActive[id] = "(new)";
            return Done(id, PlanAction.Create, "new in scope; no target user with this externalId or userName", decision, Paths(desired.Keys));
        }

        var created = await scim.CreateUserAsync(ScimProjection.BuildCreateBody(desired, mapper), cancellationToken);
        switch (created.Outcome)
        {
            case ScimOutcome.Ok when created.Value is { } resource:
                var mapping = NewMapping(existing, id, resource, desired, projection.PendingManagerId, MappingOrigin.Created, observedAt, request);
                mapping = await SaveAsync(mapping, existing, cancellationToken);
                metrics.Creates.Add(1, ProvisioningMetrics.Kind(ObjectKind.User));
                RecordLag(request);
                EngineLog.Provisioned(logger, ObjectKind.User, id, resource.Id, PlanAction.Create);
                return Done(id, PlanAction.Create, "new in scope", decision, Paths(desired.Keys), await BecameActiveFollowUpsAsync(id, WasLeaver(existing), cancellationToken));

            case ScimOutcome.Uniqueness when created.Value is { } clash:
                // The client already found the user holding the userName (e.g. our own timed-out create).
                return await AdoptAsync(existing, clash, projection, observedAt, request, run, "create met 409; target user has the same userName", cancellationToken);

            case ScimOutcome.Uniqueness:
                // userName taken: the same person created earlier (a timed-out create) or an existing account.
                var byName = await scim.FindUserAsync(ScimAttributes.UserName, userName, cancellationToken);
                if (byName.Outcome == ScimOutcome.Ok && byName.Value is { } named)
                {
                    return await AdoptAsync(existing, named, projection, observedAt, request, run, "create met 409; target user has the same userName", cancellationToken);
                }

                EnsureSuccessOrNotFound(byName, id, "look up by userName");
                return await FailPermanentAsync(existing, id, FailureReasons.UserNameTaken, $"The target refused the userName as taken (409) but no user with it can be found{ScimFailures.Detail(created.Error)}.", run, decision, cancellationToken);

            default:
                return await FailFromResultAsync(existing, id, created.Outcome, created.Error, "create", run, decision, cancellationToken);
        }
    }

    private async Task<UserOutcome> AdoptAsync(UserMapping? existing, ScimResource target, ProjectionResult projection, DateTimeOffset observedAt, UserRequest request, RunContext run, string why, CancellationToken cancellationToken)
    {
        var id = request.ObjectId;
        var desired = projection.Values;
        var targetExternalId = ScimProjection.ReadCurrent(target.Body, mapper).GetValueOrDefault(ScimAttributes.ExternalId)
            ?? TargetString(target.Body, ScimAttributes.ExternalId, target.Id);
        var decision = Decision(true, desired, existing, projection.PendingManagerId);

        // Plainly the same person: the anchor matches, or the userName matches and nobody else claims it.
        if (!string.IsNullOrEmpty(targetExternalId) && !targetExternalId.Equals(id, StringComparison.OrdinalIgnoreCase))
        {
            return await FailPermanentAsync(existing, id, FailureReasons.UserNameTaken,
                $"Target user {target.Id} has the same userName but belongs to another identity (its externalId differs); not adopted.", run, decision, cancellationToken);
        }

        var claims = await store.FindUsersByScimIdAsync(target.Id, cancellationToken);
        if (claims.Any(c => c.ObjectId != id && c.State is LifecycleState.Active or LifecycleState.Disabled))
        {
            return await FailPermanentAsync(existing, id, FailureReasons.UserNameTaken,
                $"Target user {target.Id} is already linked to another Entra user; not adopted.", run, decision, cancellationToken);
        }

        var current = ScimProjection.ReadCurrent(target.Body, mapper);
        var ops = ScimProjection.Diff(current, desired, mapper);
        var changed = ScimProjection.ChangedPaths(current, desired, mapper);
        decision = decision with { Stored = current, ChangedPaths = changed, Patch = ops };
        if (run.DryRun)
        {
            run.SimulatedActive[id] = target.Id;
            return Done(id, PlanAction.Adopt, why, decision, changed.Count == 0 ? $"target {target.Id}" : $"target {target.Id}; patch {Paths(changed)}");
        }

        var resource = target;
        if (ops.Count > 0)
        {
            resource = await PatchWithRetriesAsync(target.Id, ops, target.Version, desired, id, cancellationToken)
                ?? throw new ProvisioningException(FailureReasons.TargetUserDeleted, $"Target user {target.Id} disappeared while being adopted.", isTransient: true);
        }

        var mapping = NewMapping(existing, id, resource, desired, projection.PendingManagerId, MappingOrigin.Adopted, observedAt, request);
        await SaveAsync(mapping, existing, cancellationToken);
        metrics.Creates.Add(1, ProvisioningMetrics.Kind(ObjectKind.User));
        RecordLag(request);
        EngineLog.Provisioned(logger, ObjectKind.User, id, resource.Id, PlanAction.Adopt);
        return Done(id, PlanAction.Adopt, why, decision, changed.Count == 0 ? $"target {resource.Id}" : $"target {resource.Id}; patched {Paths(changed)}", await BecameActiveFollowUpsAsync(id, WasLeaver(existing), cancellationToken));
    }

    // ---------------- mover and rejoin ----------------

    private async Task<UserOutcome> MoverAsync(UserMapping mapping, ProjectionResult projection, DateTimeOffset observedAt, UserRequest request, RunContext run, CancellationToken cancellationToken)
    {
        var id = mapping.ObjectId;
        var desired = projection.Values;
        var hash = ScimProjection.Hash(desired);
        var reactivating = mapping.State == LifecycleState.Disabled;

        if (IsUnchanged(mapping, projection))
        {
            metrics.NoOps.Add(1, ProvisioningMetrics.Kind(ObjectKind.User));
            EngineLog.Unchanged(logger, ObjectKind.User, id, "projection unchanged");
            var followUps = run.ForceFollowUps && !run.DryRun ? await BecameActiveFollowUpsAsync(id, wasLeaver: true, cancellationToken) : [];
            return Done(id, PlanAction.None, "mapped attributes unchanged", Decision(true, desired, mapping, projection.PendingManagerId), followUps: followUps);
        }

        var stored = mapping.Projection;
        var version = mapping.TargetVersion;
        if (stored is null)
        {
            // No record of what was applied (an old row): ask the target what it holds.
            var got = await scim.GetUserAsync(mapping.ScimId!, cancellationToken: cancellationToken);
            if (got.Outcome == ScimOutcome.NotFound)
            {
                return await TargetDeletedAsync(mapping, projection, observedAt, request, run, cancellationToken);
            }

            EnsureSuccess(got, id, "read");
            stored = ScimProjection.ReadCurrent(got.Value!.Body, mapper);
            version = got.Value.Version;
        }

        var ops = ScimProjection.Diff(stored, desired, mapper);
        var changed = ScimProjection.ChangedPaths(stored, desired, mapper);
        var decision = Decision(true, desired, mapping, projection.PendingManagerId) with { Stored = stored, ChangedPaths = changed, Patch = ops };
        var action = reactivating ? PlanAction.Reactivate : ops.Count > 0 ? PlanAction.Update : PlanAction.None;
        var reason = reactivating ? "back in scope and enabled in Entra within the grace period" : ops.Count > 0 ? "changed: " + Paths(changed) : "bookkeeping only";
        if (run.DryRun)
        {
            return Done(id, action, reason, decision, ops.Count > 0 ? Paths(changed) : null);
        }

        ScimResource? resource = null;
        if (ops.Count > 0)
        {
            resource = await PatchWithRetriesAsync(mapping.ScimId!, ops, version, desired, id, cancellationToken);
            if (resource is null)
            {
                return await TargetDeletedAsync(mapping, projection, observedAt, request, run, cancellationToken);
            }
        }

        var updated = mapping with
        {
            TargetVersion = resource?.Version ?? version,
            ProjectionHash = hash,
            Projection = desired,
            State = LifecycleState.Active,
            DisabledSince = null,
            LastError = null,
            LastErrorAt = null,
            ObservedAt = observedAt,
            AppliedAt = ops.Count > 0 ? time.GetUtcNow() : mapping.AppliedAt,
            LastLagSeconds = ops.Count > 0 ? Lag(request) : mapping.LastLagSeconds,
            PendingManagerId = projection.PendingManagerId,
        };
        await AddPendingManagerAsync(id, mapping.PendingManagerId, projection.PendingManagerId, cancellationToken);
        await store.SaveUserAsync(updated, cancellationToken);
        await RemovePendingManagerAsync(id, mapping.PendingManagerId, projection.PendingManagerId, cancellationToken);

        if (ops.Count > 0)
        {
            metrics.Updates.Add(1, ProvisioningMetrics.Kind(ObjectKind.User));
            RecordLag(request);
            var changedPaths = Paths(changed);
            EngineLog.Updated(logger, ObjectKind.User, id, mapping.ScimId, action, changedPaths);
        }
        else
        {
            EngineLog.Unchanged(logger, ObjectKind.User, id, "row refreshed");
        }

        var follow = reactivating || run.ForceFollowUps ? await BecameActiveFollowUpsAsync(id, wasLeaver: true, cancellationToken) : [];
        return Done(id, action, reason, decision, ops.Count > 0 ? Paths(changed) : null, follow);
    }

    /// <summary>Nothing to write: active, the same projection and pending manager as last applied, no error stored.</summary>
    private static bool IsUnchanged(UserMapping mapping, ProjectionResult projection) =>
        mapping.State != LifecycleState.Disabled
        && mapping.Projection is not null
        && mapping.LastError is null
        && string.Equals(mapping.PendingManagerId, projection.PendingManagerId, StringComparison.Ordinal)
        && ScimProjection.Hash(projection.Values) == mapping.ProjectionHash;

    /// <summary>PATCH with If-Match; on a version conflict read the target, diff again from what it holds,
    /// and retry (bounded). Null when the target user no longer exists.</summary>
    private async Task<ScimResource?> PatchWithRetriesAsync(string scimId, List<ScimPatchOperation> ops, string? version, IReadOnlyDictionary<string, string> desired, string objectId, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var patched = await scim.PatchUserAsync(scimId, ops, version, cancellationToken);
            switch (patched.Outcome)
            {
                case ScimOutcome.Ok or ScimOutcome.NotModified:
                    return patched.Value ?? new ScimResource(scimId, null, []);
                case ScimOutcome.NotFound:
                    return null;
                case ScimOutcome.VersionConflict when attempt < options.ConflictRetries:
                    metrics.Conflicts.Add(1, ProvisioningMetrics.Kind(ObjectKind.User));
                    var fresh = await scim.GetUserAsync(scimId, cancellationToken: cancellationToken);
                    if (fresh.Outcome == ScimOutcome.NotFound)
                    {
                        return null;
                    }

                    EnsureSuccess(fresh, objectId, "re-read after a version conflict");
                    var current = ScimProjection.ReadCurrent(fresh.Value!.Body, mapper);
                    ops = ScimProjection.Diff(current, desired, mapper);
                    version = fresh.Value.Version;
                    if (ops.Count == 0)
                    {
                        // Someone (or an earlier try of ours) already wrote exactly this.
                        return fresh.Value;
                    }

                    break;
                case ScimOutcome.VersionConflict:
                    throw new ProvisioningException(FailureReasons.VersionConflicts, $"Target user {scimId} kept changing: {options.ConflictRetries} version conflicts in a row.", isTransient: true);
                default:
                    ThrowFor(patched.Outcome, patched.Error, objectId, "patch", patched.Outcome == ScimOutcome.InvalidValue ? EntitlementProjection.DescribeSent(desired, ops) : null);
                    break;
            }
        }
    }

    private async Task<UserOutcome> TargetDeletedAsync(UserMapping mapping, ProjectionResult projection, DateTimeOffset observedAt, UserRequest request, RunContext run, CancellationToken cancellationToken)
    {
        var id = mapping.ObjectId;
        var decision = Decision(true, projection.Values, mapping, projection.PendingManagerId);
        if (!run.DryRun && await store.GetUserAsync(id, cancellationToken) is { } fresh && fresh.ETag != mapping.ETag)
        {
            // The row changed since it was read (PurgeDisabled deleted this leaver in the meantime): the target
            // user is gone for a known reason, so decide again from the row as it is now (a rejoin: a new joiner).
            throw new StateConflictException($"The user {id} row changed while its target user {mapping.ScimId} disappeared.");
        }

        if (!options.RecreateDeletedTargetUsers)
        {
            return await FailPermanentAsync(mapping, id, FailureReasons.TargetUserDeleted,
                $"Target user {mapping.ScimId} was deleted on the target outside this connector; Sync__RecreateDeletedTargetUsers is false, so it is reported, not recreated.", run, decision, cancellationToken);
        }

        if (run.DryRun)
        {
            return Done(id, PlanAction.Recreate, "deleted on the target outside this connector", decision);
        }

        var created = await scim.CreateUserAsync(ScimProjection.BuildCreateBody(projection.Values, mapper), cancellationToken);
        ScimResource resource;
        if (created.Outcome == ScimOutcome.Ok && created.Value is not null)
        {
            resource = created.Value;
        }
        else if (created.Outcome == ScimOutcome.Uniqueness && projection.Values.TryGetValue(ScimAttributes.UserName, out var userName)
            && await scim.FindUserAsync(ScimAttributes.UserName, userName, cancellationToken) is { Outcome: ScimOutcome.Ok, Value: { } found })
        {
            resource = found;
        }
        else
        {
            return await FailFromResultAsync(mapping, id, created.Outcome, created.Error, "recreate", run, decision, cancellationToken);
        }

        var now = time.GetUtcNow();
        var updated = mapping with
        {
            ScimId = resource.Id,
            TargetVersion = resource.Version,
            ProjectionHash = ScimProjection.Hash(projection.Values),
            Projection = projection.Values,
            State = LifecycleState.Active,
            DisabledSince = null,
            Origin = MappingOrigin.Created,
            LastError = null,
            LastErrorAt = null,
            ObservedAt = observedAt,
            AppliedAt = now,
            RecreatedAt = now,
            PendingManagerId = projection.PendingManagerId,
            LastLagSeconds = Lag(request),
        };
        await store.SaveUserAsync(updated, cancellationToken);
        metrics.Creates.Add(1, ProvisioningMetrics.Kind(ObjectKind.User));
        EngineLog.Provisioned(logger, ObjectKind.User, id, resource.Id, PlanAction.Recreate);
        return Done(id, PlanAction.Recreate, $"target user {mapping.ScimId} was deleted outside this connector", decision, $"new target {resource.Id}", await BecameActiveFollowUpsAsync(id, mapping.State == LifecycleState.Disabled || run.ForceFollowUps, cancellationToken));
    }

    // ---------------- leaver ----------------

    private async Task<UserOutcome> LeaverAsync(UserMapping? mapping, IReadOnlyDictionary<string, string>? desiredWhileEnabled, string why, DateTimeOffset observedAt, UserRequest request, RunContext run, UserDecision decision, CancellationToken cancellationToken)
    {
        var id = request.ObjectId;
        if (mapping is not { IsProvisioned: true })
        {
            var skipWhy = why + "; not provisioned";
            EngineLog.Skipped(logger, ObjectKind.User, id, skipWhy);
            return Done(id, PlanAction.Skip, why + "; not provisioned", decision);
        }

        if (mapping.State == LifecycleState.Disabled)
        {
            metrics.NoOps.Add(1, ProvisioningMetrics.Kind(ObjectKind.User));
            var followUps = run.ForceFollowUps && !run.DryRun ? await LeaverFollowUpsAsync(mapping, cancellationToken) : [];
            return Done(id, PlanAction.None, why + "; already disabled", decision, followUps: followUps);
        }

        var baseline = mapping.Projection ?? new Dictionary<string, string>();
        var desired = ScimProjection.WithActive(desiredWhileEnabled ?? baseline, active: false);
        var ops = ScimProjection.Diff(baseline, desired, mapper);
        var changed = ScimProjection.ChangedPaths(baseline, desired, mapper);
        decision = decision with { Desired = desired, ChangedPaths = changed, Patch = ops };

        if (!await gate.AcquireAsync(id, PlanAction.Disable, mapping.ScimId, why, run, cancellationToken))
        {
            metrics.Staged.Add(1, ProvisioningMetrics.Kind(ObjectKind.User));
            return Done(id, PlanAction.Stage, $"disable held: {why}; destructive threshold reached", decision, "disable");
        }

        if (run.DryRun)
        {
            // The group phase of the same plan must see this user as gone, as the real run would.
            run.SimulatedInactive[id] = true;
            return Done(id, PlanAction.Disable, why, decision, Paths(changed));
        }

        var resource = await PatchWithRetriesAsync(mapping.ScimId!, ops, mapping.TargetVersion, desired, id, cancellationToken);
        var now = time.GetUtcNow();
        var updated = mapping with
        {
            TargetVersion = resource?.Version ?? mapping.TargetVersion,
            ProjectionHash = ScimProjection.Hash(desired),
            Projection = desired,
            State = LifecycleState.Disabled,
            DisabledSince = now,
            LastError = null,
            LastErrorAt = null,
            ObservedAt = observedAt,
            AppliedAt = now,
            LastLagSeconds = Lag(request),
        };
        await store.SaveUserAsync(updated, cancellationToken);
        metrics.Disables.Add(1, ProvisioningMetrics.Kind(ObjectKind.User));
        RecordLag(request);
        var disabledWhy = resource is null ? why + " (already gone from the target)" : why;
        EngineLog.Disabled(logger, id, mapping.ScimId, disabledWhy);
        return Done(id, PlanAction.Disable, why, decision, Paths(changed), await LeaverFollowUpsAsync(mapping, cancellationToken));
    }

    /// <summary>DELETE of a user disabled longer than the grace period (PurgeDisabled). Confirms with the
    /// directory first: a user who is back is converged instead; a failed read deletes nothing.</summary>
    public async Task<UserOutcome> PurgeAsync(UserMapping listed, RunContext run, CancellationToken cancellationToken = default)
    {
        var id = listed.ObjectId;

        // The purge's listing may be minutes old: decide on the row as it is now (a rejoin may have written it).
        var mapping = await store.GetUserAsync(id, cancellationToken) ?? listed with { State = LifecycleState.Deleted };
        var decision = new UserDecision(false, null, null, mapping.Projection, [], [], null);
        if (mapping.State != LifecycleState.Disabled || mapping.ScimId is null || mapping.Origin is null || mapping.DisabledSince != listed.DisabledSince)
        {
            return Done(id, PlanAction.Skip, "not a disabled user this connector created or adopted", decision);
        }

        DirectoryUser? user;
        try
        {
            user = await directory.GetUserAsync(id, cancellationToken);
        }
        catch (DirectoryUnavailableException ex)
        {
            throw StateFailures.FromDirectory(ex, "The directory could not be read; nothing is deleted on a failed read.");
        }

        string? outOfScope;
        try
        {
            outOfScope = user is not null && user.AccountEnabled ? await scope.OutOfScopeReasonAsync(user, cancellationToken) : "not enabled in Entra";
        }
        catch (DirectoryUnavailableException ex)
        {
            throw StateFailures.FromDirectory(ex, "A scope group could not be read; nothing is deleted on a failed read.");
        }

        if (outOfScope is null)
        {
            // Back in Entra and in scope: not a leaver any more.
            return await ConvergeAsync(new UserRequest(id, user!, time.GetUtcNow()), run, cancellationToken);
        }

        var why = $"disabled since {mapping.DisabledSince:u}, past the {options.DisabledGraceDays}-day grace period";
        if (!await gate.AcquireAsync(id, PlanAction.Delete, mapping.ScimId, why, run, cancellationToken))
        {
            metrics.Staged.Add(1, ProvisioningMetrics.Kind(ObjectKind.User));
            return Done(id, PlanAction.Stage, $"delete held: {why}; destructive threshold reached", decision, "delete");
        }

        if (run.DryRun)
        {
            return Done(id, PlanAction.Delete, why, decision, $"target {mapping.ScimId}");
        }

        var deleted = await scim.DeleteUserAsync(mapping.ScimId, mapping.TargetVersion, cancellationToken);
        if (deleted.Outcome == ScimOutcome.VersionConflict)
        {
            // Changed on the target since it was disabled: by an admin, or by a rejoin that is reactivating the
            // user right now (it PATCHes active=true before it writes the row, so the row cannot tell yet). Only
            // a user still inactive on the target is deleted, and only at the version just read.
            metrics.Conflicts.Add(1, ProvisioningMetrics.Kind(ObjectKind.User));
            var current = await scim.GetUserAsync(mapping.ScimId, cancellationToken: cancellationToken);
            if (current.Outcome != ScimOutcome.NotFound)
            {
                EnsureSuccess(current, id, "read before delete");
                if (TargetBoolean(current.Value!.Body, ScimAttributes.Active, mapping.ScimId) != false)
                {
                    return Done(id, PlanAction.Skip, "reactivated on the target while being purged; decided again at its next convergence", decision);
                }

                deleted = await scim.DeleteUserAsync(mapping.ScimId, current.Value.Version, cancellationToken);
                if (deleted.Outcome == ScimOutcome.VersionConflict)
                {
                    throw new ProvisioningException(FailureReasons.VersionConflicts, $"Target user {mapping.ScimId} kept changing while being purged; not deleted.", isTransient: true);
                }
            }
        }

        if (!deleted.IsSuccess && deleted.Outcome != ScimOutcome.NotFound)
        {
            ThrowFor(deleted.Outcome, deleted.Error, id, "delete");
        }

        // The target user is gone now, whoever wrote the row meanwhile: the row must say so.
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await store.SaveUserAsync(mapping with { State = LifecycleState.Deleted, TargetVersion = null, AppliedAt = time.GetUtcNow(), LastError = null, LastErrorAt = null }, cancellationToken);
                break;
            }
            catch (StateConflictException) when (attempt < StateConflictRetries)
            {
                var fresh = await store.GetUserAsync(id, cancellationToken);
                if (fresh is null || fresh.ScimId != mapping.ScimId || fresh.State == LifecycleState.Deleted)
                {
                    break;
                }

                mapping = fresh;
            }
        }

        metrics.Deletes.Add(1, ProvisioningMetrics.Kind(ObjectKind.User));
        EngineLog.Deleted(logger, id, mapping.ScimId, why);
        return Done(id, PlanAction.Delete, why, decision, $"target {mapping.ScimId}");
    }

    /// <summary>A string attribute of a target resource. The target answering another JSON type there (a number,
    /// an object) is a per-object failure with a reason, never an exception outside the settlement paths.</summary>
    internal static string? TargetString(System.Text.Json.Nodes.JsonObject body, string attribute, string? scimId) => body[attribute] switch
    {
        null => null,
        System.Text.Json.Nodes.JsonValue value when value.TryGetValue<string>(out var text) => text,
        var other => throw InvalidTarget(attribute, "a string", other, scimId),
    };

    internal static bool? TargetBoolean(System.Text.Json.Nodes.JsonObject body, string attribute, string? scimId) => body[attribute] switch
    {
        null => null,
        System.Text.Json.Nodes.JsonValue value when value.TryGetValue<bool>(out var flag) => flag,
        var other => throw InvalidTarget(attribute, "a boolean", other, scimId),
    };

    /// <summary>Names the attribute, the expected and the received JSON kind and the target id; never the value.</summary>
    internal static ProvisioningException InvalidTarget(string attribute, string expected, System.Text.Json.Nodes.JsonNode node, string? scimId) =>
        new(FailureReasons.TargetResponseInvalid, $"Target resource {scimId} answered {node.GetValueKind()} for '{attribute}' where {expected} is expected.", isTransient: false);

    /// <summary>Compares the target's managed users with what was last applied. Drift is reported (event 3021,
    /// a <c>drift</c> operation); with <see cref="SyncOptions.RemediateUserDrift"/> the owned attributes are put back.
    /// Unmanaged target users are never looked at twice and never touched.</summary>
    /// <param name="listing">The chunk of the target's users this run compares (ReconcileGroups' <see cref="DriftScan"/>);
    /// null: every target user, listed here.</param>
    public async Task<IReadOnlyList<PlannedOperation>> ReportDriftAsync(bool dryRun, ICollection<ObjectFailure>? failures = null, DriftListing? listing = null, CancellationToken cancellationToken = default)
    {
        var managed = new Dictionary<string, UserMapping>(StringComparer.Ordinal);
        await foreach (var mapping in store.ListUsersAsync(cancellationToken: cancellationToken))
        {
            if (mapping is { IsProvisioned: true, Projection: not null })
            {
                managed[mapping.ScimId!] = mapping;
            }
        }

        var operations = new List<PlannedOperation>();
        if (managed.Count == 0)
        {
            return operations;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var drifted = new List<(ScimResource Resource, UserMapping Mapping, List<string> Changed, SortedDictionary<string, string> Current)>();
        try
        {
            await foreach (var resource in listing?.ReadAsync(cancellationToken) ?? scim.ListUsersAsync(cancellationToken: cancellationToken))
            {
                if (!managed.TryGetValue(resource.Id, out var mapping))
                {
                    continue;
                }

                seen.Add(resource.Id);
                var current = ScimProjection.ReadCurrent(resource.Body, mapper);
                var changed = ScimProjection.ChangedPaths(current, mapping.Projection!, mapper);
                if (changed.Count > 0)
                {
                    drifted.Add((resource, mapping, changed, current));
                }
            }
        }
        catch (ScimException ex)
        {
            // A partial listing proves nothing: report the failure, decide nothing.
            throw new ProvisioningException(FailureReasons.TargetUnavailable, "The target's users could not be listed completely.", isTransient: true, ex);
        }

        foreach (var (resource, mapping, changed, current) in drifted)
        {
            var detail = Paths(changed);
            EngineLog.Drift(logger, ObjectKind.User, mapping.ObjectId, mapping.ScimId, detail);
            if (options.RemediateUserDrift && !dryRun)
            {
                // One user's failure (its row raced with its own convergence, the target refused the PATCH)
                // is that user's: the others are still put back.
                try
                {
                    var ops = ScimProjection.Diff(current, mapping.Projection!, mapper);
                    var patched = await PatchWithRetriesAsync(resource.Id, ops, resource.Version, mapping.Projection!, mapping.ObjectId, cancellationToken);
                    if (patched is not null)
                    {
                        await store.SaveUserAsync(mapping with { TargetVersion = patched.Version ?? mapping.TargetVersion }, cancellationToken);
                        metrics.Updates.Add(1, ProvisioningMetrics.Kind(ObjectKind.User));
                    }

                    operations.Add(new PlannedOperation(ObjectKind.User, mapping.ObjectId, PlanAction.Update, "drift on the target put back", detail));
                }
                catch (StateConflictException)
                {
                    // The row was written since the listing (a convergence of this user): that convergence holds the
                    // newer truth; the next reconcile compares again.
                    operations.Add(new PlannedOperation(ObjectKind.User, mapping.ObjectId, PlanAction.Drift, "drift not put back: the row changed meanwhile; compared again at the next reconcile", detail));
                }
                catch (ProvisioningException ex)
                {
                    failures?.Add(new ObjectFailure(ObjectKind.User, mapping.ObjectId, $"{ex.Reason}: {ex.Message}"));
                }
                catch (RequestFailedException ex) when (ex.Status != 400)
                {
                    failures?.Add(new ObjectFailure(ObjectKind.User, mapping.ObjectId, StateFailures.Describe(StateFailures.FromTable(ex))));
                }
            }
            else
            {
                operations.Add(new PlannedOperation(ObjectKind.User, mapping.ObjectId, PlanAction.Drift, "changed on the target outside this connector", detail));
            }
        }

        // Only a listing of every target user shows that one is missing; a chunk of it shows nothing of the kind.
        foreach (var mapping in managed.Values.Where(m => (listing?.CoversEverything ?? true) && !seen.Contains(m.ScimId!) && m.State == LifecycleState.Active))
        {
            EngineLog.Drift(logger, ObjectKind.User, mapping.ObjectId, mapping.ScimId, "missing from the target's user list");
            operations.Add(new PlannedOperation(ObjectKind.User, mapping.ObjectId, PlanAction.Drift, "missing from the target's user list (recreated or reported at its next convergence)", mapping.ScimId));
        }

        return operations;
    }

    // ---------------- follow-ups ----------------

    /// <summary>Who was waiting for this user to be provisioned: reports (manager) and groups (membership).
    /// A leaver who is back (<paramref name="wasLeaver"/>) is also waited for by the managed groups that kept
    /// it in their pending set: no pending rows are written for known leavers.</summary>
    private async Task<IReadOnlyList<FollowUp>> BecameActiveFollowUpsAsync(string objectId, bool wasLeaver, CancellationToken cancellationToken)
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

    private static bool WasLeaver(UserMapping? existing) => existing is { State: LifecycleState.Disabled or LifecycleState.Deleted };

    /// <summary>Managed groups that still list the leaver as a member.</summary>
    private async Task<IReadOnlyList<FollowUp>> LeaverFollowUpsAsync(UserMapping mapping, CancellationToken cancellationToken)
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

    /// <summary>Notes that the user waits for its manager, BEFORE the mapping row says so: a crash in between
    /// then leaves a pending row with an old mapping row, which the redelivery repairs; the other order left a
    /// row that says "waiting" with nobody told, and the redelivery saw nothing to do (a spare pending row costs
    /// one no-op follow-up). Then the manager is read again: if its joiner ran between this user's read of it
    /// and the pending row, that joiner found no pending row, so this convergence decides again instead.</summary>
    private async Task AddPendingManagerAsync(string objectId, string? before, string? after, CancellationToken cancellationToken)
    {
        if (string.Equals(before, after, StringComparison.Ordinal) || after is null || !TableKeys.IsValid(after))
        {
            return;
        }

        await store.AddPendingAsync(after, ObjectKind.User, objectId, cancellationToken);
        if (await store.GetUserAsync(after, cancellationToken) is { IsProvisioned: true })
        {
            throw new StateConflictException($"Manager {after} of user {objectId} was provisioned while the user was being converged.");
        }
    }

    private async Task RemovePendingManagerAsync(string objectId, string? before, string? after, CancellationToken cancellationToken)
    {
        if (!string.Equals(before, after, StringComparison.Ordinal) && before is not null && TableKeys.IsValid(before))
        {
            await store.RemovePendingAsync(before, ObjectKind.User, objectId, cancellationToken);
        }
    }

    // ---------------- helpers ----------------

    private UserMapping NewMapping(UserMapping? existing, string id, ScimResource resource, IReadOnlyDictionary<string, string> desired, string? pendingManager, MappingOrigin origin, DateTimeOffset observedAt, UserRequest request) =>
        new(id, resource.Id, resource.Version, ScimProjection.Hash(desired), desired, LifecycleState.Active, null, origin,
            ObservedAt: observedAt, AppliedAt: time.GetUtcNow(), LastLagSeconds: Lag(request), PendingManagerId: pendingManager,
            ETag: existing?.ETag ?? default);

    private async Task<UserMapping> SaveAsync(UserMapping mapping, UserMapping? existing, CancellationToken cancellationToken)
    {
        await AddPendingManagerAsync(mapping.ObjectId, existing?.PendingManagerId, mapping.PendingManagerId, cancellationToken);
        var saved = await store.SaveUserAsync(mapping, cancellationToken);
        await RemovePendingManagerAsync(mapping.ObjectId, existing?.PendingManagerId, mapping.PendingManagerId, cancellationToken);
        return saved;
    }

    private async Task<UserOutcome> FailFromResultAsync(UserMapping? existing, string id, ScimOutcome outcome, ScimError? error, string what, RunContext run, UserDecision decision, CancellationToken cancellationToken)
    {
        if (!ScimFailures.IsRefusal(outcome, ObjectKind.User))
        {
            throw ScimFailures.For(outcome, error, ObjectKind.User, id, what, metrics);
        }

        var (reason, _) = ScimFailures.Classify(outcome, ObjectKind.User);
        return await FailPermanentAsync(existing, id, reason, $"The target refused the {what}{ScimFailures.Detail(error)}.", run, decision, cancellationToken);
    }

    /// <summary>A failure retrying cannot fix: stored on the row (so status shows it), then thrown for the host.</summary>
    private async Task<UserOutcome> FailPermanentAsync(UserMapping? existing, string id, string reason, string message, RunContext run, UserDecision decision, CancellationToken cancellationToken)
    {
        if (run.DryRun)
        {
            return Done(id, PlanAction.Fail, message, decision, reason);
        }

        await RecordErrorAsync(id, $"{reason}: {message}", cancellationToken);
        metrics.Failures.Add(1, ProvisioningMetrics.Kind(ObjectKind.User));
        throw new ProvisioningException(reason, message, isTransient: false);
    }

    /// <summary>Stores the error on the user's row (creating a <see cref="LifecycleState.Failed"/> row when there is none).</summary>
    public async Task RecordErrorAsync(string objectId, string error, CancellationToken cancellationToken = default)
    {
        for (var attempt = 0; attempt < StateConflictRetries; attempt++)
        {
            var row = await store.GetUserAsync(objectId, cancellationToken);
            if (row?.LastError == error)
            {
                return; // already recorded (a permanent failure is recorded where it happens and again by the host)
            }

            var updated = row is null
                ? new UserMapping(objectId, null, null, null, null, LifecycleState.Failed, null, null, error, time.GetUtcNow())
                : row with { LastError = error, LastErrorAt = time.GetUtcNow() };
            try
            {
                await store.SaveUserAsync(updated, cancellationToken);
                return;
            }
            catch (StateConflictException)
            {
            }
        }
    }

    private void ThrowFor(ScimOutcome outcome, ScimError? error, string objectId, string what, string? context = null) =>
        throw ScimFailures.For(outcome, error, ObjectKind.User, objectId, what, metrics, context);

    private void EnsureSuccess(ScimResult<ScimResource> result, string objectId, string what)
    {
        if (!result.IsSuccess || result.Value is null)
        {
            ThrowFor(result.Outcome, result.Error, objectId, what);
        }
    }

    private void EnsureSuccessOrNotFound(ScimResult<ScimResource> result, string objectId, string what)
    {
        if (result.Outcome != ScimOutcome.NotFound)
        {
            EnsureSuccess(result, objectId, what);
        }
    }

    private double? Lag(UserRequest request) => request.SeenAt is { } seen ? Math.Max(0, (time.GetUtcNow() - seen).TotalSeconds) : null;

    private void RecordLag(UserRequest request)
    {
        if (Lag(request) is { } seconds)
        {
            metrics.Lag.Record(seconds, ProvisioningMetrics.Kind(ObjectKind.User));
        }
    }

    private static UserDecision Decision(bool found, IReadOnlyDictionary<string, string>? desired, UserMapping? mapping, string? pendingManager) =>
        new(found, null, desired, mapping?.Projection, [], [], pendingManager);

    private static string Paths(IEnumerable<string> paths) => AttributeMapper.Paths(paths);

    private static UserOutcome Done(string id, PlanAction action, string reason, UserDecision? decision, string? detail = null, IReadOnlyList<FollowUp>? followUps = null) =>
        new(id, action, [new PlannedOperation(ObjectKind.User, id, action, reason, detail)], followUps ?? [], decision);
}
