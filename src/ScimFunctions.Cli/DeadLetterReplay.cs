using System.Text.Json;
using Azure.Identity;
using Azure.Messaging.ServiceBus;
using ScimFunctions.Provisioning.Notifications;

namespace ScimFunctions.Cli;

/// <summary>One dead-lettered message as <c>scimfn replay</c> lists it.</summary>
/// <param name="ObjectKind">User, Group or Lifecycle; null when the body is not a work item.</param>
/// <param name="ObjectId">The Entra object id (the subscription id for lifecycle items); null when unreadable.</param>
/// <param name="Reason">The dead-letter reason the function gave (FailureReasons), or Service Bus's own.</param>
/// <param name="EnqueuedAt">When the message was first queued.</param>
/// <param name="ReplayedAs">The new message's MessageId once replayed; null in a dry run or when not replayed.</param>
internal sealed record DeadLetter(
    long SequenceNumber,
    string MessageId,
    string? ObjectKind,
    string? ObjectId,
    string? Reason,
    string? Description,
    DateTimeOffset EnqueuedAt,
    string? ReplayedAs = null);

/// <summary>What to replay: every given filter must match (reason case-insensitively, object id exactly).</summary>
internal sealed record ReplayFilter(string? Reason, string? ObjectId)
{
    public bool Matches(DeadLetter letter) =>
        (Reason is null || string.Equals(letter.Reason, Reason, StringComparison.OrdinalIgnoreCase))
        && (ObjectId is null || string.Equals(letter.ObjectId, ObjectId, StringComparison.OrdinalIgnoreCase));
}

/// <param name="Matched">The dead letters the filter selected, with <see cref="DeadLetter.ReplayedAs"/> set for
/// those put back on the queue.</param>
/// <param name="Unreadable">Matched letters whose body is not a work item: never replayed (they would only be
/// dead-lettered again); an operator has to look at them.</param>
/// <param name="Examined">Dead letters read, matching or not.</param>
/// <param name="MoreLeft">The run stopped at <see cref="DeadLetterReplayer.MaxPerRun"/>: run again for the rest.</param>
internal sealed record ReplayResult(IReadOnlyList<DeadLetter> Matched, int Unreadable, int Examined, bool MoreLeft);

/// <summary>Moves dead-lettered work items back onto the provisioning queue. Each replayed item is a NEW message
/// with a new MessageId (the queue's duplicate detection would drop one that reused the old id within its window),
/// sent before the dead letter is completed, so a failure in between can duplicate an item but never lose one —
/// harmless, since work items are level-triggered.</summary>
internal sealed class DeadLetterReplayer(ServiceBusClient client, string queue, TimeProvider time)
{
    /// <summary>Dead letters read per run. Everything read stays locked until the run ends (that is how a
    /// receiver walks a queue without peek), and a lock lasts the queue's LockDuration (1 minute by default in
    /// main.bicep's queue): a bound keeps a run well inside it.</summary>
    public const int MaxPerRun = 500;

    private const int ReceiveBatch = 100;

    /// <summary>How long an empty receive waits before the sub-queue counts as read to the end.</summary>
    public TimeSpan EmptyWait { get; init; } = TimeSpan.FromSeconds(2);

