using Azure.Identity;
using Microsoft.Graph.Models.ODataErrors;
using Microsoft.Kiota.Abstractions;

namespace ScimFunctions.Provisioning.Directory;

/// <summary>Sorts Graph failures: a real "not found", an expired delta token, or a
/// <see cref="DirectoryUnavailableException"/> that must never be read as "the object is gone".</summary>
internal static class GraphFailure
{
    /// <summary>Codes Graph puts in a 404 that really means "no such object". A 404 without one of these
    /// (a proxy, a wrong base URL) is a failure, so a misconfiguration cannot turn everyone into a leaver.</summary>
    private static readonly HashSet<string> NotFoundCodes = new(StringComparer.OrdinalIgnoreCase)
    {
        "Request_ResourceNotFound", "ResourceNotFound", "itemNotFound", "ErrorItemNotFound",
    };

    /// <summary>Codes that mean the delta token can no longer be used and a full round must start.</summary>
    private static readonly HashSet<string> ExpiredTokenCodes = new(StringComparer.OrdinalIgnoreCase)
    {
        "syncStateNotFound", "syncStateInvalid", "resyncRequired",
    };

    public static bool IsRealNotFound(Exception exception) =>
        exception is ODataError { ResponseStatusCode: 404 } error && IsNotFoundCode(error.Error?.Code);

    public static bool IsNotFoundCode(string? code) => code is not null && NotFoundCodes.Contains(code);

    public static bool IsTransientStatus(int status) => status is 408 or 429 || status >= 500;

    /// <summary>Any 404 from Graph; enough where the consequence is only a recreate (subscriptions).</summary>
    public static bool IsNotFound(Exception exception) => exception is ApiException { ResponseStatusCode: 404 };

    public static bool IsExpiredDeltaToken(Exception exception) => exception switch
    {
        ApiException { ResponseStatusCode: 410 } => true,
        ODataError { Error.Code: { } code } => ExpiredTokenCodes.Contains(code),
        _ => false,
    };

    public static int? StatusOf(Exception exception) => exception switch
    {
        ApiException api => api.ResponseStatusCode,
        AggregateException aggregate => aggregate.InnerExceptions.OfType<ApiException>().LastOrDefault()?.ResponseStatusCode,
        _ => null,
    };

    /// <summary>Describes a Graph failure in words an operator can act on; never includes a token.</summary>
    public static string Describe(Exception exception) => exception switch
    {
        ODataError { Error: { } error } odata => $"HTTP {odata.ResponseStatusCode} {error.Code}: {error.Message}",
        ApiException api => $"HTTP {api.ResponseStatusCode}",
        AggregateException aggregate when aggregate.InnerExceptions.OfType<ApiException>().LastOrDefault() is { } last =>
            $"HTTP {last.ResponseStatusCode} after every retry the SDK was allowed ({aggregate.InnerExceptions.Count - 1} retries)",
        HttpRequestException http => $"Graph could not be reached ({http.Message})",
        TaskCanceledException or TimeoutException => "the request timed out",
        AuthenticationFailedException or CredentialUnavailableException => $"no Graph token could be obtained ({exception.Message})",
        _ => exception.Message,
    };

    public static DirectoryUnavailableException Wrap(Exception exception, string what)
    {
        var status = StatusOf(exception);
        var transient = exception switch
        {
            CredentialUnavailableException => false,
            AuthenticationFailedException => true,
            _ when status is { } s => IsTransientStatus(s),
            _ => true,
        };
        return new DirectoryUnavailableException($"Graph {what} failed: {Describe(exception)}.", exception, transient);
    }

    /// <summary>True for a cancellation the caller asked for; those propagate unchanged.</summary>
    public static bool IsCallerCancellation(Exception exception, CancellationToken cancellationToken) =>
        exception is OperationCanceledException && cancellationToken.IsCancellationRequested;
}
