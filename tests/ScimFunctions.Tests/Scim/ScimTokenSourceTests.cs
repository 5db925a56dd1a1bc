using System.Net;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ScimFunctions.Provisioning.Scim;

namespace ScimFunctions.Tests.Scim;

public sealed class ScimTokenSourceTests
{
    private const string Secret = "client-secret-do-not-leak";
    private readonly FakeTimeProvider time = new();

    [Fact]
    public async Task GetToken_PostsClientCredentialsWithBasicAuthToTheRegionLogin()
    {
        var login = new StubHandler((_, n) => TokenResponse($"token-{n}", 300));
        using var source = Source(login);

        var token = await source.GetTokenAsync();

        Assert.Equal("token-1", token);
        var (request, body) = Assert.Single(login.Received);
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal(new Uri("https://login.mypurecloud.ie/oauth/token"), request.RequestUri);
        Assert.Equal("Basic", request.Headers.Authorization!.Scheme);
        Assert.Equal("client-id:" + Secret, Encoding.UTF8.GetString(Convert.FromBase64String(request.Headers.Authorization.Parameter!)));
        Assert.Equal("grant_type=client_credentials", body);
    }

    [Fact]
    public async Task GetToken_IsCachedUntilShortlyBeforeExpiry()
    {
        var login = new StubHandler((_, n) => TokenResponse($"token-{n}", 300));
        using var source = Source(login);

        var first = await source.GetTokenAsync();
        time.Advance(TimeSpan.FromSeconds(269));
        var cached = await source.GetTokenAsync();
        time.Advance(TimeSpan.FromSeconds(2));
        var renewed = await source.GetTokenAsync();

        Assert.Equal("token-1", first);
        Assert.Equal("token-1", cached);
        Assert.Equal("token-2", renewed);
        Assert.Equal(2, login.Calls);
    }

    [Fact]
    public async Task GetToken_ConcurrentCallers_ShareOneFetch()
    {
        var login = new StubHandler((_, n) => TokenResponse($"token-{n}", 300));
        using var source = Source(login);

        var tokens = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => source.GetTokenAsync().AsTask()));

        Assert.All(tokens, t => Assert.Equal("token-1", t));
        Assert.Equal(1, login.Calls);
    }

    [Fact]
    public async Task Invalidate_OfTheCurrentToken_FetchesANewOne()
    {
        var login = new StubHandler((_, n) => TokenResponse($"token-{n}", 3600));
        using var source = Source(login);
        var first = await source.GetTokenAsync();

        source.Invalidate("some-older-token");
        var unchanged = await source.GetTokenAsync();
        source.Invalidate(first);
        var replaced = await source.GetTokenAsync();

        Assert.Equal("token-1", unchanged);
        Assert.Equal("token-2", replaced);
    }

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized, false)]
    [InlineData(HttpStatusCode.BadRequest, false)]
    [InlineData(HttpStatusCode.ServiceUnavailable, true)]
    [InlineData(HttpStatusCode.TooManyRequests, true)]
    public async Task GetToken_WhenLoginFails_ThrowsWithoutTheSecret(HttpStatusCode status, bool transient)
    {
        var login = new StubHandler((_, _) => new HttpResponseMessage(status) { Content = new StringContent("""{"error":"invalid_client"}""") });
        using var source = Source(login);

        var error = await Assert.ThrowsAsync<ScimTokenException>(() => source.GetTokenAsync().AsTask());

        Assert.Equal(transient, error.IsTransient);
        Assert.Equal((int)status, error.Status);
        Assert.DoesNotContain(Secret, error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes("client-id:" + Secret)), error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScimProfile_UsesTheConfiguredTokenWithoutCallingAnyone()
    {
        var login = new StubHandler((_, _) => throw new InvalidOperationException("no login for the scim profile"));
        using var source = new ScimTokenSource(new StubHttpClientFactory(login),
            Options.Create(new ScimOptions { Profile = "scim", BaseUrl = "https://scim.example.com", BearerToken = "static" }), time, NullLogger<ScimTokenSource>.Instance);

        Assert.Equal("static", await source.GetTokenAsync());
        Assert.False(source.CanRefresh);
        Assert.Equal(0, login.Calls);
    }

    [Fact]
    public async Task AuthHandler_On401_RefreshesTheTokenOnceAndResends()
    {
        var login = new StubHandler((_, n) => TokenResponse($"token-{n}", 3600));
        using var source = Source(login);
        var target = new StubHandler((request, _) => new HttpResponseMessage(
            request.Headers.Authorization!.Parameter == "token-1" ? HttpStatusCode.Unauthorized : HttpStatusCode.OK));
        using var limiter = new ScimRateLimiter(600, 10, time);
        using var handler = new ScimAuthHandler(source, limiter, NullLogger<ScimAuthHandler>.Instance) { InnerHandler = target };
        using var client = new HttpClient(handler);

        using var response = await client.GetAsync(new Uri("https://api.mypurecloud.ie/api/v2/scim/v2/users/1"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["token-1", "token-2"], target.Credentials);
    }

    [Fact]
    public async Task AuthHandler_WhenTheNewTokenIsRejectedToo_ReturnsThe401()
    {
        var login = new StubHandler((_, n) => TokenResponse($"token-{n}", 3600));
        using var source = Source(login);
        var target = new StubHandler((_, _) => new HttpResponseMessage(HttpStatusCode.Unauthorized));
        using var limiter = new ScimRateLimiter(600, 10, time);
        using var handler = new ScimAuthHandler(source, limiter, NullLogger<ScimAuthHandler>.Instance) { InnerHandler = target };
        using var client = new HttpClient(handler);

        using var response = await client.GetAsync(new Uri("https://api.mypurecloud.ie/api/v2/scim/v2/users/1"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(2, target.Calls);
    }

    private ScimTokenSource Source(StubHandler login) => new(
        new StubHttpClientFactory(login),
        Options.Create(new ScimOptions { Profile = "genesys", BaseUrl = "https://api.mypurecloud.ie/api/v2/scim/v2", ClientId = "client-id", ClientSecret = Secret }),
        time,
        NullLogger<ScimTokenSource>.Instance);

    private static HttpResponseMessage TokenResponse(string token, int expiresIn) => new(HttpStatusCode.OK)
    {
        Content = new StringContent($$"""{"access_token":"{{token}}","token_type":"bearer","expires_in":{{expiresIn}}}""", Encoding.UTF8, "application/json"),
    };
}
