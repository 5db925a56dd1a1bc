using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using GenesysScimEmulator.State;

namespace ScimFunctions.IntegrationTests.Emulator;

public sealed class FaultAndAdminTests(EmulatorFactory factory) : EmulatorTest(factory)
{
    private async Task PutFaultsAsync(object faults)
    {
        using var response = await Client.PutAsJsonAsync("/_emulator/faults", faults);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ErrorCount_AnswersInjected503sThenRecovers()
    {
        await PutFaultsAsync(new { errorCount = 2, errorStatuses = new[] { 503 } });

        using var first = await Client.GetAsync($"{Base}/users");
        using var second = await Client.GetAsync($"{Base}/users");
        using var third = await Client.GetAsync($"{Base}/users");

        await AssertPlatformErrorAsync(first, 503, "service.unavailable");
        await AssertPlatformErrorAsync(second, 503, "service.unavailable");
        Assert.Equal(HttpStatusCode.OK, third.StatusCode);
    }

    [Fact]
    public async Task ErrorFraction_AnswersInjected500ErrorBody()
    {
        await PutFaultsAsync(new { errorFraction = 1.0, errorStatuses = new[] { 500 } });

        using var response = await Client.GetAsync($"{Base}/users");

        await AssertPlatformErrorAsync(response, 500, "internal.server.error");
    }

    [Fact]
    public async Task Faults_ScopedToAMethod_LeaveOtherMethodsAlone()
    {
        var user = await CreateUserAsync("ann@example.com");
        await PutFaultsAsync(new { errorFraction = 1.0, methods = new[] { "PATCH" } });

        using var get = await Client.GetAsync($"{Base}/users/{Id(user)}");
        using var patch = await PatchUserAsync(Id(user), ("replace", "title", "x"));

        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.True((int)patch.StatusCode >= 500);
    }

    [Fact]
    public async Task Faults_LeaveTheTokenEndpointAloneUnlessIncluded()
    {
        await PutFaultsAsync(new { errorFraction = 1.0 });
        using var client = Factory.CreateClient();
        using var form = new FormUrlEncodedContent([new("grant_type", "client_credentials")]);
        var request = new HttpRequestMessage(HttpMethod.Post, "/oauth/token") { Content = form };
        request.Headers.Authorization = new("Basic", Convert.ToBase64String("local-client:local-secret"u8.ToArray()));

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task ThrottleCount_Answers429WithRetryAfter()
    {
        await PutFaultsAsync(new { throttleCount = 1, throttleRetryAfterSeconds = 7 });

        using var throttled = await Client.GetAsync($"{Base}/users");
        using var next = await Client.GetAsync($"{Base}/users");

        await AssertPlatformErrorAsync(throttled, 429, "too.many.requests.retry.after");
        Assert.Equal(TimeSpan.FromSeconds(7), throttled.Headers.RetryAfter!.Delta);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task DropCount_AbortsTheConnectionWithoutAnAnswer()
    {
        await PutFaultsAsync(new { dropCount = 1 });

        var error = await Record.ExceptionAsync(() => Client.GetAsync($"{Base}/users"));
        using var next = await Client.GetAsync($"{Base}/users");

        // TestServer surfaces an aborted request as OperationCanceledException; a socket as HttpRequestException.
        Assert.True(error is HttpRequestException or IOException or OperationCanceledException, $"Expected a transport failure, got {error}");
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal(1, State.Counters.Snapshot().ByStatus["aborted"]);
    }

    [Fact]
    public async Task Latency_DelaysTheAnswerOnTheEmulatorsClock()
    {
        await PutFaultsAsync(new { latencyMs = 5_000 });
        var started = Factory.Time.GetUtcNow();

        var pending = Client.GetAsync($"{Base}/users");
        for (var i = 0; i < 200 && !pending.IsCompleted; i++)
        {
            Factory.Time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(10);
        }

        using var response = await pending;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(Factory.Time.GetUtcNow() - started >= TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task ConcurrentEditCount_MakesTheNextConditionalWriteMeetAStaleVersion()
    {
        var user = await CreateUserAsync("ann@example.com");
        await PutFaultsAsync(new { concurrentEditCount = 1 });

        using var stale = await SendAsync(HttpMethod.Patch, $"{Base}/users/{Id(user)}", PatchBody(("replace", "title", "x")), ifMatch: "\"1\"");
        using var reread = await Client.GetAsync($"{Base}/users/{Id(user)}");
        using var retried = await SendAsync(HttpMethod.Patch, $"{Base}/users/{Id(user)}", PatchBody(("replace", "title", "x")), ifMatch: reread.Headers.ETag!.ToString());

        await AssertScimErrorAsync(stale, 400, "invalidVers");
        Assert.Equal("\"2\"", reread.Headers.ETag!.ToString());
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
    }

    [Fact]
    public async Task Faults_WithInvalidValues_Answer400NamingTheProblem()
    {
        using var fraction = await Client.PutAsJsonAsync("/_emulator/faults", new { errorFraction = 2.0 });
        using var unknown = await Client.PutAsJsonAsync("/_emulator/faults", new { errorFractoin = 0.5 });

        Assert.Equal(HttpStatusCode.BadRequest, fraction.StatusCode);
        Assert.Contains("ErrorFraction", await fraction.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
    }

    [Fact]
    public async Task Counters_CountRequestsByMethodKindAndStatus_ButNotAdminCalls()
    {
        var user = await CreateUserAsync("ann@example.com");
        using var list1 = await Client.GetAsync($"{Base}/users");
        using var list2 = await Client.GetAsync($"{Legacy}/Users");
        using var patch = await PatchUserAsync(Id(user), ("replace", "title", "x"));
        using var stale = await SendAsync(HttpMethod.Delete, $"{Base}/users/{Id(user)}", ifMatch: "\"1\"");
        using var config = await Client.GetAsync($"{Base}/serviceproviderconfig");

        var counters = await ReadAsync(await Client.GetAsync("/_emulator/counters"));

        Assert.Equal(6, counters["total"]!.GetValue<long>());
        var byRoute = counters["byRoute"]!;
        Assert.Equal(1, byRoute["POST users"]!.GetValue<long>());
        Assert.Equal(2, byRoute["GET users"]!.GetValue<long>());
        Assert.Equal(1, byRoute["PATCH users"]!.GetValue<long>());
        Assert.Equal(1, byRoute["DELETE users"]!.GetValue<long>());
        Assert.Equal(1, byRoute["GET serviceproviderconfig"]!.GetValue<long>());
        Assert.Equal(1, counters["byRouteAndStatus"]!["DELETE users 400"]!.GetValue<long>());
        Assert.Equal(1, counters["byStatus"]!["201"]!.GetValue<long>());

        using var clear = await Client.DeleteAsync("/_emulator/counters");
        Assert.Equal(0, State.Counters.Total);
    }

    [Fact]
    public async Task State_ShowsUsersDeletedUsersAndGroups()
    {
        var ann = await CreateUserAsync("ann@example.com");
        var bob = await CreateUserAsync("bob@example.com");
        AddGroup("Sales", Id(ann));
        using var _ = await SendAsync(HttpMethod.Delete, $"{Base}/users/{Id(bob)}");

        var state = await ReadAsync(await Client.GetAsync("/_emulator/state"));

        Assert.Equal(Id(ann), Id(Assert.Single(state["users"]!.AsArray())!.AsObject()));
        Assert.Equal(Id(bob), Id(Assert.Single(state["deletedUsers"]!.AsArray())!.AsObject()));
        Assert.Equal("Sales", Assert.Single(state["groups"]!.AsArray())!["displayName"]!.GetValue<string>());
        Assert.True(state["activeTokens"]!.GetValue<int>() >= 1);
    }

    [Fact]
    public async Task Seed_AddsUsersAndGroupsWithMembersByUserName()
    {
        var seed = new JsonObject
        {
            ["groups"] = new JsonArray(new JsonObject { ["displayName"] = "Sales", ["members"] = new JsonArray(new JsonObject { ["value"] = "ann@example.com" }) }),
            ["users"] = new JsonArray(new JsonObject { ["id"] = "user-ann", ["userName"] = "ann@example.com", ["displayName"] = "Ann" }),
        };

        using var response = await Client.PostAsync("/_emulator/seed", JsonBody(seed, "application/json"));
        var groups = await ListAsync($"{Base}/groups?filter=displayName eq \"Sales\"");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("user-ann", groups[0]!["members"]![0]!["value"]!.GetValue<string>());
    }

    [Fact]
    public async Task Seed_WithAnInvalidUser_Answers400NamingTheEntry()
    {
        var seed = new JsonObject { ["users"] = new JsonArray(new JsonObject { ["userName"] = "ann@example.com" }) };

        using var response = await Client.PostAsync("/_emulator/seed", JsonBody(seed, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("users[0]", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Settings_PatchSwitchesBehaviourAtRunTime_AndResetRestoresIt()
    {
        var user = await CreateUserAsync("ann@example.com");

        using var patch = await Client.PatchAsync("/_emulator/settings", JsonBody(new JsonObject { ["conflictStatus"] = 409, ["userGroupsWrite"] = "Ignore" }, "application/json"));
        using var conflict = await SendAsync(HttpMethod.Delete, $"{Base}/users/{Id(user)}", ifMatch: "\"9\"");
        using var reset = await Client.PostAsync("/_emulator/reset", null);

        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, reset.StatusCode);
        Assert.Equal(400, State.Settings.Current.ConflictStatus);
        Assert.Empty(await ListAsync($"{Base}/users"));
    }

    [Theory]
    [InlineData("{\"conflictStatus\": 412}", "ConflictStatus")]
    [InlineData("{\"noSuchSetting\": true}", "noSuchSetting")]
    public async Task Settings_PatchWithInvalidValue_Answers400NamingTheSetting(string body, string named)
    {
        using var response = await Client.PatchAsync("/_emulator/settings", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(named, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reset_ClearsUsersFaultsAndCounters()
    {
        await CreateUserAsync("ann@example.com");
        State.Faults.Set(new FaultSettings { ErrorFraction = 1 });

        using var reset = await Client.PostAsync("/_emulator/reset", null);
        using var list = await Client.GetAsync($"{Base}/users");

        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.Equal(0, (await ReadAsync(list))["totalResults"]!.GetValue<int>());
        Assert.Equal(1, State.Counters.Total);
    }
}
