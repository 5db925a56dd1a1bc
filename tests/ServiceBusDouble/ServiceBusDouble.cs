using System.Globalization;
using ServiceBusDouble.Amqp;

namespace ServiceBusDouble;

/// <summary>A test-only AMQP 1.0 endpoint on 127.0.0.1 that the real <c>ServiceBusClient</c> sends to:
/// single sends, batches (unpacked per message), ScheduleMessage(s)Async. It stores what arrives so a
/// test can read it back; it is not a broker (no delivery to receivers, no sessions, no duplicate
/// detection, no scheduling — a scheduled message is stored with its time, never released).</summary>
public sealed class ServiceBusDouble : IAsyncDisposable
{
    private readonly Dictionary<string, List<ServiceBusDoubleMessage>> queues;
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

        queues = new Dictionary<string, List<ServiceBusDoubleMessage>>(StringComparer.OrdinalIgnoreCase);
        foreach (var queue in options.Queues)
        {
            if (string.IsNullOrWhiteSpace(queue) || queue.Contains('/', StringComparison.Ordinal))
            {
                throw new ArgumentException($"'{queue}' is not a queue name the double serves (empty, or has a '/').", nameof(options));
            }

            queues[queue] = [];
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

    public IReadOnlyCollection<string> QueueNames => queues.Keys;

    /// <summary>What was stored for a queue so far, in arrival order.</summary>
    public IReadOnlyList<ServiceBusDoubleMessage> Received(string queue)
    {
        if (!queues.TryGetValue(queue, out var messages))
        {
            throw new ArgumentException($"The double does not serve queue '{queue}' (it has: {string.Join(", ", queues.Keys)}).", nameof(queue));
        }

        lock (messages)
        {
            return [.. messages];
        }
    }

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

    internal bool HasQueue(string queue) => queues.ContainsKey(queue);

    internal void CountTransfer() => Interlocked.Increment(ref transfers);

    internal void CountConnection() => Interlocked.Increment(ref connections);

    internal long[] Store(string queue, IReadOnlyList<MessageDecoder.Decoded> decoded, bool viaSchedule)
    {
        var messages = queues[queue];
        lock (messages)
        {
            var sequenceNumbers = new long[decoded.Count];
            for (var i = 0; i < decoded.Count; i++)
            {
                var d = decoded[i];
                sequenceNumbers[i] = messages.Count + 1;
                messages.Add(new ServiceBusDoubleMessage(
                    KeyOf(queue),
                    sequenceNumbers[i],
                    d.MessageId,
                    d.SessionId,
                    d.CorrelationId,
                    d.ContentType,
                    d.Subject,
                    d.Body,
                    d.ApplicationProperties,
                    d.ScheduledEnqueueTime,
                    viaSchedule));
            }

            return sequenceNumbers;
        }
    }

    private string KeyOf(string queue) => queues.Keys.First(k => queues.Comparer.Equals(k, queue));
}
