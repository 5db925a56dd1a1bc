using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;

namespace ScimFunctions.Provisioning.Sync.Users;

/// <summary>Writing a user's mapping row: a new link (created or adopted), the pending-manager bookkeeping around
/// a save, and failures stored where status shows them.</summary>
public sealed class UserRows(StateStore store, ProvisioningMetrics metrics, TimeProvider time)
{
    internal UserMapping NewMapping(UserCall call, ScimResource resource, MappingOrigin origin) =>
        new(call.Id, resource.Id, resource.Version, ScimProjection.Hash(call.Desired), call.Desired, LifecycleState.Active, null, origin,
            ObservedAt: call.ObservedAt, AppliedAt: time.GetUtcNow(), LastLagSeconds: Lag(call.Request), PendingManagerId: call.Projection!.PendingManagerId,
            ETag: call.Existing?.ETag ?? default);

    /// <summary>Saves the row with the pending-manager rows around it (added before, removed after).</summary>
    internal async Task<UserMapping> SaveAsync(UserMapping mapping, UserMapping? existing, CancellationToken cancellationToken = default)
    {
        await AddPendingManagerAsync(mapping.ObjectId, existing?.PendingManagerId, mapping.PendingManagerId, cancellationToken);
        var saved = await store.SaveUserAsync(mapping, cancellationToken);
        await RemovePendingManagerAsync(mapping.ObjectId, existing?.PendingManagerId, mapping.PendingManagerId, cancellationToken);
        return saved;
    }

    /// <summary>A failure retrying cannot fix: stored on the row (so status shows it), then thrown for the host.
    /// A plan reports it instead.</summary>
    internal async Task<UserOutcome> FailPermanentAsync(UserCall call, string reason, string message)
    {
        if (call.Run.DryRun)
        {
            return call.Done(PlanAction.Fail, message, call.Decision(), reason);
        }

        await RecordErrorAsync(call.Id, $"{reason}: {message}", call.CancellationToken);
        metrics.Failures.Add(1, ProvisioningMetrics.Kind(ObjectKind.User));
        throw new ProvisioningException(reason, message, isTransient: false);
    }

    /// <summary>The target refused the <paramref name="what"/>: stored when it is the object's data, thrown
    /// for a retry otherwise.</summary>
    internal Task<UserOutcome> FailAsync(UserCall call, ScimResult<ScimResource> answer, string what)
    {
        if (!ScimFailures.IsRefusal(answer.Outcome, ObjectKind.User))
        {
            throw ScimFailures.For(answer, ObjectKind.User, call.Id, what, metrics);
        }

        return FailPermanentAsync(call, ScimFailures.Classify(answer.Outcome, ObjectKind.User).Reason, $"The target refused the {what}{ScimFailures.Detail(answer.Error)}.");
    }

    /// <summary>Stores the error on the user's row (creating a <see cref="LifecycleState.Failed"/> row when there is none).</summary>
    public async Task RecordErrorAsync(string objectId, string error, CancellationToken cancellationToken = default)
    {
        for (var attempt = 0; attempt < ConflictRetry.RowRetries; attempt++)
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
                // Written meanwhile: read it again and add the error to what is there now.
            }
        }
    }

    /// <summary>Seconds from the change being seen to it being applied, when the request knows when it was seen.</summary>
    internal double? Lag(UserRequest request) => request.SeenAt is { } seen ? Math.Max(0, (time.GetUtcNow() - seen).TotalSeconds) : null;

    internal void RecordLag(UserRequest request)
    {
        if (Lag(request) is { } seconds)
        {
            metrics.Lag.Record(seconds, ProvisioningMetrics.Kind(ObjectKind.User));
        }
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
}
