using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Framing;

namespace ServiceBusTestDouble.Amqp;

/// <summary>Turns what the SDK transfers into <see cref="ServiceBusDoubleMessage"/>s. The SDK's mapping
/// (Azure.Messaging.ServiceBus AmqpMessageConverter): MessageId → properties.message-id, SessionId →
/// properties.group-id, Subject → properties.subject, body → data section(s), ScheduledEnqueueTime →
/// the x-opt-scheduled-enqueue-time message annotation. A batch of two or more is ONE transfer in the
/// batched message format (0x80013700) whose data sections are each a whole encoded message.</summary>
internal static class MessageDecoder
{
    private const string ScheduledEnqueueTimeAnnotation = "x-opt-scheduled-enqueue-time";

    /// <summary>The fields of one message before the double numbers it.</summary>
    public sealed record Decoded(
        string? MessageId,
        string? SessionId,
        string? CorrelationId,
        string? ContentType,
        string? Subject,
        byte[] Body,
        IReadOnlyDictionary<string, object?> ApplicationProperties,
        DateTimeOffset? ScheduledEnqueueTime);

    /// <summary>The messages in one transfer, in order. Throws <see cref="FormatException"/> naming
    /// what is wrong, which the double turns into a Rejected outcome with amqp:decode-error.</summary>
    public static IReadOnlyList<Decoded> DecodeTransfer(AmqpMessage transfer)
    {
        if (transfer.MessageFormat != AmqpConstants.AmqpBatchedMessageFormat)
        {
            return [Decode(transfer)];
        }

        var messages = new List<Decoded>();
        foreach (var section in transfer.DataBody ?? [])
        {
            using var inner = FromBytes(ToBytes(section));
            messages.Add(Decode(inner));
        }

        if (messages.Count == 0)
        {
            throw new FormatException("A batched-format transfer carried no data sections (no messages).");
        }

        return messages;
    }

    /// <summary>An encoded message (a batch's data section, a schedule request's "message" entry).</summary>
    public static AmqpMessage FromBytes(byte[] encoded) =>
        AmqpMessage.CreateAmqpStreamMessage(new BufferListStream([new ArraySegment<byte>(encoded)]), true);

    public static Decoded Decode(AmqpMessage message)
    {
        var properties = message.Properties;
        var body = new List<byte>();
        if (message.ValueBody is not null || message.SequenceBody is not null)
        {
            throw new FormatException("The message body is an AMQP value or sequence; Service Bus SDK messages carry data sections.");
        }

        foreach (var section in message.DataBody ?? [])
        {
            body.AddRange(ToBytes(section));
        }

        var applicationProperties = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (message.ApplicationProperties?.Map is { } map)
        {
            foreach (var entry in map)
            {
                applicationProperties[entry.Key.Key?.ToString() ?? string.Empty] = entry.Value;
            }
        }

        DateTimeOffset? scheduled = null;
        if (message.MessageAnnotations?.Map is { } annotations
            && annotations.TryGetValue<DateTime>(ScheduledEnqueueTimeAnnotation, out var when))
        {
            scheduled = new DateTimeOffset(DateTime.SpecifyKind(when, DateTimeKind.Utc));
        }

        return new Decoded(
            properties?.MessageId?.ToString(),
            properties?.GroupId,
            properties?.CorrelationId?.ToString(),
            properties?.ContentType.Value,
            properties?.Subject,
            [.. body],
            applicationProperties,
            scheduled);
    }

    private static byte[] ToBytes(Data section) => section.Value switch
    {
        ArraySegment<byte> segment => segment.ToArray(),
        byte[] bytes => bytes,
        var other => throw new FormatException($"A data section holds {other?.GetType().Name ?? "null"}, not binary."),
    };
}
