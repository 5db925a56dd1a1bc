using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.Functions;

/// <summary>Deletes target users disabled longer than the grace period (only those this connector created or
/// adopted, confirmed as leavers by the directory, under the destructive-action threshold).</summary>
public sealed partial class PurgeDisabled(DisabledUserPurge purge, ILogger<PurgeDisabled> logger)
{
    [Function(nameof(PurgeDisabled))]
    public async Task RunAsync([TimerTrigger("%PurgeDisabledSchedule%")] TimerInfo timer, CancellationToken cancellationToken = default)
    {
        if (timer.IsPastDue)
        {
            LogPastDue(logger);
        }

        var summary = await purge.PurgeDisabledAsync(dryRun: false, cancellationToken);
        LogDone(logger, summary.Deleted, summary.Staged, summary.Failed);
    }

    [LoggerMessage(EventId = 3430, Level = LogLevel.Warning, Message = "PurgeDisabled is running late (past due)")]
    private static partial void LogPastDue(ILogger logger);

    [LoggerMessage(EventId = 3431, Level = LogLevel.Information, Message = "PurgeDisabled deleted {Deleted} users; {Staged} staged, {Failed} failed")]
    private static partial void LogDone(ILogger logger, int deleted, int staged, int failed);
}
