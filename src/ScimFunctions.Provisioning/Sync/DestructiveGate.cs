using Microsoft.Extensions.Logging;
using ScimFunctions.Provisioning.State;

namespace ScimFunctions.Provisioning.Sync;

/// <summary>Every disable and delete asks here first. Within the limit of the last 60 minutes the action is
/// counted (once per object and action in the window) and allowed; beyond it the action is staged, a hold is set so nothing destructive runs, and an error
/// event (3100) is logged until an operator releases or discards.</summary>
public sealed class DestructiveGate(StateStore store, ThresholdOptions options, TimeProvider time, ILogger<DestructiveGate> logger) : IDisposable
{
    private static readonly TimeSpan ManagedCountLifetime = TimeSpan.FromMinutes(5);
    private readonly SemaphoreSlim _lock = new(1, 1);
    private (DateTimeOffset At, long Count)? _managed;

    public void Dispose() => _lock.Dispose();

    /// <summary>True when the action may run now; false when it was staged.</summary>
    public async Task<bool> AcquireAsync(string objectId, PlanAction action, string? scimId, string reason, RunContext run, CancellationToken cancellationToken = default)
    {
        if (run.BypassThreshold)
        {
            return true;
        }

        var now = time.GetUtcNow();
        var key = StateStore.LedgerKey(action, objectId);
        if (run.DryRun)
        {
            var hold = run.SimulatedHold || await store.GetHoldAsync(cancellationToken) is not null;
            var (entries, _) = await store.GetLedgerAsync(cancellationToken);
            var live = entries.Where(e => ThresholdPolicy.InWindow(e.At, now)).ToList();
            if (!hold && live.Any(e => e.Key == key))
            {
                return true;
            }

            var managed = await ManagedCountAsync(cancellationToken);
            if (hold || ThresholdPolicy.WouldExceed(options, live.Count + run.SimulatedDestructive, managed))
            {
                run.SimulatedHold = true;
                return false;
            }

            run.AddSimulatedDestructive();
            return true;
        }

        await _lock.WaitAsync(cancellationToken);
        try
        {
            if (await store.GetHoldAsync(cancellationToken) is { } hold)
            {
                await StageAsync(objectId, action, scimId, $"{reason}; destructive actions are on hold since {hold.Since:u}", cancellationToken);
                return false;
            }

            for (var attempt = 0; ; attempt++)
            {
                var (entries, etag) = await store.GetLedgerAsync(cancellationToken);
                var live = entries.Where(e => ThresholdPolicy.InWindow(e.At, now)).ToList();
                if (live.Any(e => e.Key == key))
                {
                    // The same action on the same object was counted within the window: a throttled retry, a
                    // redelivery or a crash after the count. It is one action, counted once.
                    return true;
                }

                var managed = await ManagedCountAsync(cancellationToken);
                if (ThresholdPolicy.WouldExceed(options, live.Count, managed))
                {
                    var limit = ThresholdPolicy.Limit(options, managed);
                    await store.SetHoldAsync(new DestructiveHold(now, $"{live.Count} destructive actions in the last 60 minutes reached the limit of {limit} ({managed} managed users)"), cancellationToken);
                    await StageAsync(objectId, action, scimId, $"{reason}; threshold of {limit} destructive actions per 60 minutes reached", cancellationToken);
                    return false;
                }

                try
                {
                    // Entries that slid out of the window are dropped on the way, so the row stays bounded by the limit.
                    await store.SaveLedgerAsync([.. live, new LedgerEntry(now, key)], etag, cancellationToken);
                    return true;
                }
                catch (StateConflictException) when (attempt < 10)
                {
                    // Another instance counted at the same time: read again.
                }
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    private async Task StageAsync(string objectId, PlanAction action, string? scimId, string reason, CancellationToken cancellationToken)
    {
        if (await store.StageAsync(new StagedAction(objectId, action, reason, time.GetUtcNow(), scimId), cancellationToken))
        {
            EngineLog.Staged(logger, action, objectId, reason);
        }
    }

    private async Task<long> ManagedCountAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_managed is { } m && now - m.At < ManagedCountLifetime)
        {
            return m.Count;
        }

        long count = 0;
        await foreach (var key in store.ListUserKeysAsync(cancellationToken))
        {
            if (key.State is LifecycleState.Active or LifecycleState.Disabled)
            {
                count++;
            }
        }

        _managed = (now, count);
        return count;
    }
}
