using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Messaging.ServiceBus;
using GenesysScimEmulator.State;
using ScimFunctions.ConcurrencyTests.Exploration;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Notifications;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;
using Xunit.Abstractions;

namespace ScimFunctions.ConcurrencyTests.Chaos;

/// <summary>The chaos run (issue 13): a tenant and a stream of notifications (joiners, movers, renames, leavers,
/// rejoins, group changes) POSTed to the webhook function (<see cref="GraphWebhookFeed"/>: its own MessageIds and
/// received-time buckets meet the queue's duplicate detection), through the queue (sessions) and ProvisionObject on
/// three instances, with the delta sweep and the reconcile timers firing, while faults drawn from one seed are
/// injected: SCIM 5xx 5 %, dropped connections 2 %, 429 bursts with Retry-After, latency spikes, concurrent admin
/// edits 1 %, Graph failing during a delta sweep, Table Storage unavailable for a while, Service Bus refusing some
/// of the webhook's sends (answered 503, retried by Graph), redelivered and late deliveries, a worker
/// killed between a SCIM write and its Table write. After quiescence, one more sweep and one reconcile, it
/// prints one JSON line. eng/test.sh runs the short version; eng/chaos.sh [seed] [users] [notifications] the long one.</summary>
[Collection(ScenarioCollection.Name)]
public sealed class ChaosRun(TargetFixture target, ITestOutputHelper output)
{
    private const int Groups = 10;

    [Fact]
    public async Task ChaosRun_NothingLost_NoDuplicates_NobodyWronglyRemoved()
    {
        var seed = Setting("CHAOS_SEED", 20261201);
        var userCount = Setting("CHAOS_USERS", 300);
        var notifications = Setting("CHAOS_NOTIFICATIONS", 1500);

        // A client whose call budget is below the emulator's Retry-After: a 429 surfaces to the engine at once
        // and must become a rescheduled item, never a failure (and the run does not sleep through Retry-After).
        var scim = ScimClient.Create(new ScimOptions
        {
            Profile = "genesys",
            BaseUrl = target.Emulator.ScimBaseUrl,
            ClientId = target.Emulator.ClientId,
            ClientSecret = target.Emulator.ClientSecret,
            RequestsPerMinute = 100_000,
            RequestBurst = 10_000,
            AttemptTimeout = TimeSpan.FromMilliseconds(1500),
            CallTimeBudget = TimeSpan.FromMilliseconds(1600),
            RetryBaseDelay = TimeSpan.FromMilliseconds(1),
            MaxRetries = 2,
        });
        // CHAOS_TABLES=azurite (eng/chaos.sh's default): a real Azurite process, stopped and started again mid-run on
        // the same port and data folder. Otherwise (eng/test.sh's short run) the in-memory tables answer 503 instead.
        await using var azurite = string.Equals(Environment.GetEnvironmentVariable("CHAOS_TABLES"), "azurite", StringComparison.OrdinalIgnoreCase)
            ? await AzuriteProcess.StartAsync()
            : null;
        var world = new World(target.Emulator, scim, seed, o =>
        {
            // The threshold has its own tests; here a leaver must be applied, not staged.
            o.Threshold.MaxActionsPerHour = 10_000;
            o.Threshold.MaxFractionPerHour = 1;
        }, azurite is null ? null : azurite.CreateClient);
        var random = new Random(seed);
        var instances = new[] { world.NewInstance("i1"), world.NewInstance("i2"), world.NewInstance("i3") };

        var ids = Enumerable.Range(0, userCount).Select(i => $"u{i:0000}").ToList();
        foreach (var id in ids)
        {
            world.Directory.PutUser(World.User(id, jobTitle: "Agent"));
        }

        var groupTargets = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var g = 0; g < Groups; g++)
        {
            var gid = $"g{g}";
            groupTargets[gid] = world.SeedTargetGroup("Team " + g);
            world.Directory.PutGroup(new DirectoryGroup(gid, "Team " + g, ids.Where((_, i) => i % Groups == g).ToList()));
        }

