using System.Diagnostics.Metrics;

namespace ScimFunctions.Provisioning.Sync;

/// <summary>The engine's instruments (Meter <c>ScimFunctions.Provisioning</c>). Every counter carries a
/// <c>kind</c> tag (<c>user</c> or <c>group</c>); the lag histogram is seconds from the change being
/// seen (notification or delta) to the target being written.</summary>
public sealed class ProvisioningMetrics : IDisposable
{
    public const string MeterName = "ScimFunctions.Provisioning";

    private readonly Meter _meter;
    private readonly bool _ownsMeter;

    public ProvisioningMetrics(IMeterFactory? meterFactory = null)
    {
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        Creates = _meter.CreateCounter<long>("scimfn.creates", description: "Target objects created or adopted");
        Updates = _meter.CreateCounter<long>("scimfn.updates", description: "Target objects patched (attributes, reactivation, members)");
        Disables = _meter.CreateCounter<long>("scimfn.disables", description: "Target users set active=false");
        Deletes = _meter.CreateCounter<long>("scimfn.deletes", description: "Target users deleted after the grace period");
        NoOps = _meter.CreateCounter<long>("scimfn.noops", description: "Objects found already converged");
        Conflicts = _meter.CreateCounter<long>("scimfn.conflicts", description: "Version or ETag conflicts (SCIM or Table) resolved by re-reading");
        Throttles = _meter.CreateCounter<long>("scimfn.throttles", description: "Work items postponed because the target or Graph throttled");
        Failures = _meter.CreateCounter<long>("scimfn.failures", description: "Objects that could not be converged");
        Staged = _meter.CreateCounter<long>("scimfn.staged", description: "Destructive actions held by the threshold");
        HistoryWriteFailures = _meter.CreateCounter<long>("scimfn.history_failures", description: "History rows that could not be written (the provisioning change itself stands)");
        Lag = _meter.CreateHistogram<double>("scimfn.lag", unit: "s", description: "Seconds from a change being seen to the target being written");
    }

    public Counter<long> Creates { get; }
    public Counter<long> Updates { get; }
    public Counter<long> Disables { get; }
    public Counter<long> Deletes { get; }
    public Counter<long> NoOps { get; }
    public Counter<long> Conflicts { get; }
    public Counter<long> Throttles { get; }
    public Counter<long> Failures { get; }
    public Counter<long> Staged { get; }
    public Counter<long> HistoryWriteFailures { get; }
    public Histogram<double> Lag { get; }

    internal static KeyValuePair<string, object?> Kind(ObjectKind kind) => new("kind", kind.ToWireName());

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
