using Microsoft.Extensions.Logging;
using ScimFunctions.Provisioning.Notifications;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;

namespace ScimFunctions.Provisioning.Sync.History;

/// <summary>Writes each user's history from what the engine's callers got back (outcomes and failures), so the
/// convergers stay unaware of it. Around each convergence it opens a <see cref="ScimCorrelationScope"/>: the SCIM
/// pipeline puts the target's correlation ids of the writes in it. Costs one Table write per action that changed
/// something (a group change: one per member added or removed, in that member's partition) and none for a no-op or a
/// dry run. A history write that fails is logged (event 3060) and counted (<c>scimfn.history_failures</c>); the
/// provisioning change it describes stands and the caller never sees the failure.</summary>
public sealed class HistoryRecorder(HistoryStore history, StateStore state, ProvisioningMetrics? metrics, TimeProvider time, ILogger<HistoryRecorder> logger)
{
    private long _writeFailures;

    /// <summary>History rows that could not be written since start.</summary>
    public long WriteFailures => Interlocked.Read(ref _writeFailures);

    public static HistoryTrigger TriggerOf(WorkItem item) => item.Source switch
    {
        WorkItemSources.Delta => HistoryTrigger.Sweep,
        WorkItemSources.Cli => HistoryTrigger.Operator,
        WorkItemSources.Replay => HistoryTrigger.Replay,
        WorkItemSources.FollowUp => HistoryTrigger.FollowUp,
        _ => HistoryTrigger.Notification,
    };

    /// <summary>Converges one user and records what it did. A failure is recorded when it is final for this
    /// caller: permanent, or transient when <paramref name="transientIsFinal"/> (a run that will not retry it;
    /// a work item's transient failure is retried, and recorded when its retries run out).</summary>
    public async Task<UserOutcome> UserAsync(string objectId, HistoryTrigger trigger, RunContext run, bool transientIsFinal, Func<Task<UserOutcome>> converge, CancellationToken cancellationToken = default)
    {
        if (run.DryRun)
        {
            return await converge();
        }

        using var scope = ScimCorrelationScope.Begin();
        UserOutcome outcome;
        try
        {
            outcome = await converge();
        }
        catch (ProvisioningException ex) when (!ex.IsTransient || transientIsFinal)
        {
            await AppendAsync(new HistoryEntry(objectId, time.GetUtcNow(), HistoryAction.Failed, trigger, $"{ex.Reason}: {ex.Message}", CorrelationIds: scope.Ids), cancellationToken);
            throw;
        }

        if (Entry(outcome, trigger, scope.Ids, time.GetUtcNow()) is { } entry)
        {
            await AppendAsync(entry, cancellationToken);
        }

        return outcome;
    }