        // ---------------- faults ----------------
        var baseFaults = new FaultSettings { ErrorFraction = 0.05, DropFraction = 0.02, ConcurrentEditFraction = 0.01 };
        world.TargetFaults(baseFaults);
        var outageArmed = false;
        var graphDownUntil = DateTimeOffset.MinValue;
        var tablesDownUntil = DateTimeOffset.MinValue;
        var faultRandom = new Random(seed ^ 0x5eed);
        var killedAfterWrite = 0;
        int graphFailures = 0, tableFailures = 0;
        world.Fault = what =>
        {
            if (outageArmed && what.StartsWith("graph user delta", StringComparison.Ordinal) && what.EndsWith("(page)", StringComparison.Ordinal))
            {
                // The outage starts in the middle of a delta round, and lasts two minutes of the clock.
                outageArmed = false;
                graphDownUntil = world.Time.GetUtcNow().AddMinutes(2);
            }

            if (world.Time.GetUtcNow() < graphDownUntil && what.StartsWith("graph", StringComparison.Ordinal))
            {
                graphFailures++;
                return new DirectoryUnavailableException("Graph outage (chaos).");
            }

            if (azurite is null && world.Time.GetUtcNow() < tablesDownUntil && what.StartsWith("table", StringComparison.Ordinal))
            {
                tableFailures++;
                return new RequestFailedException(503, "Table Storage unavailable (chaos).");
            }

            return null;
        };
        if (azurite is not null)
        {
            // The Table service goes down when the stream says and comes back once the run's clock has passed
            // that time, on the same port and data folder, in the turn of whichever worker gets there first.
            var stopped = false;
            world.BeforeYield = async () =>
            {
                if (!stopped && world.Time.GetUtcNow() < tablesDownUntil)
                {
                    stopped = true;
                    await azurite.StopAsync();
                }
                else if (stopped && world.Time.GetUtcNow() >= tablesDownUntil)
                {
                    stopped = false;
                    await azurite.RestartAsync();
                }
            };
        }

        world.Scim.AfterWrite = what =>
        {
            // A worker killed between a SCIM write and its Table write: the write happened, nothing else did.
            if (world.Scheduler.CurrentWorker is { } worker && instances.FirstOrDefault(i => i.Name == worker) is { Processing: true } && faultRandom.NextDouble() < 0.01)
            {
                killedAfterWrite++;
                throw new SimulatedCrashException($"{worker}: after {what}");
            }

            return ValueTask.CompletedTask;
        };
        var feed = new GraphWebhookFeed(world, new Random(seed ^ 0x0eb));
        var retried = 0;
        var webhookSendFailures = 0;
        world.Bus.FailSend = messages =>
        {
            if (feed.Posting && faultRandom.NextDouble() < 0.02)
            {
                // Service Bus refuses the webhook's send: it answers 503 and Graph delivers the same bytes again.
                webhookSendFailures++;
                return new ServiceBusException("Service Bus busy (chaos).", ServiceBusFailureReason.ServiceBusy);
            }

            retried += messages.Count(m => m.MessageId.Contains("#r", StringComparison.Ordinal));
            return null;
        };

        var clock = Stopwatch.StartNew();

        // The initial load (a sweep with no cursor), then the stream.
        var kinds = new Dictionary<string, int>(StringComparer.Ordinal);
        Task NotifyAsync(WorkItemKind kind, string id, string changeType = WorkItemChangeTypes.Updated) => feed.ChangedAsync(kind, id, changeType);

        await world.Scheduler.RunAsync([world.Timer("initial sweep", () => SweepAsync(world)), .. instances.Select(world.SessionWorker)], maxSteps: int.MaxValue);

