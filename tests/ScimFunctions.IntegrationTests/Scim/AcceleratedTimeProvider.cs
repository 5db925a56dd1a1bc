using System.Diagnostics;

namespace ScimFunctions.IntegrationTests.Scim;

/// <summary>A clock that runs <c>factor</c> times faster than the wall clock, timers included. Shared by the
/// emulator and the client, it lets a test exercise per-minute limits at their real values in seconds.</summary>
public sealed class AcceleratedTimeProvider(double factor) : TimeProvider
{
    private readonly long startTimestamp = Stopwatch.GetTimestamp();
    private readonly DateTimeOffset startUtc = DateTimeOffset.UtcNow;

    public double Factor { get; } = factor;

    public override long TimestampFrequency => Stopwatch.Frequency;

    public override long GetTimestamp() => startTimestamp + (long)((Stopwatch.GetTimestamp() - startTimestamp) * Factor);

    public override DateTimeOffset GetUtcNow() => startUtc + TimeSpan.FromTicks((long)(Stopwatch.GetElapsedTime(startTimestamp).Ticks * Factor));

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        new ScaledTimer(System.CreateTimer(callback, state, Scale(dueTime), Scale(period)), this);

    private TimeSpan Scale(TimeSpan span) =>
        span == Timeout.InfiniteTimeSpan || span <= TimeSpan.Zero ? span : TimeSpan.FromTicks(Math.Max(1, (long)(span.Ticks / Factor)));

    private sealed class ScaledTimer(ITimer inner, AcceleratedTimeProvider clock) : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period) => inner.Change(clock.Scale(dueTime), clock.Scale(period));

        public void Dispose() => inner.Dispose();

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
