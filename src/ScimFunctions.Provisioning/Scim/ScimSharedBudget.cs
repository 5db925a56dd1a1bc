using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;

namespace ScimFunctions.Provisioning.Scim;

/// <summary>
/// The target's request budget shared by every instance of the app through one Table Storage table, so the aggregate
/// stays within <c>Scim__RequestsPerMinute</c> whatever the instance count. Time is cut into slots of
/// <see cref="Slot"/>; each slot may hand out <see cref="PerSlot"/> requests in all, claimed in small blocks by
/// whichever instance needs them (a conditional update of the slot's row: ETag, retried on 412/409).
/// Any 60-second window overlaps at most 13 slots of 5 s; one more slot of margin covers clock skew between
/// instances, so <c>PerSlot = RequestsPerMinute / 14</c> and no minute, however aligned, carries more than the budget.
/// Rows are reused (slot number modulo <see cref="Rows"/>), so the table never grows.
/// </summary>
public sealed class ScimSharedBudget : IDisposable
{
    public static readonly TimeSpan Slot = TimeSpan.FromSeconds(5);

    private const int SlotsPerWindow = 14;
    private const int Rows = 64;
    private const int MaxBlock = 4;
    private const int MaxConflictRetries = 20;

    private readonly TableClient table;
    private readonly string partition;
    private readonly TimeProvider timeProvider;
    private readonly ILogger logger;
    private readonly SemaphoreSlim gate = new(1, 1);
    private bool tableReady;
    private long grantedSlot = -1;
    private int grantedLeft;

    /// <param name="table">The shared table (created on first use).</param>
    /// <param name="targetKey">Identifies target and credential (base URL and client id; never a secret): instances
    /// of one deployment share it, two targets never do.</param>
    public ScimSharedBudget(TableClient table, string targetKey, int requestsPerMinute, TimeProvider timeProvider, ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(requestsPerMinute, SlotsPerWindow);
        this.table = table;
        partition = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(targetKey)).AsSpan(0, 16));
        this.timeProvider = timeProvider;
        this.logger = logger;
        PerSlot = requestsPerMinute / SlotsPerWindow;
    }

    /// <summary>Requests all instances together may start in one slot.</summary>
    public int PerSlot { get; }

    /// <summary>Steady aggregate rate the budget allows (slots per minute × <see cref="PerSlot"/>).</summary>
    public int SustainedPerMinute => (int)(TimeSpan.FromMinutes(1) / Slot) * PerSlot;

    /// <summary>Waits for one request's share of the budget. Throws <see cref="HttpRequestException"/> when the table
    /// cannot be reached: the request is then not sent (the caller sees a transient failure), because sending it
    /// unaccounted could break the budget for every instance.</summary>
    /// <param name="demand">Requests waiting in this process, this one included: up to 4 are claimed
    /// in one table write (fewer table calls; what is left when the slot ends is simply not used).</param>
    public async ValueTask AcquireAsync(int demand = 1, CancellationToken cancellationToken = default)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            while (true)
            {
                var now = timeProvider.GetUtcNow();
                var slot = SlotOf(now);
                if (grantedSlot == slot && grantedLeft > 0)
                {
                    grantedLeft--;
                    return;
                }

                var granted = await ClaimAsync(slot, Math.Clamp(demand, 1, MaxBlock), cancellationToken);
                if (granted > 0)
                {
                    grantedSlot = slot;
                    grantedLeft = granted - 1;
                    return;
                }

                var nextSlot = DateTimeOffset.UnixEpoch + (Slot * (slot + 1));
                var wait = nextSlot - timeProvider.GetUtcNow();
                await Task.Delay(wait > TimeSpan.Zero ? wait : TimeSpan.FromMilliseconds(1), timeProvider, cancellationToken);
            }
        }
        finally
        {
            gate.Release();
        }
    }

    public void Dispose() => gate.Dispose();

    private static long SlotOf(DateTimeOffset time) => (time - DateTimeOffset.UnixEpoch).Ticks / Slot.Ticks;

    /// <summary>Takes up to <paramref name="want"/> requests from the slot's row; 0 when the slot is spent.</summary>
    private async Task<int> ClaimAsync(long slot, int want, CancellationToken cancellationToken)
    {
        var rowKey = (slot % Rows).ToString("D2", CultureInfo.InvariantCulture);
        try
        {
            if (!tableReady)
            {
                await table.CreateIfNotExistsAsync(cancellationToken);
                tableReady = true;
            }

            for (var attempt = 0; attempt < MaxConflictRetries; attempt++)
            {
                var existing = await table.GetEntityIfExistsAsync<TableEntity>(partition, rowKey, cancellationToken: cancellationToken);
                if (!existing.HasValue || existing.Value is null)
                {
                    var take = Math.Min(want, PerSlot);
                    try
                    {
                        await table.AddEntityAsync(Row(rowKey, slot, take), cancellationToken);
                        return take;
                    }
                    catch (RequestFailedException ex) when (ex.Status == 409)
                    {
                        continue;
                    }
                }

                var row = existing.Value;
                var rowSlot = row.GetInt64("Slot") ?? -1;
                if (rowSlot > slot)
                {
                    // Another instance's clock is a whole cycle ahead: this slot is over for it; wait for the next.
                    return 0;
                }

                var used = rowSlot == slot ? row.GetInt32("Count") ?? 0 : 0;
                if (used >= PerSlot)
                {
                    return 0;
                }

                var granted = Math.Min(want, PerSlot - used);
                try
                {
                    await table.UpdateEntityAsync(Row(rowKey, slot, used + granted), row.ETag, TableUpdateMode.Replace, cancellationToken);
                    return granted;
                }
                catch (RequestFailedException ex) when (ex.Status is 412 or 404)
                {
                    // Another instance claimed first: read again.
                }
            }

            // Heavy contention: let the caller wait for the next slot rather than spin on the table.
            ScimLog.SharedBudgetContended(logger, MaxConflictRetries);
            return 0;
        }
        catch (RequestFailedException ex)
        {
            ScimLog.SharedBudgetUnavailable(logger, ex.Status, ex);
            throw new HttpRequestException($"The shared SCIM rate budget (table {table.Name}) could not be read (status {ex.Status}); the request was not sent.", ex);
        }
    }

    private TableEntity Row(string rowKey, long slot, int count) => new(partition, rowKey)
    {
        ["Slot"] = slot,
        ["Count"] = count,
    };
}
