using GenesysScimEmulator.Scim;
using GenesysScimEmulator.State;

namespace GenesysScimEmulator.Http;

/// <summary>What a request is about, for counters and fault scopes: token, users, groups,
/// serviceproviderconfig, resourcetypes, schemas, admin or other.</summary>
public static class RequestKind
{
    public const string Token = "token";
    public const string Admin = "admin";
    public const string Other = "other";

    private static readonly string[] ScimKinds = ["users", "groups", "serviceproviderconfig", "resourcetypes", "schemas"];

    public static string Of(PathString path)
    {
        var value = path.Value ?? "";
        if (value.StartsWith(AdminEndpointsPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return Admin;
        }

        if (value.TrimEnd('/').Equals("/oauth/token", StringComparison.OrdinalIgnoreCase))
        {
            return Token;
        }

        if (!IsScim(path))
        {
            return Other;
        }

        var segments = value[ScimHttp.LegacyBase.Length..].Split('/', StringSplitOptions.RemoveEmptyEntries);
        var index = segments.Length > 1 && segments[0].Equals("v2", StringComparison.OrdinalIgnoreCase) ? 1 : 0;
        var kind = segments.Length > index ? segments[index].ToLowerInvariant() : Other;
        return ScimKinds.Contains(kind) ? kind : Other;
    }

    /// <summary>Everything under /api/ needs a bearer token, as on the real platform.</summary>
    public static bool NeedsToken(PathString path) => path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase);

    public static bool IsScim(PathString path) => path.StartsWithSegments(ScimHttp.LegacyBase, StringComparison.OrdinalIgnoreCase);

    public const string AdminEndpointsPrefix = "/_emulator";
}

/// <summary>Sets ININ-Correlation-Id on every answer and counts every non-admin request and its outcome.</summary>
public sealed class CorrelationAndCountingMiddleware(RequestDelegate next)
{
    public const string DroppedItem = "emulator.dropped";

    public async Task InvokeAsync(HttpContext context, RequestCounters counters)
    {
        context.Response.Headers[ScimHttp.CorrelationHeader] = context.CorrelationId();
        var kind = RequestKind.Of(context.Request.Path);
        if (kind == RequestKind.Admin)
        {
            await next(context);
            return;
        }

        var method = context.Request.Method.ToUpperInvariant();
        counters.Received(method, kind);
        try
        {
            await next(context);
        }
        finally
        {
            var outcome = context.Items.ContainsKey(DroppedItem)
                ? "aborted"
                : context.Response.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture);
            counters.Answered(method, kind, outcome);
        }
    }
}

/// <summary>Turns <see cref="ScimException"/> into a ScimError and <see cref="PlatformException"/> into a
/// Genesys ErrorBody.</summary>
public sealed partial class ErrorBodyMiddleware(RequestDelegate next, ILogger<ErrorBodyMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context, EmulatorSettings settings)
    {
        try
        {
            await next(context);
        }
        catch (ScimException e) when (!context.Response.HasStarted)
        {
            if (e.Status == StatusCodes.Status404NotFound && settings.Current.NotFoundBody == ErrorShape.Platform)
            {
                await context.WritePlatformError(404, "not.found", e.Message);
            }
            else
            {
                await context.WriteScimError(e.Status, e.ScimType, e.Message);
            }
        }
        catch (PlatformException e) when (!context.Response.HasStarted)
        {
            if (e.Status == StatusCodes.Status429TooManyRequests)
            {
                await context.WriteTooManyRequests(e.RetryAfterSeconds ?? 1, null, e.Code, e.Message);
            }
            else
            {
                await context.WritePlatformError(e.Status, e.Code, e.Message);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException && !context.Response.HasStarted)
        {
            // A bug in the emulator still answers like the platform does, with the correlation id to find it.
            LogUnexpected(logger, e, context.Request.Method, context.Request.Path, context.CorrelationId());
            await context.WritePlatformError(500, "internal.server.error", "The server encountered an internal error.");
        }
    }

    [LoggerMessage(EventId = 2, Level = LogLevel.Error, Message = "Unexpected error answering {Method} {Path} (correlation {CorrelationId})")]
    private static partial void LogUnexpected(ILogger logger, Exception exception, string method, string path, string correlationId);
}

/// <summary>Injected faults: latency, dropped connections, 5xx, 429 (see <see cref="FaultInjector"/>).</summary>
public sealed class FaultMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context, FaultInjector faults, TimeProvider time)
    {
        var kind = RequestKind.Of(context.Request.Path);
        if (kind is RequestKind.Admin or RequestKind.Other)
        {
            await next(context);
            return;
        }

        var decision = faults.Decide(context.Request.Method, kind);
        if (decision.Latency > TimeSpan.Zero)
        {
            await Task.Delay(decision.Latency, time, context.RequestAborted);
        }

        if (decision.Drop)
        {
            context.Items[CorrelationAndCountingMiddleware.DroppedItem] = true;
            context.Abort();
            return;
        }

        if (decision.ErrorStatus is { } status)
        {
            var (code, message) = status switch
            {
                503 => ("service.unavailable", "Service Unavailable. The service is temporarily unable to handle the request."),
                502 => ("bad.gateway", "Bad Gateway."),
                504 => ("gateway.timeout", "The request timed out."),
                _ => ("internal.server.error", "The server encountered an internal error. (injected fault)"),
            };
            await context.WritePlatformError(status, code, message);
            return;
        }

        if (decision.ThrottleRetryAfterSeconds is { } retryAfter)
        {
            await context.WriteTooManyRequests(retryAfter, null);
            return;
        }

        await next(context);
    }
}

/// <summary>Bearer tokens issued by /oauth/token on every /api/ path (401 ErrorBody when missing, unknown or
/// expired), then the per-token rate limit (429 with Retry-After).</summary>
public sealed class BearerTokenMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context, TokenStore tokens, EmulatorSettings settings)
    {
        if (!RequestKind.NeedsToken(context.Request.Path))
        {
            await next(context);
            return;
        }

        var header = context.Request.Headers.Authorization.ToString();
        const string Scheme = "Bearer ";
        if (!header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) || header.Length == Scheme.Length)
        {
            await context.WritePlatformError(401, "authentication.required", "No authentication bearer token specified in authorization header.");
            return;
        }

        var token = header[Scheme.Length..].Trim();
        if (tokens.Check(token) != TokenStatus.Valid)
        {
            await context.WritePlatformError(401, "bad.credentials", "Invalid login credentials.");
            return;
        }

        var limit = settings.Current.RateLimitPerMinute;
        if (!tokens.TryConsume(token, limit, out var retryAfter))
        {
            await context.WriteTooManyRequests(retryAfter, limit);
            return;
        }

        await next(context);
    }
}
