using System.Diagnostics;
using System.Text.Json.Nodes;
using GenesysScimEmulator;
using GenesysScimEmulator.State;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using ScimFunctions.Provisioning.Scim;
using Xunit.Abstractions;

namespace ScimFunctions.IntegrationTests.Scim;

/// <summary>The genesys profile against the Genesys SCIM emulator.</summary>
public sealed class GenesysProfileTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly FakeLogCollector logs = new();
    private readonly List<IAsyncDisposable> started = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var item in started)
        {
            await item.DisposeAsync();
        }
    }

    [Fact]
    public async Task Users_EveryOperation_WorksOnLowerCasePathsWithOneOAuthToken()
    {
        var emulator = await StartAsync();
        using var client = NewClient(emulator);
        var user = User("ada@example.org", "entra-ada");
        user[ScimSchemas.EnterpriseUser] = new JsonObject { ["department"] = "R&D" };
        user[ScimSchemas.GenesysUser] = new JsonObject { ["routingSkills"] = new JsonArray() };

        var created = await client.CreateUserAsync(user);
        var id = created.Value!.Id;
        var read = await client.GetUserAsync(id);
        var notModified = await client.GetUserAsync(id, read.Value!.Version);
        var byUserName = await client.FindUserAsync("userName", "ada@example.org");
        var byExternalId = await client.FindUserAsync("externalId", "entra-ada");
        var patched = await client.PatchUserAsync(id, [ScimPatchOperation.Replace("title", "Countess")], read.Value.Version);
        var replaced = await client.ReplaceUserAsync(id, patched.Value!.Body, patched.Value.Version);
        var count = await client.CountUsersAsync();
        var config = await client.GetServiceProviderConfigAsync();
        var deleted = await client.DeleteUserAsync(id, replaced.Value!.Version);
        var gone = await client.GetUserAsync(id);
        var deletedAgain = await client.DeleteUserAsync(id, null);

        Assert.Equal(ScimOutcome.Ok, created.Outcome);
        Assert.Equal("\"1\"", created.Value.Version);
        Assert.Equal("R&D", (string?)read.Value.Body[ScimSchemas.EnterpriseUser]!["department"]);
        Assert.Equal(ScimOutcome.NotModified, notModified.Outcome);
        Assert.Equal(id, byUserName.Value!.Id);
        Assert.Equal(id, byExternalId.Value!.Id);
        Assert.Equal("Countess", (string?)patched.Value.Body["title"]);
        Assert.Equal("\"2\"", patched.Value.Version);
        Assert.Equal("\"3\"", replaced.Value.Version);
        Assert.Equal(1, count.Value);
        Assert.Equal(ScimOutcome.Ok, config.Outcome);
        Assert.True(deleted.Value);
        Assert.Equal(ScimOutcome.NotFound, gone.Outcome);
        Assert.Equal(ScimOutcome.Ok, deletedAgain.Outcome);
        Assert.False(deletedAgain.Value);
        var counters = emulator.State.Counters;
        Assert.Equal(1, counters.Count("POST", "token"));
        Assert.Equal(0, counters.CountStatus(401));
        Assert.Equal(1, counters.Count("PATCH", "users"));
        Assert.Equal(client.Counts.Requests, counters.Total - counters.Count("POST", "token"));
    }

    [Fact]
    public async Task WrongBaseUrlPath_A404IsNeverReadAsGone()
    {
        var emulator = await StartAsync();
        using var good = NewClient(emulator);
        var id = (await good.CreateUserAsync(User("kept@example.org", "entra-kept"))).Value!.Id;
        using var wrong = NewClient(emulator, o => o.BaseUrl = emulator.ScimBaseUrl.Replace("/scim/v2", "/scim/v9", StringComparison.Ordinal));

        var read = await wrong.GetUserAsync(id);
        var patched = await wrong.PatchUserAsync(id, [ScimPatchOperation.Replace("title", "Lost")], "\"1\"");
        var deleted = await wrong.DeleteUserAsync(id, null);
        var found = await wrong.FindUserAsync("externalId", "entra-kept");

        Assert.All([read.Outcome, patched.Outcome, deleted.Outcome, found.Outcome], outcome => Assert.Equal(ScimOutcome.Transient, outcome));
        Assert.False(deleted.IsSuccess);
        Assert.Contains("Scim__BaseUrl", read.Error!.Detail, StringComparison.Ordinal);
        Assert.Equal(ScimOutcome.Ok, (await good.GetUserAsync(id)).Outcome);
    }

    [Fact]
    public async Task LegacyBaseUrl_IsJustAnotherBaseUrl()
    {
        var emulator = await StartAsync();
        using var client = NewClient(emulator, o => o.BaseUrl = emulator.LegacyScimBaseUrl);

        var created = await client.CreateUserAsync(User("legacy@example.org", "entra-legacy"));
        var found = await client.FindUserAsync("userName", "legacy@example.org");

        Assert.Equal(ScimOutcome.Ok, created.Outcome);
        Assert.Equal(created.Value!.Id, found.Value!.Id);
    }

    [Fact]
    public async Task Groups_AreFoundReplacedAndPatchedButNeverCreated()
    {
        var emulator = await StartAsync();
        var seeded = emulator.State.Seed(new JsonObject
        {
            ["users"] = new JsonArray(User("g1@example.org", "e-g1"), User("g2@example.org", "e-g2")),
            ["groups"] = new JsonArray(new JsonObject { ["displayName"] = "Sales", ["members"] = new JsonArray() }),
        });
        using var client = NewClient(emulator);

        var found = await client.FindGroupByDisplayNameAsync("Sales");
        var read = await client.GetGroupAsync(found.Value!.Id);
        var notModified = await client.GetGroupAsync(found.Value.Id, read.Value!.Version);
        var replaced = await client.ReplaceGroupAsync(read.Value.Id, read.Value.Body, read.Value.Version);
        var patched = await client.PatchGroupMembersAsync(read.Value.Id, [seeded.Users[0].Id, seeded.Users[1].Id], [], replaced.Value!.Version);
        var removed = await client.PatchGroupMembersAsync(read.Value.Id, [], [seeded.Users[0].Id], patched.Value!.Version);
        var missing = await client.FindGroupByDisplayNameAsync("Nobody");
        var create = await client.CreateGroupAsync("New", null);
        var delete = await client.DeleteGroupAsync(read.Value.Id, null);

        Assert.Equal(ScimOutcome.NotModified, notModified.Outcome);
        Assert.Equal(ScimOutcome.Ok, replaced.Outcome);
        Assert.Equal(2, patched.Value.Body["members"]!.AsArray().Count);
        Assert.Equal([seeded.Users[1].Id], removed.Value!.Body["members"]!.AsArray().Select(m => (string)m!["value"]!));
        Assert.Equal(ScimOutcome.NotFound, missing.Outcome);
        Assert.Equal(ScimOutcome.Permanent, create.Outcome);
        Assert.Equal(ScimOutcome.Permanent, delete.Outcome);
        Assert.False(client.Capabilities.CanCreateGroups);
        Assert.Equal(0, emulator.State.Counters.Count("POST", "groups"));
        Assert.Equal(0, emulator.State.Counters.Count("DELETE", "groups"));
    }

    [Theory]
    [InlineData(400)]
    [InlineData(409)]
    public async Task StaleVersion_IsAVersionConflict_InEitherGenesysStyle(int conflictStatus)
    {
        var emulator = await StartAsync(o => o.ConflictStatus = conflictStatus);
        using var client = NewClient(emulator);
        var created = await client.CreateUserAsync(User("stale@example.org", "e-stale"));
        var fresh = await client.PatchUserAsync(created.Value!.Id, [ScimPatchOperation.Replace("title", "v2")], created.Value.Version);

        var patch = await client.PatchUserAsync(created.Value.Id, [ScimPatchOperation.Replace("title", "late")], created.Value.Version);
        var replace = await client.ReplaceUserAsync(created.Value.Id, created.Value.Body, created.Value.Version);
        var delete = await client.DeleteUserAsync(created.Value.Id, created.Value.Version);

        Assert.Equal(ScimOutcome.Ok, fresh.Outcome);
        Assert.All([patch.Outcome, replace.Outcome, delete.Outcome], o => Assert.Equal(ScimOutcome.VersionConflict, o));
        Assert.Equal(conflictStatus, patch.Error!.Status);
        Assert.NotNull(patch.Error.CorrelationId);
        Assert.Equal(2, emulator.State.Counters.Count("PATCH", "users"));
        Assert.Equal(1, emulator.State.Counters.Count("DELETE", "users"));
    }

    [Fact]
    public async Task ConcurrentAdminEdit_SurfacesAsVersionConflictAndAFreshReadSucceeds()
    {
        var emulator = await StartAsync();
        using var client = NewClient(emulator);
        var created = await client.CreateUserAsync(User("edited@example.org", "e-edited"));
        emulator.State.Faults.Set(new FaultSettings { ConcurrentEditCount = 1, Methods = ["PATCH"] });

        var conflict = await client.PatchUserAsync(created.Value!.Id, [ScimPatchOperation.Replace("title", "x")], created.Value.Version);
        var reread = await client.GetUserAsync(created.Value.Id, created.Value.Version);
        var retried = await client.PatchUserAsync(created.Value.Id, [ScimPatchOperation.Replace("title", "x")], reread.Value!.Version);

        Assert.Equal(ScimOutcome.VersionConflict, conflict.Outcome);
        Assert.Equal(ScimOutcome.Ok, reread.Outcome);
        Assert.Equal(ScimOutcome.Ok, retried.Outcome);
    }

    [Fact]
    public async Task BareMetaVersion_IsQuotedAndAcceptedAsIfMatch()
    {
        var emulator = await StartAsync(o => o.QuoteMetaVersion = false);
        using var client = NewClient(emulator);
        await client.CreateUserAsync(User("bare@example.org", "e-bare"));

        var found = await client.FindUserAsync("userName", "bare@example.org");
        var patched = await client.PatchUserAsync(found.Value!.Id, [ScimPatchOperation.Replace("title", "t")], found.Value.Version);

        Assert.Equal("1", (string?)found.Value.Body["meta"]!["version"]);
        Assert.Equal("\"1\"", found.Value.Version);
        Assert.Equal(ScimOutcome.Ok, patched.Outcome);
    }

    [Fact]
    public async Task ExpiredToken_IsRefreshedOnceOn401AndTheCallSucceeds()
    {
        var emulator = await StartAsync();
        using var client = NewClient(emulator);
        var created = await client.CreateUserAsync(User("token@example.org", "e-token"));
        emulator.State.Tokens.ExpireAll();

        var read = await client.GetUserAsync(created.Value!.Id);

        Assert.Equal(ScimOutcome.Ok, read.Outcome);
        Assert.Equal(2, emulator.State.Counters.Count("POST", "token"));
        Assert.Equal(1, emulator.State.Counters.CountStatus(401));
    }

    [Fact]
    public async Task ShortLivedToken_IsRenewedBeforeItExpires()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var emulator = await StartAsync(o => o.TokenLifetimeSeconds = 300, clock);
        using var client = NewClient(emulator, time: clock);
        var created = await client.CreateUserAsync(User("renew@example.org", "e-renew"));

        clock.Advance(TimeSpan.FromSeconds(250));
        await client.GetUserAsync(created.Value!.Id);
        clock.Advance(TimeSpan.FromSeconds(25));
        var read = await client.GetUserAsync(created.Value.Id);

        Assert.Equal(ScimOutcome.Ok, read.Outcome);
        Assert.Equal(2, emulator.State.Counters.Count("POST", "token"));
        Assert.Equal(0, emulator.State.Counters.CountStatus(401));
    }

    [Fact]
    public async Task WrongClientSecret_IsUnauthorizedAndTheSecretIsNeverLogged()
    {
        const string wrong = "definitely-not-the-secret-42";
        var emulator = await StartAsync();
        using var client = NewClient(emulator, o => o.ClientSecret = wrong);

        var read = await client.GetUserAsync("u1");

        Assert.Equal(ScimOutcome.Unauthorized, read.Outcome);
        Assert.Contains("Scim__ClientSecret", read.Error!.Detail, StringComparison.Ordinal);
        Assert.Equal(1, emulator.State.Counters.Count("POST", "token"));
        Assert.DoesNotContain(logs.GetSnapshot(), r => r.Message.Contains(wrong, StringComparison.Ordinal) || (r.Exception?.ToString().Contains(wrong, StringComparison.Ordinal) ?? false));
    }

    [Theory]
    [InlineData(500)]
    [InlineData(503)]
    public async Task InjectedServerErrors_AreRetriedForIdempotentRequests(int status)
    {
        var emulator = await StartAsync();
        using var client = NewClient(emulator);
        var created = await client.CreateUserAsync(User("flaky@example.org", "e-flaky"));
        emulator.State.Faults.Set(new FaultSettings { ErrorCount = 2, ErrorStatuses = [status], Methods = ["GET"] });

        var read = await client.GetUserAsync(created.Value!.Id);

        Assert.Equal(ScimOutcome.Ok, read.Outcome);
        Assert.Equal(2, client.Counts.Retries);
        Assert.Equal(3, emulator.State.Counters.Count("GET", "users"));
    }

    [Fact]
    public async Task InjectedServerErrors_BeyondMaxRetries_AreTransient()
    {
        var emulator = await StartAsync();
        using var client = NewClient(emulator, o => o.MaxRetries = 2);
        var created = await client.CreateUserAsync(User("down@example.org", "e-down"));
        emulator.State.Faults.Set(new FaultSettings { ErrorCount = 10, ErrorStatuses = [503], Methods = ["PUT"] });

        var replaced = await client.ReplaceUserAsync(created.Value!.Id, created.Value.Body, created.Value.Version);

        Assert.Equal(ScimOutcome.Transient, replaced.Outcome);
        Assert.Equal(503, replaced.Error!.Status);
        Assert.Equal(3, emulator.State.Counters.Count("PUT", "users"));
    }

    [Fact]
    public async Task ResetConnection_IsRetried()
    {
        var emulator = await StartAsync();
        using var client = NewClient(emulator);
        var created = await client.CreateUserAsync(User("reset@example.org", "e-reset"));
        emulator.State.Faults.Set(new FaultSettings { DropCount = 1, Methods = ["PATCH"] });

        var patched = await client.PatchUserAsync(created.Value!.Id, [ScimPatchOperation.Replace("title", "t")], created.Value.Version);

        Assert.Equal(ScimOutcome.Ok, patched.Outcome);
        Assert.Equal(2, emulator.State.Counters.Count("PATCH", "users"));
    }

    [Fact]
    public async Task Latency_WithinTheAttemptTimeout_Succeeds()
    {
        var emulator = await StartAsync();
        using var client = NewClient(emulator, o => o.AttemptTimeout = TimeSpan.FromSeconds(3));
        var created = await client.CreateUserAsync(User("slow@example.org", "e-slow"));
        emulator.State.Faults.Set(new FaultSettings { LatencyMs = 300 });

        var read = await client.GetUserAsync(created.Value!.Id);

        Assert.Equal(ScimOutcome.Ok, read.Outcome);
        Assert.Equal(0, client.Counts.Retries);
    }

    [Fact]
    public async Task Latency_BeyondTheAttemptTimeout_IsRetriedThenTransientWithinTheBudget()
    {
        var emulator = await StartAsync();
        using var client = NewClient(emulator, o =>
        {
            o.AttemptTimeout = TimeSpan.FromMilliseconds(300);
            o.CallTimeBudget = TimeSpan.FromSeconds(1.5);
        });
        var created = await client.CreateUserAsync(User("stuck@example.org", "e-stuck"));
        emulator.State.Faults.Set(new FaultSettings { LatencyMs = 5000 });
        var clock = Stopwatch.StartNew();

        var read = await client.GetUserAsync(created.Value!.Id);

        Assert.Equal(ScimOutcome.Transient, read.Outcome);
        Assert.True(client.Counts.Retries >= 1);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task Create_FailedThenConflict_ReturnsTheUserItMadeAsCreated()
    {
        // The first POST was processed but its answer was lost (here: its effect is seeded, the answer is a 503);
        // the retry meets 409 and the client finds its own user by userName.
        var emulator = await StartAsync();
        emulator.State.Seed(new JsonObject { ["users"] = new JsonArray(User("lost@example.org", "e-lost")) });
        emulator.State.Faults.Set(new FaultSettings { ErrorCount = 1, ErrorStatuses = [503], Methods = ["POST"], Kinds = ["users"] });
        using var client = NewClient(emulator);

        var created = await client.CreateUserAsync(User("lost@example.org", "e-lost"));

        Assert.Equal(ScimOutcome.Ok, created.Outcome);
        Assert.Equal("lost@example.org", (string?)created.Value!.Body["userName"]);
        Assert.Equal(2, emulator.State.Counters.Count("POST", "users"));
        Assert.Equal(1, emulator.State.Counters.CountStatus(409));
    }

    [Fact]
    public async Task Create_RetriedIntoAnInactiveUserHiddenFromTheFilter_FindsItByPagingInactive()
    {
        var emulator = await StartAsync(o => o.FilteredListsIncludeInactive = false);
        var inactive = User("sleeper@example.org", "e-sleeper");
        inactive["active"] = false;
        var fillers = Enumerable.Range(0, 30).Select(i => (JsonNode)User($"idle{i:D2}@example.org", $"e-idle{i}", active: false)).ToArray();
        emulator.State.Seed(new JsonObject { ["users"] = new JsonArray([.. fillers, inactive]) });
        emulator.State.Faults.Set(new FaultSettings { DropCount = 1, Methods = ["POST"], Kinds = ["users"] });
        using var client = NewClient(emulator);

        var created = await client.CreateUserAsync(User("sleeper@example.org", "e-sleeper"));

        Assert.Equal(ScimOutcome.Ok, created.Outcome);
        Assert.Equal("e-sleeper", (string?)created.Value!.Body["externalId"]);
        Assert.False((bool)created.Value.Body["active"]!);
    }

    [Fact]
    public async Task Create_ClashingWithSomeoneElse_IsUniquenessWithThatUser()
    {
        var emulator = await StartAsync();
        var seeded = emulator.State.Seed(new JsonObject { ["users"] = new JsonArray(User("taken@example.org", "e-other")) });
        using var client = NewClient(emulator);

        var created = await client.CreateUserAsync(User("taken@example.org", "e-mine"));

        Assert.Equal(ScimOutcome.Uniqueness, created.Outcome);
        Assert.Equal(seeded.Users[0].Id, created.Value!.Id);
        Assert.Equal("taken@example.org", created.Error!.UserName);
    }

    [Fact]
    public async Task ListUsers_PagesThrough25AtATimeAndIncludesInactive()
    {
        var emulator = await StartAsync(o => o.ShuffleListOrder = true);
        var users = Enumerable.Range(0, 130).Select(i => (JsonNode)User($"p{i:D3}@example.org", $"e-p{i}"))
            .Concat(Enumerable.Range(0, 10).Select(i => (JsonNode)User($"q{i:D3}@example.org", $"e-q{i}", active: false)));
        emulator.State.Seed(new JsonObject { ["users"] = new JsonArray([.. users]) });
        using var client = NewClient(emulator);

        var all = new List<ScimResource>();
        await foreach (var user in client.ListUsersAsync())
        {
            all.Add(user);
        }

        var pagesForAll = emulator.State.Counters.Count("GET", "users");
        var slim = new List<ScimResource>();
        await foreach (var user in client.ListUsersAsync("active eq true", ["id", "userName"]))
        {
            slim.Add(user);
        }

        Assert.Equal(140, all.Select(u => u.Id).Distinct().Count());
        Assert.Equal(140, all.Count);
        Assert.All(all, u => Assert.StartsWith("\"", u.Version, StringComparison.Ordinal));
        Assert.Equal(6 + 1, pagesForAll);
        Assert.Equal(130, slim.Count);
        Assert.Equal(2, emulator.State.Counters.Count("GET", "users") - pagesForAll);
        Assert.Equal(0, emulator.State.Counters.CountStatus(429));
    }

    [Fact]
    public async Task PatchGroupMembers_SendsChunksOfFiftyWithTheVersionCarriedForward()
    {
        var emulator = await StartAsync();
        var seeded = emulator.State.Seed(new JsonObject
        {
            ["users"] = new JsonArray([.. Enumerable.Range(0, 120).Select(i => (JsonNode)User($"m{i:D3}@example.org", $"e-m{i}"))]),
            ["groups"] = new JsonArray(new JsonObject { ["displayName"] = "Everyone", ["members"] = new JsonArray() }),
        });
        var group = seeded.Groups[0].Id;
        var ids = seeded.Users.Select(u => u.Id).ToList();
        using var client = NewClient(emulator);
        var start = await client.GetGroupAsync(group);

        var added = await client.PatchGroupMembersAsync(group, ids, [], start.Value!.Version);
        var patchesToAdd = emulator.State.Counters.Count("PATCH", "groups");
        var removed = await client.PatchGroupMembersAsync(group, [], ids.Take(60).ToList(), added.Value!.Version);

        Assert.Equal(ScimOutcome.Ok, added.Outcome);
        Assert.Equal(3, patchesToAdd);
        Assert.Equal(120, added.Value.Body["members"]!.AsArray().Count);
        Assert.Equal(ScimOutcome.Ok, removed.Outcome);
        Assert.Equal(5, emulator.State.Counters.Count("PATCH", "groups"));
        Assert.Equal(60, removed.Value!.Body["members"]!.AsArray().Count);
        Assert.Equal(0, emulator.State.Counters.CountStatus(400));
    }

    [Fact]
    public async Task Throttled_WithRetryAfter_PausesThenSucceeds()
    {
        var emulator = await StartAsync();
        using var client = NewClient(emulator);
        var created = await client.CreateUserAsync(User("polite@example.org", "e-polite"));
        emulator.State.Faults.Set(new FaultSettings { ThrottleCount = 1, ThrottleRetryAfterSeconds = 1, Methods = ["GET"] });
        var clock = Stopwatch.StartNew();

        var read = await client.GetUserAsync(created.Value!.Id);

        Assert.Equal(ScimOutcome.Ok, read.Outcome);
        Assert.Equal(1, client.Counts.Throttled);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(900), $"retried after {clock.Elapsed}");
    }

    [Fact]
    public async Task Throttled_WithRetryAfterOfADay_IsThrottledAtOnce_AndDoesNotHoldTheNextCall()
    {
        // Budget 20 s. A Retry-After of a day cannot be honoured by any caller: this call is Throttled (retried later
        // by the queue) after one request, and the next call is not held for a day by the shared limiter.
        var emulator = await StartAsync();
        using var client = NewClient(emulator, o => o.CallTimeBudget = TimeSpan.FromSeconds(20));
        var created = await client.CreateUserAsync(User("patient@example.org", "e-patient"));
        emulator.State.Faults.Set(new FaultSettings { ThrottleCount = 1, ThrottleRetryAfterSeconds = 86_400, Methods = ["GET"] });
        var before = emulator.State.Counters.Count("GET", "users");

        var refused = await client.GetUserAsync(created.Value!.Id);
        var next = await client.GetUserAsync(created.Value!.Id);

        Assert.Equal(ScimOutcome.Throttled, refused.Outcome);
        Assert.Equal(ScimOutcome.Ok, next.Outcome);
        Assert.Equal(before + 2, emulator.State.Counters.Count("GET", "users"));
    }

    [Fact]
    public async Task Burst_AtTheGenesysLimit_QueuesInTheClientInsteadOfDrawing429s()
    {
        // Both sides on one clock running 20x: 300 requests/minute per token, as Genesys publishes. 400 requests
        // sent at once without a limiter would meet 100 429s in the first minute.
        var clock = new AcceleratedTimeProvider(20);
        var emulator = await StartAsync(o => o.RateLimitPerMinute = 300, clock);
        using var client = NewClient(emulator, Polite, clock);
        var created = await client.CreateUserAsync(User("burst@example.org", "e-burst"));
        const int Burst = 400;

        var began = clock.GetTimestamp();
        var results = await Task.WhenAll(Enumerable.Range(0, Burst).Select(_ => client.GetUserAsync(created.Value!.Id)));
        var elapsed = clock.GetElapsedTime(began);

        // The create took one permit; the other 9 of the burst go at once, the rest at 290 per minute.
        var floor = TimeSpan.FromSeconds((Burst - 9) / 290.0 * 60);
        var throttled = emulator.State.Counters.CountStatus(429);
        output.WriteLine($"{Burst} GETs at 300/min (burst 10) against a 300/min target: {elapsed.TotalSeconds:F1} s on the clock; limiter floor {floor.TotalSeconds:F1} s; 429s {throttled}");
        Assert.All(results, r => Assert.Equal(ScimOutcome.Ok, r.Outcome));
        Assert.True(elapsed >= floor * 0.95, $"finished in {elapsed}: faster than the limiter allows");

        // Arrival jitter on a busy machine can push a request or two across a window edge; never dozens.
        Assert.InRange(throttled, 0, 5);
    }

    [Fact]
    public async Task Burst_OverTheGenesysLimit_HonoursRetryAfterAndLosesNothing()
    {
        // The client is told the target allows twice what it does: the target answers 429 with Retry-After.
        var clock = new AcceleratedTimeProvider(20);
        var emulator = await StartAsync(o => o.RateLimitPerMinute = 300, clock);
        using var client = NewClient(emulator, o =>
        {
            Polite(o);
            o.RequestsPerMinute = 600;
            o.RequestBurst = 20;
        }, clock);
        var created = await client.CreateUserAsync(User("greedy@example.org", "e-greedy"));
        const int Burst = 400;

        var began = clock.GetTimestamp();
        var results = await Task.WhenAll(Enumerable.Range(0, Burst).Select(_ => client.GetUserAsync(created.Value!.Id)));
        var elapsed = clock.GetElapsedTime(began);

        var counters = emulator.State.Counters;
        output.WriteLine($"{Burst} GETs, client at 600/min against a 300/min target: {elapsed.TotalSeconds:F1} s on the clock " +
            $"(the limit allows no less than 60 s); 429s {counters.CountStatus(429)}, retries {client.Counts.Retries}");
        Assert.All(results, r => Assert.Equal(ScimOutcome.Ok, r.Outcome));
        Assert.True(client.Counts.Throttled >= 1);
        Assert.Equal(Burst, counters.Snapshot().ByRouteAndStatus["GET users 200"]);
        Assert.Equal(counters.Count("GET", "users"), Burst + counters.CountStatus(429));
        Assert.True(elapsed >= TimeSpan.FromSeconds(59), $"finished in {elapsed}: more than 300 in one minute were accepted");
    }

    private static void Polite(ScimOptions options)
    {
        options.RequestsPerMinute = 300;
        options.RequestBurst = 10;
        options.CallTimeBudget = TimeSpan.FromMinutes(10);
        options.AttemptTimeout = TimeSpan.FromSeconds(30);
        options.MaxRetries = 3;
    }

    private async Task<RunningEmulator> StartAsync(Action<EmulatorOptions>? configure = null, TimeProvider? time = null)
    {
        var emulator = await EmulatorHost.StartAsync(o =>
        {
            o.RateLimitPerMinute = 0;
            configure?.Invoke(o);
        }, time);
        started.Add(emulator);
        return emulator;
    }

    private ScimClient NewClient(RunningEmulator emulator, Action<ScimOptions>? configure = null, TimeProvider? time = null)
    {
        var target = new ScimOptions { Profile = "genesys", BaseUrl = emulator.ScimBaseUrl, ClientId = emulator.ClientId, ClientSecret = emulator.ClientSecret };
        return QuickScimClient.Create(target, logs, configure, time);
    }

    private static JsonObject User(string userName, string externalId, bool active = true) => new()
    {
        ["userName"] = userName,
        ["displayName"] = userName.Split('@')[0],
        ["externalId"] = externalId,
        ["active"] = active,
    };
}
