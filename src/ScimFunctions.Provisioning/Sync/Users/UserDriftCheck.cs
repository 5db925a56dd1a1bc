using Azure;
using Microsoft.Extensions.Logging;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;
using static ScimFunctions.Provisioning.Sync.Users.UserOutcomes;

namespace ScimFunctions.Provisioning.Sync.Users;

/// <summary>Drift: compares the target's managed users with what was last applied. Drift is reported (event 3021,
/// a <c>drift</c> operation); with <see cref="SyncOptions.RemediateUserDrift"/> the owned attributes are put back.
/// Unmanaged target users are never looked at twice and never touched.</summary>
public sealed class UserDriftCheck(
    StateStore store,
    IScimClient scim,
    AttributeMapper mapper,
    UserPatcher patcher,
    SyncOptions options,
    ProvisioningMetrics metrics,
    ILogger<UserDriftCheck> logger)
{
    private sealed record Drifted(ScimResource Resource, UserMapping Mapping, List<string> Changed, SortedDictionary<string, string> Current);

    /// <param name="listing">The chunk of the target's users this run compares; null: every target user, listed here.</param>
    internal async Task<IReadOnlyList<PlannedOperation>> ReportAsync(bool dryRun, ICollection<ObjectFailure>? failures = null, DriftListing? listing = null, CancellationToken cancellationToken = default)
    {
        var managed = new Dictionary<string, UserMapping>(StringComparer.Ordinal);
        await foreach (var mapping in store.ListUsersAsync(cancellationToken: cancellationToken))
        {
            if (mapping is { IsProvisioned: true, Projection: not null })
            {
                managed[mapping.ScimId!] = mapping;
            }
        }

        var operations = new List<PlannedOperation>();
        if (managed.Count == 0)
        {
            return operations;
        }

        var (drifted, seen) = await CompareAsync(managed, listing, cancellationToken);
        foreach (var drift in drifted)
        {
            var detail = Paths(drift.Changed);
            EngineLog.Drift(logger, ObjectKind.User, drift.Mapping.ObjectId, drift.Mapping.ScimId, detail);
            if (options.RemediateUserDrift && !dryRun)
            {
                await PutBackAsync(drift, detail, operations, failures, cancellationToken);
            }
            else
            {
                operations.Add(new PlannedOperation(ObjectKind.User, drift.Mapping.ObjectId, PlanAction.Drift, "changed on the target outside this connector", detail));
            }
        }

        // Only a listing of every target user shows that one is missing; a chunk of it shows nothing of the kind.
        foreach (var mapping in managed.Values.Where(m => (listing?.CoversEverything ?? true) && !seen.Contains(m.ScimId!) && m.State == LifecycleState.Active))
        {
            EngineLog.Drift(logger, ObjectKind.User, mapping.ObjectId, mapping.ScimId, "missing from the target's user list");
            operations.Add(new PlannedOperation(ObjectKind.User, mapping.ObjectId, PlanAction.Drift, "missing from the target's user list (recreated or reported at its next convergence)", mapping.ScimId));
        }

        return operations;
    }

    /// <summary>One listing of the target; a partial listing proves nothing, so it decides nothing.</summary>
    private async Task<(List<Drifted> Drifted, HashSet<string> Seen)> CompareAsync(Dictionary<string, UserMapping> managed, DriftListing? listing, CancellationToken cancellationToken)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var drifted = new List<Drifted>();
        try
        {
            await foreach (var resource in listing?.ReadAsync(cancellationToken) ?? scim.ListUsersAsync(cancellationToken: cancellationToken))
            {
                if (!managed.TryGetValue(resource.Id, out var mapping))
                {
                    continue;
                }

                seen.Add(resource.Id);
                var current = ScimProjection.ReadCurrent(resource.Body, mapper);
                var changed = ScimProjection.ChangedPaths(current, mapping.Projection!, mapper);
                if (changed.Count > 0)
                {
                    drifted.Add(new(resource, mapping, changed, current));
                }
            }
        }
        catch (ScimException ex)
        {
            throw new ProvisioningException(FailureReasons.TargetUnavailable, "The target's users could not be listed completely.", isTransient: true, ex);
        }

        return (drifted, seen);
    }

    /// <summary>One user's failure (its row raced with its own convergence, the target refused the PATCH) is that
    /// user's: the others are still put back.</summary>
    private async Task PutBackAsync(Drifted drift, string detail, List<PlannedOperation> operations, ICollection<ObjectFailure>? failures, CancellationToken cancellationToken)
    {
        var mapping = drift.Mapping;
        try
        {
            var ops = ScimProjection.Diff(drift.Current, mapping.Projection!, mapper);
            var patched = await patcher.PatchAsync(drift.Resource.Id, ops, drift.Resource.Version, mapping.Projection!, mapping.ObjectId, cancellationToken);
            if (patched is not null)
            {
                await store.SaveUserAsync(mapping with { TargetVersion = patched.Version ?? mapping.TargetVersion }, cancellationToken);
                metrics.Updates.Add(1, ProvisioningMetrics.Kind(ObjectKind.User));
            }

            operations.Add(new PlannedOperation(ObjectKind.User, mapping.ObjectId, PlanAction.Update, "drift on the target put back", detail));
        }
        catch (StateConflictException)
        {
            // The row was written since the listing (a convergence of this user): that convergence holds the
            // newer truth; the next reconcile compares again.
            operations.Add(new PlannedOperation(ObjectKind.User, mapping.ObjectId, PlanAction.Drift, "drift not put back: the row changed meanwhile; compared again at the next reconcile", detail));
        }
        catch (ProvisioningException ex)
        {
            failures?.Add(new ObjectFailure(ObjectKind.User, mapping.ObjectId, StateFailures.Describe(ex)));
        }
        catch (RequestFailedException ex) when (ex.Status != 400)
        {
            failures?.Add(new ObjectFailure(ObjectKind.User, mapping.ObjectId, StateFailures.Describe(StateFailures.FromTable(ex))));
        }
    }
}
