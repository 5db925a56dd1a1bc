using ScimFunctions.IntegrationTests.Engine.Support;
using ScimFunctions.Provisioning.Notifications;
using ScimFunctions.Provisioning.State;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.IntegrationTests.Engine;

/// <summary>The mass-deletion guards that a burst, a retry or a configuration mistake must not slip past
/// (issue 13): a sliding threshold window, one count per user and action, and a scope group Graph does not know.</summary>
[Collection(EngineCollection.Name)]
public sealed class MassDeletionGuardTests(AzuriteFixture azurite) : IAsyncLifetime
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

    private async Task ProvisionAsync(params string[] ids)
    {
        foreach (var id in ids)
        {
            h.AddUser(id, id + "@contoso.com", "User " + id, "Sales", "Agent");
            await h.NotifyAsync(id);
        }

        await h.DrainAsync();
    }

    private async Task LeaveAsync(params string[] ids)
    {
        foreach (var id in ids)
        {
            h.Graph.SoftDeleteUser(id);
            await h.NotifyAsync(id);
        }

        await h.DrainAsync();
    }

    private async Task<int> CountAsync(LifecycleState state, IEnumerable<string> ids)
    {
        var n = 0;
        foreach (var id in ids)
        {
            n += (await h.MappingAsync(id)).State == state ? 1 : 0;
        }

        return n;
    }

    [Fact]
    public async Task Threshold_LeaverBurstStraddlingTheTopOfAnHour_Stages()
    {
        // 10 managed users, 20 % a window: 2 destructive actions. A 40 % burst split 10:59 / 11:00 used to pass
        // because each clock hour counted on its own.
        await StartAsync(o => o.Threshold = new ThresholdOptions { MaxActionsPerHour = 500, MinimumActions = 0, MaxFractionPerHour = 0.2 });
        var ids = Enumerable.Range(1, 10).Select(i => $"u-h{i}").ToArray();
        await ProvisionAsync(ids);

        h.Time.SetUtcNow(new DateTimeOffset(2026, 3, 2, 10, 59, 0, TimeSpan.Zero));
        await LeaveAsync(ids[0], ids[1]);
        h.Time.SetUtcNow(new DateTimeOffset(2026, 3, 2, 11, 0, 30, TimeSpan.Zero));
        await LeaveAsync(ids[2], ids[3]);

        Assert.Equal(2, await CountAsync(LifecycleState.Disabled, ids));
        var status = await h.Engine.GetStatusAsync();
        Assert.NotNull(status.Hold);
        Assert.Equal(["u-h3", "u-h4"], status.Staged.Select(s => s.ObjectId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Threshold_AfterTheWindowHasSlidPast_ActionsRunAgain()
    {
        await StartAsync(o => o.Threshold = new ThresholdOptions { MaxActionsPerHour = 2, MinimumActions = 0, MaxFractionPerHour = 1 });
        var ids = Enumerable.Range(1, 4).Select(i => $"u-s{i}").ToArray();
        await ProvisionAsync(ids);

        h.Time.SetUtcNow(new DateTimeOffset(2026, 3, 2, 10, 30, 0, TimeSpan.Zero));
        await LeaveAsync(ids[0], ids[1]);
        h.Time.SetUtcNow(new DateTimeOffset(2026, 3, 2, 11, 30, 1, TimeSpan.Zero));
        await LeaveAsync(ids[2], ids[3]);

        Assert.Equal(4, await CountAsync(LifecycleState.Disabled, ids));
        Assert.Null((await h.Engine.GetStatusAsync()).Hold);
    }

    [Fact]
    public async Task Threshold_AThrottledRetryOfTheSameDisable_IsCountedOnce()
    {
        // Retry-After beyond the call budget: the PATCH active=false surfaces as transient and the item is retried.
        await StartAsync(
            o => o.Threshold = new ThresholdOptions { MaxActionsPerHour = 2, MinimumActions = 0, MaxFractionPerHour = 1 },
            s => { s.CallTimeBudget = TimeSpan.FromMilliseconds(600); s.AttemptTimeout = TimeSpan.FromMilliseconds(500); });
        var ids = new[] { "u-r1", "u-r2", "u-r3" };
        await ProvisionAsync(ids);

        h.Emulator.State.Faults.Set(new GenesysScimEmulator.State.FaultSettings { ThrottleCount = 1, ThrottleRetryAfterSeconds = 5, Kinds = ["users"] });
        await LeaveAsync(ids[0]);
        Assert.Equal(1, h.Emulator.State.Counters.CountStatus(429));
        Assert.Contains(h.Queue.Sent, m => m.MessageId.Contains("#r1", StringComparison.Ordinal));
        await LeaveAsync(ids[1]);

        Assert.Equal(2, await CountAsync(LifecycleState.Disabled, ids));
        var status = await h.Engine.GetStatusAsync();
        Assert.Null(status.Hold);
        Assert.Empty(status.Staged);
    }

    [Fact]
    public async Task ScopeGroupGraphAnswers404For_IsAConfigurationFailure_NotEveryoneLeaving()
    {
        await StartAsync(o =>
        {
            o.Scope.Mode = "groups";
            o.Scope.Groups = "g-scope";
            o.Scope.GroupCacheSeconds = 0;
            o.Groups.Enabled = false;
            o.MaxAttempts = 3;
        });
        h.Graph.AddGroup("g-scope", "Genesys Users");
        foreach (var id in new[] { "u-g1", "u-g2" })
        {
            h.AddUser(id, id + "@contoso.com", "User " + id);
            h.Graph.AddMember("g-scope", id);
        }

        await h.Engine.SyncAsync(dryRun: false);
        Assert.Equal(2, h.TargetUsers(includeInactive: false).Count);

        h.Graph.DeleteGroup("g-scope");
        await h.NotifyAsync("u-g1");
        var settled = await h.DrainAsync();
        var sync = await h.Engine.SyncAsync(dryRun: false);
        h.Time.Advance(TimeSpan.FromDays(60));
        await h.Engine.PurgeDisabledAsync();

        Assert.Equal(2, await CountAsync(LifecycleState.Active, ["u-g1", "u-g2"]));
        Assert.Equal(2, h.TargetUsers(includeInactive: false).Count);
        var dead = Assert.Single(settled, s => s.Settlement == "deadletter");
        Assert.Contains(FailureReasons.ScopeGroupNotFound, dead.DeadLetterDescription, StringComparison.Ordinal);
        Assert.Contains("g-scope", dead.DeadLetterDescription, StringComparison.Ordinal);
        Assert.Contains("Sync__Scope__Groups", dead.DeadLetterDescription, StringComparison.Ordinal);
        Assert.Equal(0, sync.Disabled);
        Assert.Contains(sync.Failures, f => f.Reason.Contains(FailureReasons.ScopeGroupNotFound, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ScopeGroupWithATypo_StillLetsMembersOfTheOtherGroupsJoin()
    {
        await StartAsync(o =>
        {
            o.Scope.Mode = "groups";
            o.Scope.Groups = "g-real,g-tpyo";
            o.Groups.Enabled = false;
        });
        h.Graph.AddGroup("g-real", "Genesys Users");
        h.AddUser("u-j1", "j1@contoso.com", "Joiner");
        h.Graph.AddMember("g-real", "u-j1");

        await h.NotifyAsync("u-j1");
        var settled = await h.DrainAsync();

        Assert.Equal("complete", Assert.Single(settled).Settlement);
        Assert.Equal(LifecycleState.Active, (await h.MappingAsync("u-j1")).State);
    }

    private async Task StartAsync(Action<SyncOptions> sync, Action<Provisioning.Scim.ScimOptions>? scim = null) =>
        h = await EngineHarness.StartAsync(azurite, sync, scim: scim);
}
