using ScimFunctions.IntegrationTests.Engine.Support;
using ScimFunctions.Provisioning.Notifications;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.IntegrationTests.Engine;

/// <summary>Group membership, the full sync and plan the CLI runs, the delta sweep, explain and status.</summary>
[Collection(EngineCollection.Name)]
public sealed class GroupsAndSyncTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private EngineHarness h = null!;

    public async Task InitializeAsync() => h = await EngineHarness.StartAsync(azurite);

    public async Task DisposeAsync() => await h.DisposeAsync();

    private void Company(int users, string groupName = "Sales Team", string groupId = "g-sales", int members = -1)
    {
        h.AddUser("u-boss", "boss@contoso.com", "Bea Boss", "Sales", "Director");
        for (var i = 0; i < users; i++)
        {
            h.AddUser($"u-{i:000}", $"user{i:000}@contoso.com", $"User {i:000}", "Sales", "Agent", managerId: "u-boss");
        }

        h.Graph.AddGroup(groupId, groupName, Enumerable.Range(0, members < 0 ? users : members).Select(i => $"u-{i:000}").ToArray());
    }

    [Fact]
    public async Task FullSync_ThenReRun_OnAnUnchangedDirectory_WritesNothing()
    {
        Company(12);
        var groupId = h.SeedTargetGroup("Sales Team");

        var first = await h.Engine.SyncAsync(dryRun: false);

        Assert.Equal(13, first.Created);
        Assert.Equal(0, first.Failed);
        Assert.Equal(12, first.MembersAdded);
        Assert.Equal(12, h.TargetGroupMembers(groupId).Count);
        var boss = (await h.MappingAsync("u-boss")).ScimId;
        Assert.All(h.TargetUsers().Where(u => (string?)u["externalId"] != "u-boss"), u => Assert.Equal(boss, (string?)u[ScimSchemas.EnterpriseUser]!["manager"]!["value"]));

        h.ResetCounters();
        var second = await h.Engine.SyncAsync(dryRun: false);

        Assert.Equal(13, second.Unchanged);
        Assert.Equal(0, second.Created + second.Updated + second.Disabled + second.MembersAdded + second.MembersRemoved);
        Assert.Equal(0, h.ScimWrites);
        Assert.Equal(0, second.ScimWrites);
        Assert.Equal(0, h.TableWrites.Writes);
    }

    [Fact]
    public async Task DryRun_PlansEveryChange_AndWritesNothingAnywhere()
    {
        Company(3);
        h.SeedTargetGroup("Sales Team");

        var plan = await h.Engine.SyncAsync(dryRun: true);

        Assert.Equal(4, plan.Created);
        Assert.Equal(3, plan.MembersAdded);
        Assert.Contains(plan.Operations, o => o.ObjectId == "u-000" && o.Action == PlanAction.Create && o.Reason.Length > 0);
        Assert.Contains(plan.Operations, o => o.ObjectId == "g-sales" && o.Action == PlanAction.AddMembers);
        Assert.Equal(0, h.ScimWrites);
        Assert.Equal(0, h.TableWrites.Writes);
        Assert.Empty(h.TargetUsers());
    }

    [Fact]
    public async Task GroupMembershipChange_OfManyMembers_GoesOutInChunks()
    {
        Company(120, members: 0);
        var groupId = h.SeedTargetGroup("Sales Team");
        await h.Engine.SyncAsync(dryRun: false);
        Assert.Empty(h.TargetGroupMembers(groupId));
        h.ResetCounters();

        for (var i = 0; i < 120; i++)
        {
            h.Graph.AddMember("g-sales", $"u-{i:000}");
        }

        await h.NotifyAsync("g-sales", kind: "Groups");
        await h.DrainAsync();

        Assert.Equal(120, h.TargetGroupMembers(groupId).Count);
        Assert.Equal(3, h.ScimCount("PATCH", "groups")); // ⌈120 / 50⌉
        Assert.Equal(0, h.ScimCount("GET", "groups"));     // the stored version and member set were current
        Assert.Equal(1, h.StateWrites);                     // the group row
        Assert.Equal(120, h.HistoryWrites);                 // "added to group" in each member's history
        var added = (await h.HistoryAsync("u-007"))[0];
        Assert.Equal((HistoryAction.AddedToGroup, "g-sales", groupId, HistoryTrigger.Notification), (added.Action, added.GroupId, added.TargetGroupId, added.Trigger));
        Assert.Equal(3, added.CorrelationIds!.Distinct().Count()); // the three PATCHes' ids: the row does not say which chunk held the member

        // k = 7 removals: one PATCH.
        h.ResetCounters();
        for (var i = 0; i < 7; i++)
        {
            h.Graph.RemoveMember("g-sales", $"u-{i:000}");
        }

        await h.NotifyAsync("g-sales", kind: "Groups");
        await h.DrainAsync();
        Assert.Equal(113, h.TargetGroupMembers(groupId).Count);
        Assert.Equal(1, h.ScimCount("PATCH", "groups"));
    }

    [Fact]
    public async Task GroupMember_NotYetProvisioned_IsAddedWhenTheUserJoins()
    {
        var groupId = h.SeedTargetGroup("Support");
        h.AddUser("u-new", "new@contoso.com", "Nia New", "Support");
        h.Graph.AddGroup("g-support", "Support", "u-new");

        // The group notification is handled before the user's.
        await h.NotifyAsync("g-support", kind: "Groups");
        await h.DrainAsync();
        Assert.Empty(h.TargetGroupMembers(groupId));

        await h.NotifyAsync("u-new");
        await h.DrainAsync();

        Assert.Equal([(await h.MappingAsync("u-new")).ScimId!], h.TargetGroupMembers(groupId));
    }

    [Fact]
    public async Task Leaver_IsRemovedFromManagedGroups_AndUnmanagedMembersStay()
    {
        Company(2);
        var groupId = h.SeedTargetGroup("Sales Team");
        await h.Engine.SyncAsync(dryRun: false);
        var stranger = h.Emulator.State.Seed(new System.Text.Json.Nodes.JsonObject
        {
            ["users"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject { ["userName"] = "local@contoso.com", ["displayName"] = "Local Admin" }),
        }).Users.Single().Id;
        h.Emulator.State.Store.PatchGroup(groupId, [new GenesysScimEmulator.Scim.PatchOperation("add", "members", new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject { ["value"] = stranger }))], null, new GenesysScimEmulator.State.ResourceUrls(h.Emulator.ScimBaseUrl));

        h.Graph.SoftDeleteUser("u-000");
        await h.NotifyAsync("u-000");
        await h.DrainAsync();

        var members = h.TargetGroupMembers(groupId);
        Assert.DoesNotContain((await h.MappingAsync("u-000")).ScimId!, members);
        Assert.Contains((await h.MappingAsync("u-001")).ScimId!, members);
        Assert.Contains(stranger, members);
    }

    [Fact]
    public async Task Leaver_StillInItsEntraGroups_CostsNoPendingRows_AndIsAddedBackOnRejoin()
    {
        var sales = h.SeedTargetGroup("Sales Team");
        var support = h.SeedTargetGroup("Support");
        h.AddUser("u-lea", "lea@contoso.com", "Lea", "Sales");
        h.AddUser("u-kit", "kit@contoso.com", "Kit", "Sales");
        h.Graph.AddGroup("g-sales", "Sales Team", "u-lea", "u-kit");
        h.Graph.AddGroup("g-support", "Support", "u-lea");
        await h.Engine.SyncAsync(dryRun: false);
        var lea = (await h.MappingAsync("u-lea")).ScimId!;
        h.ResetCounters();

        // A disabled account keeps its Entra group memberships.
        h.Graph.UpdateUser("u-lea", p => p["accountEnabled"] = false);
        await h.NotifyAsync("u-lea");
        await h.DrainAsync();

        Assert.DoesNotContain(lea, h.TargetGroupMembers(sales));
        Assert.DoesNotContain(lea, h.TargetGroupMembers(support));
        Assert.Equal(4, h.StateWrites); // the user row, the threshold's window row, two group rows; no pending rows
        Assert.Equal(3, h.HistoryWrites); // disabled, removed from two groups
        Assert.Equal([HistoryAction.RemovedFromGroup, HistoryAction.RemovedFromGroup, HistoryAction.Disabled], (await h.HistoryAsync("u-lea")).Take(3).Select(e => e.Action));

        h.Time.Advance(TimeSpan.FromDays(3));
        h.Graph.UpdateUser("u-lea", p => p["accountEnabled"] = true);
        await h.NotifyAsync("u-lea");
        await h.DrainAsync();

        Assert.Contains(lea, h.TargetGroupMembers(sales));
        Assert.Contains(lea, h.TargetGroupMembers(support));
    }

    [Fact]
    public async Task UnmatchedGroup_IsReported_NotAFailure()
    {
        Company(1);

        var summary = await h.Engine.SyncAsync(dryRun: false);

        Assert.Equal(0, summary.Failed);
        Assert.Contains("Sales Team", summary.UnmatchedGroups);
        Assert.Contains("Sales Team", (await h.Engine.GetStatusAsync()).UnmatchedGroups);
    }

    [Fact]
    public async Task ReconcileGroups_FixesDriftFromATargetEdit_AndIsFreeWhenSteady()
    {
        Company(3);
        var groupId = h.SeedTargetGroup("Sales Team");
        await h.Engine.SyncAsync(dryRun: false);

        h.ResetCounters();
        await h.Reconcile.RunAsync(new Microsoft.Azure.Functions.Worker.TimerInfo());
        Assert.Equal(0, h.ScimWrites);
        Assert.Equal(0, h.TableWrites.Writes);

        // Someone removes a managed member in Genesys.
        var removed = (await h.MappingAsync("u-001")).ScimId!;
        h.Emulator.State.Store.PatchGroup(groupId, [new GenesysScimEmulator.Scim.PatchOperation("remove", $"members[value eq \"{removed}\"]", null)], null, new GenesysScimEmulator.State.ResourceUrls(h.Emulator.ScimBaseUrl));
        Assert.Equal(2, h.TargetGroupMembers(groupId).Count);

        var summary = await h.Engine.ReconcileGroupsAsync();

        Assert.Equal(1, summary.MembersAdded);
        Assert.Equal(3, h.TargetGroupMembers(groupId).Count);
    }

    [Fact]
    public async Task DeltaSweep_InitialLoad_QueuesEveryone_AndProcessingCostsNoFurtherGraphRead()
    {
        Company(5);
        var groupId = h.SeedTargetGroup("Sales Team");

        await h.Sweep.RunAsync(new Microsoft.Azure.Functions.Worker.TimerInfo());
        Assert.Equal(7, h.Queue.PendingCount); // 6 users + 1 group
        h.Graph.ClearRequests();
        await h.DrainAsync();

        Assert.Equal(6, h.TargetUsers().Count);
        Assert.Equal(0, h.Graph.Requests.Count(r => r.Path.Contains("/users/", StringComparison.Ordinal)));
        Assert.Equal(5, h.TargetGroupMembers(groupId).Count);
        Assert.NotNull((await h.Engine.GetStatusAsync()).LastUserSweep);

        // The next sweep resumes from the stored cursor: only the change.
        h.Graph.UpdateUser("u-002", p => p["department"] = "Support");
        await h.Sweep.RunAsync(new Microsoft.Azure.Functions.Worker.TimerInfo());
        Assert.Equal(1, h.Queue.PendingCount);
        await h.DrainAsync();
        var moved = (await h.MappingAsync("u-002")).ScimId!;
        Assert.Equal("Support", (string?)h.TargetUser(moved)![ScimSchemas.EnterpriseUser]!["department"]);
    }

    [Fact]
    public async Task DeltaSweep_StaleSnapshot_IsNotAppliedOverANewerRead()
    {
        Company(1, members: 0);
        await h.Engine.SyncAsync(dryRun: false);
        h.Graph.UpdateUser("u-000", p => p["department"] = "Support");
        await h.Sweep.RunAsync(new Microsoft.Azure.Functions.Worker.TimerInfo()); // item carries "Support", observed now

        // Later the department changes again and a notification is processed first (a newer read).
        h.Time.Advance(TimeSpan.FromMinutes(1));
        h.Graph.UpdateUser("u-000", p => p["department"] = "Finance");
        var sweepItems = h.Queue.PendingCount;
        await h.NotifyAsync("u-000");
        var pendingSweepMessage = h.Queue.Take()!; // hold the sweep's message back
        await h.DrainAsync();
        h.Queue.Redeliver(pendingSweepMessage.Message);
        await h.DrainAsync();

        Assert.True(sweepItems >= 1);
        var scimId = (await h.MappingAsync("u-000")).ScimId!;
        Assert.Equal("Finance", (string?)h.TargetUser(scimId)![ScimSchemas.EnterpriseUser]!["department"]);
    }

    [Fact]
    public async Task SweepAndWebhook_ItemsCarryOnlyIds_ExceptTheSweepsObservedUser()
    {
        Company(1, members: 0);
        await h.Sweep.RunAsync(new Microsoft.Azure.Functions.Worker.TimerInfo());
        await h.NotifyAsync("u-000");

        var items = h.Queue.Sent.Select(m => WorkQueue.Parse(m.Body)).ToList();

        Assert.Contains(items, i => i.Source == WorkItemSources.Delta && i.Observed?.Id == "u-000");
        Assert.Contains(items, i => i.Source == WorkItemSources.Webhook && i.ObjectId == "u-000" && i.Observed is null);
        Assert.All(h.Queue.Sent, m => Assert.Equal(WorkQueue.Parse(m.Body).ObjectId, m.SessionId));
    }

    [Fact]
    public async Task Explain_AndStatus_SayWhatWouldHappenAndWhy()
    {
        Company(1, members: 0);
        await h.Engine.SyncAsync(dryRun: false);
        h.Graph.UpdateUser("u-000", p => p["jobTitle"] = "Team Lead");
        h.AddUser("u-out", "out@contoso.com", "Out Side", enabled: false);
        h.ResetCounters();

        var mover = await h.Engine.ExplainAsync("user000@contoso.com");
        var disabled = await h.Engine.ExplainAsync("u-out");
        var missing = await h.Engine.ExplainAsync("nobody@contoso.com");

        Assert.Equal("u-000", mover.ObjectId);
        Assert.True(mover.InScope);
        Assert.Equal(["title"], mover.ChangedPaths);
        Assert.Equal(PlanAction.Update, Assert.Single(mover.Operations).Action);
        Assert.Equal("Team Lead", mover.Projection!["title"]);
        Assert.Equal(PlanAction.Skip, Assert.Single(disabled.Operations).Action);
        Assert.False(missing.FoundInDirectory);
        Assert.Equal(0, h.ScimWrites);

        var status = await h.Engine.GetStatusAsync();
        Assert.Equal(2, status.UsersByState["Active"]);
        Assert.Empty(status.Failures);
        Assert.Equal(1, status.GroupsByState["Unmatched"]);
    }

    [Fact]
    public async Task Reconcile_ReportsUserDriftWithoutWriting_SteadyStateFindsNone()
    {
        Company(2, members: 0);
        await h.Engine.SyncAsync(dryRun: false);
        h.ResetCounters();

        var steady = await h.Engine.ReconcileGroupsAsync();
        Assert.DoesNotContain(steady.Operations, o => o.Action == PlanAction.Drift);

        var edited = (await h.MappingAsync("u-001")).ScimId!;
        h.Emulator.State.Store.EditUserConcurrently(edited, new System.Text.Json.Nodes.JsonObject { ["title"] = "Changed in Genesys" });
        var drift = await h.Engine.ReconcileGroupsAsync();

        var op = Assert.Single(drift.Operations, o => o.Action == PlanAction.Drift);
        Assert.Equal("u-001", op.ObjectId);
        Assert.Equal("title", op.Detail);
        Assert.Equal(0, h.ScimWrites);
    }
}
