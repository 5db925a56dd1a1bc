using System.Text;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Azure.Messaging.ServiceBus;
using GenesysScimEmulator;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ScimFunctions.Functions;
using ScimFunctions.IntegrationTests.Graph;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Notifications;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.IntegrationTests.Engine.Support;

/// <summary>The whole connector wired for a test: the Genesys emulator (real HTTP, real SCIM client), the Graph
/// double (real Graph SDK source), Azurite tables (fresh prefix per test, writes counted), the real function
/// classes, and an in-memory Service Bus queue between the webhook and ProvisionObject.</summary>
public sealed class EngineHarness : IAsyncDisposable
{
    public const string ClientState = "engine-tests-client-state-0123456789";
    private int sequence;
    private readonly List<IDisposable> disposables = [];

    private EngineHarness()
    {
    }

    public RunningEmulator Emulator { get; private set; } = null!;
    public GraphDouble Graph { get; private set; } = null!;
    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero));
    public CountingTablePolicy TableWrites { get; } = new();
    public TableServiceClient Tables { get; private set; } = null!;
    public string TablePrefix { get; } = "T" + Guid.NewGuid().ToString("N")[..12];
    public ScimClient Scim { get; private set; } = null!;

    /// <summary>The engine's SCIM client when started with <c>tamperable</c>: hooks that rewrite answers.</summary>
    public TamperingScimClient? Tampering { get; private set; }
    public IDirectorySource Directory { get; private set; } = null!;
    public SyncOptions Options { get; private set; } = null!;

    /// <summary>The harness's settings (its defaults, then the test's): for a second engine over the same parts.</summary>
    public Action<SyncOptions> Configure { get; private set; } = null!;
    public TestEngine Engine { get; private set; } = null!;
    public StateStore Store => Engine.Store;
    public ProvisioningMetrics Metrics { get; } = new();
    public FakeLoggerProvider Logs { get; } = new();
    public GraphSubscriptionManager Subscriptions { get; private set; } = null!;
    public FakeQueue Queue { get; } = new();
    public WorkQueue WorkQueue { get; private set; } = null!;
    public GraphNotifications Webhook { get; private set; } = null!;
    public ProvisionObject Provision { get; private set; } = null!;
    public DeltaSweep Sweep { get; private set; } = null!;
    public DeltaSweeper Sweeper { get; private set; } = null!;
    public PurgeDisabled Purge { get; private set; } = null!;
    public ReconcileGroups Reconcile { get; private set; } = null!;

    public static async Task<EngineHarness> StartAsync(
        AzuriteFixture azurite,
        Action<SyncOptions>? sync = null,
        Action<EmulatorOptions>? emulator = null,
        Action<ScimOptions>? scim = null,
        bool tamperable = false)
    {
        var harness = new EngineHarness();
        harness.Emulator = await EmulatorHost.StartAsync(o =>
        {
            o.RateLimitPerMinute = 100_000;
            emulator?.Invoke(o);
        });
        harness.Graph = await GraphDouble.StartAsync();

        var tableOptions = new TableClientOptions();
        tableOptions.AddPolicy(harness.TableWrites, Azure.Core.HttpPipelinePosition.PerCall);
        tableOptions.Retry.MaxRetries = 0;
        harness.Tables = new TableServiceClient(azurite.ConnectionString, tableOptions);

        var scimOptions = new ScimOptions
        {
            Profile = "genesys",
            BaseUrl = harness.Emulator.ScimBaseUrl,
            ClientId = harness.Emulator.ClientId,
            ClientSecret = harness.Emulator.ClientSecret,
            RequestsPerMinute = 60_000,
            RequestBurst = 1_000,
            AttemptTimeout = TimeSpan.FromSeconds(5),
            CallTimeBudget = TimeSpan.FromSeconds(15),
            RetryBaseDelay = TimeSpan.FromMilliseconds(10),
            MaxRetries = 3,
        };
        scim?.Invoke(scimOptions);
        harness.Scim = ScimClient.Create(scimOptions);

        var graphOptions = new GraphOptions { BaseUrl = harness.Graph.BaseUrl, Credential = GraphCredentialKinds.Token, StaticToken = GraphDouble.DefaultToken, MaxRetries = 1, RetryTimeLimitSeconds = 5 };
        var graphClient = GraphClients.Create(graphOptions);
        harness.disposables.Add(graphClient);
        harness.Directory = new GraphDirectorySource(graphClient, graphOptions, NullLogger<GraphDirectorySource>.Instance);

        harness.Configure = o =>
        {
            o.FollowUpDelaySeconds = 1;
            o.SweepGroupDelaySeconds = 1;
            o.RetryBaseDelaySeconds = 1;
            sync?.Invoke(o);
        };
        harness.Subscriptions = new GraphSubscriptionManager(graphClient, new GraphSubscriptionOptions { NotificationUrl = "https://scimfn.example/api/notifications?code=test" }, ClientState, TimeProvider.System, NullLogger<GraphSubscriptionManager>.Instance);
        var loggers = LoggerFactory.Create(b => b.AddProvider(harness.Logs).SetMinimumLevel(LogLevel.Debug));
        harness.disposables.Add(loggers);
        harness.Tampering = tamperable ? new TamperingScimClient(harness.Scim) : null;
        harness.WorkQueue = new WorkQueue(harness.Queue.Sender);
        harness.Engine = TestEngine.Build(harness.Tampering ?? (IScimClient)harness.Scim, harness.Directory, harness.Tables, harness.Configure, harness.Time, loggers, harness.TablePrefix, harness.Subscriptions, harness.Metrics, harness.WorkQueue);
        harness.disposables.Add(harness.Engine);
        harness.Options = harness.Engine.Options;

        harness.Webhook = new GraphNotifications(harness.WorkQueue, Microsoft.Extensions.Options.Options.Create(new NotificationOptions { ClientState = ClientState }), harness.Time, NullLogger<GraphNotifications>.Instance);
        var engine = harness.Engine.Services;
        var sweeper = engine.GetRequiredService<DeltaSweeper>();
        harness.Provision = new ProvisionObject(harness.Engine.WorkItems, engine.GetRequiredService<WorkItemRetryPolicy>(), harness.WorkQueue, sweeper, NullLogger<ProvisionObject>.Instance);
        harness.Sweep = new DeltaSweep(sweeper, NullLogger<DeltaSweep>.Instance);
        harness.Sweeper = sweeper;
        harness.Purge = new PurgeDisabled(engine.GetRequiredService<DisabledUserPurge>(), NullLogger<PurgeDisabled>.Instance);
        harness.Reconcile = new ReconcileGroups(engine.GetRequiredService<GroupReconciler>(), NullLogger<ReconcileGroups>.Instance);

        // Tables exist before anything is counted.
        await harness.Engine.GetStatusAsync();
        foreach (var table in new[] { harness.Store.PendingTable, harness.Store.CountersTable, harness.Store.TargetHintsTable, harness.Store.HistoryTable })
        {
            await harness.Store.TableAsync(table);
        }

        harness.ResetCounters();
        return harness;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var d in disposables)
        {
            d.Dispose();
        }

        Metrics.Dispose();
        await Graph.DisposeAsync();
        await Emulator.DisposeAsync();
    }

    public void ResetCounters()
    {
        Emulator.State.Counters.Reset();
        Graph.ClearRequests();
        TableWrites.Reset();
    }

    // ---------------- directory helpers ----------------

    public void AddUser(string id, string upn, string displayName, string? department = null, string? jobTitle = null, bool enabled = true, string? managerId = null)
    {
        Graph.AddUser(id, upn, displayName, enabled, p =>
        {
            p["mail"] = upn;
            if (department is not null)
            {
                p["department"] = department;
            }

            if (jobTitle is not null)
            {
                p["jobTitle"] = jobTitle;
            }
        });
        if (managerId is not null)
        {
            Graph.SetManager(id, managerId);
        }
    }

    // ---------------- the webhook and the queue ----------------

    /// <summary>POSTs a Graph change notification for one object to the real webhook function.</summary>
    public async Task<int> NotifyAsync(string objectId, string kind = "Users", string changeType = "updated", int? sequenceNumber = null)
    {
        var seq = sequenceNumber ?? Interlocked.Increment(ref sequence);
        var body = new JsonObject
        {
            ["value"] = new JsonArray(new JsonObject
            {
                ["subscriptionId"] = kind == "Users" ? "sub-users" : "sub-groups",
                ["clientState"] = ClientState,
                ["changeType"] = changeType,
                ["resource"] = $"{kind}/{objectId}",
                ["tenantId"] = "tenant-1",
                ["subscriptionExpirationDateTime"] = "2026-03-20T00:00:00Z",
                ["resourceData"] = new JsonObject
                {
                    ["@odata.type"] = kind == "Users" ? "#Microsoft.Graph.User" : "#Microsoft.Graph.Group",
                    ["@odata.id"] = $"{kind}/{objectId}",
                    ["id"] = objectId,
                    ["sequenceNumber"] = seq,
                },
            }),
        };
        var context = new DefaultHttpContext();
        var bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
        context.Request.Method = "POST";
        context.Request.ContentType = "application/json";
        context.Request.ContentLength = bytes.Length;
        context.Request.Body = new MemoryStream(bytes);
        var result = await Webhook.RunAsync(context.Request);
        return result switch
        {
            StatusCodeResult status => status.StatusCode,
            ObjectResult obj => obj.StatusCode ?? 200,
            _ => 200,
        };
    }

    /// <summary>Delivers queued messages to ProvisionObject until the queue is empty (scheduled ones at once).</summary>
    public async Task<IReadOnlyList<RecordingMessageActions>> DrainAsync(int maxDeliveries = 1000)
    {
        var settled = new List<RecordingMessageActions>();
        for (var i = 0; i < maxDeliveries; i++)
        {
            var entry = Queue.Take();
            if (entry is null)
            {
                return settled;
            }

            var received = ServiceBusModelFactory.ServiceBusReceivedMessage(
                body: entry.Message.Body,
                messageId: entry.Message.MessageId,
                sessionId: entry.Message.SessionId,
                contentType: entry.Message.ContentType,
                subject: entry.Message.Subject,
                deliveryCount: entry.DeliveryCount,
                enqueuedTime: Time.GetUtcNow());
            var actions = new RecordingMessageActions();
            try
            {
                await Provision.RunAsync(received, actions);
            }
            finally
            {
                Queue.Settle(entry, actions);
                settled.Add(actions);
            }
        }

        throw new InvalidOperationException($"The queue did not drain within {maxDeliveries} deliveries.");
    }

    /// <summary>Sends a raw message body (for malformed-input tests).</summary>
    public void EnqueueRaw(string body, string messageId, string sessionId) =>
        Queue.Enqueue(new ServiceBusMessage(BinaryData.FromString(body)) { MessageId = messageId, SessionId = sessionId, ContentType = WorkQueue.ContentType });

    // ---------------- counters and lookups ----------------

    public int GraphUserReads(string objectId) => Graph.Requests.Count(r => r.Method == "GET" && r.Path.EndsWith("/users/" + objectId, StringComparison.OrdinalIgnoreCase));

    public int GraphRequests => Graph.Requests.Count;

    /// <summary>SCIM requests the emulator received, token requests excluded.</summary>
    public long ScimRequests => Emulator.State.Counters.Total - Emulator.State.Counters.Count("POST", "token");

    public long ScimCount(string method, string kind = "users") => Emulator.State.Counters.Count(method, kind);

    public long ScimWrites => ScimCount("POST") + ScimCount("PATCH") + ScimCount("PUT") + ScimCount("DELETE") + ScimCount("PATCH", "groups") + ScimCount("PUT", "groups");

    public IReadOnlyList<JsonObject> TargetUsers(bool includeInactive = true)
    {
        var snapshot = Emulator.State.Store.Snapshot(new GenesysScimEmulator.State.ResourceUrls(Emulator.ScimBaseUrl));
        return snapshot["users"]!.AsArray().OfType<JsonObject>()
            .Where(u => includeInactive || (bool?)u["active"] != false)
            .ToList();
    }

    public JsonObject? TargetUser(string scimId) => TargetUsers().SingleOrDefault(u => (string?)u["id"] == scimId);

    /// <summary>Rows written to the history table since the counters were reset.</summary>
    public long HistoryWrites => TableWrites.WritesTo(Store.HistoryTable);

    /// <summary>Table writes other than history rows (the mapping, group, pending, ledger rows).</summary>
    public long StateWrites => TableWrites.Writes - HistoryWrites;

    /// <summary>The user's history, newest first.</summary>
    public async Task<IReadOnlyList<HistoryEntry>> HistoryAsync(string objectId) => await new HistoryStore(Store).ListAsync(objectId);

    public async Task<UserMapping> MappingAsync(string objectId) =>
        await Store.GetUserAsync(objectId) ?? throw new Xunit.Sdk.XunitException($"No mapping row for {objectId}.");

    public string SeedTargetGroup(string displayName)
    {
        var result = Emulator.State.Seed(new JsonObject { ["groups"] = new JsonArray(new JsonObject { ["displayName"] = displayName }) });
        return result.Groups.Single().Id;
    }

    public IReadOnlyList<string> TargetGroupMembers(string groupId)
    {
        var group = Emulator.State.Store.GetGroup(groupId, new GenesysScimEmulator.State.ResourceUrls(Emulator.ScimBaseUrl))!;
        return group.Body["members"]?.AsArray().Select(m => (string)m!["value"]!).ToList() ?? [];
    }
}
