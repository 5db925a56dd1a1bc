using System.Diagnostics;
using Azure.Core;
using Azure.Data.Tables;
using GenesysScimEmulator;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.Benchmarks;

/// <summary>How a full sync grows with the directory: per size a fresh emulator and tables, the initial load
/// (SCIM requests per created user, minutes of Genesys rate budget) and an unchanged re-run (time, Table and
/// SCIM requests), with the peak managed heap of the process (the emulator runs in it too).</summary>
internal static class Scale
{
    private const double GenesysRequestsPerMinute = 300;

    public static async Task RunAsync(string connection, IReadOnlyList<int> sizes)
    {
        Console.WriteLine("3. Scale: initial load and unchanged re-run per directory size (`scimfn sync` engine; emulator limit lifted)");
        Console.WriteLine("   users   load req  req/created  budget min   load s   re-run s  re-run Table req  re-run SCIM req  peak heap MiB");
        var reruns = new Dictionary<int, double>();
        foreach (var size in sizes)
        {
            var (load, rerun) = await OneAsync(connection, size);
            reruns[size] = rerun.Seconds;
            Console.WriteLine($"   {size,5} {load.Requests,10} {load.Requests / (double)Math.Max(1, load.Created),12:0.000} {load.Requests / GenesysRequestsPerMinute,11:0.0} {load.Seconds,8:0.0} {rerun.Seconds,10:0.00} {rerun.TableRequests,17} {rerun.ScimRequests,16} {Math.Max(load.PeakHeapMiB, rerun.PeakHeapMiB),14:0}");
        }

        if (reruns.TryGetValue(1_500, out var small) && reruns.TryGetValue(6_000, out var large) && small > 0)
        {
            Console.WriteLine($"   unchanged re-run 1,500 → 6,000 users: ×{large / small:0.00}, growth exponent {Math.Log(large / small) / Math.Log(4):0.00} (linear is 1.00)");
        }

        Console.WriteLine($"   budget min: the load's SCIM requests at Genesys's {GenesysRequestsPerMinute:0} requests/min per token; the physical bound is one POST per user.");
        Console.WriteLine();
    }

    private sealed record Load(long Requests, int Created, double Seconds, double PeakHeapMiB);

    private sealed record Rerun(double Seconds, long TableRequests, long ScimRequests, double PeakHeapMiB);

    private static async Task<(Load, Rerun)> OneAsync(string connection, int users)
    {
        await using var emulator = await EmulatorHost.StartAsync(o => o.RateLimitPerMinute = 10_000_000);
        var directory = Directory.CreateTempSubdirectory("scimfn-scale-");
        try
        {
            var snapshot = Path.Combine(directory.FullName, "directory.json");
            var company = new Company(users, groups: 20);
            emulator.State.Seed(company.EmulatorSeed());
            await File.WriteAllTextAsync(snapshot, company.SnapshotJson());

            var tableCounter = new CountingPolicy();
            var tableOptions = new TableClientOptions();
            tableOptions.AddPolicy(tableCounter, HttpPipelinePosition.PerCall);
            var tables = new TableServiceClient(connection, tableOptions);
            using var scim = ScimClient.Create(new ScimOptions
            {
                Profile = "genesys",
                BaseUrl = emulator.ScimBaseUrl,
                LoginUrl = emulator.BaseAddress.GetLeftPart(UriPartial.Authority),
                ClientId = emulator.ClientId,
                ClientSecret = emulator.ClientSecret,
                RequestsPerMinute = 1_000_000,
                RequestBurst = 10_000,
            });
            var source = DirectorySources.Snapshot(snapshot, Path.Combine(directory.FullName, "state"));
            var runner = SyncRunner.Create(scim, source, tables, new SyncOptions { Parallelism = 4 }, tablePrefix: "Scale" + Guid.NewGuid().ToString("N")[..8]);

            async Task<(SyncSummary Summary, double Seconds, double PeakMiB)> Measure()
            {
                emulator.State.Counters.Reset();
                tableCounter.Reset();
                GC.Collect();
                using var sampler = new HeapSampler();
                var watch = Stopwatch.StartNew();
                var summary = await runner.SyncAsync(dryRun: false);
                watch.Stop();
                return (summary, watch.Elapsed.TotalSeconds, sampler.PeakMiB);
            }

            var (loaded, loadSeconds, loadPeak) = await Measure();
            var loadRequests = emulator.State.Counters.Total - emulator.State.Counters.Count("POST", "token")
                - emulator.State.Counters.Count("PATCH", "groups") - emulator.State.Counters.Count("GET", "groups");
            if (loaded.Failed > 0)
            {
                Console.WriteLine($"   !! {loaded.Failed} failed on the initial load of {users}");
            }

            var (_, rerunSeconds, rerunPeak) = await Measure();
            var rerunScim = emulator.State.Counters.Total - emulator.State.Counters.Count("POST", "token");
            return (new Load(loadRequests, loaded.Created, loadSeconds, loadPeak), new Rerun(rerunSeconds, tableCounter.Requests, rerunScim, rerunPeak));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>Polls the managed heap while a run lasts: its peak, not a timing.</summary>
    private sealed class HeapSampler : IDisposable
    {
        private readonly CancellationTokenSource stop = new();
        private readonly Task loop;
        private long peak;

        public HeapSampler() => loop = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                peak = Math.Max(peak, GC.GetTotalMemory(false));
                try
                {
                    await Task.Delay(20, stop.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });

        public double PeakMiB => Math.Max(peak, GC.GetTotalMemory(false)) / 1024.0 / 1024.0;

        public void Dispose()
        {
            stop.Cancel();
            loop.Wait();
            stop.Dispose();
        }
    }
}
