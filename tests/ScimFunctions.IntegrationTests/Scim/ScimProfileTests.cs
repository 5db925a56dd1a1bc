using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using ScimFunctions.Provisioning.Scim;

namespace ScimFunctions.IntegrationTests.Scim;

/// <summary>The scim profile against a plain RFC 7644 server.</summary>
public sealed class ScimProfileTests : IAsyncLifetime
{
    private readonly FakeLogCollector logs = new();
    private RfcScimServer server = null!;

    public async Task InitializeAsync() => server = await RfcScimServer.StartAsync();

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task Crud_UsesCapitalisedRfcPathsBearerTokenAndScimJson()
    {
        using var client = NewClient();

        var created = await client.CreateUserAsync(User("ada@example.org"));
        Assert.Equal(ScimOutcome.Ok, created.Outcome);
        var id = created.Value!.Id;
        var read = await client.GetUserAsync(id);
        var patched = await client.PatchUserAsync(id, [ScimPatchOperation.Replace("displayName", "Ada L.")], read.Value!.Version);
        var replaced = await client.ReplaceUserAsync(id, patched.Value!.Body, patched.Value.Version);
        var deleted = await client.DeleteUserAsync(id, replaced.Value!.Version);
        var deletedAgain = await client.DeleteUserAsync(id, null);

        Assert.Equal(ScimOutcome.Ok, read.Outcome);
        Assert.Equal("Ada L.", (string?)patched.Value.Body["displayName"]);
        Assert.Equal(ScimOutcome.Ok, replaced.Outcome);
        Assert.True(deleted.Value);
        Assert.Equal(ScimOutcome.Ok, deletedAgain.Outcome);
        Assert.False(deletedAgain.Value);
        Assert.Equal(
            ["GET /scim/v2/ServiceProviderConfig", "POST /scim/v2/Users", $"GET /scim/v2/Users/{id}", $"PATCH /scim/v2/Users/{id}",
             $"PUT /scim/v2/Users/{id}", $"DELETE /scim/v2/Users/{id}", $"DELETE /scim/v2/Users/{id}", "GET /scim/v2/Users"],
            server.Requests.Select(r => $"{r.Method} {r.Path}"));
        Assert.All(server.Requests, r => Assert.Equal("Bearer " + RfcScimServer.Token, r.Authorization));
        Assert.All(server.Requests.Where(r => r.Body.Length > 0), r => Assert.StartsWith("application/scim+json", r.ContentType, StringComparison.Ordinal));

        // The second DELETE's 404 counts as "already gone" only after the users collection answered (a wrong base URL 404s too).
        Assert.Equal(8, client.Counts.Requests);
        Assert.Equal(5, client.Counts.Writes);
    }

    [Fact]
    public async Task WrongBaseUrlPath_A404IsNeverReadAsGone()
    {
        var id = server.SeedUser("kept@example.org", externalId: "entra-kept");
        using var wrong = NewClient(o => o.BaseUrl = server.BaseUrl + "-old");

        var read = await wrong.GetUserAsync(id);
        var deleted = await wrong.DeleteUserAsync(id, null);
        var found = await wrong.FindUserAsync("externalId", "entra-kept");

        Assert.All([read.Outcome, deleted.Outcome, found.Outcome], outcome => Assert.Equal(ScimOutcome.Transient, outcome));
        Assert.False(deleted.IsSuccess);
        Assert.NotNull(server.User(id));
    }

    [Fact]
    public async Task UnknownUser_IsNotFoundOnceTheServiceAnswers()
    {
        using var client = NewClient();

        var read = await client.GetUserAsync("u9999");
        var deleted = await client.DeleteUserAsync("u9999", null);

        Assert.Equal(ScimOutcome.NotFound, read.Outcome);
        Assert.Equal(ScimOutcome.Ok, deleted.Outcome);
        Assert.False(deleted.Value);
    }

