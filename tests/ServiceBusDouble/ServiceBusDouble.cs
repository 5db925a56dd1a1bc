using System.Globalization;
using ServiceBusTestDouble.Amqp;

namespace ServiceBusTestDouble;

/// <summary>A test-only AMQP 1.0 endpoint on 127.0.0.1 that the real <c>ServiceBusClient</c> sends to:
/// single sends, batches (unpacked per message), ScheduleMessage(s)Async. It stores what arrives so a
/// test can read it back, and hands unscheduled messages to non-session receivers (peek-lock with
/// complete / abandon / dead-letter, or receive-and-delete). It is not a broker: no sessions, no
/// duplicate detection, no lock expiry, no scheduling (a scheduled message is stored, never released).</summary>
public sealed class ServiceBusDouble : IAsyncDisposable
{
    /// <summary>The dead-letter sub-queue's path after the queue name, as the SDK's
    /// <c>SubQueue.DeadLetter</c> addresses it.</summary>
    public const string DeadLetterSuffix = "/$deadletterqueue";

    private readonly Dictionary<string, QueueState> queues;
    private readonly List<string> queueNames = [];
    private readonly Broker broker;
    private int refusal;
    private int transfers;
    private int connections;
    private bool disposed;

    private ServiceBusDouble(ServiceBusDoubleOptions options)
    {
        if (options.Queues.Count == 0)
        {
            throw new ArgumentException("Name at least one queue: a sender to an unknown entity is refused, as by a real namespace.", nameof(options));
        }

        queues = new Dictionary<string, QueueState>(StringComparer.OrdinalIgnoreCase);
        foreach (var queue in options.Queues)
        {
            if (string.IsNullOrWhiteSpace(queue) || queue.Contains('/', StringComparison.Ordinal))
            {
                throw new ArgumentException($"'{queue}' is not a queue name the double serves (empty, or has a '/').", nameof(options));
            }

            var deadLetters = new QueueState(queue + DeadLetterSuffix, options.TimeProvider, options.LockDuration);
            queues[deadLetters.Name] = deadLetters;
            queues[queue] = new QueueState(queue, options.TimeProvider, options.LockDuration, deadLetters);
            queueNames.Add(queue);
        }

        broker = new Broker(this, options.MaxMessageSize);
        broker.Listen(options.Port);
    }

    /// <summary>Starts listening on a free loopback port, serving the given queues.</summary>
    public static Task<ServiceBusDouble> StartAsync(params string[] queueNames) =>
        StartAsync(new ServiceBusDoubleOptions { Queues = queueNames });

    public static Task<ServiceBusDouble> StartAsync(ServiceBusDoubleOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Task.FromResult(new ServiceBusDouble(options));
    }

    public int Port => broker.Port;

    /// <summary>A development-emulator connection string: the SDK then speaks plain AMQP (no TLS) to the
    /// endpoint's host and port. The key is never checked; the SDK needs one to build its CBS token.</summary>
    public string ConnectionString => string.Create(
        CultureInfo.InvariantCulture,
        $"Endpoint=sb://127.0.0.1:{Port};SharedAccessKeyName=double;SharedAccessKey=not-a-secret;UseDevelopmentEmulator=true");

    /// <summary>While not <see cref="SendRefusal.None"/>, every transfer and schedule request is answered with
    /// that error and nothing is stored.</summary>
    public SendRefusal RefuseSends
    {
        get => (SendRefusal)Volatile.Read(ref refusal);
        set => Volatile.Write(ref refusal, (int)value);
    }

    /// <summary>Transfers (one per SendMessage(s)Async call, a batch being one) and schedule requests that
    /// reached the double, accepted or refused: what the SDK's retries can be counted by.</summary>
    public int Transfers => Volatile.Read(ref transfers);

    /// <summary>AMQP connections accepted so far: one per ServiceBusClient, plus one per reconnect.</summary>
    public int Connections => Volatile.Read(ref connections);

    /// <summary>The queues the double was started with (each also has its dead-letter sub-queue).</summary>
    public IReadOnlyCollection<string> QueueNames => queueNames;

    /// <summary>Everything stored for a queue so far, in arrival order (received or not).</summary>
    public IReadOnlyList<ServiceBusDoubleMessage> Received(string queue) => Queue(queue).Log();

    /// <summary>Messages a receiver completed (or took in receive-and-delete mode), in that order.</summary>
    public IReadOnlyList<ServiceBusDoubleMessage> Completed(string queue) => Queue(queue).Completed();

    /// <summary>Messages a receiver dead-lettered. They also wait in <c>&lt;queue&gt;/$deadletterqueue</c>,
    /// which a receiver with <c>SubQueue = SubQueue.DeadLetter</c> reads (and <see cref="Received"/> and
    /// <see cref="Outstanding"/> take that path too).</summary>
    public IReadOnlyList<ServiceBusDoubleMessage> DeadLettered(string queue) => Queue(queue).DeadLettered();

    /// <summary>Deliverable messages not yet completed or dead-lettered (waiting or locked).</summary>
    public int Outstanding(string queue) => Queue(queue).Outstanding();

    /// <summary>Drops every connection and listens again on the same port, as a namespace failing over:
    /// stored messages are kept, clients have to reconnect.</summary>
    public Task RestartAsync()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var port = Port;
        broker.Stop();
        broker.Listen(port);
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        if (!disposed)
        {
            disposed = true;
            broker.Stop();
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>A queue or a dead-letter sub-queue.</summary>
    internal bool HasQueue(string queue) => queues.ContainsKey(queue);

    internal static bool IsDeadLetterQueue(string path) => path.EndsWith(DeadLetterSuffix, StringComparison.OrdinalIgnoreCase);

    internal void CountTransfer() => Interlocked.Increment(ref transfers);

    internal void CountConnection() => Interlocked.Increment(ref connections);

    internal QueueState Queue(string queue) =>
        queues.TryGetValue(queue, out var state)
            ? state
            : throw new ArgumentException($"The double does not serve queue '{queue}' (it has: {string.Join(", ", queues.Keys)}).", nameof(queue));
}
