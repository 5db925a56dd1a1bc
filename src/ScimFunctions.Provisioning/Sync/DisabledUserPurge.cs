using Azure;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;
using ScimFunctions.Provisioning.Sync.History;

namespace ScimFunctions.Provisioning.Sync;

/// <summary>The PurgeDisabled timer's job: leavers past the grace period are deleted, one user's failure never stopping the others.</summary>
public sealed class DisabledUserPurge(StateStore store, IScimClient scim, UserConverger users, SyncOptions options, TimeProvider time, HistoryRecorder history)
{
    /// <summary>Deletes users disabled longer than the grace period (created or adopted only), under the threshold.</summary>
    public async Task<SyncSummary> PurgeDisabledAsync(bool dryRun = false, CancellationToken cancellationToken = default)
    {
        var summary = new SummaryBuilder(scim.Counts);
        var cutoff = time.GetUtcNow().AddDays(-options.DisabledGraceDays);
        var run = new RunContext(dryRun);
        var due = new List<UserMapping>();
        await foreach (var mapping in store.ListUsersAsync(LifecycleState.Disabled, cancellationToken))
        {
            if (mapping.DisabledSince is { } since && since <= cutoff)
            {
                due.Add(mapping);
            }
        }

        foreach (var mapping in due)
        {
            try
            {
                summary.Add(await history.UserAsync(mapping.ObjectId, HistoryTrigger.Purge, run, transientIsFinal: true, () => users.PurgeAsync(mapping, run, cancellationToken), cancellationToken));
            }
            catch (ProvisioningException ex)
            {
                summary.Fail(ObjectKind.User, mapping.ObjectId, StateFailures.Describe(ex));
            }
            catch (StateConflictException ex)
            {
                // One user's row racing with its own convergence must not stop the purge of the others.
                summary.Fail(ObjectKind.User, mapping.ObjectId, $"{FailureReasons.StateConflicts}: {ex.Message}");
            }
            catch (DirectoryUnavailableException ex)
            {
                // Nothing is deleted on a failed read, and the next user is still looked at.
                summary.Fail(ObjectKind.User, mapping.ObjectId, $"{FailureReasons.DirectoryUnavailable}: {ex.Message}");
            }
            catch (RequestFailedException ex) when (ex.Status != 400)
            {
                summary.Fail(ObjectKind.User, mapping.ObjectId, StateFailures.Describe(StateFailures.FromTable(ex)));
            }
        }

        // The history's retention rides on the same nightly timer (Sync__HistoryDays).
        if (!dryRun)
        {
            await history.PurgeAsync(options.HistoryDays, cancellationToken);
        }

        return summary.Build(scim.Counts);
    }
}
