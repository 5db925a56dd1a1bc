using Microsoft.Azure.Functions.Worker.Extensions.Abstractions;

namespace Microsoft.Azure.Functions.Worker;

/// <summary>Mirrors the official attribute's public surface (extension 5.24.0) so the generated
/// <c>functions.metadata</c> carries the same <c>serviceBusTrigger</c> binding.</summary>
[AttributeUsage(AttributeTargets.Parameter)]
public sealed class ServiceBusTriggerAttribute : TriggerBindingAttribute
{
    public ServiceBusTriggerAttribute(string queueName) => QueueName = queueName;

    public ServiceBusTriggerAttribute(string topicName, string subscriptionName)
    {
        TopicName = topicName;
        SubscriptionName = subscriptionName;
    }

    public string? Connection { get; set; }

    public string? QueueName { get; }

    public string? TopicName { get; }

    public string? SubscriptionName { get; }

    public bool IsSessionsEnabled { get; set; }

    // The Functions metadata source generator reads this default (as on the official attribute) and fails without it.
    [DefaultValue(false)]
    public bool IsBatched { get; set; }

    // No initializer, as on the official 5.24.0 attribute: false unless set, and host.json decides when unset.
    public bool AutoCompleteMessages { get; set; }
}
