namespace ScimFunctions.Provisioning.Scim;

/// <summary>Which failures a request may be retried after without risking a second effect.</summary>
internal enum ScimRetryMode
{
    /// <summary>Only a 429 (the server did not process it) or a failed token fetch (nothing was sent).</summary>
    ThrottleOnly,

    /// <summary>GET, PUT, DELETE, a PATCH with If-Match, member add/remove: repeating changes nothing.</summary>
    Idempotent,

    /// <summary>A create: repeated on timeout/5xx, and the caller resolves a following 409 by looking the resource up.</summary>
    Checkable,
}

/// <summary>Per-request facts the resilience pipeline reads (travels in <see cref="HttpRequestMessage.Options"/>):
/// how the request may be retried, when the calling operation's time budget runs out, and what happened.</summary>
internal sealed class ScimCall(ScimRetryMode mode, DateTimeOffset deadline)
{
    public static readonly HttpRequestOptionsKey<ScimCall> Key = new("ScimFunctions.Scim.Call");

    public ScimRetryMode Mode { get; } = mode;

    public DateTimeOffset Deadline { get; } = deadline;

    /// <summary>Retries after transient failures (429 retries do not count against MaxRetries).</summary>
    public int TransientRetries { get; set; }

    /// <summary>The request was sent more than once, so a later 409 on create may be our own earlier attempt.</summary>
    public bool Retried { get; set; }

    public static ScimCall? From(HttpRequestMessage? request) =>
        request is not null && request.Options.TryGetValue(Key, out var call) ? call : null;
}