    [Fact]
    public async Task Create_StripsGenesysExtensionButKeepsEnterprise()
    {
        using var client = NewClient();
        var user = User("grace@example.org");
        user[ScimSchemas.EnterpriseUser] = new JsonObject { ["department"] = "Navy" };
        user[ScimSchemas.GenesysUser] = new JsonObject { ["routingSkills"] = new JsonArray(new JsonObject { ["name"] = "COBOL", ["proficiency"] = 5 }) };

        var created = await client.CreateUserAsync(user);
        var patched = await client.PatchUserAsync(created.Value!.Id,
            [ScimPatchOperation.Replace(ScimSchemas.GenesysUser + ":routingSkills", new JsonArray()), ScimPatchOperation.Replace("title", "RAdm")],
            created.Value.Version);

        Assert.Equal(ScimOutcome.Ok, patched.Outcome);
        var post = JsonNode.Parse(server.RequestsTo("POST", "/scim/v2/Users").Single().Body)!.AsObject();
        Assert.False(post.ContainsKey(ScimSchemas.GenesysUser));
        Assert.Equal("Navy", (string?)post[ScimSchemas.EnterpriseUser]!["department"]);
        Assert.Equal([ScimSchemas.User, ScimSchemas.EnterpriseUser], post["schemas"]!.AsArray().Select(s => (string)s!));
        var patch = server.RequestsTo("PATCH", "/scim/v2/Users").Single().Body;
        Assert.DoesNotContain("genesys", patch, StringComparison.Ordinal);
        Assert.Contains("\"Operations\"", patch, StringComparison.Ordinal);
        Assert.False(client.Capabilities.SupportedUserSchemas.Contains(ScimSchemas.GenesysUser));
    }

    [Fact]
    public async Task Writes_SendTheStoredWeakETagVerbatimInIfMatch()
    {
        using var client = NewClient();
        var created = await client.CreateUserAsync(User("alan@example.org"));

        var patched = await client.PatchUserAsync(created.Value!.Id, [ScimPatchOperation.Replace("title", "Dr")], created.Value.Version);

        Assert.Equal("W/\"1\"", created.Value.Version);
        Assert.Equal("W/\"1\"", server.RequestsTo("PATCH", "/scim/v2/Users").Single().IfMatch);
        Assert.Equal("W/\"2\"", patched.Value!.Version);
        Assert.True(client.Capabilities.SupportsETags);
    }

    [Fact]
    public async Task Patch_WithStaleVersion_ReturnsVersionConflictWithoutRetrying()
    {
        using var client = NewClient();
        var created = await client.CreateUserAsync(User("edsger@example.org"));
        server.Touch(created.Value!.Id);

        var patched = await client.PatchUserAsync(created.Value.Id, [ScimPatchOperation.Replace("title", "Prof")], created.Value.Version);

        Assert.Equal(ScimOutcome.VersionConflict, patched.Outcome);
        Assert.Equal(412, patched.Error!.Status);
        Assert.Single(server.RequestsTo("PATCH", "/scim/v2/Users"));
    }

    [Fact]
    public async Task ServerWithoutETags_GetsNoIfMatchAndVersionsStayNull()
    {
        server.ETags = false;
        using var client = NewClient();

        var created = await client.CreateUserAsync(User("barbara@example.org"));
        var patched = await client.PatchUserAsync(created.Value!.Id, [ScimPatchOperation.Replace("title", "Prof")], "W/\"7\"");
        var read = await client.GetUserAsync(created.Value.Id, ifNoneMatch: "W/\"7\"");

        Assert.False(client.Capabilities.SupportsETags);
        Assert.Null(created.Value.Version);
        Assert.Equal(ScimOutcome.Ok, patched.Outcome);
        Assert.Null(patched.Value!.Version);
        Assert.Equal(ScimOutcome.Ok, read.Outcome);
        Assert.All(server.Requests, r => Assert.Equal("", r.IfMatch));
        Assert.All(server.Requests, r => Assert.Equal("", r.IfNoneMatch));
    }

    [Fact]
    public async Task Get_WithCurrentVersion_ReturnsNotModified()
    {
        using var client = NewClient();
        var created = await client.CreateUserAsync(User("donald@example.org"));

        var current = await client.GetUserAsync(created.Value!.Id, created.Value.Version);
        server.Touch(created.Value.Id);
        var stale = await client.GetUserAsync(created.Value.Id, created.Value.Version);

        Assert.Equal(ScimOutcome.NotModified, current.Outcome);
        Assert.True(current.IsSuccess);
        Assert.Equal(created.Value.Version, current.Value!.Version);
        Assert.Equal(ScimOutcome.Ok, stale.Outcome);
        Assert.Equal("W/\"2\"", stale.Value!.Version);
    }

    [Theory]
    [InlineData(503, false)]
    [InlineData(500, false)]
    [InlineData(0, true)]
    public async Task Get_AfterTransientFailure_RetriesAndSucceeds(int status, bool reset)
    {
        using var client = NewClient();
        var id = server.SeedUser("john@example.org");
        await client.GetServiceProviderConfigAsync();
        server.Inject(new Fault(r => r.Method == "GET", status == 0 ? null : status, Reset: reset));

        var read = await client.GetUserAsync(id);

        Assert.Equal(ScimOutcome.Ok, read.Outcome);
        Assert.Equal(2, server.RequestsTo("GET", "/scim/v2/Users").Count);
        Assert.Equal(1, client.Counts.Retries);
    }

