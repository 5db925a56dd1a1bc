using System.Globalization;
using System.Security.Cryptography;
using Azure;
using Azure.Data.Tables;

namespace ScimFunctions.Provisioning.State;

/// <summary>What the connector did to one user (one history row each).</summary>
public enum HistoryAction
{
    Created,
    Adopted,
    Updated,
    Reactivated,
    Disabled,
    Deleted,
    /// <summary>Deleted on the target outside the connector, created again.</summary>
    Recreated,
    AddedToGroup,
    RemovedFromGroup,
    /// <summary>A disable or delete held by the safety threshold.</summary>
    Staged,
    Failed,
}

/// <summary>What made the connector act.</summary>
public enum HistoryTrigger
{
    /// <summary>A Graph change notification (the webhook's work item).</summary>
    Notification,
    /// <summary>The DeltaSweep timer's work item.</summary>
    Sweep,
    /// <summary>The ReconcileGroups timer (drift repair, group membership).</summary>
    Reconcile,
    /// <summary>The PurgeDisabled timer.</summary>
    Purge,
    /// <summary>A person with <c>scimfn</c> (sync, provision, staged release).</summary>
    Operator,
    /// <summary>Queued by the engine because of another object (a group waiting for a new member, a leaver's groups).</summary>
    FollowUp,
    /// <summary>A dead-lettered item put back with <c>scimfn replay</c>.</summary>
    Replay,
}

/// <summary>One action on one user. Ids, codes and attribute names only: no userPrincipalName, display name or mail.</summary>
/// <param name="Reason">The engine's reason (e.g. "changed: title"); for a failure the reason code and message,
/// the text the mapping row's LastError holds.</param>
/// <param name="Attributes">The SCIM attribute paths written (an update, an adoption's patch).</param>
/// <param name="GroupId">Entra group id (group membership actions).</param>
/// <param name="TargetGroupId">The target's group id (group membership actions).</param>
/// <param name="CorrelationIds">The target's correlation ids (Genesys <c>ININ-Correlation-Id</c>) of the SCIM write
/// requests the action sent, in order.</param>
/// <param name="RowKey">Set on rows read back; the append builds its own.</param>
public sealed record HistoryEntry(
    string ObjectId,
    DateTimeOffset At,
    HistoryAction Action,
    HistoryTrigger Trigger,
    string? Reason = null,
    IReadOnlyList<string>? Attributes = null,
    string? GroupId = null,
    string? TargetGroupId = null,
    IReadOnlyList<string>? CorrelationIds = null,
    string? RowKey = null);

/// <summary>The append-only audit table (<c>{prefix}History</c>): one row per action that changed something,
/// one partition per user, so one user's history is one partition query. RowKey = ticks counted down from
/// <see cref="DateTimeOffset.MaxValue"/> (19 digits) + <c>-</c> + 16 hex digits (a per-process sequence counting down,
/// then random): the natural order is newest first, also within one tick, and two writes in the same tick (two
/// instances) do not collide. Rows are never updated; the
/// PurgeDisabled timer deletes those older than <c>Sync__HistoryDays</c>.</summary>
public sealed class HistoryStore(StateStore store)
{
    public const int MaxReasonLength = 1000;
    public const int MaxCorrelationIds = 8;
    private const int TicksDigits = 19;
    private const int BatchLimit = 100;
    private static long _sequence;

    public string Table => store.HistoryTable;

