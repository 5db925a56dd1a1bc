using System.Text.Json;
using Azure.Messaging.ServiceBus;

namespace ScimFunctions.Provisioning.Notifications;

/// <summary>A work item ready to send, with the MessageId that makes redeliveries collapse in the
/// queue's duplicate detection.</summary>
/// <param name="NotBefore">Deliver no earlier than this (Service Bus scheduled enqueue): retries with
/// backoff, follow-ups collapsed into one, group items a sweep wants after the users.</param>
public sealed record QueuedWorkItem(WorkItem Item, string MessageId, DateTimeOffset? NotBefore = null);

/// <summary>Puts work items on the provisioning queue: SessionId = object id so one object's changes
/// are handled in order, a deterministic MessageId so duplicate detection drops redeliveries, and
/// as few sends as the broker's batch size allows.</summary>
public sealed class WorkQueue(ServiceBusSender sender)
{
    public const string ContentType = "application/json";

    /// <summary>Sends every item, in as few batches as possible. Throws when Service Bus refuses, so a
    /// caller never acknowledges what was not stored.</summary>
    /// <returns>The number of send calls made.</returns>
    public async Task<int> SendAsync(IReadOnlyList<QueuedWorkItem> items, CancellationToken cancellationToken = default)
    {
        if (items.Count == 0)
        {
            return 0;
        }

        var sends = 0;
        var batch = await sender.CreateMessageBatchAsync(cancellationToken);
        try
        {
            foreach (var item in items)
            {
                var message = ToMessage(item);
                if (batch.TryAddMessage(message))
                {
                    continue;
                }

                if (batch.Count == 0)
                {
                    throw new InvalidOperationException($"Work item {item.MessageId} is larger than a Service Bus message may be.");
                }

                await sender.SendMessagesAsync(batch, cancellationToken);
                sends++;
                batch.Dispose();
                batch = await sender.CreateMessageBatchAsync(cancellationToken);
                if (!batch.TryAddMessage(message))
                {
                    throw new InvalidOperationException($"Work item {item.MessageId} is larger than a Service Bus message may be.");
                }
            }

            await sender.SendMessagesAsync(batch, cancellationToken);
            return sends + 1;
        }
        finally
        {
            batch.Dispose();
        }
    }

    public static ServiceBusMessage ToMessage(QueuedWorkItem item)
    {
        var message = new ServiceBusMessage(BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(item.Item, WorkItemJsonContext.Default.WorkItem)))
        {
            MessageId = item.MessageId,
            // Lifecycle items are about a subscription; they still need a session to be received.
            SessionId = item.Item.ObjectId,
            ContentType = ContentType,
            Subject = item.Item.Kind.ToString(),
        };
        if (item.NotBefore is { } notBefore)
        {
            message.ScheduledEnqueueTime = notBefore;
        }

        return message;
    }

    /// <summary>Reads a message body back; throws <see cref="JsonException"/> naming the problem.</summary>
    public static WorkItem Parse(BinaryData body) =>
        JsonSerializer.Deserialize(body, WorkItemJsonContext.Default.WorkItem)
        ?? throw new JsonException("The message body is JSON null, not a work item.");
}
