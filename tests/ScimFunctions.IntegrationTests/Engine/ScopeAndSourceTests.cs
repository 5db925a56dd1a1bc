using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using ScimFunctions.IntegrationTests.Engine.Support;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.State;
using ScimFunctions.Provisioning.Sync;
using Xunit.Abstractions;

namespace ScimFunctions.IntegrationTests.Engine;

/// <summary>Scope modes, the snapshot directory the CLI uses, groups deleted in Entra, and a larger load.</summary>
[Collection(EngineCollection.Name)]
public sealed class ScopeAndSourceTests(AzuriteFixture azurite, ITestOutputHelper output) : IAsyncLifetime
{
    private EngineHarness h = null!;
    private readonly List<string> files = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (h is not null)
        {
            await h.DisposeAsync();
        }

        foreach (var file in files)
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task FilterScope_OnlyMatchingUsersJoin_AndLeavingTheFilterIsALeaver()
    {
        h = await EngineHarness.StartAsync(azurite, o => { o.Scope.Mode = "filter"; o.Scope.Filter = "department eq 'Sales'"; });
        h.AddUser("u-in", "in@contoso.com", "In Scope", "Sales");
        h.AddUser("u-out", "out@contoso.com", "Out Of Scope", "Finance");

        var first = await h.Engine.SyncAsync(dryRun: false);

        Assert.Equal(1, first.Created);
        Assert.Contains(first.Operations, o => o.ObjectId == "u-out" && o.Action == PlanAction.Skip && o.Reason.Contains("scope filter", StringComparison.Ordinal));
        Assert.Single(h.TargetUsers());

        h.Graph.UpdateUser("u-in", p => p["department"] = "Finance");
        await h.NotifyAsync("u-in");
        await h.DrainAsync();

        Assert.Equal(LifecycleState.Disabled, (await h.MappingAsync("u-in")).State);
        Assert.False((bool?)h.TargetUsers().Single()["active"]);
    }

    [Fact]
    public async Task GroupScope_AddingToTheScopeGroupIsAJoiner_RemovingIsALeaver()
    {
        h = await EngineHarness.StartAsync(azurite, o => { o.Scope.Mode = "groups"; o.Scope.Groups = "g-scope"; o.Scope.GroupCacheSeconds = 0; o.Groups.Enabled = false; });
        h.AddUser("u-a", "a@contoso.com", "Ann");
        h.AddUser("u-b", "b@contoso.com", "Ben");
        h.Graph.AddGroup("g-scope", "Genesys Users", "u-a");

        await h.Engine.SyncAsync(dryRun: false);
        Assert.Single(h.TargetUsers());

        // Scope group changes: the group's work item queues its joined and left members.
        h.Graph.AddMember("g-scope", "u-b");
        h.Graph.RemoveMember("g-scope", "u-a");
        await h.NotifyAsync("g-scope", kind: "Groups");
        await h.DrainAsync();

        Assert.Equal(LifecycleState.Active, (await h.MappingAsync("u-b")).State);
        Assert.Equal(LifecycleState.Disabled, (await h.MappingAsync("u-a")).State);
    }

    [Fact]
    public async Task SnapshotDirectory_FullSync_AbsenceIsRemoval_AndAReRunWritesNothing()
    {
        h = await EngineHarness.StartAsync(azurite);
        var groupId = h.SeedTargetGroup("Agents");
        var path = WriteSnapshot(
            [("s-1", "s1@contoso.com", null), ("s-2", "s2@contoso.com", "s-1"), ("s-3", "s3@contoso.com", "s-1")],
            [("sg-1", "Agents", ["s-2", "s-3"])]);
        using var engine = TestEngine.Build(h.Scim, new SnapshotDirectorySource(path, new InMemorySnapshotStateStore(), NullLogger<SnapshotDirectorySource>.Instance), h.Tables, time: h.Time, tablePrefix: h.TablePrefix);

        var first = await engine.SyncAsync(dryRun: false);
        Assert.Equal(3, first.Created);
        Assert.Equal(2, h.TargetGroupMembers(groupId).Count);
        Assert.Equal((await h.MappingAsync("s-1")).ScimId, (string?)h.TargetUser((await h.MappingAsync("s-2")).ScimId!)![Provisioning.Scim.ScimSchemas.EnterpriseUser]!["manager"]!["value"]);

        // s-3 is no longer in the snapshot: a leaver, dropped from the group.
        WriteSnapshot([("s-1", "s1@contoso.com", null), ("s-2", "s2@contoso.com", "s-1")], [("sg-1", "Agents", ["s-2"])], path);
        var second = await engine.SyncAsync(dryRun: false);
        Assert.Equal(1, second.Disabled);
        Assert.Equal(1, second.MembersRemoved);
        Assert.Equal(LifecycleState.Disabled, (await h.MappingAsync("s-3")).State);

        h.ResetCounters();
        var third = await engine.SyncAsync(dryRun: false);
        Assert.Equal(0, third.Created + third.Updated + third.Disabled + third.MembersAdded + third.MembersRemoved);
        Assert.Equal(0, h.ScimWrites);
        Assert.Equal(0, h.TableWrites.Writes);
    }