    [Fact]
    public async Task Patch_WithoutVersion_IsNotRetriedAfter503()
    {
        using var client = NewClient();
        var id = server.SeedUser("niklaus@example.org");
        await client.GetServiceProviderConfigAsync();
        server.Inject(Fault.For("PATCH", 503));

        var patched = await client.PatchUserAsync(id, [ScimPatchOperation.Add("emails", new JsonArray(new JsonObject { ["value"] = "n@example.org" }))], version: null);

        Assert.Equal(ScimOutcome.Transient, patched.Outcome);
        Assert.Single(server.RequestsTo("PATCH", "/scim/v2/Users"));
    }

    [Fact]
    public async Task Request_Throttled_WaitsForRetryAfterThenSucceeds()
    {
        using var client = NewClient();
        var id = server.SeedUser("ken@example.org");
        await client.GetServiceProviderConfigAsync();
        server.Inject(Fault.For("GET", 429, TimeSpan.FromSeconds(1)));
        var clock = Stopwatch.StartNew();

        var read = await client.GetUserAsync(id);

        Assert.Equal(ScimOutcome.Ok, read.Outcome);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(900), $"retried after {clock.Elapsed}, before Retry-After");
        Assert.Equal(1, client.Counts.Throttled);
    }

    [Fact]
    public async Task Request_ThrottledLongerThanBudget_ReturnsThrottledAtOnce()
    {
        using var client = NewClient(o => o.CallTimeBudget = TimeSpan.FromSeconds(3));
        var id = server.SeedUser("dennis@example.org");
        await client.GetServiceProviderConfigAsync();
        server.Inject(Fault.For("GET", 429, TimeSpan.FromSeconds(60)));
        var clock = Stopwatch.StartNew();

        var read = await client.GetUserAsync(id);

        Assert.Equal(ScimOutcome.Throttled, read.Outcome);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"waited {clock.Elapsed} for a Retry-After it could not honour");
    }

    [Fact]
    public async Task Create_TimedOutThenConflict_ReturnsTheExistingUserAsCreated()
    {
        using var client = NewClient(o => o.AttemptTimeout = TimeSpan.FromMilliseconds(300));
        await client.GetServiceProviderConfigAsync();

        // The first POST is processed, but its answer arrives after the attempt timeout.
        server.Inject(new Fault(r => r.Method == "POST", Delay: TimeSpan.FromSeconds(2), DelayAfterProcessing: true));
        var user = User("margaret@example.org");
        user["externalId"] = "entra-object-1";

        var created = await client.CreateUserAsync(user);

        Assert.Equal(ScimOutcome.Ok, created.Outcome);
        Assert.Equal("margaret@example.org", (string?)created.Value!.Body["userName"]);
        Assert.Equal(1, server.UserCount);
        Assert.Equal(2, server.RequestsTo("POST", "/scim/v2/Users").Count);
    }

    [Fact]
    public async Task Create_WithTakenUserName_ReturnsUniquenessWithTheExistingUser()
    {
        using var client = NewClient();
        var existing = server.SeedUser("linus@example.org", externalId: "someone-else");

        var created = await client.CreateUserAsync(User("LINUS@example.org"));

        Assert.Equal(ScimOutcome.Uniqueness, created.Outcome);
        Assert.Equal(existing, created.Value!.Id);
        Assert.Equal("LINUS@example.org", created.Error!.UserName);
        Assert.Equal("uniqueness", created.Error.ScimType);
    }

    [Fact]
    public async Task FindUser_WithQuotesAndBackslashes_EscapesTheFilterValue()
    {
        using var client = NewClient();
        const string awkward = "o\"brien\\x@example.org";
        var id = server.SeedUser(awkward);

        var found = await client.FindUserAsync("userName", awkward);
        var missing = await client.FindUserAsync("userName", "nobody@example.org");

        Assert.Equal(id, found.Value!.Id);
        Assert.Equal(ScimOutcome.NotFound, missing.Outcome);
        Assert.Contains(Uri.EscapeDataString("userName eq \"o\\\"brien\\\\x@example.org\""), server.RequestsTo("GET", "/scim/v2/Users")[0].Query, StringComparison.Ordinal);
        Assert.NotEmpty(logs.GetSnapshot());
        Assert.DoesNotContain(logs.GetSnapshot(), r => r.Message.Contains("example.org", StringComparison.Ordinal) || r.Message.Contains("brien", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ListUsers_FollowsServerCappedPagesAndReturnsEachUserOnce()
    {
        server.MaxPageSize = 40;
        for (var i = 0; i < 100; i++)
        {
            server.SeedUser($"user{i:D3}@example.org");
        }

        using var client = NewClient();
        var ids = new List<string>();
        await foreach (var user in client.ListUsersAsync())
        {
            ids.Add(user.Id);
        }

        Assert.Equal(100, ids.Distinct().Count());
        Assert.Equal(100, ids.Count);
        Assert.Equal(3, server.RequestsTo("GET", "/scim/v2/Users").Count);
        Assert.Equal(100, (await client.CountUsersAsync()).Value);
    }

    [Fact]
    public async Task ListUsers_WhenTotalResultsGrowsMidScan_FollowsTheNewTotal()
    {
        server.MaxPageSize = 25;
        for (var i = 0; i < 50; i++)
        {
            server.SeedUser($"a{i:D3}@example.org");
        }

        server.BeforeUserPage = startIndex =>
        {
            if (startIndex == 26)
            {
                for (var i = 0; i < 30; i++)
                {
                    server.SeedUser($"z{i:D3}@example.org");
                }
            }
        };
        using var client = NewClient();

        var ids = new List<string>();
        await foreach (var user in client.ListUsersAsync())
        {
            ids.Add(user.Id);
        }

        Assert.Equal(80, ids.Distinct().Count());
        Assert.Equal(4, server.RequestsTo("GET", "/scim/v2/Users").Count);
    }

    [Fact]
    public async Task ListUsers_WhenAPageFails_ThrowsInsteadOfEndingEarly()
    {
        for (var i = 0; i < 60; i++)
        {
            server.SeedUser($"p{i:D3}@example.org");
        }

        using var client = NewClient(o => o.MaxRetries = 0);
        await client.GetServiceProviderConfigAsync();
        server.Inject(new Fault(r => r.Method == "GET" && r.Query.Contains("startIndex=51", StringComparison.Ordinal), 503));
        server.MaxPageSize = 50;
        var seen = 0;

        var error = await Assert.ThrowsAsync<ScimException>(async () =>
        {
            await foreach (var unused in client.ListUsersAsync())
            {
                seen++;
            }
        });

        Assert.Equal(ScimOutcome.Transient, error.Outcome);
        Assert.Equal(50, seen);
    }

    [Fact]
    public async Task PatchGroupMembers_SendsChunksAndCarriesTheVersionForward()
    {
        var group = server.SeedGroup("Engineers");
        using var client = NewClient(o => o.MemberChunkSize = 3);
        var members = Enumerable.Range(0, 7).Select(i => $"m{i}").ToList();

        var result = await client.PatchGroupMembersAsync(group, members, [], "W/\"1\"");

        Assert.Equal(ScimOutcome.Ok, result.Outcome);
        Assert.Equal("W/\"4\"", result.Value!.Version);
        var patches = server.RequestsTo("PATCH", "/scim/v2/Groups/" + group);
        Assert.Equal(["W/\"1\"", "W/\"2\"", "W/\"3\""], patches.Select(p => p.IfMatch));
        Assert.Equal(members, server.GroupMembers(group));
        Assert.All(patches, p => Assert.Contains("\"path\":\"members\"", p.Body, StringComparison.Ordinal));
    }

    [Fact]
    public async Task PatchGroupMembers_On204_TakesTheVersionFromTheETagHeader()
    {
        server.PatchReturnsNoContent = true;
        var group = server.SeedGroup("Ops", "a", "b");
        using var client = NewClient(o => o.MemberChunkSize = 1);

        var result = await client.PatchGroupMembersAsync(group, ["c"], ["a"], "W/\"1\"");

        Assert.Equal(ScimOutcome.Ok, result.Outcome);
        Assert.Equal("W/\"3\"", result.Value!.Version);
        Assert.Equal(["b", "c"], server.GroupMembers(group));
        Assert.Empty(server.RequestsTo("GET", "/scim/v2/Groups"));
    }

    [Fact]
    public async Task PatchGroupMembers_WithFilterRemoveStyle_SendsValuePathRemovals()
    {
        var group = server.SeedGroup("Legacy", "x1", "x2", "x3");
        using var client = NewClient(o => o.MemberRemoveStyle = "filter");

        var result = await client.PatchGroupMembersAsync(group, [], ["x1", "x3"], null);

        Assert.Equal(ScimOutcome.Ok, result.Outcome);
        Assert.Equal(["x2"], server.GroupMembers(group));
        var body = server.RequestsTo("PATCH", "/scim/v2/Groups").Single().Body;
        Assert.Contains("members[value eq \\u0022x1\\u0022]", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Groups_FindReplaceAndOptInCreateDelete()
    {
        using var refusing = NewClient();
        var refused = await refusing.CreateGroupAsync("Nope", null);
        Assert.Equal(ScimOutcome.Permanent, refused.Outcome);
        Assert.DoesNotContain(server.Requests, r => r.Method == "POST");

        using var client = NewClient(o => o.CreateGroups = true);
        var created = await client.CreateGroupAsync("Research", "entra-group-1");
        var found = await client.FindGroupByDisplayNameAsync("Research");
        var replaced = await client.ReplaceGroupAsync(found.Value!.Id, found.Value.Body, found.Value.Version);
        var deleted = await client.DeleteGroupAsync(created.Value!.Id, replaced.Value!.Version);

        Assert.True(client.Capabilities.CanCreateGroups);
        Assert.Equal(created.Value.Id, found.Value.Id);
        Assert.Equal(ScimOutcome.Ok, replaced.Outcome);
        Assert.True(deleted.Value);
    }

    [Fact]
    public async Task Call_WhenItsBudgetIsSpent_ReturnsTransient()
    {
        using var client = NewClient(o =>
        {
            o.CallTimeBudget = TimeSpan.FromSeconds(1.5);
            o.AttemptTimeout = TimeSpan.FromMilliseconds(400);
        });
        var id = server.SeedUser("slow@example.org");
        await client.GetServiceProviderConfigAsync();
        for (var i = 0; i < 10; i++)
        {
            server.Inject(new Fault(r => r.Method == "GET", Delay: TimeSpan.FromSeconds(5)));
        }

        var clock = Stopwatch.StartNew();
        var read = await client.GetUserAsync(id);

        Assert.Equal(ScimOutcome.Transient, read.Outcome);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task Call_CancelledByCaller_Throws()
    {
        using var client = NewClient();
        var id = server.SeedUser("cancel@example.org");
        await client.GetServiceProviderConfigAsync();
        server.Inject(new Fault(r => r.Method == "GET", Delay: TimeSpan.FromSeconds(5)));
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetUserAsync(id, cancellationToken: cancel.Token));
    }

    [Fact]
    public async Task WrongToken_IsUnauthorizedAndTheTokenIsNeverLogged()
    {
        const string wrong = "not-the-token-9f8e7d6c5b4a";
        using var client = NewClient(o => o.BearerToken = wrong);

        var read = await client.GetUserAsync("anyone");

        Assert.Equal(ScimOutcome.Unauthorized, read.Outcome);
        Assert.NotEmpty(logs.GetSnapshot());
        Assert.DoesNotContain(logs.GetSnapshot(), r => r.Message.Contains(wrong, StringComparison.Ordinal) || (r.Exception?.ToString().Contains(wrong, StringComparison.Ordinal) ?? false));
        Assert.DoesNotContain(wrong, read.Error!.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddScimTarget_ResolvesAWorkingClientFromSettings()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Scim:Profile"] = "scim",
            ["Scim:BaseUrl"] = server.BaseUrl.ToString(),
            ["Scim:BearerToken"] = RfcScimServer.Token,
            ["Scim:RequestsPerMinute"] = "600",
            ["Scim:RequestBurst"] = "20",
        }).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddScimTarget(configuration);
        await using var provider = services.BuildServiceProvider();
        server.SeedUser("di@example.org");

        var client = provider.GetRequiredService<IScimClient>();
        var found = await client.FindUserAsync("userName", "di@example.org");

        Assert.Equal(ScimOutcome.Ok, found.Outcome);
        Assert.Same(provider.GetRequiredService<ScimRateLimiter>(), provider.GetRequiredService<ScimRateLimiter>());
    }

    [Fact]
    public void AddScimTarget_WithMissingSettings_FailsNamingThem()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Scim:Profile"] = "scim" }).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddScimTarget(configuration);
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<ScimOptions>>().Value);

        Assert.Contains(error.Failures, f => f.Contains("Scim__BaseUrl", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("Scim__BearerToken", StringComparison.Ordinal));
    }

    private ScimClient NewClient(Action<ScimOptions>? configure = null) => server.NewClient(logs, configure);

    private static JsonObject User(string userName) => new()
    {
        ["userName"] = userName,
        ["displayName"] = userName.Split('@')[0],
        ["active"] = true,
    };
}
