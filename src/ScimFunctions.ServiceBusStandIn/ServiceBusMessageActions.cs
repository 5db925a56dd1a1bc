using Azure.Messaging.ServiceBus;

namespace Microsoft.Azure.Functions.Worker;

/// <summary>Mirrors the official settlement surface (extension 5.24.0). The stand-in has no broker
/// behind it: every method throws unless a test derives from it, exactly as tests mock the real one.</summary>
public class ServiceBusMessageActions
{
    protected ServiceBusMessageActions()
    {
    }

    public virtual Task CompleteMessageAsync(ServiceBusReceivedMessage message, CancellationToken cancellationToken = default)
        => throw NotConnected();

    public virtual Task AbandonMessageAsync(ServiceBusReceivedMessage message, IDictionary<string, object>? propertiesToModify = default, CancellationToken cancellationToken = default)
        => throw NotConnected();

    // Dictionary, not IDictionary: the official signature is exactly this.
    public virtual Task DeadLetterMessageAsync(ServiceBusReceivedMessage message, Dictionary<string, object>? propertiesToModify = default, string? deadLetterReason = default, string? deadLetterErrorDescription = default, CancellationToken cancellationToken = default)
        => throw NotConnected();

    public virtual Task DeferMessageAsync(ServiceBusReceivedMessage message, IDictionary<string, object>? propertiesToModify = default, CancellationToken cancellationToken = default)
        => throw NotConnected();

    public virtual Task RenewMessageLockAsync(ServiceBusReceivedMessage message, CancellationToken cancellationToken = default)
        => throw NotConnected();

    private static InvalidOperationException NotConnected() =>
        new("This is the Service Bus build stand-in (ServiceBusBinding=standin); it cannot settle messages. Build with the official package to run in Azure.");
}
