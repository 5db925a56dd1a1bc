using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using ScimFunctions.Provisioning.State;

namespace ScimFunctions.Provisioning.Sync;

/// <summary>Where an unfinished delta round stands, stored after each page whose items are queued.</summary>
/// <param name="Name">The cursor it belongs to (<c>users</c>, <c>groups</c>).</param>
/// <param name="Input">The stored cursor the round started from (null: the initial load). When the stored cursor
/// is no longer this one (a CLI sync stored a newer one), the checkpoint is stale and dropped.</param>
/// <param name="Next">The link the next page is read from (null with <paramref name="Page"/> 0: a full enumeration's first page).</param>
/// <param name="Final">The deltaLink of the round's last page, once read: only the full-resync comparison with
/// the rows is left before it becomes the cursor.</param>
/// <param name="FullRound">The round enumerates everything (no cursor, or the cursor expired).</param>
/// <param name="Round">Short id of the round: part of every MessageId it queues, so a page read again after a crash
/// queues the same ids and Service Bus's duplicate detection drops them.</param>
/// <param name="Page">Pages read and queued so far.</param>
/// <param name="StartedAt">When the round started: the ObservedAt of its snapshots (the data is at least that old).</param>
public sealed record SweepCheckpoint(
    string Name,
    string? Input,
    string? Next,
    string? Final,
    bool FullRound,
    string Round,
    int Page,
    DateTimeOffset StartedAt,
    ETag ETag = default);

/// <summary>Checkpoints of delta rounds that take more than one run, in the cursors table (partition
/// <c>checkpoint</c>, beside the cursors' own <c>cursor</c> partition, so main.bicep needs no new table). A full
/// round also keeps, per page, the ids it enumerated (partition <c>ids-{name}-{round}</c>): the comparison with the
/// rows at the end of the round needs all of them, and a round read over several runs has them in no one memory.</summary>
public sealed class SweepCheckpoints(StateStore store)
{
    private const string CheckpointPartition = "checkpoint";
    private const int ChunkChars = 30_000; // a string property holds 64 KiB of UTF-16
    private const int MaxChunks = 8;
    private const int IdsPerRow = 6_000; // 6,000 ids of up to 40 characters stay within the 8 chunks

    public async Task<SweepCheckpoint?> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        var table = await store.TableAsync(store.CursorsTable, cancellationToken);
        var response = await table.GetEntityIfExistsAsync<TableEntity>(CheckpointPartition, TableKeys.Validate(name, "cursor name"), cancellationToken: cancellationToken);
        if (!response.HasValue)
        {
            return null;
        }

