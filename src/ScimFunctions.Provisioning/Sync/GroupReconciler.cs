using Azure;
using Microsoft.Extensions.Logging;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;
using ScimFunctions.Provisioning.Sync.Entitlements;
using ScimFunctions.Provisioning.Sync.History;

namespace ScimFunctions.Provisioning.Sync;

/// <summary>The ReconcileGroups timer's job: user drift (reported, or put back), entitlement holders, then the known
/// groups' members against the target, as many groups as the run's time budget allows (<see cref="GroupPass"/>).</summary>
public sealed class GroupReconciler(
    StateStore store,
    IScimClient scim,
    UserConverger users,
    GroupConverger groups,
    SyncOptions options,
    ConfiguredEntitlements entitlements,
    TimeProvider time,
    ILogger<GroupReconciler> logger,
    HistoryRecorder history)
{
    /// <summary>Reports drift on managed users (and puts it back with Sync__RemediateUserDrift), then for every
    /// known group compares the target's members with the desired set (If-None-Match, so an untouched group
    /// costs one read) and fixes the difference.</summary>
    public async Task<SyncSummary> ReconcileGroupsAsync(bool dryRun = false, CancellationToken cancellationToken = default)
    {
        var summary = new SummaryBuilder(scim.Counts);
        var run = new RunContext(dryRun);

        // One budget for the run: the drift scan spends it first, the group pass what is left.
        var deadline = time.GetUtcNow().AddSeconds(options.TimerBudgetSeconds);
        var known = new List<GroupMapping>();
        await foreach (var group in store.ListGroupsAsync(cancellationToken))
        {
            if (options.Groups.Enabled && group.State is GroupState.Managed or GroupState.Unmatched)
            {
                known.Add(group);
            }
        }

        try
        {
            var failures = new List<ObjectFailure>();
            var listing = await new DriftScan(store, scim, options, time, logger).StartAsync(dryRun, cancellationToken);
            var drifts = await users.ReportDriftAsync(dryRun, failures, listing, cancellationToken);
            foreach (var drift in drifts)
            {
                summary.Note(drift);
            }

            await history.OperationsAsync(dryRun ? [] : drifts, HistoryTrigger.Reconcile, cancellationToken);

            foreach (var failure in failures)
            {
                summary.Fail(failure.ObjectKind, failure.ObjectId, failure.Reason);
            }
        }
        catch (ProvisioningException ex)
        {
            summary.Fail(ObjectKind.User, "*", StateFailures.Describe(ex));
        }
        catch (RequestFailedException ex) when (ex.Status != 400)
        {
            // The rows could not be listed: the drift scan is skipped, the groups still converge.
            summary.Fail(ObjectKind.User, "*", StateFailures.Describe(StateFailures.FromTable(ex)));
        }

        if (entitlements.Resolver is { } rules)
        {
            await EntitlementReconciler.ReconvergeAsync(rules, store, users, run, summary, history, cancellationToken);
        }

        // Loaded after the long drift scan, not before it; still, users leave while the groups converge, so the
        // convergers confirm every member they would add with a point read (GroupConverger).
        var index = await UserIndex.LoadAsync(store, cancellationToken);
        var pass = await new GroupPass(store, logger).StartAsync(known, cancellationToken);
        await pass.RunAsync(async (group, ct) =>
        {
            try
            {
                var outcome = await history.GroupAsync(HistoryTrigger.Reconcile, run, index, () => groups.ConvergeAsync(new GroupRequest(group.ObjectId, VerifyTarget: true), run, index, ct), ct);
                if (outcome.MembersAdded + outcome.MembersRemoved > 0)
                {
                    var detail = $"+{outcome.MembersAdded} -{outcome.MembersRemoved} members";
                    EngineLog.Drift(logger, ObjectKind.Group, group.ObjectId, group.ScimId, detail);
                }

                summary.Add(outcome);
            }
            catch (ProvisioningException ex)
            {
                summary.Fail(ObjectKind.Group, group.ObjectId, StateFailures.Describe(ex));
            }
            catch (StateConflictException ex)
            {
                // The group's row kept changing under its own work items: they converge it; the others go on.
                summary.Fail(ObjectKind.Group, group.ObjectId, $"{FailureReasons.StateConflicts}: {ex.Message}");
            }
        }, options.Parallelism, () => time.GetUtcNow() >= deadline, dryRun, cancellationToken);

        return summary.Build(scim.Counts);
    }
}
