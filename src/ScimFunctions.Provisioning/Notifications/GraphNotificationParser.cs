using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace ScimFunctions.Provisioning.Notifications;

/// <summary>The outcome of reading one changeNotificationCollection.</summary>
/// <param name="Items">Valid user, group and lifecycle items, deduplicated by MessageId.</param>
/// <param name="Rejected">Items whose clientState did not match: treated as not from Graph.</param>
/// <param name="Ignored">Items with a valid clientState but about a resource this connector does not handle.</param>
/// <param name="Malformed">Items with a valid clientState that lack what a notification must carry; skipped, the rest still count.</param>
/// <param name="RejectedSubscriptionIds">Subscription ids named by rejected items, only those that are well-formed GUIDs (for the security log; never their clientState).</param>
public sealed record ParsedNotifications(
    IReadOnlyList<QueuedWorkItem> Items,
    int Rejected,
    int Ignored,
    int Malformed,
    IReadOnlyList<string> RejectedSubscriptionIds);

/// <summary>Thrown when the body is not a changeNotificationCollection; the message names the problem
/// and is safe to return to the caller.</summary>
public sealed class MalformedNotificationException(string message, Exception? innerException = null)
    : Exception(message, innerException);

/// <summary>Reads Graph change and lifecycle notifications from the raw request body. Works on the raw
/// JSON (not the SDK model, whose serializer is lossy) so that every item is checked on its own.
/// Hostile input never throws past <see cref="MalformedNotificationException"/>: a string that cannot be
/// decoded (a lone surrogate escape, invalid UTF-8) is a bad field, never an exception.</summary>
public static class GraphNotificationParser
{
    /// <summary>Service Bus's limit for MessageId and SessionId.</summary>
    public const int MaxServiceBusIdLength = 128;

    /// <summary>Deliveries that carry no per-change marker (no <c>resourceData.sequenceNumber</c>, no
    /// <c>resourceData.eventTime</c>, no top-level <c>id</c>) are told apart by the time they were received,
    /// in buckets of this length. Two deliveries in one bucket share a MessageId, so the item is held until the
    /// bucket closes (<see cref="QueuedWorkItem.NotBefore"/>): its Graph read then sees every change of the bucket.</summary>
    public static readonly TimeSpan ReceivedBucket = TimeSpan.FromSeconds(10);

    // Object ids become Service Bus SessionIds and Table keys: allow only what Graph ids look like.
    private const int MaxObjectIdLength = MaxServiceBusIdLength;

    // Graph's change types and lifecycle event names are short words; anything else is not from Graph.
    private const int MaxTokenLength = 64;

    // "u:" + id + ":" + 24 hex; ids too long for that keep a prefix of the id and the hash covers all of it.
    // 8 characters stay free for the "#r{attempt}" that ProvisionObject appends to a rescheduled copy.
    private const int MaxMessageIdLength = MaxServiceBusIdLength - 8;
    private const int HashHexLength = 24;
    private const int TruncatedIdLength = 80;

    private enum Field
    {
        Absent,
        Text,

        /// <summary>Present but not usable as text: a wrong JSON type or a string that cannot be decoded.</summary>
        Invalid,
    }

    public static ParsedNotifications Parse(ReadOnlyMemory<byte> body, string expectedClientState, DateTimeOffset receivedAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(expectedClientState);

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException ex)
        {
            // Line and byte position only: the message goes back to the caller and never quotes the body.
            throw new MalformedNotificationException($"The body is not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine}).", ex);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new MalformedNotificationException("The body must be a JSON object with a 'value' array.");
            }

            if (!document.RootElement.TryGetProperty("value", out var value) || value.ValueKind != JsonValueKind.Array)
            {
                throw new MalformedNotificationException("The body has no 'value' array of notifications.");
            }

            var expected = SHA256.HashData(Encoding.UTF8.GetBytes(expectedClientState));
            var items = new List<QueuedWorkItem>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var rejectedSubscriptions = new List<string>();
            int rejected = 0, ignored = 0, malformed = 0, index = 0;

