using Microsoft.Extensions.Logging;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;
using ScimFunctions.Provisioning.Sync.History;

namespace ScimFunctions.Provisioning.Sync;

/// <summary>The operator's answer to destructive actions the threshold held back (<c>scimfn staged release|discard</c>).</summary>
public sealed class StagedActionReview(StateStore store, IScimClient scim, UserConverger users, ILogger<StagedActionReview> logger, HistoryRecorder history)
{
    /// <summary>The operator allows the held actions: each is decided again (the directory is re-read, so a
    /// user who came back is not disabled) and runs past the threshold; the hold is lifted.</summary>
    public async Task<SyncSummary> ReleaseStagedAsync(CancellationToken cancellationToken = default)
    {
        var summary = new SummaryBuilder(scim.Counts);
        var staged = await store.ListStagedAsync(cancellationToken);
        await store.ClearHoldAsync(cancellationToken);
        var run = new RunContext(dryRun: false, bypassThreshold: true);
        foreach (var action in staged)
        {
            try
            {
                if (action.Action == PlanAction.Delete)
                {
                    if (await store.GetUserAsync(action.ObjectId, cancellationToken) is { } mapping)
                    {
                        summary.Add(await history.UserAsync(action.ObjectId, HistoryTrigger.Operator, run, transientIsFinal: true, () => users.PurgeAsync(mapping, run, cancellationToken), cancellationToken));
                    }
                }
                else
                {
                    summary.Add(await history.UserAsync(action.ObjectId, HistoryTrigger.Operator, run, transientIsFinal: true, () => users.ConvergeAsync(new UserRequest(action.ObjectId), run, cancellationToken), cancellationToken));
                }

                await store.RemoveStagedAsync(action, cancellationToken);
            }
            catch (ProvisioningException ex)
            {
                summary.Fail(ObjectKind.User, action.ObjectId, StateFailures.Describe(ex));
            }
        }

        EngineLog.StagedDecision(logger, "released", staged.Count);
        return summary.Build(scim.Counts);
    }

    /// <summary>The operator rejects the held actions: they are dropped and the hold is lifted. Objects are
    /// decided afresh the next time they are converged (and staged again if still over the threshold).</summary>
    public async Task<SyncSummary> DiscardStagedAsync(CancellationToken cancellationToken = default)
    {
        var summary = new SummaryBuilder(scim.Counts);
        var staged = await store.ListStagedAsync(cancellationToken);
        foreach (var action in staged)
        {
            await store.RemoveStagedAsync(action, cancellationToken);
            summary.Note(new PlannedOperation(ObjectKind.User, action.ObjectId, PlanAction.Skip, $"staged {action.Action.ToWireName()} discarded by the operator"));
        }

        await store.ClearHoldAsync(cancellationToken);
        EngineLog.StagedDecision(logger, "discarded", staged.Count);
        return summary.Build(scim.Counts);
    }
}
