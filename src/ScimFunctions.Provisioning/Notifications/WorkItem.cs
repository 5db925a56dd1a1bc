using System.Text.Json;
using System.Text.Json.Serialization;

namespace ScimFunctions.Provisioning.Notifications;

/// <summary>What a queued message asks for. Level-triggered: "object X may have changed", never a
/// replayable event; the processor reads X's current state and converges the target to it.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<WorkItemKind>))]
public enum WorkItemKind
{
    User,
    Group,
    /// <summary>A Graph lifecycle notification (reauthorizationRequired, subscriptionRemoved, missed).</summary>
    Lifecycle,
}

/// <summary>The body of one Service Bus message. Raw facts only; no personal data beyond the object id.</summary>
/// <param name="Kind">User, group or lifecycle.</param>
/// <param name="ObjectId">Entra object id (user or group); for lifecycle items, the subscription id.</param>
/// <param name="ChangeType">Graph changeType (<c>updated</c>, <c>deleted</c>) or the lifecycle event name.</param>
/// <param name="SubscriptionId">Graph subscription id, when the item came from a notification.</param>
/// <param name="TenantId">Entra tenant id, when known.</param>
/// <param name="ReceivedAt">When the connector first saw the change (for Graph-to-target lag).</param>
/// <param name="Source">Where it came from: <c>webhook</c>, <c>delta</c>, <c>cli</c>, <c>replay</c>, <c>followup</c>.</param>
/// <param name="Observed">Delta sweep only: the user exactly as the delta round returned it, so the processor
/// needs no Graph read. Applied only when no newer read has been stored for the user since
/// <paramref name="ObservedAt"/>; otherwise the processor reads Graph as for any other item.</param>
/// <param name="ObservedAt">When <paramref name="Observed"/> (or a delta removal) was read.</param>
public sealed record WorkItem(
    WorkItemKind Kind,
    string ObjectId,
    string ChangeType,
    string? SubscriptionId,
    string? TenantId,
    DateTimeOffset ReceivedAt,
    string Source = WorkItemSources.Webhook,
    ScimFunctions.Provisioning.Directory.DirectoryUser? Observed = null,
    DateTimeOffset? ObservedAt = null);

public static class WorkItemSources
{
    public const string Webhook = "webhook";
    public const string Delta = "delta";
    public const string Cli = "cli";
    public const string Replay = "replay";

    /// <summary>Queued by the engine itself: a group whose member was just provisioned, a report whose manager was.</summary>
    public const string FollowUp = "followup";
}

/// <summary>Change types the engine sets on items it queues (Graph's own are <c>updated</c> and <c>deleted</c>).</summary>
public static class WorkItemChangeTypes
{
    public const string Updated = "updated";

    /// <summary>Delta <c>@removed</c> with reason <c>deleted</c>: permanently deleted.</summary>
    public const string Deleted = "deleted";

    /// <summary>Delta <c>@removed</c> with reason <c>changed</c>: soft-deleted (restorable).</summary>
    public const string SoftDeleted = "softdeleted";
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(WorkItem))]
public sealed partial class WorkItemJsonContext : JsonSerializerContext;
