using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Azure.Messaging.ServiceBus;
using GenesysScimEmulator;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using ScimFunctions.Functions;
using ScimFunctions.IntegrationTests.Engine.Support;
using ScimFunctions.Provisioning.Notifications;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.Benchmarks;

/// <summary>Notification to SCIM write, in process: the real webhook class (GraphNotifications) puts the item on an
/// in-memory queue (the SDK's sender type), the real ProvisionObject takes it, the engine converges the object against
/// the Genesys emulator and stores its row in Azurite. The directory is in memory (Graph's own latency is not this
/// connector's). Figures, not verdicts.</summary>
internal static class Latency
{
    private const string ClientState = "bench-client-state-0123456789abcdef";
    private static readonly string[] Kinds = ["joiner", "mover", "leaver", "group member change"];

    /// <summary>Latency per change kind: <paramref name="changes"/> changes, one at a time (no queueing: each is the
    /// pipeline's own time).</summary>
    public static async Task RunAsync(string connection, int changes)
    {
        Console.WriteLine($"4. Notification → SCIM write, in process (webhook class → queue → ProvisionObject → emulator without limit → Azurite), {changes:N0} changes one at a time");
        await using var emulator = await EmulatorHost.StartAsync(o => o.RateLimitPerMinute = 10_000_000);
        using var scim = BenchTarget.Client(emulator);
        await using var world = await World.StartAsync(connection, emulator, scim, new MemoryDirectory(2_000, changes / 4 + 1, groups: 20));

        var latencies = Kinds.ToDictionary(k => k, _ => new List<double>());
        for (var i = 0; i < changes; i++)
        {
            var kind = Kinds[i % Kinds.Length];
            var objectId = world.Change(kind, i / Kinds.Length);
            var started = Stopwatch.GetTimestamp();
            await world.NotifyAsync(objectId, kind == "group member change" ? "Groups" : "Users");
            await world.ProcessOneAsync(objectId);
            latencies[kind].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        world.DropFollowUps();
        Console.WriteLine("   kind                  changes     p50 ms     p95 ms     p99 ms   SCIM writes");
        foreach (var kind in Kinds)
        {
            var samples = latencies[kind];
            samples.Sort();
            Console.WriteLine($"   {kind,-20} {samples.Count,8} {Percentile(samples, 0.50),10:0.0} {Percentile(samples, 0.95),10:0.0} {Percentile(samples, 0.99),10:0.0}   {world.Writes(kind),11}");
        }

        if (world.Failures > 0)
        {
            Console.WriteLine($"   !! {world.Failures} items were not completed");
        }

        Console.WriteLine();
    }

    /// <summary>A burst at Genesys's bound: <paramref name="changes"/> movers notified at once, processed by
    /// <paramref name="sessions"/> concurrent sessions through the client's own limiter (300/min) against the emulator's
    /// 300/min; wall-clock time (the limiter runs on TimeProvider.System, and so does the emulator's window).</summary>
    public static async Task BurstAsync(string connection, int changes, int sessions = 8)
    {
        const int perMinute = 300;
        Console.WriteLine($"5. Burst: {changes:N0} movers notified at once, {sessions} sessions, the client's limiter at {perMinute}/min against the emulator's {perMinute}/min (real time)");
        await using var emulator = await EmulatorHost.StartAsync(o => o.RateLimitPerMinute = 10_000_000);
        using var unlimited = BenchTarget.Client(emulator);
        await using var world = await World.StartAsync(connection, emulator, unlimited, new MemoryDirectory(changes, 0, groups: 20));

        // The load itself ran without limits; the burst runs with Genesys's.
        emulator.State.Settings.Update(o => o.RateLimitPerMinute = perMinute);
        using var limited = ScimClient.Create(new ScimOptions
        {
            Profile = "genesys",
            BaseUrl = emulator.ScimBaseUrl,
            LoginUrl = emulator.BaseAddress.GetLeftPart(UriPartial.Authority),
            ClientId = emulator.ClientId,
            ClientSecret = emulator.ClientSecret,
            RequestsPerMinute = perMinute,
        });
        await using var burst = await World.StartAsync(connection, emulator, limited, reuse: world);
        emulator.State.Counters.Reset();

        var ids = Enumerable.Range(0, changes).Select(i => world.Change("mover", i)).ToList();
        var notified = Stopwatch.GetTimestamp();
        foreach (var id in ids)
        {
            await burst.NotifyAsync(id, "Users");
        }

        var latencies = await burst.DrainConcurrentlyAsync(sessions, notified);
        var took = Stopwatch.GetElapsedTime(notified);
        latencies.Sort();
        var writes = emulator.State.Counters.Count("PATCH", "users");
        var throttled = emulator.State.Counters.CountStatus(429);
        Console.WriteLine($"   p50 {Percentile(latencies, 0.5) / 1000:0.0} s, p99 {Percentile(latencies, 0.99) / 1000:0.0} s from notification to SCIM write; all {latencies.Count:N0} done in {took.TotalMinutes:0.00} min");
        Console.WriteLine($"   achieved {writes / took.TotalMinutes:0} writes/min against the bound of {perMinute}/min ({changes / (double)perMinute:0.00} min for {changes:N0} at the bound); 429s seen: {throttled}; surfaced as failures: {burst.Failures}");
        Console.WriteLine();
    }

    /// <summary>CPU time and allocated bytes of this process around each ProvisionObject call, with the emulator in its
    /// own process (and Azurite in its own), so the figures are the connector's: the engine, its SCIM, Graph-less
    /// directory and Table clients, and the function class.</summary>
    public static async Task CostPerItemAsync(string connection, int changes)
    {
        Console.WriteLine($"6. CPU and allocations per work item (connector only: emulator and Azurite in their own processes), {changes:N0} changes one at a time");
        var directory = new MemoryDirectory(2_000, changes / 4 + 1, groups: 20);
        await using var external = await ExternalEmulator.StartAsync(directory.GroupNames);
        using var scim = ScimClient.Create(new ScimOptions
        {
            Profile = "genesys",
            BaseUrl = external.ScimBaseUrl,
            LoginUrl = external.BaseUrl,
            ClientId = ExternalEmulator.ClientId,
            ClientSecret = ExternalEmulator.ClientSecret,
            RequestsPerMinute = 100_000,
            RequestBurst = 1_000,
        });
        await using var world = await World.StartAsync(connection, null, scim, directory);
        var cost = Kinds.ToDictionary(k => k, _ => new List<(double CpuMs, long Bytes)>());
        for (var i = 0; i < changes; i++)
        {
            var kind = Kinds[i % Kinds.Length];
            var objectId = world.Change(kind, i / Kinds.Length);
            await world.NotifyAsync(objectId, kind == "group member change" ? "Groups" : "Users");
            cost[kind].Add(await world.ProcessOneAsync(objectId));
        }

        Console.WriteLine("   kind                   items   CPU ms (mean)   allocated KiB (mean)");
        foreach (var kind in Kinds)
        {
            Console.WriteLine($"   {kind,-20} {cost[kind].Count,7} {cost[kind].Average(c => c.CpuMs),15:0.00} {cost[kind].Average(c => c.Bytes) / 1024.0,22:0}");
        }

        var all = cost.Values.SelectMany(c => c).ToList();
        Console.WriteLine($"   all                  {all.Count,7} {all.Average(c => c.CpuMs),15:0.00} {all.Average(c => c.Bytes) / 1024.0,22:0}   (process CPU time and GC.GetTotalAllocatedBytes around ProvisionObject.RunAsync)");
        if (world.Failures > 0)
        {
            Console.WriteLine($"   !! {world.Failures} items were not completed");
        }

        Console.WriteLine();
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    /// <summary>The pipeline for one benchmark: directory, engine, webhook, queue and ProvisionObject.</summary>
    private sealed class World : IAsyncDisposable
    {
        private readonly MemoryDirectory directory;
        private readonly BenchEngine engine;
        private readonly FakeQueue queueRef;
        private readonly GraphNotifications webhook;
        private readonly ProvisionObject provision;
        private readonly RunningEmulator? emulator;
        private readonly Dictionary<string, long> writes = [];
        private int sequence;

        private World(MemoryDirectory directory, BenchEngine engine, RunningEmulator? emulator, FakeQueue queue)
        {
            this.directory = directory;
            this.engine = engine;
            this.emulator = emulator;
            queueRef = queue;
            var work = engine.Services.GetRequiredService<WorkQueue>();
            webhook = new GraphNotifications(work, Microsoft.Extensions.Options.Options.Create(new NotificationOptions { ClientState = ClientState }), TimeProvider.System, NullLogger<GraphNotifications>.Instance);
            provision = new ProvisionObject(engine.Services.GetRequiredService<WorkItemProcessor>(), engine.Services.GetRequiredService<WorkItemRetryPolicy>(), work, engine.Services.GetRequiredService<DeltaSweeper>(), NullLogger<ProvisionObject>.Instance);
        }

        public int Failures { get; private set; }

        public static async Task<World> StartAsync(string connection, RunningEmulator? emulator, IScimClient scim, MemoryDirectory? directory = null, World? reuse = null)
        {
            directory = reuse?.directory ?? directory ?? throw new ArgumentNullException(nameof(directory));
            if (reuse is null)
            {
                emulator?.State.Seed(new JsonObject { ["groups"] = new JsonArray([.. directory.GroupNames.Select(n => (JsonNode)new JsonObject { ["displayName"] = n })]) });
            }

            var queue = new FakeQueue();
            var prefix = reuse?.engine.TablePrefix ?? "Lat" + Guid.NewGuid().ToString("N")[..8];
            var engine = BenchEngine.Build(scim, directory, new TableServiceClient(connection), prefix, queue: new WorkQueue(queue.Sender));
            var world = new World(directory, engine, emulator, queue);
            if (reuse is null)
            {
                var load = await engine.SyncAsync(dryRun: false);
                if (load.Failed > 0)
                {
                    Console.WriteLine($"   !! the initial load failed for {load.Failed} users");
                }
            }

            return world;
        }


        public string Change(string kind, int index) => kind switch
        {
            "joiner" => directory.Join(index),
            "mover" => directory.Move(index),
            "leaver" => directory.Leave(index),
            _ => directory.MoveMember(index),
        };

        public long Writes(string kind) => writes.GetValueOrDefault(kind);

        public async Task NotifyAsync(string objectId, string resource)
        {
            var body = new JsonObject
            {
                ["value"] = new JsonArray(new JsonObject
                {
                    ["subscriptionId"] = "sub-" + resource.ToLowerInvariant(),
                    ["clientState"] = ClientState,
                    ["changeType"] = "updated",
                    ["resource"] = $"{resource}/{objectId}",
                    ["tenantId"] = "tenant-1",
                    ["subscriptionExpirationDateTime"] = "2026-12-31T00:00:00Z",
                    ["resourceData"] = new JsonObject
                    {
                        ["@odata.type"] = resource == "Users" ? "#Microsoft.Graph.User" : "#Microsoft.Graph.Group",
                        ["id"] = objectId,
                        ["sequenceNumber"] = Interlocked.Increment(ref sequence),
                    },
                }),
            };
            var bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
            var context = new DefaultHttpContext();
            context.Request.Method = "POST";
            context.Request.ContentType = "application/json";
            context.Request.ContentLength = bytes.Length;
            context.Request.Body = new MemoryStream(bytes);
            await webhook.RunAsync(context.Request);
        }

        /// <summary>Delivers the one item the notification queued; CPU time and allocations of the process around the call.</summary>
        public async Task<(double CpuMs, long Bytes)> ProcessOneAsync(string objectId)
        {
            // Follow-ups of earlier changes (scheduled for later) stay queued: the change's own item is the one timed.
            var entry = queueRef.TakeSession(objectId) ?? throw new InvalidOperationException($"The notification for {objectId} queued nothing.");
            var before = Counters();
            var (cpu0, bytes0) = (Process.GetCurrentProcess().TotalProcessorTime, GC.GetTotalAllocatedBytes(true));
            await DeliverAsync(entry);
            var (cpu1, bytes1) = (Process.GetCurrentProcess().TotalProcessorTime, GC.GetTotalAllocatedBytes(true));
            var kind = entry.Message.Subject == nameof(WorkItemKind.Group) ? "group member change" : directory.KindOf(objectId);
            writes[kind] = writes.GetValueOrDefault(kind) + (Counters() - before);
            return ((cpu1 - cpu0).TotalMilliseconds, bytes1 - bytes0);
        }

        /// <summary>Follow-ups (a group whose member joined, the groups of a leaver) are not the change's own write.</summary>
        public void DropFollowUps()
        {
            while (queueRef.Take() is not null)
            {
            }
        }

        /// <summary>Delivers everything queued with <paramref name="sessions"/> concurrent receivers (one object's items
        /// stay on one receiver, as sessions keep them); latency of each first delivery since <paramref name="since"/>.</summary>
        public async Task<List<double>> DrainConcurrentlyAsync(int sessions, long since)
        {
            var latencies = new List<double>();
            await Task.WhenAll(Enumerable.Range(0, sessions).Select(_ => Task.Run(async () =>
            {
                while (queueRef.Take() is { } entry)
                {
                    await DeliverAsync(entry);
                    lock (latencies)
                    {
                        latencies.Add(Stopwatch.GetElapsedTime(since).TotalMilliseconds);
                    }
                }
            })));
            return latencies;
        }

        private async Task DeliverAsync(FakeQueue.Entry entry)
        {
            var received = ServiceBusModelFactory.ServiceBusReceivedMessage(
                body: entry.Message.Body, messageId: entry.Message.MessageId, sessionId: entry.Message.SessionId,
                contentType: entry.Message.ContentType, subject: entry.Message.Subject, deliveryCount: entry.DeliveryCount, enqueuedTime: DateTimeOffset.UtcNow);
            var actions = new RecordingMessageActions();
            await provision.RunAsync(received, actions);
            queueRef.Settle(entry, actions);
            if (actions.Settlement != "complete")
            {
                Failures++;
            }
        }

        private long Counters() => emulator is null ? 0 :
            emulator.State.Counters.Count("POST", "users") + emulator.State.Counters.Count("PATCH", "users") + emulator.State.Counters.Count("PATCH", "groups");

        public ValueTask DisposeAsync()
        {
            engine.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
