namespace ServiceBusTestDouble;

/// <summary>One message as the double stored it: a batch the SDK sent as a single AMQP transfer is
/// unpacked into one of these per message, in the order the sender added them.</summary>
/// <param name="Queue">The queue it was sent to, as the double was started with it.</param>
/// <param name="SequenceNumber">1, 2, 3... per queue, in arrival order (what Service Bus would stamp).</param>
/// <param name="ApplicationProperties">Decoded AMQP values: strings, numbers, bool, DateTime (UTC), Guid, byte[]...</param>
/// <param name="ScheduledEnqueueTime">The x-opt-scheduled-enqueue-time annotation (ServiceBusMessage.ScheduledEnqueueTime),
/// or the time given to ScheduleMessageAsync; null when the message was for immediate delivery.</param>
/// <param name="ViaSchedule">True when it came through ScheduleMessage(s)Async (the management link)
/// rather than a plain send.</param>
public sealed record ServiceBusDoubleMessage(
    string Queue,
    long SequenceNumber,
    string? MessageId,
    string? SessionId,
    string? CorrelationId,
    string? ContentType,
    string? Subject,
    byte[] Body,
    IReadOnlyDictionary<string, object?> ApplicationProperties,
    DateTimeOffset? ScheduledEnqueueTime,
    bool ViaSchedule);
