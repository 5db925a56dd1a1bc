using Microsoft.Extensions.Logging;

namespace ScimFunctions.Provisioning.Sync;

/// <summary>One structured event per decision; object ids only, never attribute values.</summary>
internal static partial class EngineLog
{
    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Provisioned {ObjectKind} {ObjectId} as target {ScimId} ({Action})")]
    public static partial void Provisioned(ILogger logger, string objectKind, string objectId, string? scimId, string action);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Updated {ObjectKind} {ObjectId} on target {ScimId} ({Action}: {Detail})")]
    public static partial void Updated(ILogger logger, string objectKind, string objectId, string? scimId, string action, string detail);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Debug, Message = "{ObjectKind} {ObjectId} unchanged ({Reason})")]
    public static partial void Unchanged(ILogger logger, string objectKind, string objectId, string reason);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Debug, Message = "Skipped {ObjectKind} {ObjectId}: {Reason}")]
    public static partial void Skipped(ILogger logger, string objectKind, string objectId, string reason);

    [LoggerMessage(EventId = 3010, Level = LogLevel.Information, Message = "Disabled user {ObjectId} on target {ScimId}: {Reason}")]
    public static partial void Disabled(ILogger logger, string objectId, string? scimId, string reason);

    [LoggerMessage(EventId = 3011, Level = LogLevel.Warning, Message = "Deleted user {ObjectId} from target {ScimId}: {Reason}")]
    public static partial void Deleted(ILogger logger, string objectId, string? scimId, string reason);

    [LoggerMessage(EventId = 3020, Level = LogLevel.Warning, Message = "Entra group {ObjectId} has no matching target group ({Reason}); reported as unmatched")]
    public static partial void GroupUnmatched(ILogger logger, string objectId, string reason);

    [LoggerMessage(EventId = 3021, Level = LogLevel.Warning, Message = "Drift on target {ObjectKind} {ObjectId} ({ScimId}): {Detail}")]
    public static partial void Drift(ILogger logger, string objectKind, string objectId, string? scimId, string detail);

    [LoggerMessage(EventId = 3030, Level = LogLevel.Information, Message = "Delta sweep of {Resource}: {Changed} changed, {Removed} removed, {Queued} work items queued (full resync: {FullResync})")]
    public static partial void Swept(ILogger logger, string resource, int changed, int removed, int queued, bool fullResync);

    [LoggerMessage(EventId = 3040, Level = LogLevel.Information, Message = "Subscription {SubscriptionId} for {Resource} {Action}; expires {ExpiresAt:o}")]
    public static partial void Subscription(ILogger logger, string subscriptionId, string resource, string action, DateTimeOffset expiresAt);

    [LoggerMessage(EventId = 3041, Level = LogLevel.Warning, Message = "Lifecycle event {LifecycleEvent} for subscription {SubscriptionId}: {Action}")]
    public static partial void Lifecycle(ILogger logger, string lifecycleEvent, string subscriptionId, string action);

    [LoggerMessage(EventId = 3100, Level = LogLevel.Error, Message = "Staged destructive action {Action} for user {ObjectId}: {Reason}. Nothing destructive runs until an operator releases or discards the staged actions")]
    public static partial void Staged(ILogger logger, string action, string objectId, string reason);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Warning, Message = "Operator {Decision} {Count} staged destructive actions")]
    public static partial void StagedDecision(ILogger logger, string decision, int count);

    [LoggerMessage(EventId = 3105, Level = LogLevel.Error, Message = "Scope group {GroupIds} named in Sync__Scope__Groups is not found in Entra; users outside the other scope groups are not judged out of scope until the setting is fixed")]
    public static partial void ScopeGroupNotFound(ILogger logger, string groupIds);

    [LoggerMessage(EventId = 3200, Level = LogLevel.Error, Message = "Failed to converge {ObjectKind} {ObjectId}: {Reason}")]
    public static partial void Failed(ILogger logger, Exception? exception, string objectKind, string objectId, string reason);

    [LoggerMessage(EventId = 3201, Level = LogLevel.Warning, Message = "Could not converge {ObjectKind} {ObjectId} now, will retry: {Reason}")]
    public static partial void Postponed(ILogger logger, Exception? exception, string objectKind, string objectId, string reason);

    // The engine passes its enums; the events carry their words (user, add-members), as they always have.
    // CA1873: a word is a lookup in a frozen dictionary, cheaper than the IsEnabled check it would need.
#pragma warning disable CA1873
    public static void Provisioned(ILogger logger, ObjectKind objectKind, string objectId, string? scimId, PlanAction action) =>
        Provisioned(logger, objectKind.ToWireName(), objectId, scimId, action.ToWireName());

    public static void Updated(ILogger logger, ObjectKind objectKind, string objectId, string? scimId, PlanAction action, string detail) =>
        Updated(logger, objectKind.ToWireName(), objectId, scimId, action.ToWireName(), detail);

    /// <summary><paramref name="what"/>: what changed when it is not one plan action (a group's "members").</summary>
    public static void Updated(ILogger logger, ObjectKind objectKind, string objectId, string? scimId, string what, string detail) =>
        Updated(logger, objectKind.ToWireName(), objectId, scimId, what, detail);

    public static void Unchanged(ILogger logger, ObjectKind objectKind, string objectId, string reason) =>
        Unchanged(logger, objectKind.ToWireName(), objectId, reason);

    public static void Skipped(ILogger logger, ObjectKind objectKind, string objectId, string reason) =>
        Skipped(logger, objectKind.ToWireName(), objectId, reason);

    public static void Drift(ILogger logger, ObjectKind objectKind, string objectId, string? scimId, string detail) =>
        Drift(logger, objectKind.ToWireName(), objectId, scimId, detail);

    public static void Subscription(ILogger logger, string subscriptionId, string resource, SubscriptionOutcome outcome, DateTimeOffset expiresAt) =>
        Subscription(logger, subscriptionId, resource, outcome.ToWireName(), expiresAt);

    public static void Staged(ILogger logger, PlanAction action, string objectId, string reason) =>
        Staged(logger, action.ToWireName(), objectId, reason);
#pragma warning restore CA1873
}