    /// <summary>Converges one group and records, for each member added or removed, a row in that member's history.
    /// Removed members are found by target id in <paramref name="index"/> (or by one query each without one).</summary>
    public async Task<GroupOutcome> GroupAsync(HistoryTrigger trigger, RunContext run, UserIndex? index, Func<Task<GroupOutcome>> converge, CancellationToken cancellationToken = default)
    {
        if (run.DryRun)
        {
            return await converge();
        }

        using var scope = ScimCorrelationScope.Begin();
        var outcome = await converge();
        if (outcome.MemberChanges.Count == 0)
        {
            return outcome;
        }

        var ids = scope.Ids;
        var at = time.GetUtcNow();
        var reason = outcome.Operations.FirstOrDefault(o => o.Action is PlanAction.AddMembers or PlanAction.RemoveMembers)?.Reason;
        index ??= UserIndex.PointReads(state);
        async Task WriteAsync(MemberChange change)
        {
            string? objectId;
            try
            {
                objectId = change.ObjectId ?? await index.FindObjectIdAsync(change.ScimId, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Failed(ex, change.ScimId);
                return;
            }

            if (objectId is not null && TableKeys.IsValid(objectId))
            {
                await AppendAsync(new HistoryEntry(objectId, at, change.Added ? HistoryAction.AddedToGroup : HistoryAction.RemovedFromGroup, trigger, reason,
                    GroupId: outcome.ObjectId, TargetGroupId: outcome.TargetGroupId, CorrelationIds: ids), cancellationToken);
            }
        }

        // One after the other, as the convergers do their own writes: the concurrency tests schedule every step of
        // a worker, and a worker with several requests in flight is outside what they can explore.
        foreach (var change in outcome.MemberChanges)
        {
            await WriteAsync(change);
        }

        return outcome;
    }

    /// <summary>A failure the host decided on (a work item's retries ran out).</summary>
    public Task FailedAsync(string objectId, HistoryTrigger trigger, string error, CancellationToken cancellationToken = default) =>
        TableKeys.IsValid(objectId)
            ? AppendAsync(new HistoryEntry(objectId, time.GetUtcNow(), HistoryAction.Failed, trigger, error), cancellationToken)
            : Task.CompletedTask;

    /// <summary>Operations that are not a convergence's outcome (drift put back by ReconcileGroups): one row each
    /// that wrote to the target.</summary>
    public async Task OperationsAsync(IEnumerable<PlannedOperation> operations, HistoryTrigger trigger, CancellationToken cancellationToken = default)
    {
        foreach (var operation in operations)
        {
            if (operation.ObjectKind == ObjectKind.User && operation.Action == PlanAction.Update && TableKeys.IsValid(operation.ObjectId))
            {
                await AppendAsync(new HistoryEntry(operation.ObjectId, time.GetUtcNow(), HistoryAction.Updated, trigger, operation.Reason, Attributes(operation.Detail)), cancellationToken);
            }
        }
    }

    /// <summary>Deletes rows older than <paramref name="days"/> days (the PurgeDisabled timer). A failure is logged,
    /// never thrown: the purge of disabled users goes on.</summary>
    public async Task<int> PurgeAsync(int days, CancellationToken cancellationToken = default)
    {
        var cutoff = time.GetUtcNow().AddDays(-days);
        try
        {
            var deleted = await history.PurgeAsync(cutoff, cancellationToken);
            HistoryLog.Purged(logger, deleted, days);
            return deleted;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            HistoryLog.PurgeFailed(logger, ex, days);
            return 0;
        }
    }

    /// <summary>The history row of a user outcome; null for what changed nothing (none, skip) or wrote nothing.</summary>
    internal static HistoryEntry? Entry(UserOutcome outcome, HistoryTrigger trigger, IReadOnlyList<string> correlationIds, DateTimeOffset at)
    {
        var operation = outcome.Operations.FirstOrDefault(o => o.ObjectKind == ObjectKind.User && o.Action == outcome.Action);
        HistoryAction? action = outcome.Action switch
        {
            PlanAction.Create => HistoryAction.Created,
            PlanAction.Adopt => HistoryAction.Adopted,
            PlanAction.Update => HistoryAction.Updated,
            PlanAction.Reactivate => HistoryAction.Reactivated,
            PlanAction.Disable => HistoryAction.Disabled,
            PlanAction.Delete => HistoryAction.Deleted,
            PlanAction.Recreate => HistoryAction.Recreated,
            PlanAction.Stage => HistoryAction.Staged,
            PlanAction.Fail => HistoryAction.Failed,
            _ => null,
        };
        if (action is not { } kind)
        {
            return null;
        }

        // Only what was written: an update's changed paths, an adoption's patch; a create writes the whole user.
        IReadOnlyList<string>? attributes = kind is HistoryAction.Updated or HistoryAction.Reactivated or HistoryAction.Adopted or HistoryAction.Disabled
            && outcome.Decision?.ChangedPaths is { Count: > 0 } changed ? changed : null;
        return new HistoryEntry(outcome.ObjectId, at, kind, trigger, operation?.Reason, attributes, CorrelationIds: correlationIds);
    }

    private static string[]? Attributes(string? detail) =>
        detail is null ? null : detail.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private async Task AppendAsync(HistoryEntry entry, CancellationToken cancellationToken)
    {
        try
        {
            await history.AppendAsync(entry, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Failed(ex, entry.ObjectId);
        }
    }

    private void Failed(Exception ex, string objectId)
    {
        Interlocked.Increment(ref _writeFailures);
        metrics?.HistoryWriteFailures.Add(1, ProvisioningMetrics.Kind(ObjectKind.User));
        HistoryLog.WriteFailed(logger, ex, objectId);
    }
}

internal static partial class HistoryLog
{
    [LoggerMessage(EventId = 3060, Level = LogLevel.Warning, Message = "History row for {ObjectId} could not be written; the provisioning change itself stands")]
    public static partial void WriteFailed(ILogger logger, Exception exception, string objectId);

    [LoggerMessage(EventId = 3061, Level = LogLevel.Information, Message = "History purge deleted {Deleted} rows older than {Days} days")]
    public static partial void Purged(ILogger logger, int deleted, int days);

    [LoggerMessage(EventId = 3062, Level = LogLevel.Warning, Message = "History purge of rows older than {Days} days failed; the next run tries again")]
    public static partial void PurgeFailed(ILogger logger, Exception exception, int days);
}
