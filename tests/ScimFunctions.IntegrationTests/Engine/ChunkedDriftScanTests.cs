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

    [Fact]
    public async Task GroupPass_GoesOnFromWhereTheLastRunStopped_EachGroupOncePerCycle_InsideTheBudget()
    {
        // Parallelism 1 (set below) makes the schedule exact: each group read "takes" 10 s, the budget is 60 s.
        await h.DisposeAsync();
        h = await EngineHarness.StartAsync(azurite, sync: o => { o.TimerBudgetSeconds = 60; o.Parallelism = 1; }, tamperable: true);
        for (var i = 0; i < 4; i++)
        {
            h.AddUser($"u-{i:000}", $"user{i:000}@contoso.com", $"User {i:000}", "Sales", "Agent");
        }

        var groups = Enumerable.Range(0, 12).Select(g => $"g-{g:00}").ToList();
        var targetIds = new Dictionary<string, string>();
        foreach (var g in groups)
        {
            targetIds[g] = h.SeedTargetGroup("Team " + g);
            h.Graph.AddGroup(g, "Team " + g, "u-000", "u-001", "u-002", "u-003");
        }

        await h.Engine.SyncAsync(dryRun: false);

        // Every target group loses a member behind the connector: each group the pass reaches puts one back.
        foreach (var g in groups)
        {
            h.Emulator.State.Store.PatchGroup(targetIds[g], [new GenesysScimEmulator.Scim.PatchOperation("remove", "members[value eq \"" + (await h.MappingAsync("u-002")).ScimId + "\"]", null)], null, new GenesysScimEmulator.State.ResourceUrls(h.Emulator.ScimBaseUrl));
        }

        var byTargetId = targetIds.ToDictionary(p => p.Value, p => p.Key);
        var read = new List<string>();
        h.Tampering!.BeforeGroupRead = id =>
        {
            read.Add(byTargetId[id]);
            h.Time.Advance(TimeSpan.FromSeconds(10));
        };
        var runs = new List<(SyncSummary Summary, List<string> Read, TimeSpan Took)>();
        for (var run = 0; run < 3; run++)
        {
            read.Clear();
            var start = h.Time.GetUtcNow();
            var summary = await h.Engine.ReconcileGroupsAsync();
            runs.Add((summary, [.. read.Distinct()], h.Time.GetUtcNow() - start));
        }

        // Six groups fit a run (started at 0, 10, ... 50 s); the second run starts where the first stopped; the
        // third starts a new cycle from the first group and finds nothing left to put back.
        Assert.Equal(groups[..6], runs[0].Read);
        Assert.Equal(groups[6..], runs[1].Read);
        Assert.Equal(groups[..6], runs[2].Read);
        Assert.Equal([6, 6, 0], runs.Select(r => r.Summary.MembersAdded));
        Assert.All(runs, r => Assert.True(r.Took <= TimeSpan.FromSeconds(60 + 10), $"a run took {r.Took} of the fake clock"));
        Assert.All(groups, g => Assert.Equal(4, h.TargetGroupMembers(targetIds[g]).Count));
    }

    [Fact]
    public async Task GroupPass_ThatFitsOneRun_WritesNoPosition()
    {
        h.AddUser("u-000", "user000@contoso.com", "User 000", "Sales", "Agent");
        var target = h.SeedTargetGroup("Team");
        h.Graph.AddGroup("g-00", "Team", "u-000");
        await h.Engine.SyncAsync(dryRun: false);
        h.ResetCounters();

        var summary = await h.Engine.ReconcileGroupsAsync();

        Assert.Equal(0, summary.Failed);
        Assert.Single(h.TargetGroupMembers(target));
        Assert.Equal(0, h.TableWrites.Writes);
    }
}
