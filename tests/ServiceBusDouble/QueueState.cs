using ServiceBusTestDouble.Amqp;

namespace ServiceBusTestDouble;

/// <summary>One queue: the log of everything stored (what tests read back), the messages still to
/// deliver, and those locked by a peek-lock receiver until it settles them. Scheduled messages go to the
/// log only: the double does not keep time, so it never releases them. A queue's dead-letter sub-queue
/// (<c>&lt;queue&gt;/$deadletterqueue</c>) is a QueueState too, fed only by dead-lettering.</summary>
internal sealed class QueueState(string name, TimeProvider time, TimeSpan lockDuration, QueueState? deadLetterQueue = null)
{
    /// <summary>The application properties Service Bus stamps on a dead-lettered message (what
    /// <c>ServiceBusReceivedMessage.DeadLetterReason</c> / <c>DeadLetterErrorDescription</c> read).</summary>
    public const string DeadLetterReasonProperty = "DeadLetterReason";
    public const string DeadLetterDescriptionProperty = "DeadLetterErrorDescription";

    private readonly object gate = new();
    private readonly List<ServiceBusDoubleMessage> log = [];
    private readonly LinkedList<Pending> available = new();
    private readonly Dictionary<Guid, (Pending Message, Consumer Owner)> locked = [];
    private readonly List<ServiceBusDoubleMessage> completed = [];
    private readonly List<ServiceBusDoubleMessage> deadLettered = [];
    private readonly List<Consumer> consumers = [];

    public string Name => name;

    public long[] Store(IReadOnlyList<MessageDecoder.Decoded> decoded, bool viaSchedule)
    {
        long[] sequenceNumbers;
        lock (gate)
        {
            sequenceNumbers = new long[decoded.Count];
            for (var i = 0; i < decoded.Count; i++)
            {
                var d = decoded[i];
                var message = new ServiceBusDoubleMessage(
                    name, log.Count + 1, d.MessageId, d.SessionId, d.CorrelationId, d.ContentType, d.Subject,
                    d.Body, d.ApplicationProperties, d.ScheduledEnqueueTime, viaSchedule);
                log.Add(message);
                sequenceNumbers[i] = message.SequenceNumber;
                if (!viaSchedule && d.ScheduledEnqueueTime is null)
                {
                    available.AddLast(new Pending(message, time.GetUtcNow(), 0));
                }
            }
        }

        Pump();
        return sequenceNumbers;
    }

    public IReadOnlyList<ServiceBusDoubleMessage> Log() => Snapshot(log);

    public IReadOnlyList<ServiceBusDoubleMessage> Completed() => Snapshot(completed);

    public IReadOnlyList<ServiceBusDoubleMessage> DeadLettered() => Snapshot(deadLettered);

    /// <summary>Messages not yet completed or dead-lettered: waiting, or locked by a receiver.</summary>
    public int Outstanding()
    {
        lock (gate)
        {
            return available.Count + locked.Count;
        }
    }

    public void AddConsumer(Consumer consumer)
    {
        lock (gate)
        {
            consumers.Add(consumer);
        }
    }

    public void RemoveConsumer(Consumer consumer)
    {
        lock (gate)
        {
            consumers.Remove(consumer);
            // Locks die with the link, as in Service Bus: the messages become available again.
            foreach (var (token, entry) in locked.Where(l => l.Value.Owner == consumer).ToList())
            {
                locked.Remove(token);
                available.AddFirst(entry.Message with { DeliveryCount = entry.Message.DeliveryCount + 1 });
            }
        }

        Pump();
    }

    public void Credit(Consumer consumer, uint credit)
    {
        lock (gate)
        {
            consumer.Credit += credit;
        }

        Pump();
    }

    /// <summary>A peek-lock receiver's disposition: Accepted = complete, Rejected = dead-letter,
    /// Released/Modified = abandon (back to the front, delivery count + 1). Unknown tokens are ignored
    /// (the lock was already given up).</summary>
    public void Settle(Guid lockToken, Settlement settlement, string? deadLetterReason = null, string? deadLetterDescription = null)
    {
        lock (gate)
        {
            if (!locked.Remove(lockToken, out var entry))
            {
                return;
            }

            switch (settlement)
            {
                case Settlement.Complete:
                    completed.Add(entry.Message.Message);
                    break;
                case Settlement.DeadLetter:
                    deadLettered.Add(entry.Message.Message);
                    deadLetterQueue?.Receive(entry.Message, deadLetterReason, deadLetterDescription);
                    break;
                default:
                    available.AddFirst(entry.Message with { DeliveryCount = entry.Message.DeliveryCount + 1 });
                    break;
            }
        }

        Pump();
    }

    /// <summary>A message another queue dead-lettered: same id, session, body and sequence number, the
    /// reason and description added as application properties, delivery count kept, as Service Bus does.</summary>
    private void Receive(Pending source, string? reason, string? description)
    {
        var properties = new Dictionary<string, object?>(source.Message.ApplicationProperties, StringComparer.Ordinal);
        if (reason is not null)
        {
            properties[DeadLetterReasonProperty] = reason;
        }

        if (description is not null)
        {
            properties[DeadLetterDescriptionProperty] = description;
        }

        lock (gate)
        {
            var message = source.Message with { Queue = name, ApplicationProperties = properties };
            log.Add(message);
            available.AddLast(source with { Message = message });
        }

        Pump();
    }

    /// <summary>Hands waiting messages to receivers that have credit, oldest first.</summary>
    private void Pump()
    {
        var sends = new List<(Consumer Consumer, Pending Message, Guid LockToken, DateTimeOffset LockedUntil)>();
        lock (gate)
        {
            while (available.First is { } first && consumers.FirstOrDefault(c => c.Credit > 0) is { } consumer)
            {
                available.RemoveFirst();
                consumer.Credit--;
                var lockToken = Guid.NewGuid();
                var lockedUntil = time.GetUtcNow() + lockDuration;
                if (consumer.PeekLock)
                {
                    locked[lockToken] = (first.Value, consumer);
                }
                else
                {
                    completed.Add(first.Value.Message);
                }

                sends.Add((consumer, first.Value, lockToken, lockedUntil));
            }
        }

        foreach (var (consumer, message, lockToken, lockedUntil) in sends)
        {
            consumer.Deliver(message, lockToken, lockedUntil);
        }
    }

    private List<ServiceBusDoubleMessage> Snapshot(List<ServiceBusDoubleMessage> list)
    {
        lock (gate)
        {
            return [.. list];
        }
    }
}

/// <summary>A stored message waiting for (or locked by) a receiver.</summary>
internal sealed record Pending(ServiceBusDoubleMessage Message, DateTimeOffset EnqueuedAt, uint DeliveryCount);

internal enum Settlement
{
    Complete,
    DeadLetter,
    Abandon,
}
