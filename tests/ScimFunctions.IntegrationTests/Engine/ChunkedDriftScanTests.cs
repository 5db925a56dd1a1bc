using ScimFunctions.IntegrationTests.Engine.Support;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.IntegrationTests.Engine;

/// <summary>ReconcileGroups' drift scan in chunks: each run lists target pages from the stored position until its
/// budget is used, and the next run goes on from there, so every page is listed once per cycle of the scan.</summary>
[Collection(EngineCollection.Name)]
public sealed class ChunkedDriftScanTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private static readonly TimeSpan PageTime = TimeSpan.FromSeconds(10);
    private EngineHarness h = null!;

    public async Task InitializeAsync() => h = await EngineHarness.StartAsync(azurite, sync: o => o.TimerBudgetSeconds = 60, tamperable: true);

    public async Task DisposeAsync() => await h.DisposeAsync();

    [Fact]
    public async Task DriftScan_GoesOnFromItsStoredPosition_EachPageListedOncePerCycle_InsideTheBudget()
    {
        for (var i = 0; i < 300; i++)
        {
            h.AddUser($"u-{i:000}", $"user{i:000}@contoso.com", $"User {i:000}", "Sales", "Agent");
        }

        Assert.Equal(300, (await h.Engine.SyncAsync(dryRun: false)).Created);
        string[] edited = ["u-003", "u-151", "u-297"];
        foreach (var id in edited)
        {
            h.Emulator.State.Store.EditUserConcurrently((await h.MappingAsync(id)).ScimId!, new System.Text.Json.Nodes.JsonObject { ["title"] = "Changed in Genesys" });
        }

        // Each listing page "takes" 10 s of the fake clock; a run's budget is 60 s.
        h.Tampering!.BeforeListPage = () => h.Time.Advance(PageTime);
        var runs = new List<(SyncSummary Summary, long Pages, TimeSpan Took)>();
        for (var run = 0; run < 4; run++)
        {
            h.ResetCounters();
            var start = h.Time.GetUtcNow();
            var summary = await h.Engine.ReconcileGroupsAsync();
            runs.Add((summary, h.ScimCount("GET"), h.Time.GetUtcNow() - start));
        }

        // 300 active users are 12 Genesys pages of 25, then one page of the inactive users' scan: 13 pages, listed
        // 6 + 6 + 1 over three runs; the fourth run starts the next cycle from the beginning.
        Assert.Equal([6L, 6L, 1L, 6L], runs.Select(r => r.Pages));
        Assert.All(runs, r => Assert.True(r.Took <= TimeSpan.FromSeconds(60) + PageTime, $"a run took {r.Took} of the fake clock"));

        // Over the first cycle every edited user is reported once, in the run whose chunk listed it; the first
        // run's chunk (users 0-149) holds only the first.
        var cycle = runs.Take(3).SelectMany(r => r.Summary.Operations).Where(o => o.Action == PlanAction.Drift).ToList();
        Assert.Equal(edited, cycle.Select(o => o.ObjectId).Order(StringComparer.Ordinal));
        Assert.All(cycle, o => Assert.Equal("title", o.Detail));
        Assert.Equal(["u-003"], runs[0].Summary.Operations.Where(o => o.Action == PlanAction.Drift).Select(o => o.ObjectId));
        Assert.Equal(0, h.ScimWrites);
    }

    [Fact]
    public async Task DriftScan_ReportsAManagedUserMissingFromTheTarget_OnlyFromAWholeListing()
    {
        for (var i = 0; i < 60; i++)
        {
            h.AddUser($"u-{i:000}", $"user{i:000}@contoso.com", $"User {i:000}", "Sales", "Agent");
        }

        await h.Engine.SyncAsync(dryRun: false);
        h.Emulator.State.Store.DeleteUser((await h.MappingAsync("u-059")).ScimId!, ifMatch: null);

        // 60 users: three pages and the inactive scan's. With 10 s a page and 60 s of budget one run lists them all.
        h.Tampering!.BeforeListPage = () => h.Time.Advance(PageTime);
        var whole = await h.Engine.ReconcileGroupsAsync();
        var missing = Assert.Single(whole.Operations, o => o.Action == PlanAction.Drift);
        Assert.Equal("u-059", missing.ObjectId);

        // 30 s a page: two pages a run. The chunk that ends the listing did not start it, so it proves nothing missing.
        h.Tampering.BeforeListPage = () => h.Time.Advance(TimeSpan.FromSeconds(30));
        var first = await h.Engine.ReconcileGroupsAsync();
        var second = await h.Engine.ReconcileGroupsAsync();
        Assert.DoesNotContain(first.Operations, o => o.Action == PlanAction.Drift);
        Assert.DoesNotContain(second.Operations, o => o.Action == PlanAction.Drift);
    }
}
