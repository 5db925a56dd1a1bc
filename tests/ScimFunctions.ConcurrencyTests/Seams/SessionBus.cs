using Azure.Messaging.ServiceBus;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Time.Testing;

namespace ScimFunctions.ConcurrencyTests.Seams;

/// <summary>A session-enabled Service Bus queue in memory, with the semantics the engine relies on: one
/// receiver holds a session at a time and gets its messages in order, one at a time; complete removes the
/// message; abandon, and a lock that expires because the receiver crashed, make it visible again with
/// DeliveryCount + 1; past <see cref="MaxDeliveryCount"/> it is dead-lettered (MaxDeliveryCountExceeded);
/// a scheduled message is invisible until its time; a MessageId seen within the duplicate-detection
/// window is accepted and dropped; dead-letters keep their reason and description.</summary>
public sealed class SessionBus(FakeTimeProvider time, Func<string, ValueTask> yield)
{
    public const int MaxDeliveryCount = 10;

    private readonly Lock _gate = new();
    private readonly List<Entry> _messages = [];
    private readonly Dictionary<string, DateTimeOffset> _seenIds = new(StringComparer.Ordinal);
    private readonly HashSet<string> _lockedSessions = new(StringComparer.Ordinal);
    private long _sequence;

    public TimeSpan DuplicateWindow { get; set; } = TimeSpan.FromHours(4);

    public List<DeadLetter> DeadLetters { get; } = [];

    public int SentCount { get; private set; }

    /// <summary>Runs after messages were accepted (the scheduler wakes idle receivers).</summary>
    public Action? Sent { get; init; }

    public int DuplicatesDropped { get; private set; }

    public int Completed { get; private set; }

    public int Redelivered { get; private set; }

    /// <summary>Throw to fail a send (Service Bus unavailable).</summary>
    public Func<IReadOnlyList<ServiceBusMessage>, Exception?>? FailSend { get; set; }

    public ServiceBusSender CreateSender() => new Sender(this);

    /// <summary>Nothing left: no message waiting, scheduled or locked.</summary>
    public bool IsEmpty
    {
        get
        {
            lock (_gate)
            {
                return _messages.Count == 0;
            }
        }
    }

    public IReadOnlyList<ServiceBusMessage> Pending()
    {
        lock (_gate)
        {
            return _messages.Select(m => m.Message).ToList();
        }
    }

    /// <summary>The earliest time a scheduled message becomes visible, when nothing is visible now.</summary>
    public DateTimeOffset? NextScheduled()
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            if (_messages.Any(m => m.VisibleAt <= now))
            {
                return null;
            }

