using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Framing;

namespace ServiceBusTestDouble.Amqp;

/// <summary>A receive link on a queue (a non-session ServiceBusReceiver). The lock token is the
/// delivery tag, as the SDK reads it; a disposition on the link settles the message.</summary>
internal sealed class Consumer
{
    private readonly SendingAmqpLink link;
    private readonly QueueState queue;

    public Consumer(SendingAmqpLink link, QueueState queue)
    {
        this.link = link;
        this.queue = queue;
        // The client's receiver settles on its side (receive-and-delete) or waits for our settlement.
        PeekLock = link.Settings.SettleType != SettleMode.SettleOnSend;
        link.RegisterCreditListener((credit, _, _) => queue.Credit(this, credit));
        link.RegisterDispositionListener(OnDisposition);
        link.Closed += (_, _) => queue.RemoveConsumer(this);
        queue.AddConsumer(this);
    }

    public bool PeekLock { get; }

    /// <summary>Guarded by the queue's lock.</summary>
    public uint Credit { get; set; }

    public void Deliver(Pending pending, Guid lockToken, DateTimeOffset lockedUntil)
    {
        var stored = pending.Message;
        var message = AmqpMessage.Create(new Data { Value = new ArraySegment<byte>(stored.Body) });
        message.Header.DeliveryCount = pending.DeliveryCount;
        message.Properties.MessageId = stored.MessageId;
        message.Properties.GroupId = stored.SessionId;
        message.Properties.CorrelationId = stored.CorrelationId;
        message.Properties.ContentType = stored.ContentType;
        message.Properties.Subject = stored.Subject;
        foreach (var (key, value) in stored.ApplicationProperties)
        {
            message.ApplicationProperties.Map[key] = value;
        }

        message.MessageAnnotations.Map["x-opt-sequence-number"] = stored.SequenceNumber;
        message.MessageAnnotations.Map["x-opt-enqueued-time"] = pending.EnqueuedAt.UtcDateTime;
        if (PeekLock)
        {
            message.MessageAnnotations.Map["x-opt-locked-until"] = lockedUntil.UtcDateTime;
        }

        link.SendMessageNoWait(message, new ArraySegment<byte>(lockToken.ToByteArray()), AmqpConstants.NullBinary);
    }

    private void OnDisposition(Delivery delivery)
    {
        // Read the tag and outcome before settling: settling hands the delivery back to the library.
        var lockToken = delivery.DeliveryTag.Count == 16 ? new Guid(delivery.DeliveryTag.AsSpan()) : Guid.Empty;
        var state = delivery.State;
        // The SDK's DeadLetterMessageAsync puts the reason and description in the Rejected outcome's error info.
        var info = (state as Rejected)?.Error?.Info;
        var reason = info?[QueueState.DeadLetterReasonProperty] as string;
        var description = info?[QueueState.DeadLetterDescriptionProperty] as string;
        var settlement = state?.DescriptorCode switch
        {
            var code when code == Accepted.Code => Settlement.Complete,
            var code when code == Rejected.Code => Settlement.DeadLetter,
            _ => Settlement.Abandon,
        };
        // Record the settlement before the client hears it is done, so a test reading the double right after
        // CompleteMessageAsync returns sees it.
        queue.Settle(lockToken, settlement, reason, description);
        if (!delivery.Settled)
        {
            // Echo the outcome, except a dead-letter's Rejected: the SDK throws when the settled state
            // carries an error, so answer a plain Rejected as a successful dead-letter.
            link.DisposeDelivery(delivery, true, settlement == Settlement.DeadLetter ? new Rejected() : state);
        }
    }
}
