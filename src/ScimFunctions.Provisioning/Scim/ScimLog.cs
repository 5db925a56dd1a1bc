using Microsoft.Extensions.Logging;

namespace ScimFunctions.Provisioning.Scim;

/// <summary>Log events of the SCIM client (EventIds 4100–4199). Paths are logged without query strings
/// (filters carry user names); tokens and secrets never appear.</summary>
internal static partial class ScimLog
{
    [LoggerMessage(EventId = 4100, Level = LogLevel.Warning,
        Message = "SCIM {Method} {Path} answered {Status} ({Outcome}): {Detail}; correlation id {CorrelationId}")]
    public static partial void RequestFailed(ILogger logger, string method, string? path, int status, ScimOutcome outcome, string detail, string? correlationId);

    [LoggerMessage(EventId = 4101, Level = LogLevel.Debug,
        Message = "SCIM {Method} {Path} answered {Status} ({Outcome}); correlation id {CorrelationId}")]
    public static partial void RequestExpectedMiss(ILogger logger, string method, string? path, int status, ScimOutcome outcome, string? correlationId);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Warning, Message = "SCIM {Method} {Path} failed in transport ({Reason})")]
    public static partial void TransportFailed(ILogger logger, string method, string? path, string reason, Exception exception);

    [LoggerMessage(EventId = 4103, Level = LogLevel.Information,
        Message = "Retrying SCIM {Method} {Path} after {Reason} in {Delay} (retry {Retry})")]
    public static partial void Retrying(ILogger logger, string? method, string? path, string reason, TimeSpan delay, int retry, Exception? exception);

    [LoggerMessage(EventId = 4104, Level = LogLevel.Warning,
        Message = "SCIM target throttled {Method} {Path}; pausing all requests to it for {RetryAfter}")]
    public static partial void Throttled(ILogger logger, string method, string? path, TimeSpan? retryAfter);

    [LoggerMessage(EventId = 4113, Level = LogLevel.Warning,
        Message = "SCIM target throttled {Method} {Path} with Retry-After {RetryAfter}, beyond the call budget of {Budget}: the call is throttled at once and other requests pause only briefly")]
    public static partial void ThrottledBeyondBudget(ILogger logger, string method, string? path, TimeSpan retryAfter, TimeSpan budget);

    [LoggerMessage(EventId = 4114, Level = LogLevel.Warning,
        Message = "The shared SCIM rate budget met {Conflicts} conflicting claims in a row; waiting for the next slot")]
    public static partial void SharedBudgetContended(ILogger logger, int conflicts);

    [LoggerMessage(EventId = 4115, Level = LogLevel.Error,
        Message = "The shared SCIM rate budget table answered {Status}; requests wait instead of going out unaccounted")]
    public static partial void SharedBudgetUnavailable(ILogger logger, int status, Exception exception);

    [LoggerMessage(EventId = 4105, Level = LogLevel.Warning,
        Message = "SCIM {Operation} stopped: its time budget of {Budget} is spent; the caller gets a transient outcome")]
    public static partial void BudgetSpent(ILogger logger, string operation, TimeSpan budget);

    [LoggerMessage(EventId = 4106, Level = LogLevel.Information, Message = "Acquired an OAuth token from {Host}, valid for {Lifetime}")]
    public static partial void TokenAcquired(ILogger logger, string host, TimeSpan lifetime);

    [LoggerMessage(EventId = 4107, Level = LogLevel.Information,
        Message = "SCIM {Method} {Path} answered 401; fetching a new OAuth token and sending once more")]
    public static partial void TokenRejected(ILogger logger, string method, string? path);

    [LoggerMessage(EventId = 4108, Level = LogLevel.Error, Message = "The token endpoint {Host} failed with status {Status}")]
    public static partial void TokenRequestFailed(ILogger logger, string host, int status, Exception? exception);

    [LoggerMessage(EventId = 4109, Level = LogLevel.Information,
        Message = "A retried create met 409; user {ScimId} found by userName is returned as the created user")]
    public static partial void CreateResolvedByLookup(ILogger logger, string scimId);

    [LoggerMessage(EventId = 4110, Level = LogLevel.Information,
        Message = "SCIM target ServiceProviderConfig: etag {ETag}, patch {Patch}, filter {Filter} (maxResults {MaxResults}), bulk {Bulk} (not used); If-Match sent: {ETagsUsed}, list page size {PageSize}")]
    public static partial void ServiceProviderConfigFound(ILogger logger, bool? etag, bool? patch, bool? filter, int? maxResults, bool? bulk, bool etagsUsed, int pageSize);

    [LoggerMessage(EventId = 4116, Level = LogLevel.Warning,
        Message = "SCIM target ServiceProviderConfig unusable ({Reason}): defaults apply there (PATCH and filters assumed, ETags only once a response carries one, pages of {PageSize})")]
    public static partial void ServiceProviderConfigDefaulted(ILogger logger, string reason, int pageSize);

    [LoggerMessage(EventId = 4117, Level = LogLevel.Error, Message = "SCIM target refused: {Refusal}")]
    public static partial void TargetRefused(ILogger logger, string refusal);

    [LoggerMessage(EventId = 4112, Level = LogLevel.Warning,
        Message = "SCIM {Method} {Path} answered 404, but the users collection answered {ProbeStatus} ({ProbeOutcome}): treated as a transient failure, not as gone; check Scim__BaseUrl")]
    public static partial void NotFoundUnconfirmed(ILogger logger, string method, string path, int probeStatus, ScimOutcome probeOutcome);

    [LoggerMessage(EventId = 4111, Level = LogLevel.Warning, Message = "SCIM token could not be obtained: {Reason}")]
    public static partial void TokenUnavailable(ILogger logger, string reason, Exception exception);
}
