using System.Collections.Concurrent;
using System.Globalization;

namespace GenesysScimEmulator.State;

/// <summary>What clients actually sent: requests by "METHOD kind" (kind: token, users, groups,
/// serviceproviderconfig, resourcetypes, schemas, other), by status, and by both.
/// Admin calls are not counted.</summary>
public sealed class RequestCounters
{
    private readonly ConcurrentDictionary<string, long> byRoute = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> byStatus = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> byRouteAndStatus = new(StringComparer.Ordinal);
    private long total;

    public void Received(string method, string kind)
    {
        Interlocked.Increment(ref total);
        byRoute.AddOrUpdate($"{method} {kind}", 1, (_, n) => n + 1);
    }

    /// <summary>Records how a request ended: its status code, or "aborted" for a dropped connection.</summary>
    public void Answered(string method, string kind, string outcome)
    {
        byStatus.AddOrUpdate(outcome, 1, (_, n) => n + 1);
        byRouteAndStatus.AddOrUpdate($"{method} {kind} {outcome}", 1, (_, n) => n + 1);
    }

    public long Total => Interlocked.Read(ref total);

    /// <summary>Requests received for "METHOD kind", e.g. <c>Count("PATCH", "users")</c>.</summary>
    public long Count(string method, string kind) => byRoute.GetValueOrDefault($"{method} {kind}");

    public long CountStatus(int status) => byStatus.GetValueOrDefault(status.ToString(CultureInfo.InvariantCulture));

    public CountersSnapshot Snapshot() => new(
        Total,
        new SortedDictionary<string, long>(byRoute, StringComparer.Ordinal),
        new SortedDictionary<string, long>(byStatus, StringComparer.Ordinal),
        new SortedDictionary<string, long>(byRouteAndStatus, StringComparer.Ordinal));

    public void Reset()
    {
        byRoute.Clear();
        byStatus.Clear();
        byRouteAndStatus.Clear();
        Interlocked.Exchange(ref total, 0);
    }
}

/// <summary>JSON of <c>GET /_emulator/counters</c>.</summary>
public sealed record CountersSnapshot(
    long Total,
    IReadOnlyDictionary<string, long> ByRoute,
    IReadOnlyDictionary<string, long> ByStatus,
    IReadOnlyDictionary<string, long> ByRouteAndStatus);
