namespace ScimFunctions.Provisioning.Scim;

/// <summary>Collects the target's correlation ids of the SCIM write requests sent while it is open, for the
/// history row of the action they belong to. The engine opens one per object it converges (an
/// <see cref="AsyncLocal{T}"/>, so parallel convergences each see their own) and
/// <see cref="ScimCorrelationHandler"/> adds to it; the convergers know nothing of it.</summary>
public sealed class ScimCorrelationScope : IDisposable
{
    private static readonly AsyncLocal<ScimCorrelationScope?> Current = new();

    private readonly ScimCorrelationScope? _outer;
    private readonly Lock _lock = new();
    private readonly List<string> _ids = [];

    private ScimCorrelationScope(ScimCorrelationScope? outer) => _outer = outer;

    /// <summary>Opens a scope for the current async flow; dispose it to close it.</summary>
    public static ScimCorrelationScope Begin()
    {
        var scope = new ScimCorrelationScope(Current.Value);
        Current.Value = scope;
        return scope;
    }

    /// <summary>The ids seen so far, in the order the answers came.</summary>
    public IReadOnlyList<string> Ids
    {
        get
        {
            lock (_lock)
            {
                return [.. _ids];
            }
        }
    }

    /// <summary>Records one write's correlation id in the innermost open scope (none open: nothing).</summary>
    internal static void Observe(string correlationId)
    {
        if (Current.Value is { } scope)
        {
            lock (scope._lock)
            {
                // A retried write has an id per attempt; a scope keeps a bounded number.
                if (scope._ids.Count < 16)
                {
                    scope._ids.Add(correlationId);
                }
            }
        }
    }

    public void Dispose()
    {
        if (ReferenceEquals(Current.Value, this))
        {
            Current.Value = _outer;
        }
    }
}

/// <summary>Innermost in the SCIM pipeline (each attempt): puts the correlation header of every write's answer
/// (<c>ININ-Correlation-Id</c> on Genesys; <c>X-Request-Id</c> on servers that send one) into the open
/// <see cref="ScimCorrelationScope"/>. Reads are not kept: the history says what was changed.</summary>
public sealed class ScimCorrelationHandler : DelegatingHandler
{
    private const string RequestIdHeader = "X-Request-Id";

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        if (IsWrite(request.Method) && (Header(response, ScimHeaders.GenesysCorrelationId) ?? Header(response, RequestIdHeader)) is { } id)
        {
            ScimCorrelationScope.Observe(id);
        }

        return response;
    }

    private static bool IsWrite(HttpMethod method) =>
        method == HttpMethod.Post || method == HttpMethod.Patch || method == HttpMethod.Put || method == HttpMethod.Delete;

    private static string? Header(HttpResponseMessage response, string name)
    {
        if (!response.Headers.NonValidated.TryGetValues(name, out var values))
        {
            return null;
        }

        foreach (var value in values)
        {
            // An id, not free text: bounded and printable, so a hostile header cannot fill a row.
            var trimmed = value.Trim();
            if (trimmed.Length is > 0 and <= 128 && trimmed.All(c => c > ' ' && c < 127))
            {
                return trimmed;
            }
        }

        return null;
    }
}