            return _messages.Count == 0 ? null : _messages.Min(m => m.VisibleAt);
        }
    }

    internal void Enqueue(IReadOnlyList<ServiceBusMessage> messages)
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            foreach (var message in messages)
            {
                SentCount++;
                if (message.MessageId is { } id)
                {
                    if (_seenIds.TryGetValue(id, out var first) && now - first < DuplicateWindow)
                    {
                        DuplicatesDropped++;
                        continue;
                    }

                    _seenIds[id] = now;
                }

                if (string.IsNullOrEmpty(message.SessionId))
                {
                    throw new InvalidOperationException("A session-enabled queue refuses a message without SessionId.");
                }

                var visible = message.ScheduledEnqueueTime > now ? message.ScheduledEnqueueTime : now;
                _messages.Add(new Entry(message, ++_sequence, visible));
            }
        }

        Sent?.Invoke();
    }

    /// <summary>Locks a session that has a visible message and no receiver; null when there is none. Which one
    /// is the caller's (the scheduler's) choice.</summary>
    public async Task<string?> AcceptSessionAsync(Random random)
    {
        await yield("bus accept session");
        lock (_gate)
        {
            var now = time.GetUtcNow();
            var candidates = _messages.Where(m => m.VisibleAt <= now && !_lockedSessions.Contains(m.Message.SessionId)).Select(m => m.Message.SessionId).Distinct().ToList();
            if (candidates.Count == 0)
            {
                return null;
            }

            var session = candidates[random.Next(candidates.Count)];
            _lockedSessions.Add(session);
            return session;
        }
    }

    public void ReleaseSession(string session)
    {
        lock (_gate)
        {
            _lockedSessions.Remove(session);
        }
    }

    /// <summary>The session's next message (in order), locked to the caller; null when none is visible.</summary>
    public async Task<Delivery?> ReceiveAsync(string session)
    {
        await yield("bus receive " + session);
        lock (_gate)
        {
            var now = time.GetUtcNow();
            // The Functions host handles a session's messages one at a time (maxConcurrentCallsPerSession 1).
            if (_messages.Any(m => m.Message.SessionId == session && m.Locked))
            {
                return null;
            }

            // Service Bus orders a session by enqueue; a scheduled message is enqueued when its time comes.
            var entry = _messages.Where(m => m.Message.SessionId == session && !m.Locked && m.VisibleAt <= now).OrderBy(m => m.VisibleAt).ThenBy(m => m.Sequence).FirstOrDefault();
            if (entry is null)
            {
                return null;
            }

            entry.Locked = true;
            entry.DeliveryCount++;
            var m = entry.Message;
            var received = ServiceBusModelFactory.ServiceBusReceivedMessage(
                body: m.Body, messageId: m.MessageId, sessionId: m.SessionId, subject: m.Subject, contentType: m.ContentType,
                scheduledEnqueueTime: m.ScheduledEnqueueTime, deliveryCount: entry.DeliveryCount, sequenceNumber: entry.Sequence, enqueuedTime: entry.VisibleAt);
            return new Delivery(this, entry, received);
        }
    }

    internal void Settle(Entry entry, string settlement, string? reason = null, string? description = null)
    {
        lock (_gate)
        {
            switch (settlement)
            {
                case "complete":
                    _messages.Remove(entry);
                    Completed++;
                    break;
                case "deadletter":
                    _messages.Remove(entry);
                    DeadLetters.Add(new DeadLetter(entry.Message, reason, description));
                    break;
                default:
                    // Abandoned, or the lock expired under a crashed receiver.
                    entry.Locked = false;
                    Redelivered++;
                    if (entry.DeliveryCount >= MaxDeliveryCount)
                    {
                        _messages.Remove(entry);
                        DeadLetters.Add(new DeadLetter(entry.Message, "MaxDeliveryCountExceeded", $"Delivered {entry.DeliveryCount} times without being settled."));
                    }

                    break;
            }
        }
    }

    public sealed record DeadLetter(ServiceBusMessage Message, string? Reason, string? Description);

    internal sealed class Entry(ServiceBusMessage message, long sequence, DateTimeOffset visibleAt)
    {
        public ServiceBusMessage Message { get; } = message;

        public long Sequence { get; } = sequence;

        public DateTimeOffset VisibleAt { get; } = visibleAt;

        public bool Locked { get; set; }

        public int DeliveryCount { get; set; }
    }

    /// <summary>One delivery: the message as the function sees it and its settlement surface.</summary>
    public sealed class Delivery : ServiceBusMessageActions
    {
        private readonly SessionBus _bus;
        private readonly Entry _entry;

        internal Delivery(SessionBus bus, Entry entry, ServiceBusReceivedMessage message)
        {
            _bus = bus;
            _entry = entry;
            Message = message;
        }

        public ServiceBusReceivedMessage Message { get; }

        public string? Settlement { get; private set; }

        /// <summary>The receiver died before settling: the lock expires and the message comes back.</summary>
        public void LockExpired()
        {
            if (Settlement is null)
            {
                Settlement = "expired";
                _bus.Settle(_entry, "expired");
            }
        }

        public override async Task CompleteMessageAsync(ServiceBusReceivedMessage message, CancellationToken cancellationToken = default) => await SettleAsync("complete");

        public override async Task AbandonMessageAsync(ServiceBusReceivedMessage message, IDictionary<string, object>? propertiesToModify = default, CancellationToken cancellationToken = default) => await SettleAsync("abandon");

        public override async Task DeadLetterMessageAsync(ServiceBusReceivedMessage message, Dictionary<string, object>? propertiesToModify = default, string? deadLetterReason = default, string? deadLetterErrorDescription = default, CancellationToken cancellationToken = default)
        {
            if (string.IsNullOrWhiteSpace(deadLetterReason))
            {
                throw new InvalidOperationException("A dead-letter without a reason loses why the item was given up.");
            }

            await SettleAsync("deadletter", deadLetterReason, deadLetterErrorDescription);
        }

        public override Task DeferMessageAsync(ServiceBusReceivedMessage message, IDictionary<string, object>? propertiesToModify = default, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("The engine never defers.");

        public override Task RenewMessageLockAsync(ServiceBusReceivedMessage message, CancellationToken cancellationToken = default) => Task.CompletedTask;

        private async Task SettleAsync(string settlement, string? reason = null, string? description = null)
        {
            if (Settlement is not null)
            {
                throw new InvalidOperationException($"The message was already settled ({Settlement}); Service Bus refuses a second settlement.");
            }

            await _bus.YieldSettleAsync(settlement);
            Settlement = settlement;
            _bus.Settle(_entry, settlement, reason, description);
        }
    }

    private ValueTask YieldSettleAsync(string settlement) => yield("bus " + settlement);

    private sealed class Sender(SessionBus bus) : ScimFunctions.IntegrationTests.Engine.Support.InMemorySender
    {
        protected override async Task SendAsync(IReadOnlyList<ServiceBusMessage> messages)
        {
            await bus.YieldSettleAsync("send");
            if (bus.FailSend?.Invoke(messages) is { } failure)
            {
                throw failure;
            }

            bus.Enqueue(messages);
        }
    }
}
