using Microsoft.Extensions.Time.Testing;
using ScimFunctions.Provisioning.Scim;

namespace ScimFunctions.Tests.Scim;

public sealed class ScimRateLimiterTests
{
    private readonly FakeTimeProvider time = new();

    [Fact]
    public void Burst_IsAvailableAtOnceThenRefused()
    {
        using var limiter = new ScimRateLimiter(requestsPerMinute: 60, burst: 5, time);

        var granted = Enumerable.Range(0, 6).Select(_ => limiter.AttemptAcquire().IsAcquired).ToList();

        Assert.Equal([true, true, true, true, true, false], granted);
    }

    [Fact]
    public async Task Acquire_BeyondTheBurst_WaitsForTheSteadyRate()
    {
        // 60/min with a burst of 5 refills 55 per minute: one permit every 60/55 s.
        using var limiter = new ScimRateLimiter(requestsPerMinute: 60, burst: 5, time);
        for (var i = 0; i < 5; i++)
        {
            Assert.True(limiter.AttemptAcquire().IsAcquired);
        }

        var waiting = limiter.AcquireAsync().AsTask();
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(waiting.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(100));

        Assert.True((await waiting.WaitAsync(TimeSpan.FromSeconds(5))).IsAcquired);
    }

    [Fact]
    public void NoMinute_CarriesMoreThanRequestsPerMinute()
    {
        using var limiter = new ScimRateLimiter(requestsPerMinute: 60, burst: 10, time);
        var granted = 0;
        for (var step = 0; step < 600; step++)
        {
            while (limiter.AttemptAcquire().IsAcquired)
            {
                granted++;
            }

            time.Advance(TimeSpan.FromMilliseconds(100));
        }

        Assert.InRange(granted, 55, 60);
    }

    [Fact]
    public async Task Throttled_PausesEveryoneForRetryAfterAndHalvesTheRate()
    {
        using var limiter = new ScimRateLimiter(requestsPerMinute: 600, burst: 10, time);
        var before = limiter.CurrentRate;

        limiter.OnThrottled(TimeSpan.FromSeconds(3));
        var waiting = limiter.AcquireAsync().AsTask();
        time.Advance(TimeSpan.FromSeconds(2.9));
        Assert.False(waiting.IsCompleted);
        Assert.False(limiter.AttemptAcquire().IsAcquired);
        time.Advance(TimeSpan.FromSeconds(0.5));

        Assert.True((await waiting.WaitAsync(TimeSpan.FromSeconds(5))).IsAcquired);
        Assert.Equal(before / 2, limiter.CurrentRate, 6);
    }

    [Fact]
    public void Throttled_RateRecoversAfterQuietMinutes()
    {
        using var limiter = new ScimRateLimiter(requestsPerMinute: 600, burst: 10, time);
        var full = limiter.CurrentRate;
        limiter.OnThrottled(TimeSpan.FromSeconds(1));
        time.Advance(TimeSpan.FromSeconds(2));
        limiter.OnThrottled(TimeSpan.FromSeconds(1));
        Assert.Equal(full / 4, limiter.CurrentRate, 6);

        time.Advance(TimeSpan.FromMinutes(2.5));

        Assert.Equal(full, limiter.CurrentRate, 6);
    }

    [Fact]
    public void Throttled_SeveralTimesDuringOnePause_SlowsDownOnce()
    {
        using var limiter = new ScimRateLimiter(requestsPerMinute: 600, burst: 10, time);
        var full = limiter.CurrentRate;

        limiter.OnThrottled(TimeSpan.FromSeconds(5));
        time.Advance(TimeSpan.FromMilliseconds(50));
        limiter.OnThrottled(TimeSpan.FromSeconds(5));
        limiter.OnThrottled(null);

        Assert.Equal(full / 2, limiter.CurrentRate, 6);
    }

    [Fact]
    public async Task Acquire_Cancelled_Throws()
    {
        using var limiter = new ScimRateLimiter(requestsPerMinute: 60, burst: 1, time);
        Assert.True(limiter.AttemptAcquire().IsAcquired);
        using var cancel = new CancellationTokenSource();

        var waiting = limiter.AcquireAsync(1, cancel.Token).AsTask();
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }
}
