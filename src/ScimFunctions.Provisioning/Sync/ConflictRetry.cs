using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;

namespace ScimFunctions.Provisioning.Sync;

/// <summary>"Retry on a version or row conflict", written once for users and groups. Both conflicts mean the
/// same thing: someone else wrote since we read, so read again, decide again from what is there now, and try
/// again, a bounded number of times.</summary>
internal static class ConflictRetry
{
    /// <summary>Re-decisions after a lost mapping-row race (<see cref="StateConflictException"/>).</summary>
    public const int RowRetries = 5;

    /// <summary>Runs <paramref name="decide"/> again after each lost row race; the last one is thrown for the host.</summary>
    public static async Task<T> OnRowConflictAsync<T>(Func<Task<T>> decide, ObjectKind objectKind, ProvisioningMetrics metrics)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await decide();
            }
            catch (StateConflictException) when (attempt < RowRetries)
            {
                // Another writer changed the mapping row: read it again and decide again.
                metrics.Conflicts.Add(1, ProvisioningMetrics.Kind(objectKind));
            }
        }
    }

    /// <summary>Sends <paramref name="plan"/> with <paramref name="version"/> (If-Match). On a version conflict the
    /// target is read, the plan made again from what it holds, and sent with the new version, at most
    /// <paramref name="retries"/> times; then the failure is transient (<see cref="FailureReasons.VersionConflicts"/>).
    /// A target gone (404 on the write or the re-read) and any other refusal are returned for the caller to decide.</summary>
    public static async Task<VersionedWriteResult<TPlan>> OnVersionConflictAsync<TPlan>(
        VersionedWrite<TPlan> write, TPlan plan, string? version, int retries, ProvisioningMetrics metrics, CancellationToken cancellationToken = default)
    {
        for (var attempt = 0; ; attempt++)
        {
            if (write.BeforeSend is { } prepare)
            {
                plan = await prepare(plan, attempt, cancellationToken);
                if (write.IsEmpty(plan))
                {
                    return new(VersionedWriteEnd.NothingToWrite, plan, version, null, null);
                }
            }

            var answer = await write.Send(plan, version, cancellationToken);
            if (answer.IsSuccess)
            {
                return new(VersionedWriteEnd.Written, plan, answer.Value?.Version ?? version, answer.Value ?? new ScimResource(write.ScimId, null, []), answer);
            }

            if (answer.Outcome == ScimOutcome.NotFound)
            {
                return new(VersionedWriteEnd.Gone, plan, version, null, answer);
            }

            if (answer.Outcome != ScimOutcome.VersionConflict)
            {
                return new(VersionedWriteEnd.Refused, plan, version, null, answer);
            }

            if (attempt >= retries)
            {
                throw new ProvisioningException(FailureReasons.VersionConflicts, $"Target {write.ObjectKind.ToWireName()} {write.ScimId} kept changing: {retries} version conflicts in a row.", isTransient: true);
            }

            metrics.Conflicts.Add(1, ProvisioningMetrics.Kind(write.ObjectKind));
            var fresh = await write.Read(cancellationToken);
            if (fresh.Outcome == ScimOutcome.NotFound)
            {
                return new(VersionedWriteEnd.Gone, plan, version, null, fresh);
            }

            if (!fresh.IsSuccess || fresh.Value is null)
            {
                throw ScimFailures.For(fresh, write.ObjectKind, write.ObjectId, "re-read after a version conflict", metrics);
            }

            version = fresh.Value.Version;
            plan = await write.Replan(fresh.Value, cancellationToken);
            if (write.IsEmpty(plan))
            {
                // Someone (or an earlier try of ours) already wrote exactly this.
                return new(VersionedWriteEnd.NothingToWrite, plan, version, fresh.Value, fresh);
            }
        }
    }
}

/// <summary>One versioned write: how to send a plan, read the target again, and plan again from what it holds.</summary>
/// <param name="ObjectKind">The kind of object, for metrics and messages.</param>
/// <param name="ObjectId">The Entra object id, for messages.</param>
/// <param name="ScimId">The target resource.</param>
internal sealed record VersionedWrite<TPlan>(
    ObjectKind ObjectKind,
    string ObjectId,
    string ScimId,
    Func<TPlan, string?, CancellationToken, Task<ScimResult<ScimResource>>> Send,
    Func<CancellationToken, Task<ScimResult<ScimResource>>> Read,
    Func<ScimResource, CancellationToken, ValueTask<TPlan>> Replan,
    Func<TPlan, bool> IsEmpty)
{
    /// <summary>Runs before every send (attempt 0 first): a last check of the plan, e.g. that members to add are
    /// still active. An empty plan then ends the write with nothing sent.</summary>
    public Func<TPlan, int, CancellationToken, ValueTask<TPlan>>? BeforeSend { get; init; }
}

internal enum VersionedWriteEnd
{
    /// <summary>The target took the write; <see cref="VersionedWriteResult{TPlan}.Resource"/> is what it answered.</summary>
    Written,

    /// <summary>Nothing left to send: the target already holds the plan (after a re-read), or the plan emptied before a send.</summary>
    NothingToWrite,

    /// <summary>The target resource does not exist (404 on the write or the re-read).</summary>
    Gone,

    /// <summary>Any other answer to the write: <see cref="VersionedWriteResult{TPlan}.Answer"/> says which.</summary>
    Refused,
}

/// <param name="Plan">The plan as last made (what was sent, or would have been).</param>
/// <param name="Version">The target version after the write (or the last one read).</param>
internal sealed record VersionedWriteResult<TPlan>(VersionedWriteEnd End, TPlan Plan, string? Version, ScimResource? Resource, ScimResult<ScimResource>? Answer);
