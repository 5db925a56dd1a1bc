using System.Diagnostics.Metrics;
using ScimFunctions.IntegrationTests.Engine.Support;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.IntegrationTests.Engine;

/// <summary>The per-user audit table end to end (webhook → queue → ProvisionObject → emulator, Azurite): one row per
/// action that changed something, newest first, with the trigger and the target's correlation ids; nothing for a
/// no-op or a dry run; a failing history write never fails the change; retention enforced by PurgeDisabled.</summary>
[Collection(EngineCollection.Name)]
public sealed class HistoryTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private EngineHarness h = null!;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (h is not null)
        {
            await h.DisposeAsync();
        }
    }

    [Fact]
    public async Task Lifecycle_IsRecordedNewestFirst_WithTriggers_AndNothingForANoOp()
    {
        h = await EngineHarness.StartAsync(azurite, sync: o => o.HistoryDays = 90); // the purge below keeps the month
        h.AddUser("u-eve", "eve@contoso.com", "Eve Long", "Sales", "Agent");
        await h.NotifyAsync("u-eve");
        await h.DrainAsync();

        h.Time.Advance(TimeSpan.FromMinutes(5));
        h.ResetCounters();
        await h.NotifyAsync("u-eve"); // nothing changed
        await h.DrainAsync();
        Assert.Equal(0, h.TableWrites.Writes);

        h.Time.Advance(TimeSpan.FromMinutes(5));
        h.Graph.UpdateUser("u-eve", p => p["jobTitle"] = "Team Lead");
        await h.NotifyAsync("u-eve");
        await h.DrainAsync();

        h.Time.Advance(TimeSpan.FromMinutes(5));
        h.Graph.UpdateUser("u-eve", p => p["accountEnabled"] = false);
        await h.NotifyAsync("u-eve");
        await h.DrainAsync();

        h.Time.Advance(TimeSpan.FromDays(31));
        await h.Purge.RunAsync(new Microsoft.Azure.Functions.Worker.TimerInfo());

        var history = await h.HistoryAsync("u-eve");
        Assert.Equal(
            [(HistoryAction.Deleted, HistoryTrigger.Purge), (HistoryAction.Disabled, HistoryTrigger.Notification), (HistoryAction.Updated, HistoryTrigger.Notification), (HistoryAction.Created, HistoryTrigger.Notification)],
            history.Select(e => (e.Action, e.Trigger)));
        Assert.Equal(history.Select(e => e.At).OrderDescending(), history.Select(e => e.At));
        Assert.Equal(["title"], history[2].Attributes);
        Assert.All(history, e => Assert.NotEmpty(e.CorrelationIds!)); // a POST, a PATCH, a PATCH, a DELETE
        Assert.All(history, e => Assert.DoesNotContain("eve", (e.Reason ?? "") + string.Join(",", e.Attributes ?? []), StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task DryRun_AndPlan_WriteNoHistory()
    {
        h = await EngineHarness.StartAsync(azurite);
        h.AddUser("u-fay", "fay@contoso.com", "Fay", "Sales");

        var plan = await h.Engine.SyncAsync(dryRun: true);

        Assert.Contains(plan.Operations, o => o.ObjectId == "u-fay" && o.Action == PlanAction.Create);
        Assert.Equal(0, h.TableWrites.Writes);
        Assert.Empty(await h.HistoryAsync("u-fay"));
    }

    [Fact]
    public async Task OperatorSync_IsRecordedAsOperator()
    {
        h = await EngineHarness.StartAsync(azurite);
        h.AddUser("u-gus", "gus@contoso.com", "Gus", "Sales");

        await h.Engine.SyncAsync(dryRun: false);

        var created = Assert.Single(await h.HistoryAsync("u-gus"));
        Assert.Equal((HistoryAction.Created, HistoryTrigger.Operator), (created.Action, created.Trigger));
    }

    [Fact]
    public async Task HistoryWriteFailure_NeverFailsTheChange_AndIsLoggedAndCounted()
    {
        h = await EngineHarness.StartAsync(azurite);
        long counted = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name == "scimfn.history_failures")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref counted, value));
        listener.Start();
        h.AddUser("u-hal", "hal@contoso.com", "Hal", "Sales");
        h.TableWrites.FailNextWritesTo(h.Store.HistoryTable, 1);

        await h.NotifyAsync("u-hal");
        var settled = await h.DrainAsync();

        Assert.Equal("complete", Assert.Single(settled).Settlement);
        var mapping = await h.MappingAsync("u-hal");
        Assert.Equal(LifecycleState.Active, mapping.State);
        Assert.NotNull(h.TargetUser(mapping.ScimId!));
        Assert.Empty(await h.HistoryAsync("u-hal"));
        Assert.Equal(1, Interlocked.Read(ref counted));
        Assert.Contains(h.Logs.Collector.GetSnapshot(), r => r.Id.Id == 3060 && r.Message.Contains("u-hal", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PermanentFailure_IsRecordedWithItsReason()
    {
        h = await EngineHarness.StartAsync(azurite, sync: o => o.Division = "NoSuchDivision", emulator: o => o.Divisions = ["Home"]);
        h.AddUser("u-ida", "ida@contoso.com", "Ida");

        await h.NotifyAsync("u-ida");
        var settled = await h.DrainAsync();

        Assert.Equal("deadletter", Assert.Single(settled).Settlement);
        var failed = Assert.Single(await h.HistoryAsync("u-ida"));
        Assert.Equal(HistoryAction.Failed, failed.Action);
        Assert.StartsWith(FailureReasons.TargetRejectedValue, failed.Reason, StringComparison.Ordinal);
        Assert.NotEmpty(failed.CorrelationIds!); // the refused POST's correlation id, to quote to Genesys support
    }

    [Fact]
    public async Task TransientFailures_AreRecordedOnce_WhenTheRetriesRunOut()
    {
        h = await EngineHarness.StartAsync(azurite, sync: o => o.MaxAttempts = 2);
        h.AddUser("u-jon", "jon@contoso.com", "Jon");
        h.Graph.FailNext(503, count: 20, pathContains: "/users/u-jon");

        await h.NotifyAsync("u-jon");
        var settled = await h.DrainAsync();

        Assert.Equal(["complete", "deadletter"], settled.Select(s => s.Settlement!));
        var failed = Assert.Single(await h.HistoryAsync("u-jon"));
        Assert.Equal(HistoryAction.Failed, failed.Action);
        Assert.StartsWith(FailureReasons.RetriesExhausted, failed.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Purge_DeletesRowsOlderThanHistoryDays_AndKeepsTheRest()
    {
        h = await EngineHarness.StartAsync(azurite, sync: o => o.HistoryDays = 10);
        h.AddUser("u-kay", "kay@contoso.com", "Kay", "Sales", "Agent");
        await h.NotifyAsync("u-kay");
        await h.DrainAsync();

        h.Time.Advance(TimeSpan.FromDays(8));
        h.Graph.UpdateUser("u-kay", p => p["jobTitle"] = "Lead");
        await h.NotifyAsync("u-kay");
        await h.DrainAsync();
        Assert.Equal(2, (await h.HistoryAsync("u-kay")).Count);

        h.Time.Advance(TimeSpan.FromDays(3)); // the create is 11 days old, the update 3
        h.ResetCounters();
        await h.Purge.RunAsync(new Microsoft.Azure.Functions.Worker.TimerInfo());

        var left = Assert.Single(await h.HistoryAsync("u-kay"));
        Assert.Equal(HistoryAction.Updated, left.Action);
        Assert.Equal(1, h.TableWrites.Writes); // one batch transaction deletes the old row
        Assert.Equal(0, h.ScimRequests);
    }
}