            foreach (var element in value.EnumerateArray())
            {
                if (element.ValueKind != JsonValueKind.Object)
                {
                    throw new MalformedNotificationException($"Notification {index} is not a JSON object.");
                }

                var subscriptionRead = Read(element, "subscriptionId", out var subscriptionId);
                if (!ClientStateMatches(element, expected))
                {
                    rejected++;

                    // Only well-formed GUIDs reach the security log: whatever else a forger sent stays out of it.
                    if (subscriptionRead == Field.Text && Guid.TryParseExact(subscriptionId, "D", out var guid) && rejectedSubscriptions.Count < 10)
                    {
                        rejectedSubscriptions.Add(guid.ToString("D"));
                    }

                    index++;
                    continue;
                }

                QueuedWorkItem? item;
                try
                {
                    if (subscriptionRead == Field.Invalid || (subscriptionId is not null && !IsSafeId(subscriptionId)))
                    {
                        throw new MalformedNotificationException($"Notification {index} has an invalid 'subscriptionId'.");
                    }

                    item = ToWorkItem(element, subscriptionId, receivedAt, index);
                }
                catch (MalformedNotificationException)
                {
                    // One bad item must not make Graph redeliver (and us re-reject) the good ones.
                    malformed++;
                    index++;
                    continue;
                }

                if (item is null)
                {
                    ignored++;
                }
                else if (seen.Add(item.MessageId))
                {
                    items.Add(item);
                }

                index++;
            }

