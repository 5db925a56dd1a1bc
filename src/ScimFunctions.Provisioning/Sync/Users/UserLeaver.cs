using Microsoft.Extensions.Logging;
using ScimFunctions.Provisioning.State;
using static ScimFunctions.Provisioning.Sync.Users.UserOutcomes;

namespace ScimFunctions.Provisioning.Sync.Users;

/// <summary>Leaver: gone from the directory, out of scope, or disabled there. A provisioned active user gets
/// <c>active=false</c> after the destructive threshold allows it (else the disable is staged), and the managed
/// groups that list it are queued to drop it. The row becomes <see cref="LifecycleState.Disabled"/>.</summary>
public sealed class UserLeaver(
    StateStore store,
    AttributeMapper mapper,
    DestructiveGate gate,
    UserRows rows,
    UserFollowUps followUps,
    UserPatcher patcher,
    ProvisioningMetrics metrics,
    TimeProvider time,
    ILogger<UserLeaver> logger)
{
    /// <param name="why">Why the user is a leaver, in the operator's words.</param>
    /// <param name="decision">What the caller established (found in the directory, scope, projection).</param>
    internal async Task<UserOutcome> LeaveAsync(UserCall call, string why, UserDecision decision)
    {
        var (id, mapping, cancellationToken) = (call.Id, call.Existing, call.CancellationToken);
        if (mapping is not { IsProvisioned: true })
        {
            var skipWhy = why + "; not provisioned";
            EngineLog.Skipped(logger, ObjectKind.User, id, skipWhy);
            return call.Done(PlanAction.Skip, skipWhy, decision);
        }

        if (mapping.State == LifecycleState.Disabled)
        {
            metrics.NoOps.Add(1, ProvisioningMetrics.Kind(ObjectKind.User));
            var left = call.RecomputeFollowUps ? await followUps.LeftAsync(mapping, cancellationToken) : [];
            return call.Done(PlanAction.None, why + "; already disabled", decision, followUps: left);
        }

        // A user disabled in Entra still has its data: the disable writes it with active=false.
        var baseline = mapping.Projection ?? new Dictionary<string, string>();
        var desired = ScimProjection.WithActive(call.Projection?.Values ?? baseline, active: false);
        var ops = ScimProjection.Diff(baseline, desired, mapper);
        var changed = ScimProjection.ChangedPaths(baseline, desired, mapper);
        decision = decision with { Desired = desired, ChangedPaths = changed, Patch = ops };

        if (!await gate.AcquireAsync(id, PlanAction.Disable, mapping.ScimId, why, call.Run, cancellationToken))
        {
            metrics.Staged.Add(1, ProvisioningMetrics.Kind(ObjectKind.User));
            return call.Done(PlanAction.Stage, $"disable held: {why}; destructive threshold reached", decision, "disable");
        }

        if (call.Run.DryRun)
        {
            // The group phase of the same plan must see this user as gone, as the real run would.
            call.Run.SimulatedInactive[id] = true;
            return call.Done(PlanAction.Disable, why, decision, Paths(changed));
        }

        var resource = await patcher.PatchAsync(mapping.ScimId!, ops, mapping.TargetVersion, desired, id, cancellationToken);
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
            ObservedAt = call.ObservedAt,
            AppliedAt = now,
            LastLagSeconds = rows.Lag(call.Request),
        };
        await store.SaveUserAsync(updated, cancellationToken);
        metrics.Disables.Add(1, ProvisioningMetrics.Kind(ObjectKind.User));
        rows.RecordLag(call.Request);
        EngineLog.Disabled(logger, id, mapping.ScimId, resource is null ? why + " (already gone from the target)" : why);
        return call.Done(PlanAction.Disable, why, decision, Paths(changed), await followUps.LeftAsync(mapping, cancellationToken));
    }

    /// <summary>A user disabled in Entra whose row is not active: nothing to write. A redelivery may follow a
    /// crash between this leaver's row write and its follow-ups: recompute them, or the groups keep the leaver
    /// until the next reconcile.</summary>
    internal async Task<UserOutcome> StayDisabledAsync(UserCall call)
    {
        var provisioned = call.Existing is { IsProvisioned: true };
        var left = provisioned && call.RecomputeFollowUps ? await followUps.LeftAsync(call.Existing!, call.CancellationToken) : [];
        return call.Done(provisioned ? PlanAction.None : PlanAction.Skip, provisioned ? "already disabled" : "account disabled in Entra; not provisioned", call.Decision(), followUps: left);
    }
}