    [Fact]
    public async Task GroupDeletedInEntra_RemovesOnlyTheMembersTheConnectorManages()
    {
        h = await EngineHarness.StartAsync(azurite);
        h.AddUser("u-m1", "m1@contoso.com", "Member One");
        h.Graph.AddGroup("g-gone", "Temp Team", "u-m1");
        var groupId = h.SeedTargetGroup("Temp Team");
        await h.Engine.SyncAsync(dryRun: false);
        Assert.Single(h.TargetGroupMembers(groupId));

        h.Graph.DeleteGroup("g-gone");
        await h.NotifyAsync("g-gone", kind: "Groups", changeType: "deleted");
        await h.DrainAsync();

        Assert.Empty(h.TargetGroupMembers(groupId));
        Assert.Equal(GroupState.Removed, (await h.Store.GetGroupAsync("g-gone"))!.State);
    }

    [Fact]
    public async Task InitialLoad_Of300Users_CostsOnePostPerUser_AndTheTargetListingOnce()
    {
        h = await EngineHarness.StartAsync(azurite, o => o.Parallelism = 8);
        for (var i = 0; i < 300; i++)
        {
            h.AddUser($"u-{i:000}", $"user{i:000}@contoso.com", $"User {i:000}", i % 2 == 0 ? "Sales" : "Support");
        }

        var clock = Stopwatch.StartNew();
        var summary = await h.Engine.SyncAsync(dryRun: false);
        clock.Stop();

        Assert.Equal(300, summary.Created);
        // One POST each, plus the listing that replaced a lookup each: a count and one page per Genesys scan
        // (active, inactive) of the empty target.
        Assert.Equal(300, h.ScimCount("POST"));
        Assert.Equal(303, h.ScimRequests);
        Assert.Equal(602, h.TableWrites.Writes); // 300 mapping rows + the users and groups cursors + 300 history rows
        Assert.Equal(300, h.HistoryWrites);
        output.WriteLine($"Initial load of 300 users: {clock.Elapsed.TotalSeconds:F1} s, {h.ScimRequests} SCIM requests, {h.TableWrites.Writes} table writes, {h.GraphRequests} Graph requests.");
    }

    private string WriteSnapshot((string Id, string Upn, string? Manager)[] users, (string Id, string Name, string[] Members)[] groups, string? path = null)
    {
        path ??= Path.Combine(Path.GetTempPath(), $"engine-snapshot-{Guid.NewGuid():N}.json");
        if (!files.Contains(path))
        {
            files.Add(path);
        }

        var document = new JsonObject
        {
            ["users"] = new JsonArray([.. users.Select(u =>
            {
                var user = new JsonObject
                {
                    ["id"] = u.Id,
                    ["userPrincipalName"] = u.Upn,
                    ["displayName"] = u.Upn,
                    ["accountEnabled"] = true,
                    ["mail"] = u.Upn,
                    ["department"] = "Sales",
                    ["businessPhones"] = new JsonArray(),
                };
                if (u.Manager is not null)
                {
                    user["manager"] = new JsonObject { ["id"] = u.Manager };
                }

                return (JsonNode)user;
            })]),
            ["groups"] = new JsonArray([.. groups.Select(g => (JsonNode)new JsonObject
            {
                ["id"] = g.Id,
                ["displayName"] = g.Name,
                ["members"] = new JsonArray([.. g.Members.Select(m => (JsonNode)new JsonObject { ["id"] = m })]),
            })]),
        };
        File.WriteAllText(path, document.ToJsonString());
        return path;
    }
}
