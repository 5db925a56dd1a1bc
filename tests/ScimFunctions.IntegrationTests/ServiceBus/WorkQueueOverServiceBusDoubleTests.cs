using Azure.Messaging.ServiceBus;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ScimFunctions.Provisioning.Notifications;
using ServiceBusTestDouble;

namespace ScimFunctions.IntegrationTests.ServiceBus;

/// <summary>The app's own send path over real AMQP: the client built the way ScimFunctionsRegistration
/// builds it (AddServiceBusClient from the ServiceBusConnection setting) and WorkQueue on top.</summary>
public sealed class WorkQueueOverServiceBusDoubleTests
{
    private const string Queue = "provisioning";

    private static ServiceProvider Services(ServiceBusDouble bus)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ServiceBusConnection"] = bus.ConnectionString,
            })
            .Build();
        var services = new ServiceCollection();
        services.AddAzureClients(clients => clients.AddServiceBusClient(configuration.GetSection("ServiceBusConnection")));
        services.AddSingleton(provider => provider.GetRequiredService<ServiceBusClient>().CreateSender(Queue));
        services.AddSingleton<WorkQueue>();
        return services.BuildServiceProvider();
    }

    private static QueuedWorkItem Item(int i, DateTimeOffset? notBefore = null) => new(
        new WorkItem(i % 3 == 0 ? WorkItemKind.Group : WorkItemKind.User, $"object-{i:D3}", WorkItemChangeTypes.Updated, "sub-1", "tenant-1",
            new DateTimeOffset(2026, 12, 1, 6, 0, 0, TimeSpan.Zero)),
        $"msg-{i:D3}",
        notBefore);

    [Fact]
    public async Task SendAsync_SplitsIntoAsFewBatchesAsTheLinkAllowsAndEveryItemArrivesOnce()
    {
        // 4 KB links: a work item is a few hundred bytes, so 40 items need several batches.
        await using var bus = await ServiceBusDouble.StartAsync(new ServiceBusDoubleOptions { Queues = [Queue], MaxMessageSize = 4 * 1024 });
        await using var services = Services(bus);
        var items = Enumerable.Range(1, 40).Select(i => Item(i)).ToList();

        var sends = await services.GetRequiredService<WorkQueue>().SendAsync(items);

        var received = bus.Received(Queue);
        Assert.True(sends > 1, $"expected several batches, got {sends}");
        Assert.Equal(sends, bus.Transfers);
        Assert.Equal(items.Select(i => i.MessageId), received.Select(m => m.MessageId));
        Assert.Equal(items.Select(i => i.Item.ObjectId), received.Select(m => m.SessionId));
        Assert.All(received, m => Assert.Equal(WorkQueue.ContentType, m.ContentType));
        Assert.Equal(items.Select(i => i.Item.Kind.ToString()), received.Select(m => m.Subject));
        Assert.Equal(items.Select(i => i.Item), received.Select(m => WorkQueue.Parse(BinaryData.FromBytes(m.Body))));
    }

    [Fact]
    public async Task SendAsync_CarriesNotBeforeAsScheduledEnqueueTime()
    {
        var notBefore = new DateTimeOffset(2026, 12, 1, 7, 30, 0, TimeSpan.Zero);
        await using var bus = await ServiceBusDouble.StartAsync(Queue);
        await using var services = Services(bus);

        await services.GetRequiredService<WorkQueue>().SendAsync([Item(1, notBefore), Item(2)]);

        var received = bus.Received(Queue);
        Assert.Equal([notBefore, null], received.Select(m => m.ScheduledEnqueueTime));
    }

    [Fact]
    public async Task SendAsync_ThrowsWhenServiceBusRefuses()
    {
        await using var bus = await ServiceBusDouble.StartAsync(Queue);
        await using var services = Services(bus);
        bus.RefuseSends = SendRefusal.QuotaExceeded;

        var error = await Assert.ThrowsAsync<ServiceBusException>(() => services.GetRequiredService<WorkQueue>().SendAsync([Item(1), Item(2)]));

        Assert.Equal(ServiceBusFailureReason.QuotaExceeded, error.Reason);
        Assert.Equal(1, bus.Transfers); // both items in one batch, refused once, not retried
        Assert.Empty(bus.Received(Queue));
    }
}
