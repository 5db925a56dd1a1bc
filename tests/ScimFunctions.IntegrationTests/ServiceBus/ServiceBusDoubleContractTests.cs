using System.Text;
using Azure.Messaging.ServiceBus;
using ServiceBusTestDouble;

namespace ScimFunctions.IntegrationTests.ServiceBus;

/// <summary>The real Azure.Messaging.ServiceBus client against the double, the way the app sends
/// (WorkQueue: CreateMessageBatchAsync / TryAddMessage / SendMessagesAsync). These pin what the double
/// promises, so a test that reads its <c>Received</c> can trust it.</summary>
public sealed class ServiceBusDoubleContractTests
{
    private const string Queue = "provisioning";

    // Few, quick retries: a refused or dropped send should surface within a test's patience.
    private static ServiceBusClientOptions Options(int maxRetries = 0) => new()
    {
        RetryOptions = new ServiceBusRetryOptions
        {
            MaxRetries = maxRetries,
            Mode = ServiceBusRetryMode.Fixed,
            Delay = TimeSpan.FromMilliseconds(50),
            TryTimeout = TimeSpan.FromSeconds(10),
        },
    };

    [Fact]
    public async Task SingleSend_IsStoredWithItsPropertiesAndBody()
    {
        await using var bus = await ServiceBusDouble.StartAsync(Queue);
        await using var client = new ServiceBusClient(bus.ConnectionString, Options());
        await using var sender = client.CreateSender(Queue);

        await sender.SendMessageAsync(new ServiceBusMessage(Encoding.UTF8.GetBytes("{\"a\":1}"))
        {
            MessageId = "m-1",
            SessionId = "object-1",
            CorrelationId = "corr-1",
            ContentType = "application/json",
            Subject = "UserChanged",
        });

        var message = Assert.Single(bus.Received(Queue));
        Assert.Equal("m-1", message.MessageId);
        Assert.Equal("object-1", message.SessionId);
        Assert.Equal("corr-1", message.CorrelationId);
        Assert.Equal("application/json", message.ContentType);
        Assert.Equal("UserChanged", message.Subject);
        Assert.Equal("{\"a\":1}", Encoding.UTF8.GetString(message.Body));
        Assert.Null(message.ScheduledEnqueueTime);
        Assert.False(message.ViaSchedule);
        Assert.Equal(1, message.SequenceNumber);
        Assert.Equal(1, bus.Transfers);
    }

    [Fact]
    public async Task Batch_IsOneTransferUnpackedIntoEachMessageInOrder()
    {
        await using var bus = await ServiceBusDouble.StartAsync(Queue);
        await using var client = new ServiceBusClient(bus.ConnectionString, Options());
        await using var sender = client.CreateSender(Queue);

        using var batch = await sender.CreateMessageBatchAsync();
        for (var i = 1; i <= 5; i++)
        {
            Assert.True(batch.TryAddMessage(new ServiceBusMessage(Encoding.UTF8.GetBytes($"body-{i}"))
            {
                MessageId = $"id-{i}",
                SessionId = $"session-{i % 2}",
                Subject = $"Kind{i}",
            }));
        }

        await sender.SendMessagesAsync(batch);

        var received = bus.Received(Queue);
        Assert.Equal(1, bus.Transfers);
        Assert.Equal(["id-1", "id-2", "id-3", "id-4", "id-5"], received.Select(m => m.MessageId));
        Assert.Equal(["session-1", "session-0", "session-1", "session-0", "session-1"], received.Select(m => m.SessionId));
        Assert.Equal(["Kind1", "Kind2", "Kind3", "Kind4", "Kind5"], received.Select(m => m.Subject));
        Assert.Equal(["body-1", "body-2", "body-3", "body-4", "body-5"], received.Select(m => Encoding.UTF8.GetString(m.Body)));
        Assert.Equal([1L, 2, 3, 4, 5], received.Select(m => m.SequenceNumber));
    }

    [Fact]
    public async Task ApplicationPropertiesAndScheduledEnqueueTime_RoundTrip()
    {
        var notBefore = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
        await using var bus = await ServiceBusDouble.StartAsync(Queue);
        await using var client = new ServiceBusClient(bus.ConnectionString, Options());
        await using var sender = client.CreateSender(Queue);
        var message = new ServiceBusMessage("x") { MessageId = "p-1", ScheduledEnqueueTime = notBefore };
        message.ApplicationProperties["attempt"] = 3;
        message.ApplicationProperties["reason"] = "retry";
        message.ApplicationProperties["urgent"] = true;

        await sender.SendMessagesAsync([message, new ServiceBusMessage("y") { MessageId = "p-2" }]);

        var received = bus.Received(Queue);
        Assert.Equal(2, received.Count);
        Assert.Equal(3, received[0].ApplicationProperties["attempt"]);
        Assert.Equal("retry", received[0].ApplicationProperties["reason"]);
        Assert.Equal(true, received[0].ApplicationProperties["urgent"]);
        Assert.Equal(notBefore, received[0].ScheduledEnqueueTime);
        Assert.Empty(received[1].ApplicationProperties);
        Assert.Null(received[1].ScheduledEnqueueTime);
    }

