using Microsoft.Extensions.Logging;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;
using static ScimFunctions.Provisioning.Sync.Users.UserOutcomes;

namespace ScimFunctions.Provisioning.Sync.Users;

/// <summary>Purge: DELETE of a user disabled longer than the grace period (PurgeDisabled), only one this
/// connector created or adopted, under the destructive threshold. Confirms with the directory first; a failed
/// read deletes nothing, and a user who is back is handed back to be converged.</summary>
public sealed class UserPurger(
    StateStore store,
    IDirectorySource directory,
    IScimClient scim,
    ScopeEvaluator scope,
    DestructiveGate gate,
    SyncOptions options,
    ProvisioningMetrics metrics,
    TimeProvider time,
    ILogger<UserPurger> logger)
{
    /// <summary>What the purge decided; <paramref name="Back"/> is set (and <paramref name="Outcome"/> null) when
    /// the user is enabled and in scope again: not a leaver any more, to be converged instead.</summary>
    internal sealed record Result(UserOutcome? Outcome, DirectoryUser? Back);

    internal async Task<Result> PurgeAsync(UserMapping listed, RunContext run, CancellationToken cancellationToken = default)
    {
        var id = listed.ObjectId;

        // The purge's listing may be minutes old: decide on the row as it is now (a rejoin may have written it).
        var mapping = await store.GetUserAsync(id, cancellationToken) ?? listed with { State = LifecycleState.Deleted };
        var decision = new UserDecision(false, null, null, mapping.Projection, [], [], null);
        if (mapping.State != LifecycleState.Disabled || mapping.ScimId is null || mapping.Origin is null || mapping.DisabledSince != listed.DisabledSince)
        {
            return new(Done(id, PlanAction.Skip, "not a disabled user this connector created or adopted", decision), null);
        }

        if (await StillLeaverAsync(id, cancellationToken) is { } back)
        {
            return new(null, back);
        }

        var why = $"disabled since {mapping.DisabledSince:u}, past the {options.DisabledGraceDays}-day grace period";
        if (!await gate.AcquireAsync(id, PlanAction.Delete, mapping.ScimId, why, run, cancellationToken))
        {
            metrics.Staged.Add(1, ProvisioningMetrics.Kind(ObjectKind.User));
            return new(Done(id, PlanAction.Stage, $"delete held: {why}; destructive threshold reached", decision, "delete"), null);
        }

        if (run.DryRun)
        {
            return new(Done(id, PlanAction.Delete, why, decision, $"target {mapping.ScimId}"), null);
        }

        if (!await DeleteIfStillInactiveAsync(mapping, cancellationToken))
        {
            return new(Done(id, PlanAction.Skip, "reactivated on the target while being purged; decided again at its next convergence", decision), null);
        }

        await SaveTombstoneAsync(mapping, cancellationToken);
        metrics.Deletes.Add(1, ProvisioningMetrics.Kind(ObjectKind.User));
        EngineLog.Deleted(logger, id, mapping.ScimId, why);
        return new(Done(id, PlanAction.Delete, why, decision, $"target {mapping.ScimId}"), null);
    }

    /// <summary>Null while the directory confirms a leaver (gone, disabled or out of scope); the user when it is
    /// back. A failed read throws: nothing is deleted on it.</summary>
    private async Task<DirectoryUser?> StillLeaverAsync(string id, CancellationToken cancellationToken)
    {
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

        return outOfScope is null ? user : null;
    }

    /// <summary>DELETE with the disabled version. Changed on the target since (by an admin, or by a rejoin that is
    /// reactivating the user right now: it PATCHes active=true before it writes the row, so the row cannot tell
    /// yet): only a user still inactive on the target is deleted, and only at the version just read. False when
    /// it was found active again.</summary>
    private async Task<bool> DeleteIfStillInactiveAsync(UserMapping mapping, CancellationToken cancellationToken)
    {
        var (id, scimId) = (mapping.ObjectId, mapping.ScimId!);
        var deleted = await scim.DeleteUserAsync(scimId, mapping.TargetVersion, cancellationToken);
        if (deleted.Outcome == ScimOutcome.VersionConflict)
        {
            metrics.Conflicts.Add(1, ProvisioningMetrics.Kind(ObjectKind.User));
            var current = await scim.GetUserAsync(scimId, cancellationToken: cancellationToken);
            if (current.Outcome != ScimOutcome.NotFound)
            {
                var held = ScimFailures.EnsureOk(current, ObjectKind.User, id, "read before delete", metrics);
                if (TargetValues.Boolean(held.Body, ScimAttributes.Active, scimId) != false)
                {
                    return false;
                }

                deleted = await scim.DeleteUserAsync(scimId, held.Version, cancellationToken);
                if (deleted.Outcome == ScimOutcome.VersionConflict)
                {
                    throw new ProvisioningException(FailureReasons.VersionConflicts, $"Target user {scimId} kept changing while being purged; not deleted.", isTransient: true);
                }
            }
        }

        if (!deleted.IsSuccess && deleted.Outcome != ScimOutcome.NotFound)
        {
            throw ScimFailures.For(deleted.Outcome, deleted.Error, ObjectKind.User, id, "delete", metrics);
        }

        return true;
    }

    /// <summary>The target user is gone now, whoever wrote the row meanwhile: the row must say so (a
    /// <see cref="LifecycleState.Deleted"/> tombstone), unless it already moved on to another target user.</summary>
    private async Task SaveTombstoneAsync(UserMapping mapping, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await store.SaveUserAsync(mapping with { State = LifecycleState.Deleted, TargetVersion = null, AppliedAt = time.GetUtcNow(), LastError = null, LastErrorAt = null }, cancellationToken);
                return;
            }
            catch (StateConflictException) when (attempt < ConflictRetry.RowRetries)
            {
                var fresh = await store.GetUserAsync(mapping.ObjectId, cancellationToken);
                if (fresh is null || fresh.ScimId != mapping.ScimId || fresh.State == LifecycleState.Deleted)
                {
                    return;
                }

                mapping = fresh;
            }
        }
    }
}
