using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using ScimFunctions.IntegrationTests.Engine.Support;
using ScimFunctions.Provisioning.Notifications;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.IntegrationTests.Engine;

/// <summary>Metrics, decision events, subscriptions and lifecycle items.</summary>
[Collection(EngineCollection.Name)]
public sealed class ObservabilityTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private EngineHarness h = null!;

    public async Task InitializeAsync() => h = await EngineHarness.StartAsync(azurite, o => o.Threshold = new ThresholdOptions { MaxActionsPerHour = 1, MinimumActions = 0, MaxFractionPerHour = 1 });

    public async Task DisposeAsync() => await h.DisposeAsync();

    [Fact]
    public async Task EveryDecision_IsCountedAndLogged_WithObjectIdsOnly()
    {
        using var creates = new MetricCollector<long>(h.Metrics.Creates);
        using var updates = new MetricCollector<long>(h.Metrics.Updates);
        using var noops = new MetricCollector<long>(h.Metrics.NoOps);
        using var disables = new MetricCollector<long>(h.Metrics.Disables);
        using var staged = new MetricCollector<long>(h.Metrics.Staged);
        using var lag = new MetricCollector<double>(h.Metrics.Lag);
        h.AddUser("u-a", "a@contoso.com", "Alpha Person", "Sales");
        h.AddUser("u-b", "b@contoso.com", "Beta Person", "Sales");

        await h.NotifyAsync("u-a");
        await h.NotifyAsync("u-b");
        await h.DrainAsync();
        h.Graph.UpdateUser("u-a", p => p["department"] = "Support");
        await h.NotifyAsync("u-a");
        await h.NotifyAsync("u-b");
        await h.DrainAsync();
        h.Graph.SoftDeleteUser("u-a");
        h.Graph.SoftDeleteUser("u-b");
        await h.NotifyAsync("u-a");
        await h.NotifyAsync("u-b");
        await h.DrainAsync();

        Assert.Equal(2, creates.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal(1, updates.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal(1, noops.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal(1, disables.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal(1, staged.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal(4, lag.GetMeasurementSnapshot().Count);
        Assert.All(creates.GetMeasurementSnapshot(), m => Assert.Equal("user", m.Tags["kind"]));

        var events = h.Logs.Collector.GetSnapshot();
        Assert.Equal(2, events.Count(e => e.Id.Id == 3000));
        Assert.Equal(1, events.Count(e => e.Id.Id == 3001));
        Assert.Equal(1, events.Count(e => e.Id.Id == 3002));
        Assert.Equal(1, events.Count(e => e.Id.Id == 3010));
        var stagedEvent = Assert.Single(events, e => e.Id.Id == 3100);
        Assert.Equal(LogLevel.Error, stagedEvent.Level);
        Assert.DoesNotContain(events, e => e.Message.Contains("Alpha Person", StringComparison.Ordinal) || e.Message.Contains("a@contoso.com", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RenewSubscriptions_CreatesThenKeeps_AndALifecycleItemReauthorizesAndSweeps()
    {
        var created = await h.Engine.EnsureSubscriptionsAsync();
        Assert.Equal([SubscriptionOutcome.Created, SubscriptionOutcome.Created], created.Select(c => c.Action));
        var again = await h.Engine.EnsureSubscriptionsAsync();
        Assert.All(again, c => Assert.Equal(SubscriptionOutcome.Current, c.Action));
        Assert.Equal(2, (await h.Engine.GetStatusAsync()).Subscriptions.Count);

        h.AddUser("u-late", "late@contoso.com", "Late Comer");
        var subscriptionId = created[0].SubscriptionId;
        var lifecycle = new QueuedWorkItem(new WorkItem(WorkItemKind.Lifecycle, subscriptionId, "reauthorizationRequired", subscriptionId, "tenant-1", h.Time.GetUtcNow()), "l-1");
        await h.WorkQueue.SendAsync([lifecycle]);
        await h.DrainAsync(); // reauthorize, then a delta sweep queues the user, which is provisioned

        Assert.Contains(h.Graph.Requests, r => r.Method == "POST" && r.Path.EndsWith($"/subscriptions/{subscriptionId}/reauthorize", StringComparison.Ordinal));
        Assert.Single(h.TargetUsers(), u => (string?)u["externalId"] == "u-late");
    }
}
