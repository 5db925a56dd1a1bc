using System.Text.Json.Nodes;
using Azure.Data.Tables;
using GenesysScimEmulator;
using GenesysScimEmulator.State;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ScimFunctions.ConcurrencyTests.Seams;
using ScimFunctions.IntegrationTests.Engine.Support;
using ScimFunctions.Functions;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Notifications;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.ConcurrencyTests.Exploration;

/// <summary>The worker died here (a process crash): nothing catches it, the message's lock expires.</summary>
public sealed class SimulatedCrashException(string where) : Exception("Simulated crash at " + where);

/// <summary>One schedule's whole world: the seams, the shared emulator (cleared), and several connector
/// instances, each with its own engine (as separate Functions hosts have), all over the same tables, queue,
/// directory and target. Scenario workers are built from <see cref="SessionWorker"/>, <see cref="Timer"/>
/// and <see cref="Script"/>; <see cref="RunAsync"/> explores one interleaving of them.</summary>
public sealed class World
{
    private int _producers;
    private int _crashBudget;
    private int _crashCountdown = -1;
    private int _notification;
    private Func<string, bool>? _crashOnce;

    /// <param name="tables">Table Storage for the engine instead of the in-memory tables (the long chaos run's
    /// real Azurite); it gets <see cref="YieldAsync"/> to call before every operation.</param>
    public World(RunningEmulator emulator, IScimClient scim, int seed, Action<SyncOptions>? configure = null, Func<Func<string, ValueTask>, TableServiceClient>? tables = null)
    {
        Emulator = emulator;
        Scheduler = new Scheduler(seed);
        Time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero));
        Tables = new InMemoryTableService { BeforeOperation = op => YieldAsync($"table {op.Kind} {op.Table} {op.PartitionKey}") };
        TableService = tables?.Invoke(YieldAsync) ?? Tables;
        Directory = new ChangingDirectory(Time, YieldAsync) { ClockMoved = () => Scheduler.WakeAll() };
        Bus = new SessionBus(Time, YieldAsync) { Sent = () => Scheduler.WakeAll() };
        Scim = new YieldingScimClient(scim, YieldAsync);
        Configure = o =>
        {
            o.Parallelism = 1;
            o.FollowUpDelaySeconds = 1;
            o.SweepGroupDelaySeconds = 5;
            o.RetryBaseDelaySeconds = 1;
            o.DisabledGraceDays = 30;
            configure?.Invoke(o);
        };
        Options = new SyncOptions();
        Configure(Options);
        emulator.State.Reset();
        Unmanaged = emulator.State.Store.CreateUser(new JsonObject { ["userName"] = "admin-only@contoso.com", ["displayName"] = "Not managed", ["title"] = "Keep me" }, Urls).Body["id"]!.GetValue<string>();
    }

    public RunningEmulator Emulator { get; }

    public Scheduler Scheduler { get; }

    public FakeTimeProvider Time { get; }

    public InMemoryTableService Tables { get; }

    /// <summary>What the engine's stores run on: <see cref="Tables"/> unless the world was given real Table Storage.</summary>
    public TableServiceClient TableService { get; }

    public ChangingDirectory Directory { get; }

    public SessionBus Bus { get; }

    public YieldingScimClient Scim { get; }

    public SyncOptions Options { get; }

    /// <summary>The world's settings, applied to every instance's engine as its host's configuration would be.</summary>
    public Action<SyncOptions> Configure { get; }

    /// <summary>A target user nobody manages; it must come out untouched.</summary>
    public string Unmanaged { get; }

    public List<string> Unhandled { get; } = [];

    /// <summary>An exception to throw at a yield point instead of yielding (a seam failing: Graph down, Table
    /// Storage answering 503), or null; the chaos run sets it.</summary>
    public Func<string, Exception?>? Fault { get; set; }

    /// <summary>Runs at every yield point before <see cref="Fault"/>, in the turn of whichever worker got there (the
    /// chaos run stops and restarts its Azurite here, so the outage follows the run's clock whatever the schedule).</summary>
    public Func<ValueTask>? BeforeYield { get; set; }

    public int Crashes { get; private set; }

    public int Processed { get; private set; }

    public ResourceUrls Urls => new(Emulator.ScimBaseUrl);

    /// <summary>Allows up to <paramref name="count"/> crashes of message-processing workers, at seed-chosen yield points.</summary>
    public void AllowCrashes(int count) => _crashBudget = count;

    /// <summary>Crashes the first message-processing worker that reaches a yield point matching <paramref name="where"/>.</summary>
    public void CrashOnce(Func<string, bool> where) => _crashOnce = where;

    public Instance NewInstance(string name) => new(this, name);

    public StateStore NewStore() => new(TableService);

    // ---------------- workers ----------------

    /// <summary>A Functions instance's session processor: accepts a free session, runs ProvisionObject on its
    /// messages in order, releases it; ends when the producers are done and the queue is empty.</summary>
    public (string, Func<Task>) SessionWorker(Instance instance) => (instance.Name, async () =>
    {
        while (true)
        {
            var session = await Bus.AcceptSessionAsync(Scheduler.Random);
            if (session is null)
            {
                if (Volatile.Read(ref _producers) == 0 && Bus.IsEmpty)
                {
                    return;
                }

                if (Bus.NextScheduled() is { } at && at > Time.GetUtcNow())
                {
                    // Nothing visible: the clock moves on to the next scheduled message (retries, follow-ups).
                    Time.Advance(at - Time.GetUtcNow());
                    Scheduler.WakeAll();
                }
                else
                {
                    Scheduler.SetIdle(true);
                }

                continue;
            }

            Scheduler.SetIdle(false);

            try
            {
                while (await Bus.ReceiveAsync(session) is { } delivery)
                {
                    Processed++;
                    if (_crashBudget > 0 && _crashCountdown < 0)
                    {
                        _crashCountdown = Scheduler.Random.Next(1, 40);
                    }

                    instance.Processing = true;
                    try
                    {
                        await instance.Provision.RunAsync(delivery.Message, delivery);
                    }
                    catch (SimulatedCrashException)
                    {
                        // The process died: the lock expires, and the host comes back with nothing in memory.
                        Crashes++;
                        delivery.LockExpired();
                        instance.Restart();
                        break;
                    }
                    catch (Exception ex)
                    {
                        Unhandled.Add($"{instance.Name}: {ex.GetType().Name}: {ex.Message}");
                        delivery.LockExpired();
                    }
                    finally
                    {
                        instance.Processing = false;
                    }

                    if (delivery.Settlement is null)
                    {
                        Unhandled.Add($"{instance.Name}: ProvisionObject returned without settling message {delivery.Message.MessageId}");
                        delivery.LockExpired();
                    }
                }
            }
            finally
            {
                Bus.ReleaseSession(session);
            }
        }
    });

    /// <summary>A timer function's job on an instance (sweep, purge, reconcile), run once at a point the schedule picks.</summary>
    public (string, Func<Task>) Timer(string name, Func<Task> job)
    {
        Interlocked.Increment(ref _producers);
        return (name, async () =>
        {
            try
            {
                await YieldAsync(name + " fires");
                await job();
            }
            finally
            {
                Interlocked.Decrement(ref _producers);
            }
        });
    }

    /// <summary>Changes in Entra or on the target (admins) and the notifications Graph sends for them.</summary>
    public (string, Func<Task>) Script(string name, Func<Task> script) => Timer(name, script);

    /// <summary>What the webhook queues for a Graph change notification (a distinct MessageId per delivery).</summary>
    public async Task NotifyAsync(WorkItemKind kind, string objectId, string changeType = WorkItemChangeTypes.Updated)
    {
        var item = new WorkItem(kind, objectId, changeType, "sub-1", "tenant-1", Time.GetUtcNow(), WorkItemSources.Webhook);
        await new WorkQueue(Bus.CreateSender()).SendAsync([new QueuedWorkItem(item, $"n:{objectId}:{Interlocked.Increment(ref _notification)}")]);
    }

    /// <summary>A Graph change notification for a user as Graph sends it for users and groups — without
    /// <c>eventTime</c> or <c>sequenceNumber</c> — through the webhook's own parser, so the MessageId is the one
    /// the webhook would give it (and the bus's duplicate detection sees).</summary>
    public async Task DeliverGraphNotificationAsync(string userId)
    {
        const string clientState = "concurrency-client-state-0123456789";
        var body = System.Text.Encoding.UTF8.GetBytes($$$"""
            {"value":[{"subscriptionId":"4c3b2a19-0e8f-4d7c-9b6a-5f4e3d2c1b0a","clientState":"{{{clientState}}}","changeType":"updated","resource":"Users/{{{userId}}}","tenantId":"9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d","subscriptionExpirationDateTime":"2026-12-20T00:00:00Z","resourceData":{"@odata.type":"#Microsoft.Graph.User","@odata.id":"Users/{{{userId}}}","id":"{{{userId}}}"}}]}
            """);
        var parsed = GraphNotificationParser.Parse(body, clientState, Time.GetUtcNow());
        await new WorkQueue(Bus.CreateSender()).SendAsync(parsed.Items);
    }

    public async Task RunAsync(params (string, Func<Task>)[] workers) => await Scheduler.RunAsync(workers);

    /// <summary>Every worker's turn ends here; a message-processing worker may crash here.</summary>
    public async ValueTask YieldAsync(string what)
    {
        if (BeforeYield is { } before)
        {
            await before();
        }

        if (Fault?.Invoke(what) is { } fault)
        {
            throw fault;
        }

        if (_crashOnce is { } once && Scheduler.CurrentWorker is { } at && InstanceProcessing(at) && once(what))
        {
            _crashOnce = null;
            throw new SimulatedCrashException($"{at}: {what}");
        }

        if (_crashCountdown > 0 && Scheduler.CurrentWorker is { } worker && InstanceProcessing(worker) && --_crashCountdown == 0)
        {
            _crashCountdown = -1;
            _crashBudget--;
            throw new SimulatedCrashException($"{worker}: {what}");
        }

        await Scheduler.YieldAsync(what);
    }

    private readonly Dictionary<string, Instance> _instances = new(StringComparer.Ordinal);

    internal void Register(Instance instance) => _instances[instance.Name] = instance;

    private bool InstanceProcessing(string worker) => _instances.TryGetValue(worker, out var instance) && instance.Processing;

    /// <summary>Faults on the target (5xx, dropped connections, admin edits racing If-Match writes), drawn from
    /// the emulator's random source seeded with the schedule's seed.</summary>
    public void TargetFaults(FaultSettings faults)
    {
        Emulator.State.Settings.Update(o => o.FaultSeed = Scheduler.Seed);
        Emulator.State.Faults.Clear();
        Emulator.State.Faults.Set(faults);
    }

    // ---------------- the directory ----------------

    public static DirectoryUser User(string id, string? jobTitle = "Engineer", bool enabled = true, string? department = "Research", string? managerId = null) =>
        new(id, $"{id}@contoso.com", "User " + id, enabled, $"{id}@contoso.com", jobTitle, department, null, null, [], managerId, new Dictionary<string, string>());

    public string SeedTargetGroup(string displayName) =>
        Emulator.State.Seed(new JsonObject { ["groups"] = new JsonArray(new JsonObject { ["displayName"] = displayName }) }).Groups.Single().Id;

    // ---------------- the target ----------------

    /// <summary>Every live target user, active or not (a plain list shows active users only, as Genesys does).</summary>
    public IReadOnlyList<JsonObject> TargetUsers() =>
        Emulator.State.Store.Snapshot(Urls)["users"]!.AsArray().Select(u => u!.AsObject()).ToList();

    public IReadOnlyList<string> TargetGroupMembers(string groupId) =>
        Emulator.State.Store.GetGroup(groupId, Urls)?.Body["members"]?.AsArray().Select(m => (string)m!["value"]!).ToList() ?? [];
}

