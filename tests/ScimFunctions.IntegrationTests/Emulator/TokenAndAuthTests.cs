using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace ScimFunctions.IntegrationTests.Emulator;

public sealed class TokenAndAuthTests(EmulatorFactory factory) : EmulatorTest(factory)
{
    private async Task<HttpResponseMessage> RequestTokenAsync(string clientId = "local-client", string secret = "local-secret", string grantType = "client_credentials")
    {
        using var client = Factory.CreateClient();
        var request = new HttpRequestMessage(HttpMethod.Post, "/oauth/token")
        {
            Content = new FormUrlEncodedContent([new("grant_type", grantType)]),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{clientId}:{secret}")));
        return await client.SendAsync(request);
    }

    [Fact]
    public async Task Token_WithBasicClientCredentials_IssuesBearerTokenThatOpensScim()
    {
        using var response = await RequestTokenAsync();
        var body = await ReadAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("bearer", body["token_type"]!.GetValue<string>());
        Assert.Equal(86_400, body["expires_in"]!.GetValue<int>());
        using var client = Factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", body["access_token"]!.GetValue<string>());
        using var users = await client.GetAsync($"{Base}/users");
        Assert.Equal(HttpStatusCode.OK, users.StatusCode);
    }

    [Fact]
    public async Task Token_WithWrongSecret_Answers401InvalidClient()
    {
        using var response = await RequestTokenAsync(secret: "wrong");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("invalid_client", (await ReadAsync(response))["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task Token_WithConfiguredCredentials_AcceptsThoseInstead()
    {
        Settings(o => (o.ClientId, o.ClientSecret) = ("other-client", "other-secret"));

        using var rejected = await RequestTokenAsync();
        using var accepted = await RequestTokenAsync("other-client", "other-secret");

        Assert.Equal(HttpStatusCode.Unauthorized, rejected.StatusCode);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
    }

    [Fact]
    public async Task Token_WithOtherGrantType_Answers400UnsupportedGrantType()
    {
        using var response = await RequestTokenAsync(grantType: "password");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("unsupported_grant_type", (await ReadAsync(response))["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task Scim_WithoutBearerToken_Answers401ErrorBodyWithNumericStatus()
    {
        using var client = Factory.CreateClient();
        using var response = await client.GetAsync($"{Base}/users");

        await AssertPlatformErrorAsync(response, 401, "authentication.required");
    }

    [Fact]
    public async Task Scim_WithUnknownBearerToken_Answers401BadCredentials()
    {
        using var client = Factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "not-a-token");
        using var response = await client.GetAsync($"{Base}/users");

        await AssertPlatformErrorAsync(response, 401, "bad.credentials");
    }

    [Fact]
    public async Task Scim_WithExpiredToken_Answers401()
    {
        Settings(o => o.TokenLifetimeSeconds = 300);
        using var tokenResponse = await RequestTokenAsync();
        var token = (await ReadAsync(tokenResponse))["access_token"]!.GetValue<string>();
        using var client = Factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

        using var before = await client.GetAsync($"{Base}/users");
        Factory.Time.Advance(TimeSpan.FromSeconds(300));
        using var after = await client.GetAsync($"{Base}/users");

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        await AssertPlatformErrorAsync(after, 401, "bad.credentials");
    }

    [Fact]
    public async Task EveryResponse_CarriesAnIninCorrelationId()
    {
        using var anonymous = Factory.CreateClient();
        var responses = new List<HttpResponseMessage>
        {
            await Client.GetAsync($"{Base}/users"),
            await Client.GetAsync($"{Base}/users/missing"),
            await anonymous.GetAsync($"{Base}/users"),
            await RequestTokenAsync(),
            await Client.GetAsync("/_emulator/counters"),
        };

        var ids = responses.Select(r => r.Headers.GetValues("ININ-Correlation-Id").Single()).ToList();
        Assert.All(ids, id => Assert.True(Guid.TryParse(id, out _)));
        Assert.Equal(ids.Count, ids.Distinct().Count());
        responses.ForEach(r => r.Dispose());
    }

    [Fact]
    public async Task UnknownPath_Answers404ErrorBody()
    {
        using var response = await Client.GetAsync("/api/v2/scim/v2/nothing-here");

        await AssertPlatformErrorAsync(response, 404, "not.found");
    }

    [Fact]
    public async Task Body_OverRequestBytesMax_Answers413ErrorBody()
    {
        Settings(o => o.MaxRequestBytes = 1_000);
        var user = NewUser("big@example.com");
        user["title"] = new string('x', 2_000);

        using var response = await SendAsync(HttpMethod.Post, $"{Base}/users", user);

        await AssertPlatformErrorAsync(response, 413, "request.entity.too.large");
    }

    [Fact]
    public async Task Body_WithNonJsonContentType_Answers415ErrorBody()
    {
        using var response = await Client.PostAsync($"{Base}/users", new StringContent("userName=a", Encoding.UTF8, "text/plain"));

        await AssertPlatformErrorAsync(response, 415, "unsupported.media.type");
    }

    [Fact]
    public async Task Body_WithMalformedJson_Answers400InvalidSyntax()
    {
        using var response = await Client.PostAsync($"{Base}/users", new StringContent("{\"userName\":", Encoding.UTF8, "application/json"));

        await AssertScimErrorAsync(response, 400, "invalidSyntax");
    }

    [Fact]
    public async Task AdminTokensExpire_MakesIssuedTokensAnswer401()
    {
        using var expire = await Client.PostAsync("/_emulator/tokens/expire", null);
        using var response = await Client.GetAsync($"{Base}/users");

        Assert.Equal(HttpStatusCode.OK, expire.StatusCode);
        Assert.True((await ReadAsync(expire))["expired"]!.GetValue<int>() >= 1);
        await AssertPlatformErrorAsync(response, 401, "bad.credentials");
    }
}