    public async Task<ReplayResult> ReplayAsync(ReplayFilter filter, bool dryRun, CancellationToken cancellationToken = default)
    {
        await using var receiver = client.CreateReceiver(queue, new ServiceBusReceiverOptions
        {
            SubQueue = SubQueue.DeadLetter,
            ReceiveMode = ServiceBusReceiveMode.PeekLock,
            PrefetchCount = 0,
        });
        await using var sender = client.CreateSender(queue);
        var held = new List<ServiceBusReceivedMessage>();
        var matched = new List<DeadLetter>();
        var unreadable = 0;
        var examined = 0;
        var moreLeft = false;
        try
        {
            while (true)
            {
                var room = MaxPerRun - examined;
                if (room <= 0)
                {
                    moreLeft = true;
                    break;
                }

                var batch = await receiver.ReceiveMessagesAsync(Math.Min(ReceiveBatch, room), EmptyWait, cancellationToken);
                if (batch.Count == 0)
                {
                    break;
                }

                examined += batch.Count;
                var toSend = new List<(ServiceBusReceivedMessage Original, DeadLetter Letter, ServiceBusMessage Replay)>();
                foreach (var message in batch)
                {
                    var (letter, item) = Read(message);
                    if (!filter.Matches(letter))
                    {
                        held.Add(message);
                        continue;
                    }

                    if (item is null)
                    {
                        unreadable++;
                        matched.Add(letter);
                        held.Add(message);
                        continue;
                    }

                    if (dryRun)
                    {
                        matched.Add(letter);
                        held.Add(message);
                        continue;
                    }

                    var replay = Replay(item);
                    toSend.Add((message, letter with { ReplayedAs = replay.MessageId }, replay));
                }

                if (toSend.Count > 0)
                {
                    await SendAsync(sender, toSend.Select(s => s.Replay).ToList(), cancellationToken);
                    foreach (var (original, letter, _) in toSend)
                    {
                        await receiver.CompleteMessageAsync(original, cancellationToken);
                        matched.Add(letter);
                    }
                }
            }
        }
        finally
        {
            // Give back what stays dead-lettered now, rather than leaving it locked until the locks expire.
            foreach (var message in held)
            {
                await receiver.AbandonMessageAsync(message, cancellationToken: CancellationToken.None);
            }
        }

        return new ReplayResult(matched, unreadable, examined, moreLeft);
    }

    /// <summary>The client for <c>--service-bus</c> / <c>ServiceBusConnection</c>: a connection string
    /// (<c>Endpoint=sb://…</c>), or a namespace host signed in with DefaultAzureCredential, as the app does with
    /// <c>ServiceBusConnection__fullyQualifiedNamespace</c>.</summary>
    public static ServiceBusClient CreateClient(string connection)
    {
        var options = new ServiceBusClientOptions
        {
            // An operator waits at the terminal: fail in seconds with the reason, not after minutes of retries.
            RetryOptions = new ServiceBusRetryOptions { MaxRetries = 2, TryTimeout = TimeSpan.FromSeconds(20) },
        };
        return connection.Contains("Endpoint=", StringComparison.OrdinalIgnoreCase)
            ? new ServiceBusClient(connection, options)
            : new ServiceBusClient(connection, new DefaultAzureCredential(), options);
    }

    private static (DeadLetter Letter, WorkItem? Item) Read(ServiceBusReceivedMessage message)
    {
        WorkItem? item = null;
        try
        {
            item = JsonSerializer.Deserialize(message.Body.ToMemory().Span, WorkItemJsonContext.Default.WorkItem);
        }
        catch (JsonException)
        {
            // Reason MalformedBody: listed for the operator, not replayed.
        }

        if (item is null || string.IsNullOrWhiteSpace(item.ObjectId))
        {
            item = null;
        }

        var letter = new DeadLetter(
            message.SequenceNumber,
            message.MessageId,
            item?.Kind.ToString(),
            item?.ObjectId,
            message.DeadLetterReason,
            message.DeadLetterErrorDescription,
            message.EnqueuedTime);
        return (letter, item);
    }

    private ServiceBusMessage Replay(WorkItem item)
    {
        // A delta item's Observed copy of the user is as old as the dead letter: drop it so the processor reads
        // the directory now. ReceivedAt is now, so the lag metric measures the replay, not the time spent dead.
        var fresh = item with { Source = WorkItemSources.Replay, ReceivedAt = time.GetUtcNow(), Observed = null, ObservedAt = null };
        return WorkQueue.ToMessage(new QueuedWorkItem(fresh, $"replay-{Guid.NewGuid():N}"));
    }

    private static async Task SendAsync(ServiceBusSender sender, List<ServiceBusMessage> messages, CancellationToken cancellationToken)
    {
        var batch = await sender.CreateMessageBatchAsync(cancellationToken);
        try
        {
            foreach (var message in messages)
            {
                if (batch.TryAddMessage(message))
                {
                    continue;
                }

                await sender.SendMessagesAsync(batch, cancellationToken);
                batch.Dispose();
                batch = await sender.CreateMessageBatchAsync(cancellationToken);
                if (!batch.TryAddMessage(message))
                {
                    throw new InvalidOperationException($"Replayed work item {message.MessageId} is larger than a Service Bus message may be.");
                }
            }

            await sender.SendMessagesAsync(batch, cancellationToken);
        }
        finally
        {
            batch.Dispose();
        }
    }
}