        var e = response.Value!;
        return new SweepCheckpoint(
            name,
            Join(e, "Input"),
            Join(e, "Next"),
            Join(e, "Final"),
            e.GetBoolean("FullRound") ?? false,
            e.GetString("Round") ?? "",
            e.GetInt32("Page") ?? 0,
            e.GetDateTimeOffset("StartedAt") ?? DateTimeOffset.MinValue,
            e.ETag);
    }

    /// <summary>Inserts (ETag default) or replaces with If-Match; a lost race (another sweep of the same round moved
    /// it first) is a <see cref="StateConflictException"/>.</summary>
    public async Task<SweepCheckpoint> SaveAsync(SweepCheckpoint checkpoint, CancellationToken cancellationToken = default)
    {
        var table = await store.TableAsync(store.CursorsTable, cancellationToken);
        var entity = new TableEntity(CheckpointPartition, TableKeys.Validate(checkpoint.Name, "cursor name"))
        {
            ["FullRound"] = checkpoint.FullRound,
            ["Round"] = checkpoint.Round,
            ["Page"] = checkpoint.Page,
            ["StartedAt"] = checkpoint.StartedAt,
        };
        Split(entity, "Input", checkpoint.Input);
        Split(entity, "Next", checkpoint.Next);
        Split(entity, "Final", checkpoint.Final);
        try
        {
            var response = checkpoint.ETag == default
                ? await table.AddEntityAsync(entity, cancellationToken)
                : await table.UpdateEntityAsync(entity, checkpoint.ETag, TableUpdateMode.Replace, cancellationToken);
            return checkpoint with { ETag = response.Headers.ETag ?? default };
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            throw new StateConflictException($"The {checkpoint.Name} sweep checkpoint was moved by another sweep.", ex);
        }
    }

    /// <summary>Removes the checkpoint (If-Match) and the round's id rows; the round is done.</summary>
    public async Task DeleteAsync(SweepCheckpoint checkpoint, CancellationToken cancellationToken = default)
    {
        var table = await store.TableAsync(store.CursorsTable, cancellationToken);
        await DeleteIdsAsync(checkpoint.Name, checkpoint.Round, cancellationToken);
        if (checkpoint.ETag != default)
        {
            try
            {
                await table.DeleteEntityAsync(CheckpointPartition, checkpoint.Name, checkpoint.ETag, cancellationToken);
            }
            catch (RequestFailedException ex) when (ex.Status is 404 or 412)
            {
                // Gone already, or another sweep of the same round moved it: either way this one is finished.
            }
        }
    }

    /// <summary>The ids one page of a full round enumerated (changed and removed).</summary>
    public async Task SaveIdsAsync(string name, string round, int page, IReadOnlyList<string> ids, CancellationToken cancellationToken = default)
    {
        var table = await store.TableAsync(store.CursorsTable, cancellationToken);
        var part = 0;
        foreach (var chunk in ids.Chunk(IdsPerRow))
        {
            var entity = new TableEntity(IdsPartition(name, round), $"{page:D7}-{part++:D4}");
            Split(entity, "Ids", string.Join(',', chunk));
            await table.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken);
        }
    }

    /// <summary>Every id the round's pages stored (one paged query over the round's partition).</summary>
    public async Task<HashSet<string>> ReadIdsAsync(string name, string round, CancellationToken cancellationToken = default)
    {
        var table = await store.TableAsync(store.CursorsTable, cancellationToken);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var partition = IdsPartition(name, round);
        await foreach (var e in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partition}"), maxPerPage: 1000, cancellationToken: cancellationToken))
        {
            if (Join(e, "Ids") is { Length: > 0 } joined)
            {
                ids.UnionWith(joined.Split(','));
            }
        }

        return ids;
    }

    /// <summary>Deletes the round's id rows (one per page: a hundred for a 100,000-user round, once per round).</summary>
    public async Task DeleteIdsAsync(string name, string round, CancellationToken cancellationToken = default)
    {
        var table = await store.TableAsync(store.CursorsTable, cancellationToken);
        var partition = IdsPartition(name, round);
        var keys = new List<string>();
        await foreach (var e in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partition}"), maxPerPage: 1000, select: ["RowKey"], cancellationToken: cancellationToken))
        {
            keys.Add(e.RowKey);
        }

        foreach (var key in keys)
        {
            try
            {
                await table.DeleteEntityAsync(partition, key, ETag.All, cancellationToken);
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                // Another sweep of the same round cleaned up first.
            }
        }
    }

    private static string IdsPartition(string name, string round) => $"ids-{name}-{round}";

    private static void Split(TableEntity entity, string name, string? value)
    {
        if (value is null)
        {
            return;
        }

        var chunks = value.Chunk(ChunkChars).Select(c => new string(c)).ToList();
        if (chunks.Count > MaxChunks)
        {
            throw new InvalidOperationException($"The sweep checkpoint's {name} is longer than its row can hold ({value.Length} characters).");
        }

        entity[name + "Chunks"] = chunks.Count;
        for (var i = 0; i < chunks.Count; i++)
        {
            entity[$"{name}{i}"] = chunks[i];
        }
    }

    private static string? Join(TableEntity entity, string name)
    {
        if (entity.GetInt32(name + "Chunks") is not { } count)
        {
            return null;
        }

        return count == 0 ? "" : string.Concat(Enumerable.Range(0, count).Select(i => entity.GetString($"{name}{i}") ?? ""));
    }
}

internal static partial class SweepLog
{
    [LoggerMessage(EventId = 3036, Level = LogLevel.Information, Message = "Delta sweep of {Resource}: the round goes on at the next run after {Pages} pages this run ({PagesTotal} so far); its checkpoint is stored")]
    public static partial void RoundContinues(ILogger logger, string resource, int pages, int pagesTotal);

    [LoggerMessage(EventId = 3037, Level = LogLevel.Warning, Message = "Delta sweep of {Resource}: the stored checkpoint belongs to an older cursor and is dropped; the round starts again from the current cursor")]
    public static partial void StaleCheckpoint(ILogger logger, string resource);

    [LoggerMessage(EventId = 3038, Level = LogLevel.Information, Message = "Delta sweep of {Resource}: another sweep moved the checkpoint first; this one stops and leaves the round to it")]
    public static partial void CheckpointTaken(ILogger logger, string resource);
}
