using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace ScimFunctions.Provisioning.Scim;

/// <summary>
/// The SCIM HttpClient's handler chain, outermost first, and why it is in this order:
/// <code>
/// ResilienceHandler "scim" (Microsoft.Extensions.Http.Resilience)
///   1. call budget timeout  remaining Scim__CallTimeBudget of the calling operation
///   2. retry                jittered exponential back-off; 429 waits Retry-After
///   3. rate limiter         ScimRateLimiter, shared per target and credential (across instances with Scim__SharedBudgetTable)
///   4. attempt timeout      Scim__AttemptTimeout
/// ScimAuthHandler           bearer token; genesys: refresh once on 401 and resend
/// ScimTrafficHandler        counts, buffers the body, feeds 429 back to the limiter
/// ScimCorrelationHandler    keeps each write attempt's correlation id for the history (ScimCorrelationScope)
/// primary handler           sockets
/// </code>
/// 1 is outermost so queueing, back-off and every retry come out of one budget: a call never outlives the
///   Service Bus lock; when the budget is spent the caller gets a Transient outcome and the message is retried later.
/// 2 sits outside the limiter so each retry queues for a permit like a fresh request (retries cost the target's
///   budget too), and outside the attempt timeout so a hung attempt is retried.
/// 3 sits outside the attempt timeout so time spent queueing for a permit is never mistaken for a slow target.
/// 4 sits outside the auth handler so a hanging token fetch is bounded like the request it serves.
/// The auth handler sits outside the traffic handler so its 401 resend is counted and throttle-checked.
/// What retries where: this pipeline retries transport failures, attempt timeouts, 408 and 5xx only for requests
/// marked Idempotent (GET, PUT, DELETE, PATCH with If-Match, member add/remove) or Checkable (create: the client turns
/// a 409 after a retry into a lookup); any request is retried after a 429 (the target did not process it) while
/// Retry-After fits in the remaining budget, and after a transient token failure (nothing was sent).
/// Version conflicts are never retried here: the caller re-reads and re-decides.
/// </summary>
internal static class ScimResilience
{
    public const string PipelineName = "scim";

    // 429 retries are bounded by the call budget, transient ones by Scim__MaxRetries (both checked in ShouldRetry).
    private const int RetryCeiling = 100;

    public static void Configure(ResiliencePipelineBuilder<HttpResponseMessage> builder, IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<ScimOptions>>().Value;
        var limiter = services.GetRequiredService<ScimRateLimiter>();
        var state = services.GetRequiredService<ScimTargetState>();
        var timeProvider = services.GetRequiredService<TimeProvider>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger<ScimClient>();

        builder
            .AddTimeout(new TimeoutStrategyOptions
            {
                Name = "call-budget",
                TimeoutGenerator = args => ValueTask.FromResult(Remaining(args.Context, options, timeProvider) is var left && left > TimeSpan.Zero
                    ? left
                    : TimeSpan.FromMilliseconds(1)),
            })
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                Name = "retry",
                MaxRetryAttempts = RetryCeiling,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
                MaxDelay = options.CallTimeBudget,
                ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Outcome, args.Context, options, timeProvider)),
                DelayGenerator = args => ValueTask.FromResult(
                    args.Outcome.Result is { StatusCode: HttpStatusCode.TooManyRequests } throttled
                        ? ScimTrafficHandler.RetryAfter(throttled, timeProvider)
                        : null),
                OnRetry = args =>
                {
                    var request = args.Context.GetRequestMessage();
                    var call = ScimCall.From(request);
                    var throttledAttempt = args.Outcome.Result?.StatusCode == HttpStatusCode.TooManyRequests;
                    if (call is not null)
                    {
                        call.Retried = true;
                        if (!throttledAttempt)
                        {
                            call.TransientRetries++;
                        }
                    }

                    state.CountRetry();
                    var reason = args.Outcome.Result is { } result ? ((int)result.StatusCode).ToString() : args.Outcome.Exception?.GetType().Name ?? "unknown";
                    ScimLog.Retrying(logger, request?.Method.Method, request?.RequestUri?.AbsolutePath, reason, args.RetryDelay, args.AttemptNumber + 1, args.Outcome.Exception);
                    return ValueTask.CompletedTask;
                },
            })
            .AddRateLimiter(limiter)
            .AddTimeout(new TimeoutStrategyOptions { Name = "attempt", Timeout = options.AttemptTimeout });
    }

    internal static bool ShouldRetry(Outcome<HttpResponseMessage> outcome, ResilienceContext context, ScimOptions options, TimeProvider timeProvider)
    {
        var request = context.GetRequestMessage();
        var call = ScimCall.From(request);
        var mode = call?.Mode ?? (request is not null && IsIdempotentMethod(request.Method) ? ScimRetryMode.Idempotent : ScimRetryMode.ThrottleOnly);
        var retriesLeft = (call?.TransientRetries ?? 0) < options.MaxRetries;
        var mayRepeat = mode != ScimRetryMode.ThrottleOnly && retriesLeft;

        if (outcome.Exception is { } exception)
        {
            return exception switch
            {
                ScimTokenException token => token.IsTransient && retriesLeft,
                HttpRequestException or TimeoutRejectedException or IOException => mayRepeat,
                _ => false,
            };
        }

        var response = outcome.Result;
        if (response is null)
        {
            return false;
        }

        if (response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            var wait = ScimTrafficHandler.RetryAfter(response, timeProvider) ?? options.RetryBaseDelay;
            return wait < Remaining(context, options, timeProvider);
        }

        var transientStatus = response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.InternalServerError
            or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;
        return transientStatus && mayRepeat;
    }

    private static bool IsIdempotentMethod(HttpMethod method) =>
        method == HttpMethod.Get || method == HttpMethod.Put || method == HttpMethod.Delete || method == HttpMethod.Head;

    private static TimeSpan Remaining(ResilienceContext context, ScimOptions options, TimeProvider timeProvider) =>
        ScimCall.From(context.GetRequestMessage()) is { } call ? call.Deadline - timeProvider.GetUtcNow() : options.CallTimeBudget;
}
