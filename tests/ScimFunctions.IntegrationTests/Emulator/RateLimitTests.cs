using System.Net;
using System.Net.Http.Headers;

namespace ScimFunctions.IntegrationTests.Emulator;

public sealed class RateLimitTests(EmulatorFactory factory) : EmulatorTest(factory)
{
    [Fact]
    public async Task RequestsOverTheLimitPerToken_Answer429WithRetryAfterAndGenesysErrorBody()
    {
        Settings(o => o.RateLimitPerMinute = 3);
        for (var i = 0; i < 3; i++)
        {
            using var ok = await Client.GetAsync($"{Base}/users");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        Factory.Time.Advance(TimeSpan.FromSeconds(20));
        using var limited = await Client.GetAsync($"{Base}/users");

        var body = await AssertPlatformErrorAsync(limited, 429, "too.many.requests.retry.after");
        Assert.Equal(TimeSpan.FromSeconds(40), limited.Headers.RetryAfter!.Delta);
        Assert.Contains("[40]", body["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(3, body["limit"]!["value"]!.GetValue<int>());
    }

    [Fact]
    public async Task RateLimitWindow_AfterAMinute_AllowsRequestsAgain()
    {
        Settings(o => o.RateLimitPerMinute = 1);
        using var first = await Client.GetAsync($"{Base}/users");
        using var limited = await Client.GetAsync($"{Base}/users");

        Factory.Time.Advance(TimeSpan.FromMinutes(1));
        using var again = await Client.GetAsync($"{Base}/users");

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task RateLimit_IsCountedPerToken()
    {
        Settings(o => o.RateLimitPerMinute = 1);
        using var first = await Client.GetAsync($"{Base}/users");
        using var limited = await Client.GetAsync($"{Base}/users");
        using var other = Factory.CreateClient();
        other.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", State.Tokens.Issue().AccessToken);

        using var otherToken = await other.GetAsync($"{Base}/users");

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal(HttpStatusCode.OK, otherToken.StatusCode);
    }

    [Fact]
    public async Task RateLimit_DefaultsTo300PerMinute()
    {
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 301; i++)
        {
            using var response = await Client.GetAsync($"{Base}/serviceproviderconfig");
            statuses.Add(response.StatusCode);
        }

        Assert.All(statuses.Take(300), s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[300]);
    }
}
