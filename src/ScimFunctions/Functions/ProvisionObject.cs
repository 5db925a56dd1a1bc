using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure.Messaging.ServiceBus;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using ScimFunctions.Provisioning.Notifications;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.Functions;

/// <summary>Converges the one object a work item names, then settles the message explicitly: complete only
/// after the effect (SCIM write and mapping row, follow-ups queued) is stored; a transient failure is
/// rescheduled with backoff as a new message (then the original completed) or, if that cannot be sent,
/// abandoned; a permanent failure is dead-lettered with a reason and description, its error already on the
/// mapping row. Sessions (SessionId = object id) keep one object's items in order.</summary>
public sealed partial class ProvisionObject(
    SyncRunner engine,
    WorkQueue queue,
    DeltaSweeper sweeper,
    SyncOptions options,
    TimeProvider timeProvider,
    ILogger<ProvisionObject> logger)
{
    /// <summary>Suffix of a rescheduled copy's MessageId: <c>{original}#r{attempt}</c>.</summary>
    public const string RetrySuffix = "#r";

    private static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(15);

    [Function(nameof(ProvisionObject))]
    public async Task RunAsync(
        [ServiceBusTrigger("%ProvisioningQueueName%", Connection = "ServiceBusConnection", IsSessionsEnabled = true, AutoCompleteMessages = false)] ServiceBusReceivedMessage message,
        ServiceBusMessageActions messageActions,
        CancellationToken cancellationToken = default)
    {
        WorkItem item;
        try
        {
            item = WorkQueue.Parse(message.Body);
            if (!GraphNotificationParser.IsSafeId(item.ObjectId))
            {
                throw new JsonException("The work item's objectId is empty or holds characters an object id cannot have.");
            }
        }
        catch (JsonException ex)
        {
            LogMalformed(logger, ex, message.MessageId);
            await messageActions.DeadLetterMessageAsync(message, null, FailureReasons.MalformedBody, Shorten(ex.Message), cancellationToken);
            return;
        }

        var attempt = AttemptOf(message);
        var result = await engine.ProcessWorkItemAsync(item, redelivered: attempt > 0 || message.DeliveryCount > 1, cancellationToken);
        switch (result.Status)
        {
            case WorkItemStatus.Done:
                try
                {
                    await queue.SendAsync(FollowUps(result.FollowUps, message.MessageId), cancellationToken);
                    if (result.SweepRequested)
                    {
                        await sweeper.SweepAsync(cancellationToken);
                    }
                }
                catch (Exception ex) when (ex is ServiceBusException or TimeoutException or InvalidOperationException or ProvisioningException or Azure.RequestFailedException or Provisioning.Directory.DirectoryUnavailableException)
                {
                    // The redelivery converges again (a no-op) and recomputes the follow-ups.
                    LogFollowUpFailed(logger, ex, item.Kind.ToString(), item.ObjectId);
                    await messageActions.AbandonMessageAsync(message, cancellationToken: cancellationToken);
                    return;
                }

                await messageActions.CompleteMessageAsync(message, cancellationToken);
                return;

            case WorkItemStatus.Transient when attempt + 1 >= options.MaxAttempts:
                var description = $"{options.MaxAttempts} attempts failed; last: {result.Reason}: {result.Description}";
                try
                {
                    await engine.RecordFailureAsync(item, $"{FailureReasons.RetriesExhausted}: {description}", cancellationToken);
                }
                catch (Azure.RequestFailedException ex)
                {
                    // Table Storage is what failed (often the very reason for the retries): dead-letter anyway, the
                    // dead-letter carries the reason; an unsettled message would only loop until the broker gives up.
                    LogRecordFailed(logger, ex, item.Kind.ToString(), item.ObjectId);
                }

                await messageActions.DeadLetterMessageAsync(message, null, FailureReasons.RetriesExhausted, Shorten(description), cancellationToken);
                return;

            case WorkItemStatus.Transient:
                var delay = Backoff(attempt);
                try
                {
                    var retry = new QueuedWorkItem(item, RetryMessageId(message.MessageId, attempt + 1), timeProvider.GetUtcNow().Add(delay));
                    await queue.SendAsync([retry], cancellationToken);
                }
                catch (Exception ex) when (ex is ServiceBusException or TimeoutException or InvalidOperationException)
                {
                    LogRescheduleFailed(logger, ex, item.Kind.ToString(), item.ObjectId);
                    await messageActions.AbandonMessageAsync(message, cancellationToken: cancellationToken);
                    return;
                }

                LogRescheduled(logger, item.Kind.ToString(), item.ObjectId, result.Reason ?? "", attempt + 1, delay.TotalSeconds);
                await messageActions.CompleteMessageAsync(message, cancellationToken);
                return;

            default:
                await messageActions.DeadLetterMessageAsync(message, null, result.Reason ?? FailureReasons.Permanent, Shorten(result.Description ?? "Permanent failure."), cancellationToken);
                return;
        }
    }

    /// <summary>How many times this item was already retried: the rescheduled copies count, and so do broker redeliveries.</summary>
    public static int AttemptOf(ServiceBusReceivedMessage message)
    {
        var copies = 0;
        var id = message.MessageId ?? "";
        var at = id.LastIndexOf(RetrySuffix, StringComparison.Ordinal);
        if (at >= 0 && int.TryParse(id.AsSpan(at + RetrySuffix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            copies = n;
        }

        return copies + Math.Max(0, message.DeliveryCount - 1);
    }

    public static string RetryMessageId(string messageId, int attempt)
    {
        var at = messageId.LastIndexOf(RetrySuffix, StringComparison.Ordinal);
        var baseId = at >= 0 ? messageId[..at] : messageId;
        return $"{baseId}{RetrySuffix}{attempt.ToString(CultureInfo.InvariantCulture)}";
    }

    private TimeSpan Backoff(int attempt)
    {
        var seconds = options.RetryBaseDelaySeconds * Math.Pow(2, Math.Min(attempt, 16));
        return TimeSpan.FromSeconds(Math.Min(seconds, MaxBackoff.TotalSeconds));
    }

    /// <summary>Follow-ups for the same object within one delay window share a MessageId, so a burst (many
    /// members of one group provisioned at once) collapses into one delivery at the end of the window.</summary>
    private List<QueuedWorkItem> FollowUps(IReadOnlyList<FollowUp> followUps, string triggeringMessageId)
    {
        if (followUps.Count == 0)
        {
            return [];
        }

        var now = timeProvider.GetUtcNow();
        var window = Math.Max(1, options.FollowUpDelaySeconds);
        var bucket = now.ToUnixTimeSeconds() / window;
        var notBefore = options.FollowUpDelaySeconds == 0 ? (DateTimeOffset?)null : DateTimeOffset.FromUnixTimeSeconds((bucket + 1) * window);
        var trigger = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(triggeringMessageId)).AsSpan(0, 4));
        return followUps
            .DistinctBy(f => (f.Kind, f.ObjectId))
            .Select(f => new QueuedWorkItem(
                new WorkItem(f.Kind, f.ObjectId, WorkItemChangeTypes.Updated, null, null, now, WorkItemSources.FollowUp),
                options.FollowUpDelaySeconds == 0 ? $"f:{f.ObjectId}:{trigger}" : $"f:{f.ObjectId}:{bucket.ToString(CultureInfo.InvariantCulture)}",
                notBefore))
            .ToList();
    }

    private static string Shorten(string text) => text.Length <= 1000 ? text : text[..1000];

    [LoggerMessage(EventId = 3300, Level = LogLevel.Error, Message = "Dead-lettered malformed work item message {MessageId}")]
    private static partial void LogMalformed(ILogger logger, Exception exception, string messageId);

    [LoggerMessage(EventId = 3301, Level = LogLevel.Warning, Message = "Rescheduled {ObjectKind} {ObjectId} after {Reason}: attempt {Attempt} in {DelaySeconds} s")]
    private static partial void LogRescheduled(ILogger logger, string objectKind, string objectId, string reason, int attempt, double delaySeconds);

    [LoggerMessage(EventId = 3302, Level = LogLevel.Warning, Message = "Could not reschedule {ObjectKind} {ObjectId}; abandoned for redelivery")]
    private static partial void LogRescheduleFailed(ILogger logger, Exception exception, string objectKind, string objectId);

    [LoggerMessage(EventId = 3304, Level = LogLevel.Warning, Message = "Could not store the final error of {ObjectKind} {ObjectId} on its row; dead-lettering anyway")]
    private static partial void LogRecordFailed(ILogger logger, Exception exception, string objectKind, string objectId);

    [LoggerMessage(EventId = 3303, Level = LogLevel.Warning, Message = "Converged {ObjectKind} {ObjectId} but could not queue its follow-ups; abandoned for redelivery")]
    private static partial void LogFollowUpFailed(ILogger logger, Exception exception, string objectKind, string objectId);
}
