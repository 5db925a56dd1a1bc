using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using GenesysScimEmulator;
using GenesysScimEmulator.State;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace ScimFunctions.IntegrationTests.Emulator;

/// <summary>The emulator in-process (Program.cs through WebApplicationFactory) on a fake clock.
/// Any public type of the emulator assembly marks it; <c>Program</c> is ambiguous in this test assembly
/// (the Functions app and the CLI have one too).</summary>
public sealed class EmulatorFactory : WebApplicationFactory<EmulatorOptions>
{
    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero));

    public EmulatorState State => Services.GetRequiredService<EmulatorState>();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.ConfigureLogging(logging => logging.ClearProviders());
        builder.ConfigureTestServices(services => services.AddSingleton<TimeProvider>(Time));
    }
}

/// <summary>One emulator per test class, reset before each test; a client holding a valid token.</summary>
public abstract class EmulatorTest : IClassFixture<EmulatorFactory>
{
    protected const string Base = "/api/v2/scim/v2";
    protected const string Legacy = "/api/v2/scim";
    protected const string ScimError = "urn:ietf:params:scim:api:messages:2.0:Error";
    protected const string PatchOp = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
    protected const string Enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    protected const string Genesys = "urn:ietf:params:scim:schemas:extension:genesys:purecloud:2.0:User";

    protected EmulatorTest(EmulatorFactory factory)
    {
        Factory = factory;
        State.Reset();
        Client = factory.CreateClient();
        Token = State.Tokens.Issue().AccessToken;
        Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
    }

    protected EmulatorFactory Factory { get; }

    protected EmulatorState State => Factory.State;

    protected HttpClient Client { get; }

    protected string Token { get; }

    protected void Settings(Action<EmulatorOptions> change) => State.Settings.Update(change);

    protected static StringContent JsonBody(JsonNode body, string mediaType = "application/scim+json") =>
        new(body.ToJsonString(), Encoding.UTF8, mediaType);

    protected Task<HttpResponseMessage> SendAsync(HttpMethod method, string url, JsonNode? body = null, string? ifMatch = null, string? ifNoneMatch = null)
    {
        var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            request.Content = JsonBody(body);
        }

        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        if (ifNoneMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        }

        return Client.SendAsync(request);
    }

    protected static async Task<JsonObject> ReadAsync(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();

    protected static JsonObject NewUser(string userName, string? displayName = null) => new()
    {
        ["schemas"] = new JsonArray("urn:ietf:params:scim:schemas:core:2.0:User"),
        ["userName"] = userName,
        ["displayName"] = displayName ?? userName.Split('@')[0],
    };

    protected async Task<JsonObject> CreateUserAsync(string userName, Action<JsonObject>? customize = null)
    {
        var body = NewUser(userName);
        customize?.Invoke(body);
        using var response = await SendAsync(HttpMethod.Post, $"{Base}/users", body);
        var json = await ReadAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"Create {userName}: {(int)response.StatusCode} {json}");
        return json;
    }

    protected static string Id(JsonObject resource) => resource["id"]!.GetValue<string>();

    protected static string Version(JsonObject resource) => resource["meta"]!["version"]!.GetValue<string>();

    protected static JsonObject PatchBody(params (string Op, string? Path, JsonNode? Value)[] operations)
    {
        var ops = new JsonArray();
        foreach (var (op, path, value) in operations)
        {
            var item = new JsonObject { ["op"] = op };
            if (path is not null)
            {
                item["path"] = path;
            }

            if (value is not null)
            {
                item["value"] = value;
            }

            ops.Add(item);
        }

        return new JsonObject { ["schemas"] = new JsonArray(PatchOp), ["Operations"] = ops };
    }

    protected Task<HttpResponseMessage> PatchUserAsync(string id, params (string Op, string? Path, JsonNode? Value)[] operations) =>
        SendAsync(HttpMethod.Patch, $"{Base}/users/{id}", PatchBody(operations));

    protected string AddGroup(string displayName, params string[] members)
    {
        var body = new JsonObject { ["displayName"] = displayName, ["members"] = new JsonArray([.. members.Select(m => (JsonNode)new JsonObject { ["value"] = m })]) };
        return Id(State.Store.AddGroup(body, EmulatorState.DefaultUrls).Body);
    }

    protected static JsonArray Members(params string[] ids) => new([.. ids.Select(id => (JsonNode)new JsonObject { ["value"] = id })]);

    protected static async Task AssertScimErrorAsync(HttpResponseMessage response, int status, string? scimType)
    {
        var body = await ReadAsync(response);
        Assert.True((int)response.StatusCode == status, $"Expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal(ScimError, body["schemas"]![0]!.GetValue<string>());
        Assert.Equal(status.ToString(System.Globalization.CultureInfo.InvariantCulture), body["status"]!.GetValue<string>());
        Assert.Equal(scimType, body["scimType"]?.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(body["detail"]?.GetValue<string>()));
    }

    protected static async Task<JsonObject> AssertPlatformErrorAsync(HttpResponseMessage response, int status, string code)
    {
        var body = await ReadAsync(response);
        Assert.True((int)response.StatusCode == status, $"Expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal(status, body["status"]!.GetValue<int>());
        Assert.Equal(code, body["code"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(body["message"]?.GetValue<string>()));
        Assert.Equal(response.Headers.GetValues("ININ-Correlation-Id").Single(), body["contextId"]!.GetValue<string>());
        return body;
    }

    protected async Task<JsonArray> ListAsync(string url)
    {
        using var response = await Client.GetAsync(url);
        var body = await ReadAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {url}: {(int)response.StatusCode} {body}");
        return body["Resources"]!.AsArray();
    }
}
