namespace ServiceBusDouble;

/// <summary>How to start a <see cref="ServiceBusDouble"/>.</summary>
public sealed class ServiceBusDoubleOptions
{
    /// <summary>The queues that exist; a sender to any other entity gets amqp:not-found
    /// (ServiceBusFailureReason.MessagingEntityNotFound), as from a real namespace.</summary>
    public IReadOnlyList<string> Queues { get; init; } = [];

    /// <summary>The max-message-size the double announces on a send link; the SDK sizes
    /// <c>CreateMessageBatchAsync</c> batches by it. 256 KB is the Standard tier's limit.</summary>
    public ulong MaxMessageSize { get; init; } = 256 * 1024;

    /// <summary>0 picks a free loopback port.</summary>
    public int Port { get; init; }
}
