using System.Net;
using FunctionsHostDouble.Protocol;
using GenesysScimEmulator.Scim;
using GenesysScimEmulator.State;
using Microsoft.Extensions.Time.Testing;

namespace ScimFunctions.IntegrationTests.FunctionsHost;

/// <summary>Each timer function invoked through the host double with the host's timer payload, doing its job in
/// the worker process against Azurite, the emulator and the Graph double; results read back through their APIs.</summary>
[Collection(HostedAppCollection.Name)]
public sealed class TimersUnderHostTests(HostedApp app)
{
    [Fact]
    public async Task ReconcileGroups_PutsBackAMemberAnAdminRemovedInGenesys()
    {
        app.Graph.AddUser("t-rec-1", "rec1@contoso.com", "Rec One");
        app.Graph.AddUser("t-rec-2", "rec2@contoso.com", "Rec Two");
        app.Graph.AddGroup("t-rec-group", "Reconcile Team", "t-rec-1", "t-rec-2");
        var groupId = app.Emulator.State.Seed(new System.Text.Json.Nodes.JsonObject { ["groups"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject { ["displayName"] = "Reconcile Team" }) }).Groups.Single().Id;
        var engine = app.Engine(TimeProvider.System);
        await engine.SyncAsync(dryRun: false);
        var removed = (await engine.Store.GetUserAsync("t-rec-1"))!.ScimId!;
        app.Emulator.State.Store.PatchGroup(groupId, [new PatchOperation("remove", $"members[value eq \"{removed}\"]", null)], null, new ResourceUrls(app.Emulator.ScimBaseUrl));
        Assert.Single(Members(await app.ReadTargetAsync("groups", groupId)));

        var response = await app.InvokeTimerAsync("ReconcileGroups");

        Assert.True(response.Result?.Status == StatusResult.Types.Status.Success, app.Describe(response));
        Assert.Contains(removed, Members(await app.ReadTargetAsync("groups", groupId)));
    }

    [Fact]
    public async Task PurgeDisabled_DeletesALeaverPastTheGracePeriod_ThroughTheTargetsApi()
    {
        // Thirty-one days ago: the user was provisioned, then left (a full sync found them gone and disabled them).
        var past = new FakeTimeProvider(DateTimeOffset.UtcNow.AddDays(-31));
        app.Graph.AddUser("t-purge-1", "purge1@contoso.com", "Purge One");
        var engine = app.Engine(past);
        await engine.SyncAsync(dryRun: false);
        var scimId = (await engine.Store.GetUserAsync("t-purge-1"))!.ScimId!;
        app.Graph.HardDeleteUser("t-purge-1");
        await engine.SyncAsync(dryRun: false);
        var (status, user) = await app.ReadTargetAsync("users", scimId);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.False((bool?)user!["active"]);

        var response = await app.InvokeTimerAsync("PurgeDisabled");

        Assert.True(response.Result?.Status == StatusResult.Types.Status.Success, app.Describe(response));
        Assert.Equal(HttpStatusCode.NotFound, (await app.ReadTargetAsync("users", scimId)).Status);
    }

    [Fact]
    public async Task DeltaSweep_InitialLoad_QueuesAWorkItemPerDirectoryUser()
    {
        app.Graph.AddUser("t-sweep-1", "sweep1@contoso.com", "Sweep One");
        app.Graph.AddUser("t-sweep-2", "sweep2@contoso.com", "Sweep Two");
        var before = app.Bus.Received(HostedApp.QueueName).Count;

        var response = await app.InvokeTimerAsync("DeltaSweep");

        Assert.True(response.Result?.Status == StatusResult.Types.Status.Success, app.Describe(response));
        var sessions = app.Bus.Received(HostedApp.QueueName).Skip(before).Select(m => m.SessionId).ToHashSet(StringComparer.Ordinal);
        Assert.Contains("t-sweep-1", sessions);
        Assert.Contains("t-sweep-2", sessions);
    }

    [Fact]
    public async Task RenewSubscriptions_CreatesTheGraphSubscriptions_ThenLeavesThemAlone()
    {
        var first = await app.InvokeTimerAsync("RenewSubscriptions");

        Assert.True(first.Result?.Status == StatusResult.Types.Status.Success, app.Describe(first));
        var resources = app.Graph.Subscriptions.Values.Select(s => (string?)s["resource"]).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["/groups", "/users"], resources);
        Assert.All(app.Graph.Subscriptions.Values, s => Assert.Equal("https://scimfn.example/api/notifications?code=hosted", (string?)s["notificationUrl"]));

        app.Graph.ClearRequests();
        var second = await app.InvokeTimerAsync("RenewSubscriptions", isPastDue: true);

        Assert.True(second.Result?.Status == StatusResult.Types.Status.Success, app.Describe(second));
        Assert.Equal(0, app.Graph.CountRequests("POST", "subscriptions") + app.Graph.CountRequests("PATCH", "subscriptions"));
        Assert.Equal(2, app.Graph.Subscriptions.Count);
    }

    private static List<string> Members((HttpStatusCode Status, System.Text.Json.Nodes.JsonObject? Body) group)
    {
        Assert.Equal(HttpStatusCode.OK, group.Status);
        return group.Body!["members"]?.AsArray().Select(m => (string)m!["value"]!).ToList() ?? [];
    }
}