    /// <summary>One Table write (an insert; a clash of random suffixes, never seen in practice, tries once more).</summary>
    public async Task AppendAsync(HistoryEntry entry, CancellationToken cancellationToken = default)
    {
        var table = await store.TableAsync(store.HistoryTable, cancellationToken);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await table.AddEntityAsync(ToEntity(entry, RowKeyFor(entry.At, NewSuffix())), cancellationToken);
                return;
            }
            catch (RequestFailedException ex) when (ex.Status == 409 && attempt == 0)
            {
            }
        }
    }

    /// <summary>The user's rows, newest first (the RowKey order), at most <paramref name="max"/>.</summary>
    public async Task<IReadOnlyList<HistoryEntry>> ListAsync(string objectId, int max = 1000, CancellationToken cancellationToken = default)
    {
        var table = await store.TableAsync(store.HistoryTable, cancellationToken);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {TableKeys.Validate(objectId, "user object id")}");
        var result = new List<HistoryEntry>();
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, maxPerPage: Math.Min(max, 1000), cancellationToken: cancellationToken))
        {
            result.Add(FromEntity(entity));
            if (result.Count >= max)
            {
                break;
            }
        }

        return result;
    }

    /// <summary>Deletes every row written before <paramref name="cutoff"/>: one filtered scan of the table (old rows
    /// have the larger RowKeys), deletes batched per partition (100 a transaction). Returns the rows deleted.</summary>
    public async Task<int> PurgeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default)
    {
        var table = await store.TableAsync(store.HistoryTable, cancellationToken);

        // Every row older than the cutoff sorts after this key, whatever its suffix.
        var filter = TableClient.CreateQueryFilter($"RowKey gt {InvertedTicks(cutoff)}");
        var byPartition = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var deleted = 0;
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, maxPerPage: 1000, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
        {
            if (!byPartition.TryGetValue(entity.PartitionKey, out var rows))
            {
                byPartition[entity.PartitionKey] = rows = [];
            }

            rows.Add(entity.RowKey);
            if (rows.Count == BatchLimit)
            {
                deleted += await DeleteAsync(table, entity.PartitionKey, rows, cancellationToken);
                rows.Clear();
            }
        }

        foreach (var (partition, rows) in byPartition.Where(p => p.Value.Count > 0))
        {
            deleted += await DeleteAsync(table, partition, rows, cancellationToken);
        }

        return deleted;
    }

    private static async Task<int> DeleteAsync(TableClient table, string partitionKey, List<string> rowKeys, CancellationToken cancellationToken)
    {
        var actions = rowKeys.Select(rk => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(partitionKey, rk), ETag.All)).ToList();
        await table.SubmitTransactionAsync(actions, cancellationToken);
        return actions.Count;
    }

    /// <summary>The RowKey of a row written at <paramref name="at"/>: 19 digits of inverted ticks, '-', the suffix.</summary>
    public static string RowKeyFor(DateTimeOffset at, string suffix) => InvertedTicks(at) + "-" + suffix;

    /// <summary>When a RowKey was written; null when it is not one of ours.</summary>
    public static DateTimeOffset? TimeOf(string rowKey)
    {
        if (rowKey.Length <= TicksDigits || rowKey[TicksDigits] != '-'
            || !long.TryParse(rowKey.AsSpan(0, TicksDigits), NumberStyles.None, CultureInfo.InvariantCulture, out var inverted)
            || inverted < 0 || inverted > DateTimeOffset.MaxValue.UtcTicks)
        {
            return null;
        }

        return new DateTimeOffset(DateTimeOffset.MaxValue.UtcTicks - inverted, TimeSpan.Zero);
    }

    private static string InvertedTicks(DateTimeOffset at) =>
        (DateTimeOffset.MaxValue.UtcTicks - at.UtcTicks).ToString("D19", CultureInfo.InvariantCulture);

    /// <summary>8 hex digits counting down per process (so this process's later write in the same tick sorts first;
    /// one user's work is serialised by its session), then 8 random ones (so two processes never collide).</summary>
    internal static string NewSuffix()
    {
        var sequence = uint.MaxValue - unchecked((uint)Interlocked.Increment(ref _sequence));
        return sequence.ToString("x8", CultureInfo.InvariantCulture) + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
    }

    internal static TableEntity ToEntity(HistoryEntry entry, string rowKey) => new(TableKeys.Validate(entry.ObjectId, "user object id"), rowKey)
    {
        ["At"] = entry.At,
        ["Action"] = entry.Action.ToString(),
        ["Trigger"] = entry.Trigger.ToString(),
        ["Reason"] = entry.Reason is { Length: > MaxReasonLength } r ? r[..MaxReasonLength] : entry.Reason,
        ["Attributes"] = entry.Attributes is { Count: > 0 } a ? string.Join('\n', a) : null,
        ["GroupId"] = entry.GroupId,
        ["TargetGroupId"] = entry.TargetGroupId,
        ["CorrelationIds"] = entry.CorrelationIds is { Count: > 0 } c ? string.Join(' ', c.Take(MaxCorrelationIds)) : null,
    };

    internal static HistoryEntry FromEntity(TableEntity e) => new(
        e.PartitionKey,
        e.GetDateTimeOffset("At") ?? TimeOf(e.RowKey) ?? default,
        Enum.TryParse<HistoryAction>(e.GetString("Action"), out var action) ? action : HistoryAction.Failed,
        Enum.TryParse<HistoryTrigger>(e.GetString("Trigger"), out var trigger) ? trigger : HistoryTrigger.Operator,
        e.GetString("Reason"),
        e.GetString("Attributes") is { Length: > 0 } attributes ? attributes.Split('\n') : null,
        e.GetString("GroupId"),
        e.GetString("TargetGroupId"),
        e.GetString("CorrelationIds") is { Length: > 0 } ids ? ids.Split(' ') : null,
        e.RowKey);
}
