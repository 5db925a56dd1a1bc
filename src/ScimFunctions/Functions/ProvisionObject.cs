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
/// mapping row. Sessions (SessionId = object id) keep one object's items in order. What to retry, when and under
/// which MessageId is <see cref="WorkItemRetryPolicy"/>'s decision; this function sends and settles.</summary>
public sealed partial class ProvisionObject(
    WorkItemProcessor processor,
    WorkItemRetryPolicy retries,
    WorkQueue queue,
    DeltaSweeper sweeper,
    ILogger<ProvisionObject> logger)
{
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

        var attempt = WorkItemRetryPolicy.AttemptOf(message);
        var result = await processor.ProcessWorkItemAsync(item, redelivered: WorkItemRetryPolicy.IsRedelivered(message), cancellationToken);
        switch (result.Status)
        {
            case WorkItemStatus.Done:
                try
                {
                    await queue.SendAsync(retries.FollowUps(result.FollowUps, message.MessageId), cancellationToken);
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

            case WorkItemStatus.Transient when retries.IsExhausted(attempt):
                var description = retries.ExhaustedDescription(result.Reason, result.Description);
                try
                {
                    await processor.RecordFailureAsync(item, $"{FailureReasons.RetriesExhausted}: {description}", cancellationToken);
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
                var retry = retries.Retry(item, message.MessageId, attempt);
                try
                {
                    await queue.SendAsync([retry], cancellationToken);
                }
                catch (Exception ex) when (ex is ServiceBusException or TimeoutException or InvalidOperationException)
                {
                    LogRescheduleFailed(logger, ex, item.Kind.ToString(), item.ObjectId);
                    await messageActions.AbandonMessageAsync(message, cancellationToken: cancellationToken);
                    return;
                }

                LogRescheduled(logger, item.Kind.ToString(), item.ObjectId, result.Reason ?? "", attempt + 1, retries.Backoff(attempt).TotalSeconds);
                await messageActions.CompleteMessageAsync(message, cancellationToken);
                return;

            default:
                await messageActions.DeadLetterMessageAsync(message, null, result.Reason ?? FailureReasons.Permanent, Shorten(result.Description ?? "Permanent failure."), cancellationToken);
                return;
        }
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
