using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.Functions;

/// <summary>Makes sure the Graph subscriptions for users (and groups) exist and are far from expiry.</summary>
public sealed partial class RenewSubscriptions(SubscriptionKeeper subscriptions, ILogger<RenewSubscriptions> logger)
{
    [Function(nameof(RenewSubscriptions))]
    public async Task RunAsync([TimerTrigger("%RenewSubscriptionsSchedule%")] TimerInfo timer, CancellationToken cancellationToken = default)
    {
        if (timer.IsPastDue)
        {
            LogPastDue(logger);
        }

        var changes = await subscriptions.EnsureAsync(cancellationToken);
        var changed = changes.Count(c => c.Action != SubscriptionOutcome.Current);
        LogDone(logger, changed, changes.Count);
    }

    [LoggerMessage(EventId = 3420, Level = LogLevel.Warning, Message = "RenewSubscriptions is running late (past due)")]
    private static partial void LogPastDue(ILogger logger);

    [LoggerMessage(EventId = 3421, Level = LogLevel.Information, Message = "RenewSubscriptions changed {Changed} of {Total} subscriptions")]
    private static partial void LogDone(ILogger logger, int changed, int total);
}
