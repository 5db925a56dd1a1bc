using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.Functions;

/// <summary>Compares every known group's target members with the desired set and fixes the difference
/// (drift from edits made on the target); a group nobody touched costs one conditional read.</summary>
public sealed partial class ReconcileGroups(GroupReconciler reconciler, ILogger<ReconcileGroups> logger)
{
    [Function(nameof(ReconcileGroups))]
    public async Task RunAsync([TimerTrigger("%ReconcileGroupsSchedule%")] TimerInfo timer, CancellationToken cancellationToken = default)
    {
        if (timer.IsPastDue)
        {
            LogPastDue(logger);
        }

        var summary = await reconciler.ReconcileGroupsAsync(dryRun: false, cancellationToken);
        LogDone(logger, summary.GroupsUpdated, summary.MembersAdded, summary.MembersRemoved, summary.Failed, summary.UnmatchedGroups.Count);
    }

    [LoggerMessage(EventId = 3410, Level = LogLevel.Warning, Message = "ReconcileGroups is running late (past due)")]
    private static partial void LogPastDue(ILogger logger);

    [LoggerMessage(EventId = 3411, Level = LogLevel.Information, Message = "ReconcileGroups fixed {Groups} groups (+{Added} -{Removed} members); {Failed} failed, {Unmatched} unmatched")]
    private static partial void LogDone(ILogger logger, int groups, int added, int removed, int failed, int unmatched);
}
