using System.Net;
using Microsoft.Extensions.Time.Testing;
using Polly;
using Polly.Timeout;
using ScimFunctions.Provisioning.Scim;

namespace ScimFunctions.Tests.Scim;

public sealed class ScimResilienceTests
{
    private readonly FakeTimeProvider time = new();
    private readonly ScimOptions options = new() { MaxRetries = 2 };

    public static TheoryData<string, string, int, bool> StatusCases => new()
    {
        { "POST", nameof(ScimRetryMode.Checkable), 503, true },
        { "POST", nameof(ScimRetryMode.Checkable), 500, true },
        { "GET", nameof(ScimRetryMode.Idempotent), 504, true },
        { "GET", nameof(ScimRetryMode.Idempotent), 408, true },
        { "PATCH", nameof(ScimRetryMode.ThrottleOnly), 503, false },
        { "PATCH", nameof(ScimRetryMode.ThrottleOnly), 429, true },
        { "POST", nameof(ScimRetryMode.Checkable), 429, true },
        { "PUT", nameof(ScimRetryMode.Idempotent), 400, false },
        { "PUT", nameof(ScimRetryMode.Idempotent), 412, false },
        { "PUT", nameof(ScimRetryMode.Idempotent), 409, false },
        { "GET", nameof(ScimRetryMode.Idempotent), 404, false },
        { "GET", nameof(ScimRetryMode.Idempotent), 501, false },
    };

    [Theory]
    [MemberData(nameof(StatusCases))]
    public void ShouldRetry_DependsOnStatusAndRetryMode(string method, string mode, int status, bool expected)
    {
        var context = Context(method, Enum.Parse<ScimRetryMode>(mode), TimeSpan.FromSeconds(30), out _);

        Assert.Equal(expected, ScimResilience.ShouldRetry(Outcome.FromResult(new HttpResponseMessage((HttpStatusCode)status)), context, options, time));
    }

    [Theory]
    [InlineData(nameof(ScimRetryMode.Idempotent), true)]
    [InlineData(nameof(ScimRetryMode.Checkable), true)]
    [InlineData(nameof(ScimRetryMode.ThrottleOnly), false)]
    public void ShouldRetry_TransportFailuresAndTimeouts_OnlyWhenRepeatable(string mode, bool expected)
    {
        var context = Context("POST", Enum.Parse<ScimRetryMode>(mode), TimeSpan.FromSeconds(30), out _);

        Assert.Equal(expected, ScimResilience.ShouldRetry(Outcome.FromException<HttpResponseMessage>(new HttpRequestException("reset")), context, options, time));
        Assert.Equal(expected, ScimResilience.ShouldRetry(Outcome.FromException<HttpResponseMessage>(new TimeoutRejectedException()), context, options, time));
    }

    [Fact]
    public void ShouldRetry_TransientTokenFailure_EvenForNonRepeatableRequests()
    {
        var context = Context("PATCH", ScimRetryMode.ThrottleOnly, TimeSpan.FromSeconds(30), out _);

        Assert.True(ScimResilience.ShouldRetry(Outcome.FromException<HttpResponseMessage>(new ScimTokenException("down", true, 503)), context, options, time));
        Assert.False(ScimResilience.ShouldRetry(Outcome.FromException<HttpResponseMessage>(new ScimTokenException("bad secret", false, 401)), context, options, time));
    }

    [Fact]
    public void ShouldRetry_StopsAfterMaxRetries()
    {
        var context = Context("GET", ScimRetryMode.Idempotent, TimeSpan.FromSeconds(30), out var call);
        call.TransientRetries = 2;

        Assert.False(ScimResilience.ShouldRetry(Outcome.FromResult(new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)), context, options, time));
    }

    [Theory]
    [InlineData(5, 10, true)]
    [InlineData(30, 10, false)]
    public void ShouldRetry_429_OnlyWhenRetryAfterFitsTheRemainingBudget(int retryAfterSeconds, int budgetSeconds, bool expected)
    {
        var context = Context("GET", ScimRetryMode.Idempotent, TimeSpan.FromSeconds(budgetSeconds), out _);
        var throttled = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        throttled.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(retryAfterSeconds));

        Assert.Equal(expected, ScimResilience.ShouldRetry(Outcome.FromResult(throttled), context, options, time));
    }

    private ResilienceContext Context(string method, ScimRetryMode mode, TimeSpan budget, out ScimCall call)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), "https://scim.example.com/Users");
        call = new ScimCall(mode, time.GetUtcNow() + budget);
        request.Options.Set(ScimCall.Key, call);
        var context = ResilienceContextPool.Shared.Get();
        context.SetRequestMessage(request);
        return context;
    }
}
