using System.Text.Json.Nodes;

namespace ScimFunctions.Provisioning.Scim;

/// <summary>A SCIM resource as the target returned it.</summary>
/// <param name="Version">The target's version exactly as sent (ETag header, else <c>meta.version</c>
/// quoted), to be stored and sent back unchanged in If-Match; null when the target has no ETags.</param>
public sealed record ScimResource(string Id, string? Version, JsonObject Body);

/// <summary>One PATCH operation (RFC 7644 §3.5.2). Ops are sent lower-case.</summary>
public sealed record ScimPatchOperation(string Op, string? Path, JsonNode? Value)
{
    public static ScimPatchOperation Add(string? path, JsonNode? value) => new(ScimPatchOps.Add, path, value);
    public static ScimPatchOperation Replace(string? path, JsonNode? value) => new(ScimPatchOps.Replace, path, value);
    public static ScimPatchOperation Remove(string path) => new(ScimPatchOps.Remove, path, null);
}

public static class ScimPatchOps
{
    public const string Add = "add";
    public const string Replace = "replace";
    public const string Remove = "remove";
}

/// <summary>How a SCIM call ended. Callers branch on this, never on exception types.</summary>
public enum ScimOutcome
{
    Ok,
    /// <summary>304 to If-None-Match: the stored version is current.</summary>
    NotModified,
    NotFound,
    /// <summary>Stale If-Match: Genesys 400 invalidVers or 409 "version"; generic 412. Re-read, re-decide.</summary>
    VersionConflict,
    /// <summary>409 on create: the userName (or externalId) already exists.</summary>
    Uniqueness,
    /// <summary>400 with a scimType/detail: the target rejects a value. Permanent for this object.</summary>
    InvalidValue,
    Unauthorized,
    /// <summary>429 after the client's own waiting budget; retry later.</summary>
    Throttled,
    /// <summary>5xx, timeouts, resets, or the call's time budget spent; retry later.</summary>
    Transient,
    Permanent,
}

/// <summary>What the target said. <paramref name="Status"/> is the HTTP status (0 when no response arrived);
/// <paramref name="CorrelationId"/> is Genesys's ININ-Correlation-Id (else the body's contextId), for support;
/// <paramref name="UserName"/> is the clashing userName on a Uniqueness outcome.</summary>
public sealed record ScimError(int Status, string? ScimType, string Detail, string? CorrelationId, string? UserName = null);

/// <summary>Thrown only where no result can be returned (an enumeration that cannot finish): a partial
/// listing must never be read as the full set.</summary>
public sealed class ScimException(string message, ScimOutcome outcome, ScimError? error)
    : Exception(error is null ? $"{message}: {outcome}." : $"{message}: {outcome} ({error.Status} {error.Detail}).")
{
    public ScimOutcome Outcome { get; } = outcome;

    public ScimError? Error { get; } = error;
}

/// <summary>The outcome of one client call. On Ok the value is set; on NotModified the value carries the id and
/// version with an empty body; on Uniqueness after a create the value is the existing resource when it was found.</summary>
public sealed record ScimResult<T>(ScimOutcome Outcome, T? Value = default, ScimError? Error = null)
{
    public bool IsSuccess => Outcome is ScimOutcome.Ok or ScimOutcome.NotModified;

    public static ScimResult<T> Success(T value) => new(ScimOutcome.Ok, value);

    public static ScimResult<T> Failure(ScimOutcome outcome, ScimError? error) => new(outcome, default, error);
}

/// <summary>What the configured target can do; the engine asks this instead of knowing the vendor.</summary>
/// <param name="SupportsETags">Send If-Match / If-None-Match.</param>
/// <param name="CanCreateGroups">Genesys: false (groups are made outside SCIM).</param>
/// <param name="CanDeleteGroups">Genesys: false.</param>
/// <param name="SupportedUserSchemas">Extension schema URNs the target accepts.</param>
public sealed record ScimTargetCapabilities(
    bool SupportsETags,
    bool CanCreateGroups,
    bool CanDeleteGroups,
    int MemberPatchChunkSize,
    IReadOnlySet<string> SupportedUserSchemas);

/// <summary>Counts of what the client actually sent, for cost assertions and run summaries.</summary>
public sealed record ScimRequestCounts(long Requests, long Writes, long Throttled, long Retries);
