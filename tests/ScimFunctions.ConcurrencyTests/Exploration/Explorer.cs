using System.Diagnostics;
using System.Globalization;
using GenesysScimEmulator;
using ScimFunctions.Provisioning.Scim;

namespace ScimFunctions.ConcurrencyTests.Exploration;

/// <summary>Runs a scenario under many schedules (seeds). <c>CONCURRENCY_ITERATIONS</c> sets how many (each
/// scenario's default is the bounded run of eng/test.sh), <c>CONCURRENCY_SEED</c> replays one seed, and
/// <c>CONCURRENCY_STATS</c> names a file that gets one line per scenario for eng/concurrency.sh.</summary>
public static class Explorer
{
    public static async Task ExploreAsync(string scenario, int defaultIterations, Func<int, Task<(World World, IReadOnlyList<string> Problems)>> schedule)
    {
        var replay = Environment.GetEnvironmentVariable("CONCURRENCY_SEED");
        var iterations = int.TryParse(Environment.GetEnvironmentVariable("CONCURRENCY_ITERATIONS"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : defaultIterations;
        var seeds = replay is { Length: > 0 } ? [int.Parse(replay, CultureInfo.InvariantCulture)] : Enumerable.Range(1, iterations).ToList();
        var clock = Stopwatch.StartNew();
        var runs = 0;
        string? failure = null;
        foreach (var seed in seeds)
        {
            runs++;
            IReadOnlyList<string> problems;
            try
            {
                var (world, found) = await schedule(seed);
                problems = found.Count == 0 ? found : [.. found, world.Scheduler.Failure("the interleaving").Message];
            }
            catch (ScheduleFailedException ex)
            {
                problems = [ex.Message + (ex.InnerException is { } inner ? "\n  " + inner : "")];
            }

            if (problems.Count > 0)
            {
                failure = $"{scenario}: schedule with seed {seed} broke {problems.Count} invariant(s) (replay: CONCURRENCY_SEED={seed}):\n  - " + string.Join("\n  - ", problems);
                break;
            }
        }

        if (Environment.GetEnvironmentVariable("CONCURRENCY_STATS") is { Length: > 0 } stats)
        {
            lock (typeof(Explorer))
            {
                File.AppendAllText(stats, string.Create(CultureInfo.InvariantCulture, $"{scenario} {runs} {(failure is null ? 0 : 1)} {clock.Elapsed.TotalSeconds:F1}\n"));
            }
        }

        Assert.True(failure is null, failure);
    }
}

/// <summary>The emulator and a real SCIM client, shared by every schedule (the world clears the emulator).</summary>
public sealed class TargetFixture : IAsyncLifetime
{
    public RunningEmulator Emulator { get; private set; } = null!;

    public IScimClient Scim { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Emulator = await EmulatorHost.StartAsync(o => o.RateLimitPerMinute = 1_000_000);
        Scim = ScimClient.Create(new ScimOptions
        {
            Profile = "genesys",
            BaseUrl = Emulator.ScimBaseUrl,
            ClientId = Emulator.ClientId,
            ClientSecret = Emulator.ClientSecret,
            RequestsPerMinute = 100_000,
            RequestBurst = 10_000,
            AttemptTimeout = TimeSpan.FromSeconds(10),
            CallTimeBudget = TimeSpan.FromSeconds(20),
            RetryBaseDelay = TimeSpan.FromMilliseconds(1),
            MaxRetries = 2,
        });
    }

    public async Task DisposeAsync() => await Emulator.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class ScenarioCollection : ICollectionFixture<TargetFixture>
{
    public const string Name = "Scenarios";
}
