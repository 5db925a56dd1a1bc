using Microsoft.Extensions.Logging;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;
using static ScimFunctions.Provisioning.Sync.Users.UserOutcomes;

namespace ScimFunctions.Provisioning.Sync.Users;

/// <summary>Joiner: a user in scope and enabled with no provisioned row. Finds the person on the target (the run's
/// listing, a sweep's hint, or a lookup by externalId) and adopts it, or creates it; a create that meets 409 adopts
/// the holder of the userName when it is plainly the same person.</summary>
public sealed class UserJoiner(
    StateStore store,
    IScimClient scim,
    AttributeMapper mapper,
    UserRows rows,
    UserFollowUps followUps,
    UserPatcher patcher,
    ProvisioningMetrics metrics,
    TimeProvider time,
    ILogger<UserJoiner> logger)
{
    internal async Task<UserOutcome> JoinAsync(UserCall call)
    {
        var (id, desired, run, cancellationToken) = (call.Id, call.Desired, call.Run, call.CancellationToken);

        // A full run that listed the target knows whether the person is there: a match is read by id and adopted,
        // a miss goes straight to the POST (whose 409 still catches a user created since the listing).
        // A sweep's listing left a hint per joiner in Table Storage instead (TargetHintWriter).
        var listedAbsent = false;
        TargetMatch? match = null;
        if (desired.TryGetValue(ScimAttributes.UserName, out var indexedName))
        {
            if (call.Request.FullRun?.Target is { } index)
            {
                match = index.Find(id, indexedName);
                listedAbsent = match is null;
            }
            else if (call.Request.FullRun is null && !run.DryRun)
            {
                match = TargetHintWriter.Usable(await store.GetTargetHintAsync(id, cancellationToken), indexedName, time.GetUtcNow(), out listedAbsent);
            }
        }

        if (match is not null)
        {
            var listed = await scim.GetUserAsync(match.ScimId, cancellationToken: cancellationToken);
            if (listed.Outcome == ScimOutcome.Ok && listed.Value is { } found)
            {
                return await AdoptAsync(call, found, match.Why);
            }

            // Deleted since the listing: look the person up as without an index.
            ScimFailures.EnsureOkOrNotFound(listed, ObjectKind.User, id, "read of the listed target user", metrics);
        }

        if (!listedAbsent)
        {
            // Look for the person on the target first: externalId is the anchor this connector writes.
            var byExternalId = await scim.FindUserAsync(ScimAttributes.ExternalId, id, cancellationToken);
            if (byExternalId.Outcome == ScimOutcome.Ok && byExternalId.Value is { } anchored)
            {
                return await AdoptAsync(call, anchored, "target user carries this object id as externalId");
            }

            ScimFailures.EnsureOkOrNotFound(byExternalId, ObjectKind.User, id, "look up by externalId", metrics);
        }

        if (!desired.TryGetValue(ScimAttributes.UserName, out var userName))
        {
            return await rows.FailPermanentAsync(call, FailureReasons.TargetRejectedValue, "The user has no value for userName (check the attribute mapping source).");
        }

        return run.DryRun ? await PlanCreateAsync(call, userName, listedAbsent) : await CreateAsync(call, userName);
    }

    /// <summary>A plan writes nothing, so it cannot meet the POST's 409: without a listing that settled it, a read
    /// by userName tells adopt from create.</summary>
    private async Task<UserOutcome> PlanCreateAsync(UserCall call, string userName, bool listedAbsent)
    {
        if (!listedAbsent && await scim.FindUserAsync(ScimAttributes.UserName, userName, call.CancellationToken) is { Outcome: ScimOutcome.Ok, Value: { } named })
        {
            return await AdoptAsync(call, named, "target user has the same userName");
        }

        call.Run.SimulatedActive[call.Id] = SimulatedTarget.Created;
        var why = listedAbsent ? "new in scope; the target's listing holds no user with this externalId or userName" : "new in scope; no target user with this externalId or userName";
        return call.Done(PlanAction.Create, why, call.Decision(), Paths(call.Desired.Keys));
    }

    private async Task<UserOutcome> CreateAsync(UserCall call, string userName)
    {
        var (id, desired, cancellationToken) = (call.Id, call.Desired, call.CancellationToken);
        var created = await scim.CreateUserAsync(ScimProjection.BuildCreateBody(desired, mapper), cancellationToken);
        switch (created.Outcome)
        {
            case ScimOutcome.Ok when created.Value is { } resource:
                await rows.SaveAsync(rows.NewMapping(call, resource, MappingOrigin.Created), call.Existing, cancellationToken);
                metrics.Creates.Add(1, ProvisioningMetrics.Kind(ObjectKind.User));
                rows.RecordLag(call.Request);
                EngineLog.Provisioned(logger, ObjectKind.User, id, resource.Id, PlanAction.Create);
                return call.Done(PlanAction.Create, "new in scope", call.Decision(), Paths(desired.Keys), await followUps.BecameActiveAsync(id, call.WasLeaver, cancellationToken));

            case ScimOutcome.Uniqueness when created.Value is { } clash:
                // The client already found the user holding the userName (e.g. our own timed-out create).
                return await AdoptAsync(call, clash, "create met 409; target user has the same userName");

            case ScimOutcome.Uniqueness:
                // userName taken: the same person created earlier (a timed-out create) or an existing account.
                var byName = await scim.FindUserAsync(ScimAttributes.UserName, userName, cancellationToken);
                if (byName.Outcome == ScimOutcome.Ok && byName.Value is { } named)
                {
                    return await AdoptAsync(call, named, "create met 409; target user has the same userName");
                }

                ScimFailures.EnsureOkOrNotFound(byName, ObjectKind.User, id, "look up by userName", metrics);
                return await rows.FailPermanentAsync(call, FailureReasons.UserNameTaken, $"The target refused the userName as taken (409) but no user with it can be found{ScimFailures.Detail(created.Error)}.");

            default:
                return await rows.FailAsync(call, created, "create");
        }
    }

    /// <summary>Links an existing target user when it is plainly the same person: the anchor matches, or the
    /// userName matches and no other identity or row claims it. Then PATCHes what differs.</summary>
    private async Task<UserOutcome> AdoptAsync(UserCall call, ScimResource target, string why)
    {
        var (id, desired, cancellationToken) = (call.Id, call.Desired, call.CancellationToken);
        var targetExternalId = ScimProjection.ReadCurrent(target.Body, mapper).GetValueOrDefault(ScimAttributes.ExternalId)
            ?? TargetValues.String(target.Body, ScimAttributes.ExternalId, target.Id);
        if (!string.IsNullOrEmpty(targetExternalId) && !targetExternalId.Equals(id, StringComparison.OrdinalIgnoreCase))
        {
            return await rows.FailPermanentAsync(call, FailureReasons.UserNameTaken,
                $"Target user {target.Id} has the same userName but belongs to another identity (its externalId differs); not adopted.");
        }

        var claims = await store.FindUsersByScimIdAsync(target.Id, cancellationToken);
        if (claims.Any(c => c.ObjectId != id && c.State is LifecycleState.Active or LifecycleState.Disabled))
        {
            return await rows.FailPermanentAsync(call, FailureReasons.UserNameTaken, $"Target user {target.Id} is already linked to another Entra user; not adopted.");
        }

        var current = ScimProjection.ReadCurrent(target.Body, mapper);
        var ops = ScimProjection.Diff(current, desired, mapper);
        var changed = ScimProjection.ChangedPaths(current, desired, mapper);
        var decision = call.Decision() with { Stored = current, ChangedPaths = changed, Patch = ops };
        if (call.Run.DryRun)
        {
            call.Run.SimulatedActive[id] = new SimulatedTarget(target.Id);
            return call.Done(PlanAction.Adopt, why, decision, changed.Count == 0 ? $"target {target.Id}" : $"target {target.Id}; patch {Paths(changed)}");
        }

        var resource = target;
        if (ops.Count > 0)
        {
            resource = await patcher.PatchAsync(target.Id, ops, target.Version, desired, id, cancellationToken)
                ?? throw new ProvisioningException(FailureReasons.TargetUserDeleted, $"Target user {target.Id} disappeared while being adopted.", isTransient: true);
        }

        await rows.SaveAsync(rows.NewMapping(call, resource, MappingOrigin.Adopted), call.Existing, cancellationToken);
        metrics.Creates.Add(1, ProvisioningMetrics.Kind(ObjectKind.User));
        rows.RecordLag(call.Request);
        EngineLog.Provisioned(logger, ObjectKind.User, id, resource.Id, PlanAction.Adopt);
        return call.Done(PlanAction.Adopt, why, decision, changed.Count == 0 ? $"target {resource.Id}" : $"target {resource.Id}; patched {Paths(changed)}",
            await followUps.BecameActiveAsync(id, call.WasLeaver, cancellationToken));
    }
}