            return new ParsedNotifications(items, rejected, ignored, malformed, rejectedSubscriptions);
        }
    }

    /// <summary>Constant-time comparison: both sides are hashed first so neither content nor length leaks.</summary>
    private static bool ClientStateMatches(JsonElement element, byte[] expectedHash)
    {
        if (Read(element, "clientState", out var actual) != Field.Text || actual is null)
        {
            return false;
        }

        var actualHash = SHA256.HashData(Encoding.UTF8.GetBytes(actual));
        return CryptographicOperations.FixedTimeEquals(actualHash, expectedHash);
    }

    private static QueuedWorkItem? ToWorkItem(JsonElement element, string? subscriptionId, DateTimeOffset receivedAt, int index)
    {
        var tenantRead = Read(element, "tenantId", out var tenantId);
        if (tenantRead == Field.Invalid || (tenantId is not null && !IsSafeId(tenantId)))
        {
            throw new MalformedNotificationException($"Notification {index} has an invalid 'tenantId'.");
        }

        switch (Read(element, "lifecycleEvent", out var lifecycleEvent))
        {
            case Field.Invalid:
                throw new MalformedNotificationException($"Lifecycle notification {index} has an invalid 'lifecycleEvent'.");
            case Field.Text:
                if (!IsToken(lifecycleEvent!))
                {
                    throw new MalformedNotificationException($"Lifecycle notification {index} has an invalid 'lifecycleEvent'.");
                }

                if (string.IsNullOrEmpty(subscriptionId))
                {
                    throw new MalformedNotificationException($"Lifecycle notification {index} has no valid 'subscriptionId'.");
                }

                var lifecycle = new WorkItem(WorkItemKind.Lifecycle, subscriptionId, lifecycleEvent!, subscriptionId, tenantId, receivedAt);
                return Queued(lifecycle, "l", element, receivedAt);
        }

        if (Read(element, "changeType", out var changeType) != Field.Text || Read(element, "resource", out var resource) != Field.Text)
        {
            throw new MalformedNotificationException($"Notification {index} lacks a valid 'changeType' or 'resource'.");
        }

        if (!IsToken(changeType!))
        {
            throw new MalformedNotificationException($"Notification {index} has an invalid 'changeType'.");
        }

        var slash = resource!.IndexOf('/', StringComparison.Ordinal);
        var collection = slash < 0 ? resource : resource[..slash];
        var kind = collection.ToLowerInvariant() switch
        {
            "users" => WorkItemKind.User,
            "groups" => WorkItemKind.Group,
            _ => (WorkItemKind?)null,
        };
        if (kind is null)
        {
            return null;
        }

        string? objectId = null;
        if (element.TryGetProperty("resourceData", out var data) && data.ValueKind == JsonValueKind.Object
            && Read(data, "id", out objectId) == Field.Invalid)
        {
            throw new MalformedNotificationException($"Notification {index} does not name a valid object id.");
        }

        if (string.IsNullOrEmpty(objectId) && slash > 0)
        {
            // "Users/{id}", or "Groups/{id}/members" for membership subscriptions.
            var rest = resource[(slash + 1)..];
            var end = rest.IndexOf('/', StringComparison.Ordinal);
            objectId = end < 0 ? rest : rest[..end];
        }

        if (string.IsNullOrEmpty(objectId) || !IsSafeId(objectId))
        {
            throw new MalformedNotificationException($"Notification {index} does not name a valid object id.");
        }

        var item = new WorkItem(kind.Value, objectId, changeType!.ToLowerInvariant(), subscriptionId, tenantId, receivedAt);
        return Queued(item, kind == WorkItemKind.User ? "u" : "g", element, receivedAt);
    }

    private static QueuedWorkItem Queued(WorkItem item, string prefix, JsonElement element, DateTimeOffset receivedAt)
    {
        var marked = HasChangeMarker(element);
        DateTimeOffset? bucketEnd = marked ? null : BucketEnd(receivedAt);
        return new QueuedWorkItem(item, MessageIdFor(prefix, element, item.ObjectId, bucketEnd), bucketEnd);
    }

    /// <summary>
    /// The id duplicate detection uses. What Graph redelivers is the same delivery, byte for byte, when we did not
    /// answer 2xx in time (for up to 4 hours). When the item carries a per-change marker (a sequenceNumber, an
    /// eventTime, the notification id), a redelivery hashes to the same id and a later change differs in the marker.
    /// Without a marker the bytes of two distinct changes to one object are identical, so the received-time bucket
    /// joins the hash: distinct deliveries get distinct ids; a redelivery within the bucket still collapses, a later
    /// one costs one no-op convergence (never a dropped change).
    /// Raw UTF-8 of each field is hashed, never a decoded string, so undecodable text cannot throw here.
    /// </summary>
    private static string MessageIdFor(string prefix, JsonElement element, string objectId, DateTimeOffset? bucketEnd)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var name in (string[])["subscriptionId", "changeType", "resource", "lifecycleEvent", "subscriptionExpirationDateTime", "id"])
        {
            AppendRaw(hash, element, name);
        }

        if (element.TryGetProperty("resourceData", out var data) && data.ValueKind == JsonValueKind.Object)
        {
            foreach (var name in (string[])["id", "eventTime", "sequenceNumber"])
            {
                AppendRaw(hash, data, name);
            }
        }

        if (bucketEnd is { } end)
        {
            hash.AppendData(Encoding.ASCII.GetBytes("bucket:" + end.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        var hex = Convert.ToHexStringLower(hash.GetHashAndReset().AsSpan(0, HashHexLength / 2));
        var id = $"{prefix}:{objectId}:{hex}";
        return id.Length <= MaxMessageIdLength ? id : $"{prefix}:{objectId[..TruncatedIdLength]}~{hex}";
    }

    private static bool HasChangeMarker(JsonElement element) =>
        IsPresent(element, "id")
        || (element.TryGetProperty("resourceData", out var data) && data.ValueKind == JsonValueKind.Object
            && (IsPresent(data, "sequenceNumber") || IsPresent(data, "eventTime")));

    // A JSON null marks nothing: two changes with "sequenceNumber": null would otherwise share one id.
    private static bool IsPresent(JsonElement element, string name) =>
        element.TryGetProperty(name, out var property) && property.ValueKind != JsonValueKind.Null;

    private static DateTimeOffset BucketEnd(DateTimeOffset receivedAt)
    {
        var ticks = receivedAt.UtcTicks;
        return new DateTimeOffset(ticks - (ticks % ReceivedBucket.Ticks) + ReceivedBucket.Ticks, TimeSpan.Zero);
    }

    private static void AppendRaw(IncrementalHash hash, JsonElement element, string name)
    {
        if (element.TryGetProperty(name, out var property))
        {
            hash.AppendData(JsonMarshal.GetRawUtf8Value(property));
        }

        hash.AppendData("|"u8);
    }

    /// <summary>A string (or a number's literal text) when the field holds one that decodes; never throws.</summary>
    private static Field Read(JsonElement element, string name, out string? value)
    {
        value = null;
        if (!element.TryGetProperty(name, out var property) || property.ValueKind == JsonValueKind.Null)
        {
            return Field.Absent;
        }

        switch (property.ValueKind)
        {
            case JsonValueKind.String:
                try
                {
                    value = property.GetString();
                    return Field.Text;
                }
                catch (InvalidOperationException)
                {
                    // A lone surrogate escape or invalid UTF-8: System.Text.Json refuses to decode it.
                    return Field.Invalid;
                }

            case JsonValueKind.Number:
                // Digits, sign, dot and exponent only: always ASCII.
                value = Encoding.ASCII.GetString(JsonMarshal.GetRawUtf8Value(property));
                return Field.Text;
            default:
                return Field.Invalid;
        }
    }

    public static bool IsSafeId(string id)
    {
        if (id.Length is 0 or > MaxObjectIdLength)
        {
            return false;
        }

        foreach (var c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsToken(string value) =>
        value.Length is > 0 and <= MaxTokenLength && value.All(char.IsAsciiLetterOrDigit);
}
