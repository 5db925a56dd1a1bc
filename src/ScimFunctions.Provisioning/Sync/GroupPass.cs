using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using ScimFunctions.Provisioning.State;

namespace ScimFunctions.Provisioning.Sync;

/// <summary>ReconcileGroups' pass over the known groups, in runs that fit. Each group costs at least one read of the
/// target (If-None-Match), so at Genesys's 300 requests a minute a few thousand groups outlast a Functions run; a run
/// that always started at the first group and timed out would never reach the last ones. So the pass goes in key
/// order from a stored position, round the end to the start, until <see cref="SyncOptions.TimerBudgetSeconds"/>
/// (counted from the start of the run, which the drift scan spends first) are used, and stores the first group it
/// did not start; the next run begins there. A pass that covers every group in one run writes nothing. Position row:
/// the cursors table, partition <c>checkpoint</c>, row <c>group-pass</c>.</summary>
public sealed class GroupPass(StateStore store, ILogger logger)
{
    public const string CursorName = "group-pass";
    internal const string Partition = "checkpoint";

    /// <summary>The groups in the order this run takes them: from the stored position (the first group at or after
    /// it, since the one named may be gone), then round to the start.</summary>
    public async Task<GroupPassRun> StartAsync(IReadOnlyList<GroupMapping> known, CancellationToken cancellationToken = default)
    {
        var table = await store.TableAsync(store.CursorsTable, cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(Partition, CursorName, cancellationToken: cancellationToken);
        var from = row.HasValue ? row.Value?.GetString("ObjectId") : null;
        var ordered = known.OrderBy(g => g.ObjectId, StringComparer.Ordinal).ToList();
        var start = from is null ? 0 : ordered.FindIndex(g => string.CompareOrdinal(g.ObjectId, from) >= 0);
        if (start > 0)
        {
            ordered = [.. ordered[start..], .. ordered[..start]];
        }

        return new GroupPassRun(table, ordered, row.HasValue ? row.Value!.ETag : null, logger);
    }
}

/// <summary>One run's share of the pass (<see cref="GroupPass.StartAsync"/>).</summary>
public sealed class GroupPassRun(TableClient table, IReadOnlyList<GroupMapping> ordered, ETag? stored, ILogger logger)
{
    /// <summary>Converges the groups in order, <paramref name="parallelism"/> at a time, starting no new one once
    /// <paramref name="pastDeadline"/> says the run's budget is used (but at least one per run, so the pass always
    /// moves); then stores where the next run starts, or removes the position when every group was started. A dry
    /// run never moves it.</summary>
    public async Task RunAsync(Func<GroupMapping, CancellationToken, Task> converge, int parallelism, Func<bool> pastDeadline, bool dryRun, CancellationToken cancellationToken = default)
    {
        var next = -1;
        var stoppedAt = ordered.Count;
        await Parallel.ForEachAsync(Enumerable.Range(0, Math.Max(1, parallelism)), new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parallelism), CancellationToken = cancellationToken }, async (_, ct) =>
        {
            while (true)
            {
                // Indexes are handed out in order, so the first one refused is the first group not started.
                var index = Interlocked.Increment(ref next);
                if (index >= ordered.Count)
                {
                    return;
                }

                if (index > 0 && pastDeadline())
                {
                    InterlockedMin(ref stoppedAt, index);
                    return;
                }

                await converge(ordered[index], ct);
            }
        });

        if (!dryRun)
        {
            await StoreAsync(stoppedAt < ordered.Count ? ordered[stoppedAt].ObjectId : null, cancellationToken);
        }

        if (stoppedAt < ordered.Count)
        {
            GroupPassLog.PassContinues(logger, stoppedAt, ordered.Count);
        }
    }

    private async Task StoreAsync(string? nextObjectId, CancellationToken cancellationToken)
    {
        try
        {
            if (nextObjectId is null)
            {
                if (stored is { } etag)
                {
                    await table.DeleteEntityAsync(GroupPass.Partition, GroupPass.CursorName, etag, cancellationToken);
                }

                return;
            }

            var entity = new TableEntity(GroupPass.Partition, GroupPass.CursorName) { ["ObjectId"] = nextObjectId };
            _ = stored is { } current
                ? await table.UpdateEntityAsync(entity, current, TableUpdateMode.Replace, cancellationToken)
                : await table.AddEntityAsync(entity, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 409 or 412)
        {
            // Another run moved the position first (the timer's singleton lock keeps runs apart, but a second
            // deployment on the same tables does not). A conflict means both read the same position, so both
            // started from the same place: whichever position stays, no group is skipped.
            GroupPassLog.PositionTaken(logger);
        }
    }

    private static void InterlockedMin(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value < current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}

internal static partial class GroupPassLog
{
    [LoggerMessage(EventId = 3027, Level = LogLevel.Information, Message = "ReconcileGroups: {Done} of {Groups} groups this run (time budget used); the next run goes on from there")]
    public static partial void PassContinues(ILogger logger, int done, int groups);

    [LoggerMessage(EventId = 3028, Level = LogLevel.Information, Message = "ReconcileGroups: another run moved the group pass's position first; it is left as that run stored it")]
    public static partial void PositionTaken(ILogger logger);
}
