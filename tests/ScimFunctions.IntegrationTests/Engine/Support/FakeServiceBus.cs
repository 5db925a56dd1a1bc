using Azure.Messaging.ServiceBus;
using Microsoft.Azure.Functions.Worker;

namespace ScimFunctions.IntegrationTests.Engine.Support;

/// <summary>A queue in memory behind the SDK's own sender type: duplicate detection by MessageId, scheduled
/// messages, deliveries counted, dead-letters kept. Batches are built with ServiceBusModelFactory.</summary>
public sealed class FakeQueue
{
    private readonly Lock gate = new();
    private readonly List<Entry> pending = [];
    private readonly HashSet<string> seenIds = new(StringComparer.Ordinal);

    public List<ServiceBusMessage> Sent { get; } = [];

    public List<(ServiceBusReceivedMessage Message, string? Reason, string? Description)> DeadLettered { get; } = [];

    public int Completed { get; private set; }

    public int Abandoned { get; private set; }

    public int DuplicatesDropped { get; private set; }

    public Func<Exception>? FailSends { get; set; }

    public CapturingSender Sender => new(this);

    public int PendingCount
    {
        get
        {
            lock (gate)
            {
                return pending.Count;
            }
        }
    }

    public void Enqueue(ServiceBusMessage message)
    {
        lock (gate)
        {
            Sent.Add(message);
            if (message.MessageId is not null && !seenIds.Add(message.MessageId))
            {
                DuplicatesDropped++;
                return;
            }

            pending.Add(new Entry(message, 1));
        }
    }

    /// <summary>Puts a copy of a message that was already sent back in the queue as if Service Bus redelivered it (no dedup).</summary>
    public void Redeliver(ServiceBusMessage message)
    {
        lock (gate)
        {
            pending.Add(new Entry(message, 2));
        }
    }

    /// <summary>The first pending message of one session (the benchmark delivers a change's own item first).</summary>
    internal Entry? TakeSession(string sessionId)
    {
        lock (gate)
        {
            var index = pending.FindIndex(e => e.Message.SessionId == sessionId);
            if (index < 0)
            {
                return null;
            }

            var entry = pending[index];
            pending.RemoveAt(index);
            return entry;
        }
    }

    internal Entry? Take()
    {
        lock (gate)
        {
            if (pending.Count == 0)
            {
                return null;
            }

            var entry = pending[0];
            pending.RemoveAt(0);
            return entry;
        }
    }

    internal void Settle(Entry entry, RecordingMessageActions actions)
    {
        lock (gate)
        {
            switch (actions.Settlement)
            {
                case "complete":
                    Completed++;
                    break;
                case "deadletter":
                    DeadLettered.Add((actions.Message!, actions.DeadLetterReason, actions.DeadLetterDescription));
                    break;
                default:
                    // Abandoned, or the function threw without settling: the lock expires and it comes back.
                    Abandoned++;
                    pending.Add(entry with { DeliveryCount = entry.DeliveryCount + 1 });
                    break;
            }
        }
    }

    internal sealed record Entry(ServiceBusMessage Message, int DeliveryCount);
}

public sealed class CapturingSender(FakeQueue queue) : InMemorySender
{
    protected override Task SendAsync(IReadOnlyList<ServiceBusMessage> messages)
    {
        if (queue.FailSends is { } fail)
        {
            throw fail();
        }

        foreach (var message in messages)
        {
            queue.Enqueue(message);
        }

        return Task.CompletedTask;
    }
}

/// <summary>The settlement surface, recording what the function decided.</summary>
public sealed class RecordingMessageActions : ServiceBusMessageActions
{
    public string? Settlement { get; private set; }

    public ServiceBusReceivedMessage? Message { get; private set; }

    public string? DeadLetterReason { get; private set; }

    public string? DeadLetterDescription { get; private set; }

    public override Task CompleteMessageAsync(ServiceBusReceivedMessage message, CancellationToken cancellationToken = default) => Record("complete", message);

    public override Task AbandonMessageAsync(ServiceBusReceivedMessage message, IDictionary<string, object>? propertiesToModify = default, CancellationToken cancellationToken = default) => Record("abandon", message);

    public override Task DeadLetterMessageAsync(ServiceBusReceivedMessage message, Dictionary<string, object>? propertiesToModify = default, string? deadLetterReason = default, string? deadLetterErrorDescription = default, CancellationToken cancellationToken = default)
    {
        DeadLetterReason = deadLetterReason;
        DeadLetterDescription = deadLetterErrorDescription;
        return Record("deadletter", message);
    }

    public override Task DeferMessageAsync(ServiceBusReceivedMessage message, IDictionary<string, object>? propertiesToModify = default, CancellationToken cancellationToken = default) => Record("defer", message);

    public override Task RenewMessageLockAsync(ServiceBusReceivedMessage message, CancellationToken cancellationToken = default) => Task.CompletedTask;

    private Task Record(string settlement, ServiceBusReceivedMessage message)
    {
        // A message is settled at most once (an exception, not an xunit assertion: the benchmark links this file too).
        if (Settlement is not null)
        {
            throw new InvalidOperationException($"Message {message.MessageId} was settled twice: {Settlement}, then {settlement}.");
        }

        Settlement = settlement;
        Message = message;
        return Task.CompletedTask;
    }
}
