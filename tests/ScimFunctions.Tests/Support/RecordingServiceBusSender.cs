using Azure.Messaging.ServiceBus;

namespace ScimFunctions.Tests.Support;

/// <summary>The SDK's own sender, subclassed at its documented mocking seam: batches are built by
/// <see cref="ServiceBusModelFactory"/> and every send is recorded instead of going to a broker.</summary>
public sealed class RecordingServiceBusSender(long maxBatchBytes = 256 * 1024) : ServiceBusSender
{
    private readonly List<IReadOnlyList<ServiceBusMessage>> sends = [];
    private readonly Dictionary<ServiceBusMessageBatch, List<ServiceBusMessage>> batchStores = [];

    public Func<Exception>? FailWith { get; set; }

    public IReadOnlyList<IReadOnlyList<ServiceBusMessage>> Sends => sends;

    public IEnumerable<ServiceBusMessage> Messages => sends.SelectMany(s => s);

    public override ValueTask<ServiceBusMessageBatch> CreateMessageBatchAsync(CancellationToken cancellationToken = default)
    {
        var store = new List<ServiceBusMessage>();
        long size = 0;
        var batch = ServiceBusModelFactory.ServiceBusMessageBatch(maxBatchBytes, store, new CreateMessageBatchOptions(), message =>
        {
            var messageSize = message.Body.ToMemory().Length + 256;
            if (size + messageSize > maxBatchBytes)
            {
                return false;
            }

            // The factory's batch stores the message itself when the callback accepts it.
            size += messageSize;
            return true;
        });
        batchStores[batch] = store;
        return ValueTask.FromResult(batch);
    }

    public override Task SendMessagesAsync(ServiceBusMessageBatch messageBatch, CancellationToken cancellationToken = default)
    {
        if (FailWith is not null)
        {
            throw FailWith();
        }

        sends.Add(batchStores[messageBatch].ToList());
        return Task.CompletedTask;
    }

    public override Task SendMessagesAsync(IEnumerable<ServiceBusMessage> messages, CancellationToken cancellationToken = default)
    {
        if (FailWith is not null)
        {
            throw FailWith();
        }

        sends.Add(messages.ToList());
        return Task.CompletedTask;
    }
}
