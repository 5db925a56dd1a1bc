using System.Threading.RateLimiting;

namespace ScimFunctions.Provisioning.Scim;

/// <summary>The client-side budget for one target and credential: a token bucket of <c>burst</c> permits refilled at
/// (requestsPerMinute − burst) per minute, so no 60-second window carries more than <c>requestsPerMinute</c>
/// requests whatever the server's window alignment. Callers queue (first come, first served) instead of
/// drawing 429s. A 429 pauses every caller for its Retry-After, empties the bucket and halves the rate (once per
/// pause: the other requests in flight meet the same exhausted budget); the rate doubles back once per quiet minute. Runs on <see cref="TimeProvider"/> so tests can drive it.
/// With a <see cref="ScimSharedBudget"/>, each permit is also claimed from the budget every instance shares, so the
/// bucket paces this process and the shared budget bounds them all.</summary>
public sealed class ScimRateLimiter : RateLimiter
{
    private const double MinimumFactor = 0.125;
    private static readonly TimeSpan RecoveryPeriod = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan DefaultPause = TimeSpan.FromSeconds(1);

    private readonly TimeProvider timeProvider;
    private readonly SemaphoreSlim queue = new(1, 1);
    private readonly Lock gate = new();
    private readonly double burst;
    private readonly double permitsPerSecond;
    private double tokens;
    private double factor = 1;
    private long lastRefill;
    private long lastSlowdown;
    private long pausedUntil;
    private long idleSince;
    private int queued;
    private long successfulLeases;
    private readonly ScimSharedBudget? shared;

    public ScimRateLimiter(int requestsPerMinute, int burst, TimeProvider timeProvider, ScimSharedBudget? shared = null)
    {
        this.shared = shared;
        ArgumentOutOfRangeException.ThrowIfLessThan(burst, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(requestsPerMinute, burst);
        this.timeProvider = timeProvider;
        this.burst = burst;
        permitsPerSecond = (requestsPerMinute - burst) / 60.0;
        tokens = burst;
        lastRefill = timeProvider.GetTimestamp();
        idleSince = lastRefill;
    }

    /// <summary>Permits per second right now (the configured rate times the current slow-down factor).</summary>
    public double CurrentRate
    {
        get
        {
            lock (gate)
            {
                Refill(timeProvider.GetTimestamp());
                return permitsPerSecond * factor;
            }
        }
    }

    public override TimeSpan? IdleDuration
    {
        get
        {
            lock (gate)
            {
                return queued > 0 ? null : timeProvider.GetElapsedTime(idleSince);
            }
        }
    }

    public override RateLimiterStatistics? GetStatistics()
    {
        lock (gate)
        {
            Refill(timeProvider.GetTimestamp());
            return new RateLimiterStatistics
            {
                CurrentAvailablePermits = (long)tokens,
                CurrentQueuedCount = Volatile.Read(ref queued),
                TotalSuccessfulLeases = successfulLeases,
                TotalFailedLeases = 0,
            };
        }
    }

    /// <summary>The target answered 429: hold every caller until <paramref name="retryAfter"/> has passed and slow down.</summary>
    public void OnThrottled(TimeSpan? retryAfter)
    {
        var pause = retryAfter is { } wait && wait > TimeSpan.Zero ? wait : DefaultPause;
        lock (gate)
        {
            var now = timeProvider.GetTimestamp();
            Refill(now);
            // Requests already in flight when the budget ran out answer 429 too: one slow-down per pause.
            if (now >= pausedUntil)
            {
                factor = Math.Max(MinimumFactor, factor / 2);
            }

            var until = now + (long)(pause.TotalSeconds * timeProvider.TimestampFrequency);
            pausedUntil = Math.Max(pausedUntil, until);
            tokens = 0;
            lastSlowdown = now;
        }
    }

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        // The shared budget is a table call: it can only be waited for.
        if (shared is not null)
        {
            return Lease.Rejected;
        }

        lock (gate)
        {
            return TryTake(permitCount, timeProvider.GetTimestamp()) <= TimeSpan.Zero ? Lease.Acquired : Lease.Rejected;
        }
    }

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        if (permitCount > burst)
        {
            throw new ArgumentOutOfRangeException(nameof(permitCount), permitCount, "More permits than the bucket holds.");
        }

        Interlocked.Increment(ref queued);
        try
        {
            // One waiter at a time computes and sleeps; the others wait their turn behind it.
            await queue.WaitAsync(cancellationToken);
            try
            {
                while (true)
                {
                    TimeSpan wait;
                    lock (gate)
                    {
                        wait = TryTake(permitCount, timeProvider.GetTimestamp());
                    }

                    if (wait <= TimeSpan.Zero)
                    {
                        if (shared is not null)
                        {
                            // The callers queued behind this one will want permits too: claim for them in one go.
                            await shared.AcquireAsync(Volatile.Read(ref queued), cancellationToken);
                        }

                        return Lease.Acquired;
                    }

                    await Task.Delay(wait, timeProvider, cancellationToken);
                }
            }
            finally
            {
                queue.Release();
            }
        }
        finally
        {
            if (Interlocked.Decrement(ref queued) == 0)
            {
                lock (gate)
                {
                    idleSince = timeProvider.GetTimestamp();
                }
            }
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            queue.Dispose();
            shared?.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>Takes the permits and returns zero, or returns how long to wait before trying again.</summary>
    private TimeSpan TryTake(int permitCount, long now)
    {
        Refill(now);
        if (now < pausedUntil)
        {
            return TimeSpan.FromSeconds((pausedUntil - now) / (double)timeProvider.TimestampFrequency);
        }

        if (tokens >= permitCount)
        {
            tokens -= permitCount;
            successfulLeases++;
            return TimeSpan.Zero;
        }

        var seconds = (permitCount - tokens) / (permitsPerSecond * factor);
        return TimeSpan.FromSeconds(Math.Max(seconds, 0.001));
    }

    private void Refill(long now)
    {
        while (factor < 1 && now - lastSlowdown >= RecoveryPeriod.TotalSeconds * timeProvider.TimestampFrequency)
        {
            factor = Math.Min(1, factor * 2);
            lastSlowdown += (long)(RecoveryPeriod.TotalSeconds * timeProvider.TimestampFrequency);
        }

        // Nothing accrues while paused: the server said its budget is spent.
        var from = Math.Max(lastRefill, pausedUntil);
        if (now > from)
        {
            var elapsed = (now - from) / (double)timeProvider.TimestampFrequency;
            tokens = Math.Min(burst, tokens + (elapsed * permitsPerSecond * factor));
        }

        lastRefill = Math.Max(lastRefill, now);
    }

    private sealed class Lease(bool acquired) : RateLimitLease
    {
        public static readonly Lease Acquired = new(true);
        public static readonly Lease Rejected = new(false);

        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }
    }
}
