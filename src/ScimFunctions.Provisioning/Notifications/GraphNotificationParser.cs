using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace ScimFunctions.Provisioning.Notifications;

/// <summary>The outcome of reading one changeNotificationCollection.</summary>
/// <param name="Items">Valid user, group and lifecycle items, deduplicated by MessageId.</param>
/// <param name="Rejected">Items whose clientState did not match: treated as not from Graph.</param>
/// <param name="Ignored">Items with a valid clientState but about a resource this connector does not handle.</param>
/// <param name="Malformed">Items with a valid clientState that lack what a notification must carry; skipped, the rest still count.</param>
/// <param name="RejectedSubscriptionIds">Subscription ids named by rejected items (for the security log; never their clientState).</param>
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
/// JSON (not the SDK model, whose serializer is lossy) so that every item is checked on its own.</summary>
public static class GraphNotificationParser
{
    // Object ids become Service Bus SessionIds and Table keys: allow only what Graph ids look like.
    private const int MaxObjectIdLength = 128;

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

                var subscriptionId = GetString(element, "subscriptionId");
                if (!ClientStateMatches(element, expected))
                {
                    rejected++;
                    if (subscriptionId is not null && rejectedSubscriptions.Count < 10)
                    {
                        rejectedSubscriptions.Add(Truncate(subscriptionId, 64));
                    }

                    index++;
                    continue;
                }

                QueuedWorkItem? item;
                try
                {
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
        var actual = GetString(element, "clientState");
        if (actual is null)
        {
            return false;
        }

        var actualHash = SHA256.HashData(Encoding.UTF8.GetBytes(actual));
        return CryptographicOperations.FixedTimeEquals(actualHash, expectedHash);
    }

    private static QueuedWorkItem? ToWorkItem(JsonElement element, string? subscriptionId, DateTimeOffset receivedAt, int index)
    {
        var tenantId = GetString(element, "tenantId");
        var lifecycleEvent = GetString(element, "lifecycleEvent");
        if (lifecycleEvent is not null)
        {
            if (string.IsNullOrEmpty(subscriptionId) || !IsSafeId(subscriptionId))
            {
                throw new MalformedNotificationException($"Lifecycle notification {index} has no valid 'subscriptionId'.");
            }

            var lifecycle = new WorkItem(WorkItemKind.Lifecycle, subscriptionId, lifecycleEvent, subscriptionId, tenantId, receivedAt);
            return new QueuedWorkItem(lifecycle, MessageIdFor("l", element, subscriptionId));
        }

        var changeType = GetString(element, "changeType");
        var resource = GetString(element, "resource");
        if (changeType is null || resource is null)
        {
            throw new MalformedNotificationException($"Notification {index} lacks 'changeType' or 'resource'.");
        }

        var slash = resource.IndexOf('/', StringComparison.Ordinal);
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
        if (element.TryGetProperty("resourceData", out var data) && data.ValueKind == JsonValueKind.Object)
        {
            objectId = GetString(data, "id");
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

        var item = new WorkItem(kind.Value, objectId, changeType.ToLowerInvariant(), subscriptionId, tenantId, receivedAt);
        return new QueuedWorkItem(item, MessageIdFor(kind == WorkItemKind.User ? "u" : "g", element, objectId));
    }

    /// <summary>A redelivery of the same notification hashes to the same id; a later change to the same
    /// object differs in eventTime or sequenceNumber and so gets a new one.</summary>
    private static string MessageIdFor(string prefix, JsonElement element, string objectId)
    {
        var builder = new StringBuilder();
        foreach (var name in (string[])["subscriptionId", "changeType", "resource", "lifecycleEvent", "subscriptionExpirationDateTime", "id"])
        {
            builder.Append(GetString(element, name)).Append('|');
        }

        if (element.TryGetProperty("resourceData", out var data) && data.ValueKind == JsonValueKind.Object)
        {
            foreach (var name in (string[])["id", "eventTime", "sequenceNumber"])
            {
                builder.Append(GetString(data, name)).Append('|');
            }
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(builder.ToString()));
        return $"{prefix}:{objectId}:{Convert.ToHexStringLower(hash.AsSpan(0, 12))}";
    }

    private static string? GetString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var property)
            ? property.ValueKind switch
            {
                JsonValueKind.String => property.GetString(),
                JsonValueKind.Number => property.GetRawText(),
                _ => null,
            }
            : null;

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

    private static string Truncate(string value, int length) => value.Length <= length ? value : value[..length];
}
