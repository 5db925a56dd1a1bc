namespace ServiceBusTestDouble;

/// <summary>How to start a <see cref="ServiceBusDouble"/>.</summary>
public sealed class ServiceBusDoubleOptions
{
    /// <summary>The queues that exist; a sender to any other entity gets amqp:not-found
    /// (ServiceBusFailureReason.MessagingEntityNotFound), as from a real namespace.</summary>
    public IReadOnlyList<string> Queues { get; init; } = [];

    /// <summary>The max-message-size the double announces on a send link; the SDK sizes
    /// <c>CreateMessageBatchAsync</c> batches by it. 256 KB is the Standard tier's limit.</summary>
    public ulong MaxMessageSize { get; init; } = 256 * 1024;

    /// <summary>What a peek-lock receiver is told its lock lasts (x-opt-locked-until). The double does not
    /// expire locks: a message stays locked until settled or its link closes.</summary>
    public TimeSpan LockDuration { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Stamps enqueued and locked-until times on delivered messages.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>0 picks a free loopback port.</summary>
    public int Port { get; init; }
}