        await world.Scheduler.RunAsync([
            world.Script("entra", async () =>
            {
                for (var n = 0; n < notifications; n++)
                {
                    var id = ids[random.Next(ids.Count)];
                    var roll = random.NextDouble();
                    var existing = world.Directory.User(id);
                    string kind;
                    if (roll < 0.05)
                    {
                        kind = "groupChange";
                        var gid = $"g{random.Next(Groups)}";
                        var group = world.Directory.Groups().First(g => g.Id == gid);
                        var members = group.MemberIds.Contains(id) ? group.MemberIds.Where(m => m != id).ToList() : [.. group.MemberIds, id];
                        world.Directory.PutGroup(group with { MemberIds = members });
                        await NotifyAsync(WorkItemKind.Group, gid);
                    }
                    else if (existing is null)
                    {
                        kind = "rejoin";
                        world.Directory.PutUser(World.User(id, jobTitle: "Agent"));
                        await NotifyAsync(WorkItemKind.User, id);
                    }
                    else if (roll < 0.10)
                    {
                        kind = "leaver";
                        world.Directory.DeleteUser(id);
                        await NotifyAsync(WorkItemKind.User, id, WorkItemChangeTypes.Deleted);
                    }
                    else if (roll < 0.15)
                    {
                        kind = existing.AccountEnabled ? "leaver" : "rejoin";
                        world.Directory.Update(id, u => u with { AccountEnabled = !u.AccountEnabled });
                        await NotifyAsync(WorkItemKind.User, id);
                    }
                    else if (roll < 0.20)
                    {
                        kind = "joiner";
                        var joiner = $"n{n:00000}";
                        ids.Add(joiner);
                        world.Directory.PutUser(World.User(joiner, jobTitle: "New"));
                        await NotifyAsync(WorkItemKind.User, joiner);
                    }
                    else if (roll < 0.25)
                    {
                        kind = "rename";
                        world.Directory.Update(id, u => u with { DisplayName = $"Renamed {n}" });
                        await NotifyAsync(WorkItemKind.User, id);
                    }
                    else if (roll < 0.30)
                    {
                        // Graph redelivers one of its recent deliveries, byte for byte (late ones are the feed's own draw).
                        kind = "duplicate";
                        await feed.RedeliverAsync();
                    }
                    else
                    {
                        kind = "mover";
                        world.Directory.Update(id, u => u with { JobTitle = $"Title {n % 17}", Department = $"Dept {n % 5}" });
                        await NotifyAsync(WorkItemKind.User, id);
                    }

                    kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
                    if (n == notifications / 4 || n == (3 * notifications) / 4)
                    {
                        // A 429 burst with Retry-After (and, the first time, a latency spike). The emulator counts a
                        // burst in requests while the run's clock is fake, so a burst is kept shorter than an item's
                        // attempts: a real one lasts seconds, and the item's backoff spans minutes.
                        world.Emulator.State.Faults.Set(baseFaults with { ThrottleCount = 6, ThrottleRetryAfterSeconds = 2, LatencyMs = n == notifications / 4 ? 20 : 0 });
                    }
                    else if (n == notifications / 3)
                    {
                        world.Emulator.State.Faults.Set(baseFaults);
                    }
                    else if (n == notifications / 2)
                    {
                        // Table Storage is unavailable for two minutes of the (fake) clock: shorter than an item's retries.
                        // Azurite is stopped by the storage worker below; the in-memory tables answer 503.
                        tablesDownUntil = world.Time.GetUtcNow().AddMinutes(2);
                    }

                    await world.YieldAsync("next notification");
                }

                await feed.DrainAsync();
            }),
            world.Timer("sweep during a Graph outage", async () =>
            {
                await world.YieldAsync("sweep fires");
                outageArmed = true;
                await SweepAsync(world);
            }),
            world.Timer("sweep", () => SweepAsync(world)),
            world.Timer("reconcile", () => ReconcileAsync(instances[0])),
            .. instances.Select(world.SessionWorker)], maxSteps: int.MaxValue);
        outageArmed = false;
        graphDownUntil = DateTimeOffset.MinValue;
        tablesDownUntil = DateTimeOffset.MinValue;
        var secondsToQuiescence = clock.Elapsed.TotalSeconds;

        // What the notifications alone achieved (the final sweep below would heal a change the webhook path lost).
        var atQuiescence = await FiguresAsync(world, groupTargets);

        // Quiescence: then one sweep and one reconcile, faults off, as the timers would.
        world.Emulator.State.Faults.Clear();
        world.Scim.AfterWrite = null;
        await world.Scheduler.RunAsync([world.Timer("final sweep", () => SweepAsync(world)), .. instances.Select(world.SessionWorker)], maxSteps: int.MaxValue);
        await world.Scheduler.RunAsync([world.Timer("final reconcile", () => ReconcileAsync(instances[0])), .. instances.Select(world.SessionWorker)], maxSteps: int.MaxValue);

