using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure.Messaging.ServiceBus;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.Provisioning.Notifications;

/// <summary>What <c>ProvisionObject</c> does with a work item's outcome besides settling it: how many attempts it
/// has had, when a transient failure is tried again (as a new message, <c>{MessageId}#r{attempt}</c>, so the broker's
/// lock is not held through the backoff), when to give up, and the follow-up messages a convergence asks for.
/// Decisions only; the function sends and settles.</summary>
public sealed class WorkItemRetryPolicy(SyncOptions options, TimeProvider time)
{
    /// <summary>Suffix of a rescheduled copy's MessageId: <c>{original}#r{attempt}</c>.</summary>
    public const string RetrySuffix = "#r";

    /// <summary>The longest backoff: well within a session's patience, and short enough that an outage's
    /// backlog drains soon after it ends.</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(15);

    /// <summary>How many times this item was already tried: the rescheduled copies count, and so do broker redeliveries.</summary>
    public static int AttemptOf(ServiceBusReceivedMessage message) => AttemptOf(message.MessageId, message.DeliveryCount);

    /// <inheritdoc cref="AttemptOf(ServiceBusReceivedMessage)"/>
    public static int AttemptOf(string? messageId, int deliveryCount)
    {
        var copies = 0;
        var id = messageId ?? "";
        var at = id.LastIndexOf(RetrySuffix, StringComparison.Ordinal);
        if (at >= 0 && int.TryParse(id.AsSpan(at + RetrySuffix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            copies = n;
        }

        return copies + Math.Max(0, deliveryCount - 1);
    }

    /// <summary>The MessageId of retry <paramref name="attempt"/>: the original id (without an earlier suffix) plus <c>#r{attempt}</c>.</summary>
    public static string RetryMessageId(string messageId, int attempt)
    {
        var at = messageId.LastIndexOf(RetrySuffix, StringComparison.Ordinal);
        var baseId = at >= 0 ? messageId[..at] : messageId;
        return $"{baseId}{RetrySuffix}{attempt.ToString(CultureInfo.InvariantCulture)}";
    }

    /// <summary>The item was redelivered or is a retry: the engine recomputes follow-ups even when nothing changes.</summary>
    public static bool IsRedelivered(ServiceBusReceivedMessage message) => AttemptOf(message) > 0 || message.DeliveryCount > 1;

    /// <summary>A transient failure at <paramref name="attempt"/> is the last one allowed (<c>Sync__MaxAttempts</c>): dead-letter it.</summary>
    public bool IsExhausted(int attempt) => attempt + 1 >= options.MaxAttempts;

    /// <summary>The dead-letter description after the last attempt.</summary>
    public string ExhaustedDescription(string? reason, string? description) =>
        $"{options.MaxAttempts} attempts failed; last: {reason}: {description}";

    /// <summary><c>Sync__RetryBaseDelaySeconds × 2^attempt</c>, at most <see cref="MaxBackoff"/>.</summary>
    public TimeSpan Backoff(int attempt)
    {
        var seconds = options.RetryBaseDelaySeconds * Math.Pow(2, Math.Min(attempt, 16));
        return TimeSpan.FromSeconds(Math.Min(seconds, MaxBackoff.TotalSeconds));
    }

    /// <summary>The copy to schedule after a transient failure at <paramref name="attempt"/>.</summary>
    public QueuedWorkItem Retry(WorkItem item, string messageId, int attempt) =>
        new(item, RetryMessageId(messageId, attempt + 1), time.GetUtcNow().Add(Backoff(attempt)));

    /// <summary>Follow-ups for the same object within one delay window share a MessageId, so a burst (many
    /// members of one group provisioned at once) collapses into one delivery at the end of the window. With no
    /// window (<c>Sync__FollowUpDelaySeconds=0</c>) they go at once, one id per object and triggering message.</summary>
    public IReadOnlyList<QueuedWorkItem> FollowUps(IReadOnlyList<FollowUp> followUps, string triggeringMessageId)
    {
        if (followUps.Count == 0)
        {
            return [];
        }

        var now = time.GetUtcNow();
        var window = Math.Max(1, options.FollowUpDelaySeconds);
        var bucket = now.ToUnixTimeSeconds() / window;
        var notBefore = options.FollowUpDelaySeconds == 0 ? (DateTimeOffset?)null : DateTimeOffset.FromUnixTimeSeconds((bucket + 1) * window);
        var trigger = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(triggeringMessageId)).AsSpan(0, 4));
        return followUps
            .DistinctBy(f => (f.Kind, f.ObjectId))
            .Select(f => new QueuedWorkItem(
                new WorkItem(f.Kind, f.ObjectId, WorkItemChangeTypes.Updated, null, null, now, WorkItemSources.FollowUp),
                MessageIds.Bounded("f", f.ObjectId, options.FollowUpDelaySeconds == 0 ? trigger : bucket.ToString(CultureInfo.InvariantCulture)),
                notBefore))
            .ToList();
    }
}
