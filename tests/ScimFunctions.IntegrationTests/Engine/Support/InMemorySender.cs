using Azure.Messaging.ServiceBus;

namespace ScimFunctions.IntegrationTests.Engine.Support;

/// <summary>The SDK's own sender type over an in-memory queue: batches built with ServiceBusModelFactory and
/// sized as the broker would (256 KiB, ~256 bytes of overhead a message), then handed to <see cref="SendAsync"/>
/// whether they came as a batch or a list. Shared by the integration tests' queue and the concurrency tests' bus.</summary>
public abstract class InMemorySender : ServiceBusSender
{
    private const long MaxBatchBytes = 256 * 1024;
    private readonly Dictionary<ServiceBusMessageBatch, List<ServiceBusMessage>> batches = [];

    protected abstract Task SendAsync(IReadOnlyList<ServiceBusMessage> messages);

    public override ValueTask<ServiceBusMessageBatch> CreateMessageBatchAsync(CancellationToken cancellationToken = default)
    {
        var store = new List<ServiceBusMessage>();
        long size = 0;
        var batch = ServiceBusModelFactory.ServiceBusMessageBatch(MaxBatchBytes, store, new CreateMessageBatchOptions(), message =>
        {
            var bytes = message.Body.ToMemory().Length + 256;
            if (size + bytes > MaxBatchBytes)
            {
                return false;
            }

            size += bytes;
            return true;
        });
        lock (batches)
        {
            batches[batch] = store;
        }

        return ValueTask.FromResult(batch);
    }

    public override Task SendMessagesAsync(ServiceBusMessageBatch messageBatch, CancellationToken cancellationToken = default)
    {
        List<ServiceBusMessage> messages;
        lock (batches)
        {
            messages = batches[messageBatch];
            batches.Remove(messageBatch);
        }

        return SendAsync(messages);
    }

    public override Task SendMessagesAsync(IEnumerable<ServiceBusMessage> messages, CancellationToken cancellationToken = default) => SendAsync(messages.ToList());
}
