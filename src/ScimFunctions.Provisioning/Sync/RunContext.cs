namespace ScimFunctions.Provisioning.Sync;

/// <summary>What one run (a work item, a sync, a plan) may do, and what a dry run has pretended so far.</summary>
public sealed class RunContext(bool dryRun, bool bypassThreshold = false, bool forceFollowUps = false)
{
    public bool DryRun { get; } = dryRun;

    /// <summary>Released staged actions run past the threshold.</summary>
    public bool BypassThreshold { get; } = bypassThreshold;

    /// <summary>A redelivered work item recomputes follow-ups even when nothing changed (the first try may have lost them).</summary>
    public bool ForceFollowUps { get; } = forceFollowUps;

    private long _simulatedDestructive;

    internal long SimulatedDestructive => Interlocked.Read(ref _simulatedDestructive);

    internal void AddSimulatedDestructive() => Interlocked.Increment(ref _simulatedDestructive);

    internal bool SimulatedHold { get; set; }

    /// <summary>A dry run's view of users it would have created or adopted (object id → the simulated target user).</summary>
    internal System.Collections.Concurrent.ConcurrentDictionary<string, SimulatedTarget> SimulatedActive { get; } = new(StringComparer.Ordinal);

    /// <summary>A dry run's view of users it would have disabled.</summary>
    internal System.Collections.Concurrent.ConcurrentDictionary<string, bool> SimulatedInactive { get; } = new(StringComparer.Ordinal);
}
