using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using ScimFunctions.Provisioning.Scim;

namespace ScimFunctions.IntegrationTests.Scim;

/// <summary>The scim profile reads the target's /ServiceProviderConfig once and adapts to what it says (docs/scim-target.md,
/// "What the target says it supports"): ETags, PATCH, filter and its maxResults; bulk is never used. Each adaptation is
/// proven by the requests and headers the RFC double saw.</summary>
public sealed class ServiceProviderConfigTests : IAsyncLifetime
{
    private readonly FakeLogCollector logs = new();
    private RfcScimServer server = null!;

    public async Task InitializeAsync() => server = await RfcScimServer.StartAsync();

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task ServiceProviderConfig_IsReadOnce_AndWhatItSaysIsLoggedAsOneEvent()
    {
        using var client = NewClient();

        var id = (await client.CreateUserAsync(User("ada@example.org"))).Value!.Id;
        await client.GetUserAsync(id);
        await client.PatchUserAsync(id, [ScimPatchOperation.Replace("title", "Countess")], null);

        Assert.Single(server.RequestsTo("GET", "/scim/v2/ServiceProviderConfig"));
        var found = Assert.Single(logs.GetSnapshot(), r => r.Id.Id == 4110);
        Assert.Equal(LogLevel.Information, found.Level);
        Assert.Contains("etag True", found.Message, StringComparison.Ordinal);
        Assert.Contains("patch True", found.Message, StringComparison.Ordinal);
        Assert.Contains("maxResults 50", found.Message, StringComparison.Ordinal);
        Assert.Contains("bulk False (not used)", found.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ETagNotSupported_NoIfMatchIsSent_EvenWhenResponsesCarryETags()
    {
        // The server versions and answers with ETag headers, but says it does not support ETags: its word is taken, since
        // an If-Match it does not promise to honour would be a version check that checks nothing.
        server.ServiceProviderConfig = (200, Config(etag: false));
        using var client = NewClient();

        var created = await client.CreateUserAsync(User("barbara@example.org"));
        var patched = await client.PatchUserAsync(created.Value!.Id, [ScimPatchOperation.Replace("title", "Prof")], "W/\"1\"");
        var read = await client.GetUserAsync(created.Value.Id, ifNoneMatch: "W/\"2\"");

        Assert.False(client.Capabilities.SupportsETags);
        Assert.Null(patched.Value!.Version);
        Assert.Equal(ScimOutcome.Ok, read.Outcome);
        Assert.All(server.Requests, r => Assert.Equal("", r.IfMatch));
        Assert.All(server.Requests, r => Assert.Equal("", r.IfNoneMatch));
    }

    [Fact]
    public async Task ETagSupported_WritesCarryIfMatch()
    {
        server.ServiceProviderConfig = (200, Config(etag: true));
        using var client = NewClient();

        var created = await client.CreateUserAsync(User("carl@example.org"));
        await client.PatchUserAsync(created.Value!.Id, [ScimPatchOperation.Replace("title", "Prof")], created.Value.Version);

        Assert.True(client.Capabilities.SupportsETags);
        Assert.Equal("W/\"1\"", Assert.Single(server.RequestsTo("PATCH", "/scim/v2/Users")).IfMatch);
    }

    [Theory]
    [InlineData(false, true, "patch.supported")]
    [InlineData(true, false, "filter.supported")]
    public async Task PatchOrFilterNotSupported_EveryCallIsRefusedNamingIt_AndNothingIsWritten(bool patch, bool filter, string named)
    {
        server.ServiceProviderConfig = (200, Config(patch: patch, filter: filter));
        var existing = server.SeedUser("kept@example.org", externalId: "entra-kept");
        using var client = NewClient();

        var created = await client.CreateUserAsync(User("dora@example.org"));
        var patched = await client.PatchUserAsync(existing, [ScimPatchOperation.Replace("title", "X")], null);
        var found = await client.FindUserAsync("externalId", "entra-kept");

        Assert.All(new[] { created.Outcome, patched.Outcome, found.Outcome }, o => Assert.Equal(ScimOutcome.Permanent, o));
        Assert.Contains(named, patched.Error!.Detail, StringComparison.Ordinal);
        Assert.Equal(["GET /scim/v2/ServiceProviderConfig"], server.Requests.Select(r => $"{r.Method} {r.Path}"));
        Assert.Equal("kept@example.org", (string?)server.User(existing)!["userName"]);
        var refused = Assert.Single(logs.GetSnapshot(), r => r.Id.Id == 4117);
        Assert.Equal(LogLevel.Error, refused.Level);
        Assert.Contains(named, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FilterMaxResults_CapsThePageSize()
    {
        // The server would serve 100 a page; the document says at most 20 per response.
        server.MaxPageSize = 200;
        server.ServiceProviderConfig = (200, Config(maxResults: 20));
        for (var i = 0; i < 45; i++)
        {
            server.SeedUser($"user{i:D2}@example.org");
        }

        using var client = NewClient();

        var users = await client.ListUsersAsync().ToListAsync();

        Assert.Equal(45, users.Count);
        var pages = server.RequestsTo("GET", "/scim/v2/Users");
        Assert.Equal(3, pages.Count);
        Assert.All(pages, p => Assert.Contains("count=20", p.Query, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(404, """{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"404"}""", "answered 404")]
    [InlineData(200, "<html>not scim</html>", "not a JSON object")]
    [InlineData(200, """{"patch":"yes","etag":{"supported":1},"filter":{"supported":true,"maxResults":-5}}""", "patch.supported, etag.supported, filter.maxResults")]
    public async Task UnreadableServiceProviderConfig_SafeDefaultsAndOneWarning(int status, string body, string reason)
    {
        server.ServiceProviderConfig = (status, body);
        using var client = NewClient();

        var created = await client.CreateUserAsync(User("emil@example.org"));
        var first = await client.PatchUserAsync(created.Value!.Id, [ScimPatchOperation.Replace("title", "A")], null);
        await client.PatchUserAsync(created.Value.Id, [ScimPatchOperation.Replace("title", "B")], first.Value!.Version);
        await client.ListUsersAsync().ToListAsync();

        // Defaults: PATCH and filters assumed (a refusal by the server then names itself); ETags only once a response
        // carried an ETag header; pages of 100. Read once, one warning naming what was unusable.
        Assert.Equal(ScimOutcome.Ok, first.Outcome);
        Assert.Single(server.RequestsTo("GET", "/scim/v2/ServiceProviderConfig"));
        var warning = Assert.Single(logs.GetSnapshot(), r => r.Id.Id == 4116);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains(reason, warning.Message, StringComparison.Ordinal);
        Assert.Equal(["", "W/\"2\""], server.RequestsTo("PATCH", "/scim/v2/Users").Select(r => r.IfMatch));
        Assert.Contains("count=100", Assert.Single(server.RequestsTo("GET", "/scim/v2/Users")).Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServiceProviderConfigFailingTransiently_IsReadAgainOnTheNextCall()
    {
        server.Inject(new Fault(r => r.Path.EndsWith("/ServiceProviderConfig", StringComparison.Ordinal), Status: 503));
        server.Inject(new Fault(r => r.Path.EndsWith("/ServiceProviderConfig", StringComparison.Ordinal), Status: 503));
        server.Inject(new Fault(r => r.Path.EndsWith("/ServiceProviderConfig", StringComparison.Ordinal), Status: 503));
        server.Inject(new Fault(r => r.Path.EndsWith("/ServiceProviderConfig", StringComparison.Ordinal), Status: 503));
        using var client = NewClient(o => o.MaxRetries = 3);

        await client.CreateUserAsync(User("fay@example.org"));
        await client.CreateUserAsync(User("gus@example.org"));

        // Four 503s spend the first call's attempts; the second call reads it again and it answers.
        Assert.Equal(5, server.RequestsTo("GET", "/scim/v2/ServiceProviderConfig").Count);
        Assert.Single(logs.GetSnapshot(), r => r.Id.Id == 4110);
        Assert.DoesNotContain(logs.GetSnapshot(), r => r.Id.Id == 4116);
    }

    [Fact]
    public async Task HostStart_TargetWithoutPatch_StopsTheStartNamingIt_AndNothingElseIsSent()
    {
        server.ServiceProviderConfig = (200, Config(patch: false));
        await using var provider = Hosted(server.BaseUrl.ToString());

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Check(provider).StartAsync(CancellationToken.None));
        var created = await provider.GetRequiredService<IScimClient>().CreateUserAsync(User("hal@example.org"));

        Assert.Contains("patch.supported is false", error.Message, StringComparison.Ordinal);
        Assert.Equal(ScimOutcome.Permanent, created.Outcome);
        Assert.Equal(["GET /scim/v2/ServiceProviderConfig"], server.Requests.Select(r => $"{r.Method} {r.Path}"));
    }

    [Fact]
    public async Task HostStart_ReadsServiceProviderConfig_SoTheFirstCallDoesNotReadItAgain()
    {
        await using var provider = Hosted(server.BaseUrl.ToString());

        await Check(provider).StartAsync(CancellationToken.None);
        var created = await provider.GetRequiredService<IScimClient>().CreateUserAsync(User("ida@example.org"));

        Assert.Equal(ScimOutcome.Ok, created.Outcome);
        Assert.Equal(["GET /scim/v2/ServiceProviderConfig", "POST /scim/v2/Users"], server.Requests.Select(r => $"{r.Method} {r.Path}"));
    }

    [Fact]
    public async Task HostStart_TargetUnreachable_StartsWithAWarning_AndTheFirstCallReadsIt()
    {
        // Nothing listens on the port: every attempt is refused, the read stays transient.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        await using var provider = Hosted($"http://127.0.0.1:{port}/scim/v2");

        await Check(provider).StartAsync(CancellationToken.None);

        var warning = Assert.Single(logs.GetSnapshot(), r => r.Id.Id == 4118);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Null(provider.GetRequiredService<ScimTargetState>().ServiceProviderConfig);
    }

    private ServiceProvider Hosted(string baseUrl)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Scim:Profile"] = "scim",
            ["Scim:BaseUrl"] = baseUrl,
            ["Scim:BearerToken"] = RfcScimServer.Token,
            ["Scim:RequestsPerMinute"] = "6000",
            ["Scim:RequestBurst"] = "100",
            ["Scim:RetryBaseDelay"] = "00:00:00.020",
            ["Scim:AttemptTimeout"] = "00:00:02",
        }).Build();
        var services = new ServiceCollection().AddLogging(b => b.AddProvider(new FakeLoggerProvider(logs)).SetMinimumLevel(LogLevel.Trace));
        services.AddScimTarget(configuration);
        return services.BuildServiceProvider();
    }

    private static ScimTargetCheck Check(IServiceProvider provider) =>
        provider.GetServices<IHostedService>().OfType<ScimTargetCheck>().Single();

    private static string Config(bool etag = true, bool patch = true, bool filter = true, int maxResults = 50) =>
        new JsonObject
        {
            ["schemas"] = new JsonArray("urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"),
            ["patch"] = new JsonObject { ["supported"] = patch },
            ["bulk"] = new JsonObject { ["supported"] = true, ["maxOperations"] = 1000, ["maxPayloadSize"] = 1048576 },
            ["etag"] = new JsonObject { ["supported"] = etag },
            ["filter"] = new JsonObject { ["supported"] = filter, ["maxResults"] = maxResults },
            ["changePassword"] = new JsonObject { ["supported"] = false },
            ["sort"] = new JsonObject { ["supported"] = false },
        }.ToJsonString();

    private ScimClient NewClient(Action<ScimOptions>? configure = null) => server.NewClient(logs, configure);

    private static JsonObject User(string userName) => new()
    {
        ["userName"] = userName,
        ["displayName"] = userName.Split('@')[0],
        ["active"] = true,
    };
}
