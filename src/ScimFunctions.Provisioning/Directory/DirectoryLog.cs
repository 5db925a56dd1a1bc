using Microsoft.Extensions.Logging;

namespace ScimFunctions.Provisioning.Directory;

/// <summary>Log events of the directory sources (event ids 5001–5099). Object ids only, never tokens or
/// user records.</summary>
internal static partial class DirectoryLog
{
    [LoggerMessage(EventId = 5001, Level = LogLevel.Information,
        Message = "Graph {Resource} delta round done: {Pages} pages, {Changed} changed, {Removed} removed, full resync {IsFullResync}")]
    public static partial void DeltaRoundCompleted(ILogger logger, string resource, int pages, int changed, int removed, bool isFullResync);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning,
        Message = "Graph {Resource} delta token expired ({Reason}); starting a full resync")]
    public static partial void DeltaTokenExpired(ILogger logger, string resource, string reason, Exception exception);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Warning,
        Message = "Stored {Resource} delta cursor is not usable ({Reason}); starting a full resync")]
    public static partial void DeltaCursorUnusable(ILogger logger, string resource, string reason);

    [LoggerMessage(EventId = 5010, Level = LogLevel.Information,
        Message = "Graph subscription {SubscriptionId} created for {Resource}, expires {ExpiresAt:o}")]
    public static partial void SubscriptionCreated(ILogger logger, string subscriptionId, string resource, DateTimeOffset expiresAt);

    [LoggerMessage(EventId = 5011, Level = LogLevel.Information,
        Message = "Graph subscription {SubscriptionId} renewed, expires {ExpiresAt:o}")]
    public static partial void SubscriptionRenewed(ILogger logger, string subscriptionId, DateTimeOffset expiresAt);

    [LoggerMessage(EventId = 5012, Level = LogLevel.Information, Message = "Graph subscription {SubscriptionId} reauthorized")]
    public static partial void SubscriptionReauthorized(ILogger logger, string subscriptionId);

    [LoggerMessage(EventId = 5013, Level = LogLevel.Warning,
        Message = "Graph subscription {SubscriptionId} is gone (404) during {Operation}; it must be recreated")]
    public static partial void SubscriptionGone(ILogger logger, string subscriptionId, string operation);

    [LoggerMessage(EventId = 5014, Level = LogLevel.Information, Message = "Graph subscription {SubscriptionId} deleted")]
    public static partial void SubscriptionDeleted(ILogger logger, string subscriptionId);

    [LoggerMessage(EventId = 5015, Level = LogLevel.Error,
        Message = "Graph refused to create a subscription for {Resource}: {Problem}")]
    public static partial void SubscriptionRefused(ILogger logger, string resource, string problem, Exception exception);

    [LoggerMessage(EventId = 5020, Level = LogLevel.Information,
        Message = "Snapshot {Path} read: {Users} users, {Groups} groups")]
    public static partial void SnapshotRead(ILogger logger, string path, int users, int groups);

    [LoggerMessage(EventId = 5021, Level = LogLevel.Error, Message = "Snapshot {Path} rejected; nothing was applied: {Problem}")]
    public static partial void SnapshotRejected(ILogger logger, string path, string problem);

    [LoggerMessage(EventId = 5022, Level = LogLevel.Warning,
        Message = "Snapshot {Kind} cursor {Cursor} has no stored state ({Reason}); this round lists everything as changed and cannot report removals")]
    public static partial void SnapshotStateMissing(ILogger logger, string kind, string cursor, string reason);

    [LoggerMessage(EventId = 5023, Level = LogLevel.Information,
        Message = "Snapshot {Kind} round: {Changed} changed, {Removed} removed, full {IsFullResync}")]
    public static partial void SnapshotRoundCompleted(ILogger logger, string kind, int changed, int removed, bool isFullResync);
}
