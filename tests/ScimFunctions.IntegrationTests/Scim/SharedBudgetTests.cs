using System.Text.Json.Nodes;
using Azure.Data.Tables;
using GenesysScimEmulator;
using ScimFunctions.IntegrationTests.Engine.Support;
using ScimFunctions.Provisioning.Scim;
using Xunit.Abstractions;

namespace ScimFunctions.IntegrationTests.Scim;

/// <summary>K engine instances (K separate clients, each with its own token, limiter and connection pool, as separate
/// processes would have) against one emulator that counts all their tokens as one OAuth client's 300 per minute, on a
/// clock running 10× faster. With the budget shared through Table Storage (Azurite) the aggregate stays within the limit;
/// without it, K limiters at 300 each draw 429s (the control run shows the emulator catches it).</summary>
[Collection(EngineCollection.Name)]
public sealed class SharedBudgetTests(AzuriteFixture azurite, ITestOutputHelper output) : IAsyncLifetime
{
    private const int TargetLimit = 300;
    private const int Requests = 360;
    private readonly List<IAsyncDisposable> started = [];
    private readonly List<ScimClient> clients = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var client in clients)
        {
            client.Dispose();
        }

        foreach (var item in started)
        {
            await item.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(8)]
    public async Task Instances_SharingTheBudget_StayWithinTheTargetLimit_WithNo429AndNothingLost(int instances)
    {
        var run = await RunAsync(instances, sharedTable: "budget" + Guid.NewGuid().ToString("N")[..16]);

        Assert.All(run.Results, r => Assert.Equal(ScimOutcome.Ok, r.Outcome));
        Assert.Equal(Requests, run.Ok);
        Assert.Equal(0, run.Throttled);
        Assert.InRange(run.MaxInAnyMinute, 1, TargetLimit);
    }

    [Fact]
    public async Task Instances_EachWithItsOwnLimiter_OverrunTheTargetLimit()
    {
        // The control: the same load without the shared budget. Each limiter keeps to 300; together they do not.
        var run = await RunAsync(3, sharedTable: null);

        Assert.True(run.Throttled > 0, "three limiters at 300/min each met no 429 from a 300/min target");
    }

    [Fact]
    public async Task BudgetTableUnreachable_TheRequestIsNotSent_AndTheCallIsTransient()
    {
        // Sending unaccounted could break every instance's budget: without the table, nothing goes out.
        var emulator = await EmulatorHost.StartAsync(o => o.RateLimitPerMinute = TargetLimit);
        started.Add(emulator);
        var unreachable = new TableServiceClient(
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:9/devstoreaccount1;",
            new TableClientOptions { Retry = { MaxRetries = 0, NetworkTimeout = TimeSpan.FromSeconds(2) } });
        using var client = ScimClient.Create(new ScimOptions
        {
            Profile = "genesys",
            BaseUrl = emulator.ScimBaseUrl,
            ClientId = emulator.ClientId,
            ClientSecret = emulator.ClientSecret,
            SharedBudgetTable = "scimratebudget",
            CallTimeBudget = TimeSpan.FromSeconds(10),
            AttemptTimeout = TimeSpan.FromSeconds(2),
            RetryBaseDelay = TimeSpan.FromMilliseconds(20),
            MaxRetries = 1,
        }, unreachable);

        var read = await client.GetUserAsync("00000000-0000-0000-0000-000000000001");

        Assert.Equal(ScimOutcome.Transient, read.Outcome);
        Assert.Equal(0, emulator.State.Counters.Count("GET", "users"));
    }

    private sealed record Figures(IReadOnlyList<ScimResult<ScimResource>> Results, long Ok, long Throttled, int MaxInAnyMinute);

    private async Task<Figures> RunAsync(int instances, string? sharedTable)
    {
        var clock = new AcceleratedTimeProvider(10);
        var emulator = await EmulatorHost.StartAsync(o =>
        {
            o.RateLimitPerMinute = TargetLimit;
            o.RateLimitPerClient = true;
        }, clock);
        started.Add(emulator);
        var tables = new TableServiceClient(azurite.ConnectionString);
        for (var i = 0; i < instances; i++)
        {
            var options = new ScimOptions
            {
                Profile = "genesys",
                BaseUrl = emulator.ScimBaseUrl,
                ClientId = emulator.ClientId,
                ClientSecret = emulator.ClientSecret,
                RequestsPerMinute = TargetLimit,
                RequestBurst = 10,
                SharedBudgetTable = sharedTable,
                CallTimeBudget = TimeSpan.FromMinutes(10),
                AttemptTimeout = TimeSpan.FromSeconds(30),
                RetryBaseDelay = TimeSpan.FromMilliseconds(20),
                MaxRetries = 3,
            };
            clients.Add(sharedTable is null ? ScimClient.Create(options, clock) : ScimClient.Create(options, tables, clock));
        }

        var created = await clients[0].CreateUserAsync(new JsonObject
        {
            ["userName"] = "shared@example.org",
            ["displayName"] = "shared",
            ["externalId"] = "e-shared",
            ["active"] = true,
        });
        Assert.Equal(ScimOutcome.Ok, created.Outcome);

        var began = clock.GetTimestamp();
        var results = await Task.WhenAll(Enumerable.Range(0, Requests).Select(i => clients[i % instances].GetUserAsync(created.Value!.Id)));
        var elapsed = clock.GetElapsedTime(began);

        var counters = emulator.State.Counters;
        var ok = counters.Snapshot().ByRouteAndStatus.GetValueOrDefault("GET users 200");
        var throttled = counters.CountStatus(429);
        var maxInAnyMinute = MaxInAnyMinute(emulator.State.Tokens.ClientAcceptedTimes());
        output.WriteLine(
            $"K={instances} {(sharedTable is null ? "own limiters" : "shared budget")}: {Requests} GETs in {elapsed.TotalSeconds:F0} s on the clock " +
            $"({(Requests + 1) / elapsed.TotalMinutes:F0}/min on average), at most {maxInAnyMinute} in any 60 s (target limit {TargetLimit}); " +
            $"429s {throttled}, failed {results.Count(r => r.Outcome != ScimOutcome.Ok)}, lost {Requests - ok}");
        return new Figures(results, ok, throttled, maxInAnyMinute);
    }

    /// <summary>The most requests the target accepted in any 60-second interval (sliding, not aligned).</summary>
    private static int MaxInAnyMinute(IReadOnlyList<DateTimeOffset> accepted)
    {
        var times = accepted.Order().ToArray();
        var max = 0;
        var start = 0;
        for (var end = 0; end < times.Length; end++)
        {
            while (times[end] - times[start] >= TimeSpan.FromMinutes(1))
            {
                start++;
            }

            max = Math.Max(max, end - start + 1);
        }

        return max;
    }
}