/// <summary>One connector instance: its own engine (gate, scope cache) over the shared seams. One worker per
/// instance: the scheduler sees only the seams' awaits, so two workers sharing an in-process lock or a lazily
/// created table client would block each other outside a yield point (reported as such, never hidden).</summary>
public sealed class Instance
{
    private readonly World _world;

    internal Instance(World world, string name)
    {
        _world = world;
        Name = name;
        Restart();
        world.Register(this);
    }

    public string Name { get; }

    public TestEngine Engine { get; private set; } = null!;

    public WorkQueue Queue { get; private set; } = null!;

    public DeltaSweeper Sweeper { get; private set; } = null!;

    public ProvisionObject Provision { get; private set; } = null!;

    /// <summary>A fresh host: new engine, caches and gate, as after a process restart.</summary>
    public void Restart()
    {
        Engine = TestEngine.Build(_world.Scim, _world.Directory, _world.TableService, _world.Configure, _world.Time);
        Queue = new WorkQueue(_world.Bus.CreateSender());

        // Without target hints, as the scenarios were written (the registered sweeper lists the target on a full resync).
        Sweeper = new DeltaSweeper(Engine.Store, _world.Directory, Queue, Engine.Options, _world.Time, NullLogger.Instance);
        Provision = new ProvisionObject(Engine.WorkItems, Engine.Services.GetRequiredService<WorkItemRetryPolicy>(), Queue, Sweeper, NullLogger<ProvisionObject>.Instance);
    }

    internal bool Processing { get; set; }
}
