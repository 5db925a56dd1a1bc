using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;

namespace ScimFunctions.Provisioning.Sync;

/// <summary>ReconcileGroups' drift scan over the target's users, in chunks that fit a run. On Genesys every target
/// user costs a listing request per 25 (externalId and the rest of the body are needed to compare), so 100,000 users
/// are 4,000 requests: 13 minutes of the 300-a-minute rate budget, more than a Functions run may last. The scan
/// therefore lists pages from a stored position until <see cref="SyncOptions.TimerBudgetSeconds"/> are used, stores
/// the position after each page it handed over, and the next run goes on from there; when the listing is done the
/// position is removed and the next run starts at the beginning. Position row: the cursors table, partition
/// <c>checkpoint</c>, row <c>drift</c>.</summary>
public sealed class DriftScan(StateStore store, IScimClient scim, SyncOptions options, TimeProvider time, ILogger logger)
{
    public const string CursorName = "drift";
    private const string Partition = "checkpoint";

    /// <summary>The chunk this run lists: from the stored position (or the beginning) until the budget is used or the
    /// listing ends. A dry run reads the position but never moves it.</summary>
    public async Task<DriftListing> StartAsync(bool dryRun, CancellationToken cancellationToken = default)
    {
        var table = await store.TableAsync(store.CursorsTable, cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(Partition, CursorName, cancellationToken: cancellationToken);
        DriftCursor? cursor = null;
        if (row.HasValue && row.Value is { } e && e.GetInt32("Scan") is { } scan && e.GetInt32("StartIndex") is { } startIndex)
        {
            cursor = new DriftCursor(new ScimListPosition(scan, startIndex), e.GetDateTimeOffset("StartedAt") ?? time.GetUtcNow(), e.ETag);
        }

        return new DriftListing(scim, time, logger, table, cursor, dryRun, time.GetUtcNow().AddSeconds(options.TimerBudgetSeconds));
    }
}

internal sealed record DriftCursor(ScimListPosition Position, DateTimeOffset StartedAt, ETag ETag);

/// <summary>One run's chunk of the drift scan (<see cref="DriftScan.StartAsync"/>). Enumerate <see cref="ReadAsync"/>
/// once; afterwards <see cref="CoversEverything"/> says whether this chunk was the whole listing (only then is a
/// managed user missing from it proof of anything).</summary>
public sealed class DriftListing
{
    private const string Partition = "checkpoint";
    private readonly IScimClient scim;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly TableClient table;
    private readonly bool dryRun;
    private readonly DateTimeOffset deadline;
    private DriftCursor? cursor;

    internal DriftListing(IScimClient scim, TimeProvider time, ILogger logger, TableClient table, DriftCursor? cursor, bool dryRun, DateTimeOffset deadline)
    {
        this.scim = scim;
        this.time = time;
        this.logger = logger;
        this.table = table;
        this.cursor = cursor;
        this.dryRun = dryRun;
        this.deadline = deadline;
    }

    /// <summary>The chunk listed from the beginning to the end of the listing, in this run.</summary>
    public bool CoversEverything { get; private set; }

    /// <summary>Listing pages read by this run.</summary>
    public int Pages { get; private set; }

    /// <summary>The target users of this chunk, each once. A failed page throws <see cref="ScimException"/>: the pages
    /// before it were handed over and their position stored; the failed one is listed again by the next run.</summary>
    public async IAsyncEnumerable<ScimResource> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var fromStart = cursor is null;
        var startedAt = cursor?.StartedAt ?? time.GetUtcNow();
        ScimListPosition? position = cursor?.Position ?? ScimListPosition.Start;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (position is not null)
        {
            // At least one page per run, so every run makes progress whatever the budget.
            if (Pages > 0 && time.GetUtcNow() >= deadline)
            {
                // Stored before the remediation that follows the listing: a run that dies there still moved on.
                if (!dryRun)
                {
                    await StoreAsync(position, startedAt, cancellationToken);
                }

                DriftLog.ScanContinues(logger, Pages, position.Scan, position.StartIndex);
                yield break;
            }

            var page = await scim.ListUsersPageAsync(position, cancellationToken);
            if (!page.IsSuccess || page.Value is null)
            {
                throw new ScimException($"Listing SCIM users failed at startIndex {position.StartIndex}", page.Outcome, page.Error);
            }

            Pages++;
            foreach (var resource in page.Value.Resources)
            {
                // No sort order is promised (U10): pages may overlap when the set shifts mid-scan.
                if (seen.Add(resource.Id))
                {
                    yield return resource;
                }
            }

            // The page was handed over (compared) before its position is stored. A scan that already spans runs
            // (a large target) stores it after every page; one that started in this run only when it stops for
            // the budget, so a scan that fits in one run writes nothing, and a crash in the middle of that first
            // run costs that run's pages only.
            position = page.Value.Next;
            if (!dryRun && (cursor is not null || position is null) && !await StoreAsync(position, startedAt, cancellationToken))
            {
                yield break;
            }
        }

        CoversEverything = fromStart;
    }

    /// <summary>False when another scan moved the position first (it carries the scan on).</summary>
    private async Task<bool> StoreAsync(ScimListPosition? position, DateTimeOffset startedAt, CancellationToken cancellationToken)
    {
        try
        {
            if (position is null)
            {
                if (cursor is not null)
                {
                    await table.DeleteEntityAsync(Partition, DriftScan.CursorName, cursor.ETag, cancellationToken);
                    cursor = null;
                }

                return true;
            }

            var entity = new TableEntity(Partition, DriftScan.CursorName)
            {
                ["Scan"] = position.Scan,
                ["StartIndex"] = position.StartIndex,
                ["StartedAt"] = startedAt,
            };
            var response = cursor is null
                ? await table.AddEntityAsync(entity, cancellationToken)
                : await table.UpdateEntityAsync(entity, cursor.ETag, TableUpdateMode.Replace, cancellationToken);
            cursor = new DriftCursor(position, startedAt, response.Headers.ETag ?? default);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 409 or 412)
        {
            DriftLog.PositionTaken(logger);
            return false;
        }
    }
}

internal static partial class DriftLog
{
    [LoggerMessage(EventId = 3025, Level = LogLevel.Information, Message = "Drift scan: {Pages} pages this run; the next run goes on from scan {Scan}, startIndex {StartIndex}")]
    public static partial void ScanContinues(ILogger logger, int pages, int scan, int startIndex);

    [LoggerMessage(EventId = 3026, Level = LogLevel.Information, Message = "Drift scan: another run moved the stored position first; this one stops and leaves the scan to it")]
    public static partial void PositionTaken(ILogger logger);
}
