using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.Functions;

/// <summary>The safety net and the initial load: resumes users and groups delta and queues a work item per
/// changed object; the cursor is stored only after the items are queued.</summary>
public sealed partial class DeltaSweep(DeltaSweeper sweeper, ILogger<DeltaSweep> logger)
{
    [Function(nameof(DeltaSweep))]
    public async Task RunAsync([TimerTrigger("%DeltaSweepSchedule%")] TimerInfo timer, CancellationToken cancellationToken = default)
    {
        if (timer.IsPastDue)
        {
            // A missed run is caught up by this one: delta resumes from the stored cursor.
            LogPastDue(logger);
        }

        var result = await sweeper.SweepAsync(cancellationToken);
        LogDone(logger, result.UsersQueued, result.GroupsQueued);
    }

    [LoggerMessage(EventId = 3400, Level = LogLevel.Warning, Message = "DeltaSweep is running late (past due); resuming from the stored cursors")]
    private static partial void LogPastDue(ILogger logger);

    [LoggerMessage(EventId = 3401, Level = LogLevel.Information, Message = "DeltaSweep queued {Users} user and {Groups} group work items")]
    private static partial void LogDone(ILogger logger, int users, int groups);
}
