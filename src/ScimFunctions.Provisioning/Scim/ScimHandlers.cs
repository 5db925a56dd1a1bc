using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ScimFunctions.Provisioning.Scim;

/// <summary>Puts the bearer token on each attempt. On a 401 with an OAuth token (genesys), forgets that token,
/// fetches a new one and sends the request once more (U19); a second 401 goes back to the caller.</summary>
public sealed class ScimAuthHandler(ScimTokenSource tokens, ScimRateLimiter limiter, ILogger<ScimAuthHandler> logger) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var token = await tokens.GetTokenAsync(cancellationToken);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var response = await base.SendAsync(request, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Unauthorized || !tokens.CanRefresh)
        {
            return response;
        }

        ScimLog.TokenRejected(logger, request.Method.Method, request.RequestUri?.AbsolutePath);
        response.Dispose();
        tokens.Invalidate(token);
        token = await tokens.GetTokenAsync(cancellationToken);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);

        // The second send costs the target a request like any other: take a permit for it.
        using (await limiter.AcquireAsync(1, cancellationToken))
        {
            return await base.SendAsync(request, cancellationToken);
        }
    }
}

/// <summary>Sees every request that reaches the wire: counts it, buffers the body inside the pipeline (so a
/// reset mid-body is retried like any transport failure), notices ETag support, and feeds 429s back to the
/// shared limiter so every caller pauses for Retry-After, not just the one that was refused. A Retry-After longer
/// than <see cref="ScimOptions.CallTimeBudget"/> (seconds, or an HTTP date far ahead) is not a pause any caller can
/// sit out: the refused call is Throttled at once (see <see cref="ScimResilience"/>) and the limiter pauses as for a
/// 429 without Retry-After (1 s, rate halved) instead of holding every caller of the worker for the full value.</summary>
public sealed class ScimTrafficHandler(
    ScimTargetState state,
    ScimRateLimiter limiter,
    IOptions<ScimOptions> options,
    TimeProvider timeProvider,
    ILogger<ScimTrafficHandler> logger)
    : DelegatingHandler
{
    /// <summary>Largest response body read into memory (a full page of users is well under 1 MiB).</summary>
    public const int MaxResponseBytes = 16 * 1024 * 1024;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        state.CountRequest(request.Method);
        var response = await base.SendAsync(request, cancellationToken);
        try
        {
            // A misbehaving target or proxy must not exhaust the worker's memory: past the limit this is a
            // transport failure (HttpRequestException), not a body to parse.
            await response.Content.LoadIntoBufferAsync(MaxResponseBytes, cancellationToken);
        }
        catch
        {
            response.Dispose();
            throw;
        }

        if (response.Headers.NonValidated.Contains(ScimHeaders.ETag))
        {
            state.ObserveETagHeader();
        }

        if (response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            var retryAfter = RetryAfter(response, timeProvider);
            var budget = options.Value.CallTimeBudget;
            var pause = retryAfter > budget ? null : retryAfter;
            state.CountThrottled();
            limiter.OnThrottled(pause);
            if (pause == retryAfter)
            {
                ScimLog.Throttled(logger, request.Method.Method, request.RequestUri?.AbsolutePath, retryAfter);
            }
            else
            {
                ScimLog.ThrottledBeyondBudget(logger, request.Method.Method, request.RequestUri?.AbsolutePath, retryAfter!.Value, budget);
            }
        }

        return response;
    }

    /// <summary>Retry-After as seconds or an HTTP date; null when absent or unreadable.</summary>
    internal static TimeSpan? RetryAfter(HttpResponseMessage response, TimeProvider timeProvider)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - timeProvider.GetUtcNow();
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        return null;
    }
}
