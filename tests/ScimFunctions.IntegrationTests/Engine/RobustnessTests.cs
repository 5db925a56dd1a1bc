using System.Text.Json.Nodes;
using ScimFunctions.IntegrationTests.Engine.Support;
using ScimFunctions.Provisioning.Notifications;
using ScimFunctions.Provisioning.State;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.IntegrationTests.Engine;

/// <summary>One object's failure never stops the others (issue 13): a target answering other JSON types than
/// SCIM says, a row race during drift remediation, a scope read error during the purge.</summary>
[Collection(EngineCollection.Name)]
public sealed class RobustnessTests(AzuriteFixture azurite) : IAsyncLifetime
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
    public async Task TargetAnsweringAnObjectForExternalId_IsDeadLetteredWithAReason_NotLooped()
    {
        h = await EngineHarness.StartAsync(azurite, tamperable: true);
        h.Emulator.State.Seed(new JsonObject { ["users"] = new JsonArray(new JsonObject { ["userName"] = "odd@contoso.com", ["displayName"] = "Odd", ["externalId"] = "u-odd" }) });
        h.AddUser("u-odd", "odd@contoso.com", "Odd");
        h.Tampering!.Rewrite = (call, body) =>
        {
            if (call == "find user")
            {
                body["externalId"] = new JsonObject { ["value"] = "u-odd" };
            }
        };

        await h.NotifyAsync("u-odd");
        var settled = await h.DrainAsync();

        var dead = Assert.Single(settled);
        Assert.Equal("deadletter", dead.Settlement);
        Assert.Equal(FailureReasons.TargetResponseInvalid, dead.DeadLetterReason);
        Assert.Contains("'externalId'", dead.DeadLetterDescription, StringComparison.Ordinal);
        Assert.DoesNotContain("u-odd", dead.DeadLetterDescription, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GroupMemberWithANumberForItsValue_FailsThatGroup_AndReconcileGoesOn()
    {
        h = await EngineHarness.StartAsync(azurite, tamperable: true);
        var alpha = h.SeedTargetGroup("Alpha");
        var beta = h.SeedTargetGroup("Beta");
        foreach (var id in new[] { "u-1", "u-2", "u-3" })
        {
            h.AddUser(id, id + "@contoso.com", "User " + id);
        }

        h.Graph.AddGroup("g-alpha", "Alpha", "u-1");
        h.Graph.AddGroup("g-beta", "Beta", "u-2");
        await h.Engine.SyncAsync(dryRun: false);
        h.Graph.AddMember("g-beta", "u-3"); // no notification: only the reconcile can find it
        h.Emulator.State.Store.EditGroupConcurrently(alpha); // its version moves, so the reconcile reads its body
        h.Tampering!.Rewrite = (call, body) =>
        {
            if (call == "get group" && (string?)body["id"] == alpha && body["members"] is JsonArray { Count: > 0 } members)
            {
                members[0]!["value"] = 7;
            }
        };

        var summary = await h.Engine.ReconcileGroupsAsync();

        var failure = Assert.Single(summary.Failures);
        Assert.Equal("g-alpha", failure.ObjectId);
        Assert.StartsWith(FailureReasons.TargetResponseInvalid, failure.Reason, StringComparison.Ordinal);
        Assert.Contains((await h.MappingAsync("u-3")).ScimId!, h.TargetGroupMembers(beta));
    }

    [Fact]
    public async Task RowRaceDuringDriftRemediation_DoesNotAbortReconcileGroups()
    {
        h = await EngineHarness.StartAsync(azurite, o => o.RemediateUserDrift = true, tamperable: true);
        var groupId = h.SeedTargetGroup("Gamma");
        foreach (var id in new[] { "u-d1", "u-d2", "u-d3" })
        {
            h.AddUser(id, id + "@contoso.com", "User " + id, "Sales", "Agent");
        }

        h.Graph.AddGroup("g-gamma", "Gamma", "u-d1");
        await h.Engine.SyncAsync(dryRun: false);
        var d1 = (await h.MappingAsync("u-d1")).ScimId!;
        var d2 = (await h.MappingAsync("u-d2")).ScimId!;
        h.Emulator.State.Store.EditUserConcurrently(d1, new JsonObject { ["title"] = "Edited by an admin" });
        h.Emulator.State.Store.EditUserConcurrently(d2, new JsonObject { ["title"] = "Edited by an admin" });
        h.Graph.AddMember("g-gamma", "u-d3");

        // The first remediation's row write loses to a convergence of the same user that lands meanwhile.
        var raced = false;
        h.Tampering!.AfterUserPatch = async scimId =>
        {
            if (!raced && scimId == d1)
            {
                raced = true;
                var row = await h.MappingAsync("u-d1");
                await h.Store.SaveUserAsync(row with { AppliedAt = h.Time.GetUtcNow() });
            }
        };

        var summary = await h.Engine.ReconcileGroupsAsync();

        Assert.True(raced);
        Assert.Equal("Agent", (string?)h.TargetUser(d2)!["title"]);
        Assert.Contains((await h.MappingAsync("u-d3")).ScimId!, h.TargetGroupMembers(groupId));
        Assert.Empty(summary.Failures);
    }

    [Fact]
    public async Task ScopeReadErrorDuringThePurge_FailsThatUser_AndThePurgeGoesOn()
    {
        h = await EngineHarness.StartAsync(azurite, o =>
        {
            o.Scope.Mode = "groups";
            o.Scope.Groups = "g-scope";
            o.Scope.GroupCacheSeconds = 0;
            o.Groups.Enabled = false;
        });
        h.Graph.AddGroup("g-scope", "Genesys Users");
        foreach (var id in new[] { "u-p1", "u-p2" })
        {
            h.AddUser(id, id + "@contoso.com", "User " + id);
            h.Graph.AddMember("g-scope", id);
        }

        await h.Engine.SyncAsync(dryRun: false);
        h.Graph.RemoveMember("g-scope", "u-p1");
        h.Graph.RemoveMember("g-scope", "u-p2");
        await h.Engine.SyncAsync(dryRun: false);
        Assert.Equal(LifecycleState.Disabled, (await h.MappingAsync("u-p2")).State);

        h.Time.Advance(TimeSpan.FromDays(31));
        h.Graph.FailNext(503, count: 2, pathContains: "g-scope"); // the read and its one retry
        var summary = await h.Engine.PurgeDisabledAsync();

        var failure = Assert.Single(summary.Failures);
        Assert.Equal("u-p1", failure.ObjectId);
        Assert.Equal(LifecycleState.Disabled, (await h.MappingAsync("u-p1")).State);
        Assert.Equal(LifecycleState.Deleted, (await h.MappingAsync("u-p2")).State);
    }
}
