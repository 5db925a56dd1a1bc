using System.Diagnostics;
using System.Globalization;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Messaging.ServiceBus;
using GenesysScimEmulator;
using ScimFunctions.Benchmarks;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Notifications;

// Figures, not verdicts: request and write counts are exact; times depend on the machine.
if (args is ["worker-start"])
{
    await WorkerStart.RunAsync();
    return;
}

var connection = Environment.GetEnvironmentVariable("AZURITE_CONNECTION_STRING")
    ?? throw new InvalidOperationException("AZURITE_CONNECTION_STRING is not set: run the benchmarks with eng/bench.sh, which starts Azurite.");
if (args is ["scale", .. var scaleArgs])
{
    // eng/bench.sh scale [--tables azurite|memory] [sizes]: without sizes, Scale.DefaultRuns.
    var kind = ScaleTables.Azurite;
    if (scaleArgs is ["--tables", var tablesArg, .. var rest])
    {
        kind = Enum.TryParse<ScaleTables>(tablesArg, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed)
            ? parsed
            : throw new ArgumentException($"--tables takes azurite or memory, not '{tablesArg}'.");
        scaleArgs = rest;
    }

    var sizes = scaleArgs.Select(a => int.TryParse(a, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
        ? n
        : throw new ArgumentException($"scale takes user counts (whole numbers above 0), not '{a}'.")).ToList();
    await Scale.RunAsync(connection, sizes.Count > 0 ? [.. sizes.Select(n => (n, kind))] : Scale.DefaultRuns);
    return;
}

if (args is ["latency", .. var figures])
{
    // eng/bench.sh latency [changes] [burst]: the latency, burst and per-item cost figures only.
    var changes = figures.Length > 0 ? int.Parse(figures[0], CultureInfo.InvariantCulture) : 1_000;
    await Latency.RunAsync(connection, changes);
    await Latency.BurstAsync(connection, figures.Length > 1 ? int.Parse(figures[1], CultureInfo.InvariantCulture) : 1_000);
    await Latency.CostPerItemAsync(connection, changes);
    return;
}

var users = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 2000;

Console.WriteLine($"ScimFunctions benchmarks — {users} users, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
Console.WriteLine();

WebhookIntake();
await ProvisioningCost(users, connection);
await Scale.RunAsync(connection, [(1_500, ScaleTables.Azurite), (6_000, ScaleTables.Azurite), .. Scale.DefaultRuns]);
await Latency.RunAsync(connection, 1_000);
await Latency.BurstAsync(connection, 1_000);
await Latency.CostPerItemAsync(connection, 1_000);
await WorkerStart.RunAsync();

static void WebhookIntake()
{
    Console.WriteLine("1. Webhook intake (GraphNotificationParser + WorkQueue batching, in process)");
    Console.WriteLine("   items/request   requests   sends/request   µs/request (median)");
    foreach (var size in new[] { 1, 10, 100, 1000 })
    {
        var body = Payloads.NotificationCollection(size);
        var samples = new List<double>();
        var sender = new CountingSender();
        var queue = new WorkQueue(sender);
        var rounds = size >= 1000 ? 50 : 500;
        for (var i = 0; i < rounds + 20; i++)
        {
            var watch = Stopwatch.StartNew();
            var parsed = GraphNotificationParser.Parse(body, Payloads.ClientState, DateTimeOffset.UtcNow);
            queue.SendAsync(parsed.Items).GetAwaiter().GetResult();
            watch.Stop();
            if (i >= 20)
            {
                samples.Add(watch.Elapsed.TotalMicroseconds);
            }
        }

        samples.Sort();
        var sendsPerRequest = (double)sender.Sends / (rounds + 20);
        Console.WriteLine($"   {size,13}   {rounds,8}   {sendsPerRequest,13:0.##}   {samples[samples.Count / 2],18:0}");
    }

    Console.WriteLine("   Graph's deadline is 3,000,000 µs; the webhook does no provisioning itself.");
    Console.WriteLine();
}

static async Task ProvisioningCost(int users, string connection)
{
    Console.WriteLine($"2. Provisioning cost against the Genesys emulator (Azurite for state; emulator rate limit lifted to count, not wait)");
    await using var emulator = await EmulatorHost.StartAsync(o => o.RateLimitPerMinute = 1_000_000);
    var directory = Directory.CreateTempSubdirectory("scimfn-bench-");
    var snapshot = Path.Combine(directory.FullName, "directory.json");
    var company = new Company(users, groups: 20);
    emulator.State.Seed(company.EmulatorSeed());

    var tableCounter = new CountingPolicy();
    var tableOptions = new TableClientOptions();
    tableOptions.AddPolicy(tableCounter, HttpPipelinePosition.PerCall);
    var tables = new TableServiceClient(connection, tableOptions);
    var prefix = "Bench" + Guid.NewGuid().ToString("N")[..8];

    using var scim = BenchTarget.Client(emulator);
    var source = DirectorySources.Snapshot(snapshot, Path.Combine(directory.FullName, "state"));
    using var runner = BenchEngine.Build(scim, source, tables, prefix);

    Console.WriteLine("   round                          created updated disabled unchanged  SCIM req  SCIM writes  Table writes   req/user   seconds");
    async Task<long> Round(string name, Action change)
    {
        change();
        await File.WriteAllTextAsync(snapshot, company.SnapshotJson());
        emulator.State.Counters.Reset();
        tableCounter.Reset();
        var watch = Stopwatch.StartNew();
        var summary = await runner.SyncAsync(dryRun: false);
        watch.Stop();
        var requests = emulator.State.Counters.Total;
        Console.WriteLine($"   {name,-30} {summary.Created,7} {summary.Updated,7} {summary.Disabled,8} {summary.Unchanged,9} {requests,9} {summary.ScimWrites,12} {tableCounter.Writes,13} {(double)requests / users,10:0.00} {watch.Elapsed.TotalSeconds,9:0.0}");
        if (summary.Failed > 0)
        {
            Console.WriteLine($"   !! {summary.Failed} failed: {string.Join("; ", summary.Failures.Take(3).Select(f => f.Reason))}");
        }

        return requests;
    }

    var initial = await Round("initial load", () => { });
    await Round("again, nothing changed", () => { });
    await Round("2 % movers (title)", () => company.Move(0.02));
    await Round("1 % leavers (disabled)", () => company.Disable(0.01));
    await Round("5 % group moves", () => company.MoveGroups(0.05));

    Console.WriteLine();
    Console.WriteLine($"   At Genesys's 300 requests/min per token, the initial load's {initial} requests take {initial / 300.0:0.0} min of rate budget;");
    Console.WriteLine("   an incremental change costs its own requests only (a mover: 1 PATCH), not a full read of either side.");
    directory.Delete(recursive: true);
}

/// <summary>A Service Bus sender that accepts everything (the SDK's mocking seam).</summary>
internal sealed class CountingSender : ServiceBusSender
{
    public int Sends { get; private set; }

    public override ValueTask<ServiceBusMessageBatch> CreateMessageBatchAsync(CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(ServiceBusModelFactory.ServiceBusMessageBatch(1024 * 1024, new List<ServiceBusMessage>()));

    public override Task SendMessagesAsync(ServiceBusMessageBatch messageBatch, CancellationToken cancellationToken = default)
    {
        Sends++;
        return Task.CompletedTask;
    }
}

/// <summary>Counts Table Storage requests, and among them writes (anything but GET).</summary>
internal sealed class CountingPolicy : HttpPipelineSynchronousPolicy
{
    private long requests;
    private long writes;

    public long Requests => Interlocked.Read(ref requests);

    public long Writes => Interlocked.Read(ref writes);

    public void Reset()
    {
        Interlocked.Exchange(ref requests, 0);
        Interlocked.Exchange(ref writes, 0);
    }

    public override void OnSendingRequest(HttpMessage message)
    {
        Interlocked.Increment(ref requests);
        if (message.Request.Method != RequestMethod.Get)
        {
            Interlocked.Increment(ref writes);
        }
    }
}