        var figures = await FiguresAsync(world, groupTargets);
        var deadLettered = world.Bus.DeadLetters.GroupBy(d => d.Reason ?? "(none)").ToDictionary(g => g.Key, g => g.Count());
        var line = new JsonObject
        {
            ["items"] = feed.Items,
            ["applied"] = world.Bus.Completed,
            ["retried"] = retried,
            ["deadLettered"] = new JsonObject(deadLettered.Select(d => KeyValuePair.Create(d.Key, (JsonNode?)d.Value))),
            ["lost"] = figures.Lost,
            ["duplicateTargetUsers"] = figures.Duplicates,
            ["wronglyDisabledOrDeleted"] = figures.WronglyRemoved,
            ["unmanagedTouched"] = figures.UnmanagedTouched,
            ["throttlesSurfacedAsFailures"] = world.Bus.DeadLetters.Count(d => $"{d.Reason} {d.Description}".Contains("Throttled", StringComparison.OrdinalIgnoreCase) || $"{d.Description}".Contains("429", StringComparison.Ordinal)),
            ["groupMismatches"] = figures.GroupMismatches,
            ["lostAtQuiescence"] = atQuiescence.Lost,
            ["secondsToQuiescence"] = Math.Round(secondsToQuiescence, 1),
            ["seed"] = seed,
            ["tables"] = azurite is null ? "memory" : "azurite",
            ["users"] = userCount,
            ["faults"] = new JsonObject
            {
                ["scim5xx"] = world.Emulator.State.Counters.CountStatus(500) + world.Emulator.State.Counters.CountStatus(503),
                ["scim429"] = world.Emulator.State.Counters.CountStatus(429),
                ["dropped"] = world.Emulator.State.Counters.Snapshot().ByStatus.GetValueOrDefault("aborted"),
                ["graphOutageFailures"] = graphFailures,
                ["table503s"] = tableFailures,
                ["tableRestarts"] = azurite?.Restarts ?? 0,
                ["tableOperationsFailed"] = azurite?.FailedOperations ?? 0,
                ["tableSecondsDown"] = azurite is null ? null : Math.Round(azurite.SecondsDown, 1),
                ["killedAfterWrite"] = killedAfterWrite,
                ["crashes"] = world.Crashes,
            },
            ["webhook"] = new JsonObject
            {
                ["posts"] = feed.Posts,
                ["answers"] = new JsonObject(feed.Answers.Select(a => KeyValuePair.Create(a.Key.ToString(CultureInfo.InvariantCulture), (JsonNode?)a.Value))),
                ["redelivered"] = feed.Redelivered,
                ["deliveredLate"] = feed.DeliveredLate,
                ["sendsRefused"] = webhookSendFailures,
                ["duplicatesDropped"] = world.Bus.DuplicatesDropped,
            },
            ["stream"] = new JsonObject(kinds.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => KeyValuePair.Create(k.Key, (JsonNode?)k.Value))),
        };
        var json = line.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
        output.WriteLine(json);
        Console.WriteLine("CHAOS " + json);
        foreach (var problem in figures.Problems.Concat(world.Bus.DeadLetters.Select(d => $"dead-lettered {d.Message.SessionId}: {d.Reason}: {d.Description}")).Take(20))
        {
            output.WriteLine(problem);
            Console.WriteLine("CHAOS-DETAIL " + problem);
        }

        Assert.True(figures.Lost == 0 && figures.Duplicates == 0 && figures.WronglyRemoved == 0 && figures.UnmanagedTouched == 0 && figures.GroupMismatches == 0, json + "\n" + string.Join("\n", figures.Problems.Take(20)));
        Assert.Equal(0, (int)line["throttlesSurfacedAsFailures"]!);
        Assert.True(world.Unhandled.Count == 0, json + "\n" + string.Join("\n", world.Unhandled.Take(5)));
        Assert.True(world.Emulator.State.Counters.CountStatus(429) > 0 && killedAfterWrite + world.Crashes > 0, "the run met no throttle or no kill: " + json);
        Assert.True(azurite is null ? tableFailures > 0 : azurite.Restarts == 1 && azurite.FailedOperations > 0, "the run met no Table Storage outage: " + json);
        Assert.True(feed.Answers.GetValueOrDefault(503) > 0 && world.Bus.DuplicatesDropped > 0, "the webhook met no refused send or no duplicate: " + json);
    }

    private static async Task SweepAsync(World world)
    {
        try
        {
            await world.NewInstance("sweeper").Sweeper.SweepAsync();
        }
        catch (Exception ex) when (ex is DirectoryUnavailableException or RequestFailedException or Provisioning.Sync.ProvisioningException)
        {
            // The timer run fails (the host logs it) and fires again; nothing was decided on a failed read.
        }
    }

    private static async Task ReconcileAsync(Instance instance)
    {
        try
        {
            await instance.Engine.ReconcileGroupsAsync();
        }
        catch (Exception ex) when (ex is DirectoryUnavailableException or RequestFailedException)
        {
        }
    }

    private sealed record Figures(int Lost, int Duplicates, int WronglyRemoved, int UnmanagedTouched, int GroupMismatches, IReadOnlyList<string> Problems);

    /// <summary>Compares the target with Entra. An object dead-lettered with a reason is accounted for, not lost.</summary>
    private static async Task<Figures> FiguresAsync(World world, IReadOnlyDictionary<string, string> groups)
    {
        var problems = new List<string>();
        var dead = world.Bus.DeadLetters.Select(d => d.Message.SessionId).ToHashSet(StringComparer.Ordinal);
        var rows = new Dictionary<string, UserMapping>(StringComparer.Ordinal);
        await foreach (var row in world.NewStore().ListUsersAsync())
        {
            rows[row.ObjectId] = row;
        }

        var target = world.TargetUsers().ToDictionary(u => u["id"]!.GetValue<string>(), StringComparer.Ordinal);
        static bool Active(JsonObject u) => u["active"]?.GetValue<bool>() ?? true;
        int lost = 0, wrongly = 0;
        foreach (var user in world.Directory.Users())
        {
            if (dead.Contains(user.Id))
            {
                continue;
            }

            var row = rows.GetValueOrDefault(user.Id);
            var t = row?.ScimId is { } scimId ? target.GetValueOrDefault(scimId) : null;
            if (user.AccountEnabled)
            {
                if (t is null || !Active(t))
                {
                    if (row is { State: LifecycleState.Disabled or LifecycleState.Deleted } || (t is not null && !Active(t)))
                    {
                        wrongly++;
                        problems.Add($"user {user.Id} is enabled in Entra but {(t is null ? "gone from" : "inactive on")} the target (row {row?.State})");
                    }
                    else
                    {
                        lost++;
                        problems.Add($"user {user.Id} is enabled in Entra but was never provisioned (row {row?.State.ToString() ?? "missing"})");
                    }
                }
                else if (t["title"]?.GetValue<string>() != user.JobTitle || t["displayName"]?.GetValue<string>() != user.DisplayName)
                {
                    lost++;
                    problems.Add($"user {user.Id}: the target holds an older title or name");
                }
            }
            else if (t is not null && Active(t))
            {
                lost++;
                problems.Add($"user {user.Id} is disabled in Entra but active on the target");
            }
        }

        foreach (var row in rows.Values.Where(r => r.ScimId is not null && !dead.Contains(r.ObjectId) && world.Directory.User(r.ObjectId) is null))
        {
            if (target.GetValueOrDefault(row.ScimId!) is { } t && Active(t))
            {
                lost++;
                problems.Add($"user {row.ObjectId} is deleted in Entra but active on the target");
            }
        }

        var duplicates = target.Values.Where(u => u["externalId"] is not null).GroupBy(u => u["externalId"]!.GetValue<string>()).Count(g => g.Count(u => true) > 1);
        var unmanaged = target.GetValueOrDefault(world.Unmanaged);
        var unmanagedTouched = unmanaged is null || unmanaged["title"]?.GetValue<string>() != "Keep me" || !Active(unmanaged) ? 1 : 0;
        var groupProblems = (await Invariants.CheckAsync(world, groups, expectDeadLetters: true)).Where(p => p.StartsWith("group ", StringComparison.Ordinal)).ToList();
        problems.AddRange(groupProblems);
        return new Figures(lost, duplicates, wrongly, unmanagedTouched, groupProblems.Count, problems);
    }

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : fallback;
}
