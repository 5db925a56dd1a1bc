using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ScimFunctions.Provisioning.Scim;

namespace ScimFunctions.Tests.Scim;

public sealed class ScimTrafficHandlerTests
{
    [Fact]
    public async Task Send_ResponseOverTheBufferLimit_FailsInsteadOfBufferingIt()
    {
        using var invoker = Invoker(new byte[ScimTrafficHandler.MaxResponseBytes + 1]);

        await Assert.ThrowsAsync<HttpRequestException>(() => invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, "https://scim.example.com/Users"), CancellationToken.None));
    }

    [Fact]
    public async Task Send_ResponseWithinTheLimit_IsBuffered()
    {
        using var invoker = Invoker(new byte[1024]);

        using var response = await invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, "https://scim.example.com/Users"), CancellationToken.None);

        Assert.Equal(1024, (await response.Content.ReadAsByteArrayAsync()).Length);
    }

    public static TheoryData<string> FarRetryAfters => new() { "seconds", "date" };

    [Theory]
    [MemberData(nameof(FarRetryAfters))]
    public async Task Throttled_WithRetryAfterBeyondTheCallBudget_PausesTheLimiterBrieflyNotForIt(string form)
    {
        // Retry-After of a day (as seconds, or as an HTTP date a month ahead): no caller can wait that long, so
        // holding every caller of the worker for it would only turn each of their calls into a budget timeout.
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 10, 0, 0, TimeSpan.Zero));
        using var provider = ScimServices(time, callTimeBudget: TimeSpan.FromSeconds(45));
        var limiter = provider.GetRequiredService<ScimRateLimiter>();
        var handler = provider.GetRequiredService<ScimTrafficHandler>();
        handler.InnerHandler = new StubHandler((_, _) =>
        {
            var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
            response.Headers.RetryAfter = form == "seconds"
                ? new RetryConditionHeaderValue(TimeSpan.FromDays(1))
                : new RetryConditionHeaderValue(time.GetUtcNow().AddDays(30));
            return response;
        });
        using var invoker = new HttpMessageInvoker(handler);

        using var throttled = await invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, "https://scim.example.com/Users"), CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
        using var lease = limiter.AttemptAcquire(1);
        Assert.True(lease.IsAcquired, "the limiter still holds every caller for the target's Retry-After");
    }

    [Fact]
    public async Task Throttled_WithRetryAfterWithinTheBudget_PausesTheLimiterForIt()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 10, 0, 0, TimeSpan.Zero));
        using var provider = ScimServices(time, callTimeBudget: TimeSpan.FromSeconds(45));
        var limiter = provider.GetRequiredService<ScimRateLimiter>();
        var handler = provider.GetRequiredService<ScimTrafficHandler>();
        handler.InnerHandler = new StubHandler((_, _) =>
        {
            var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
            response.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(20));
            return response;
        });
        using var invoker = new HttpMessageInvoker(handler);

        using var throttled = await invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, "https://scim.example.com/Users"), CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(19));
        using var early = limiter.AttemptAcquire(1);
        time.Advance(TimeSpan.FromSeconds(2));
        using var late = limiter.AttemptAcquire(1);

        Assert.False(early.IsAcquired);
        Assert.True(late.IsAcquired);
    }

    [Fact]
    public void SharedBudgetTable_WithoutTableStorage_FailsNamingTheSetting()
    {
        using var provider = ScimServices(new FakeTimeProvider(), TimeSpan.FromSeconds(45), sharedBudgetTable: "scimratebudget");

        var error = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<ScimRateLimiter>());

        Assert.Contains("Scim__SharedBudgetTable", error.Message, StringComparison.Ordinal);
    }

    private static ServiceProvider ScimServices(TimeProvider time, TimeSpan callTimeBudget, string? sharedBudgetTable = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Scim:Profile"] = "scim",
            ["Scim:BaseUrl"] = "https://scim.example.com/",
            ["Scim:BearerToken"] = "static-test-token",
            ["Scim:CallTimeBudget"] = callTimeBudget.ToString(),
            ["Scim:SharedBudgetTable"] = sharedBudgetTable,
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton(time);
        services.AddLogging();
        services.AddScimTarget(configuration);
        return services.BuildServiceProvider();
    }

    private static HttpMessageInvoker Invoker(byte[] body)
    {
        var time = new FakeTimeProvider();
        var stub = new StubHandler((_, _) => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(new MemoryStream(body)) });
        var handler = new ScimTrafficHandler(new ScimTargetState(), new ScimRateLimiter(300, 10, time), Options.Create(new ScimOptions()), time, NullLogger<ScimTrafficHandler>.Instance) { InnerHandler = stub };
        return new HttpMessageInvoker(handler);
    }
}