    [Fact]
    public async Task ScheduleMessageAsync_IsStoredWithItsTimeAndReturnsTheSequenceNumber()
    {
        var when = new DateTimeOffset(2031, 6, 7, 8, 9, 10, TimeSpan.Zero);
        await using var bus = await ServiceBusDouble.StartAsync(Queue);
        await using var client = new ServiceBusClient(bus.ConnectionString, Options());
        await using var sender = client.CreateSender(Queue);
        await sender.SendMessageAsync(new ServiceBusMessage("first") { MessageId = "s-0" });

        var sequenceNumber = await sender.ScheduleMessageAsync(new ServiceBusMessage("later") { MessageId = "s-1", SessionId = "o-9" }, when);

        var scheduled = bus.Received(Queue)[1];
        Assert.Equal(2, sequenceNumber);
        Assert.Equal("s-1", scheduled.MessageId);
        Assert.Equal("o-9", scheduled.SessionId);
        Assert.Equal(when, scheduled.ScheduledEnqueueTime);
        Assert.True(scheduled.ViaSchedule);
        Assert.Equal("later", Encoding.UTF8.GetString(scheduled.Body));
    }

    [Fact]
    public async Task RefusedSend_SurfacesAsServiceBusExceptionAndStoresNothing()
    {
        await using var bus = await ServiceBusDouble.StartAsync(Queue);
        await using var client = new ServiceBusClient(bus.ConnectionString, Options(maxRetries: 2));
        await using var sender = client.CreateSender(Queue);
        bus.RefuseSends = SendRefusal.QuotaExceeded;

        var error = await Assert.ThrowsAsync<ServiceBusException>(() => sender.SendMessageAsync(new ServiceBusMessage("x") { MessageId = "r-1" }));

        Assert.Equal(ServiceBusFailureReason.QuotaExceeded, error.Reason);
        Assert.False(error.IsTransient);
        Assert.Equal(1, bus.Transfers); // not transient: the SDK does not retry it
        Assert.Empty(bus.Received(Queue));

        bus.RefuseSends = SendRefusal.None;
        await sender.SendMessageAsync(new ServiceBusMessage("x") { MessageId = "r-2" });
        Assert.Equal("r-2", Assert.Single(bus.Received(Queue)).MessageId);
    }

    [Fact]
    public async Task ServerBusy_SurfacesAsTransientServiceBusy()
    {
        // MaxRetries 0: after a server-busy answer the SDK waits 10 s (ServerBusyBaseSleepTime) before
        // its next try, which a test suite cannot afford.
        await using var bus = await ServiceBusDouble.StartAsync(Queue);
        await using var client = new ServiceBusClient(bus.ConnectionString, Options(maxRetries: 0));
        await using var sender = client.CreateSender(Queue);
        bus.RefuseSends = SendRefusal.ServerBusy;

        var error = await Assert.ThrowsAsync<ServiceBusException>(() => sender.SendMessageAsync(new ServiceBusMessage("x")));

        Assert.Equal(ServiceBusFailureReason.ServiceBusy, error.Reason);
        Assert.True(error.IsTransient);
        Assert.Equal(1, bus.Transfers);
        Assert.Empty(bus.Received(Queue));
    }

    [Fact]
    public async Task UnknownQueue_IsMessagingEntityNotFound()
    {
        await using var bus = await ServiceBusDouble.StartAsync(Queue);
        await using var client = new ServiceBusClient(bus.ConnectionString, Options());
        await using var sender = client.CreateSender("no-such-queue");

        var error = await Assert.ThrowsAsync<ServiceBusException>(() => sender.SendMessageAsync(new ServiceBusMessage("x")));

        Assert.Equal(ServiceBusFailureReason.MessagingEntityNotFound, error.Reason);
        Assert.Empty(bus.Received(Queue));
    }

    [Fact]
    public async Task BatchSize_FollowsTheAnnouncedMaxMessageSize()
    {
        await using var bus = await ServiceBusDouble.StartAsync(new ServiceBusDoubleOptions { Queues = [Queue], MaxMessageSize = 4 * 1024 });
        await using var client = new ServiceBusClient(bus.ConnectionString, Options());
        await using var sender = client.CreateSender(Queue);

        using var batch = await sender.CreateMessageBatchAsync();
        var added = 0;
        while (batch.TryAddMessage(new ServiceBusMessage(new byte[1000]) { MessageId = $"b-{added}" }))
        {
            added++;
        }

        Assert.Equal(4 * 1024, batch.MaxSizeInBytes);
        Assert.InRange(added, 2, 4);
        await sender.SendMessagesAsync(batch);
        Assert.Equal(added, bus.Received(Queue).Count);
    }

    [Fact]
    public async Task Restart_SenderReconnectsAndKeepsSending()
    {
        await using var bus = await ServiceBusDouble.StartAsync(Queue);
        await using var client = new ServiceBusClient(bus.ConnectionString, Options(maxRetries: 3));
        await using var sender = client.CreateSender(Queue);
        await sender.SendMessageAsync(new ServiceBusMessage("before") { MessageId = "before" });

        Assert.Equal(1, bus.Connections);

        await bus.RestartAsync();
        await sender.SendMessageAsync(new ServiceBusMessage("after") { MessageId = "after" });

        Assert.Equal(["before", "after"], bus.Received(Queue).Select(m => m.MessageId));
        Assert.Equal(2, bus.Connections); // the old connection was dropped; the sender opened a new one
    }
}
