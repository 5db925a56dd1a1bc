using System.Text;
using Azure.Messaging.ServiceBus;
using ServiceBusTestDouble;

namespace ScimFunctions.IntegrationTests.ServiceBus;

/// <summary>The real ServiceBusReceiver (non-session) against the double: what was sent comes back with
/// its properties, and settling it is what the double records.</summary>
public sealed class ServiceBusDoubleReceiveTests
{
    private const string Queue = "provisioning";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private static ServiceBusClientOptions Options() => new()
    {
        RetryOptions = new ServiceBusRetryOptions { MaxRetries = 0, TryTimeout = TimeSpan.FromSeconds(10) },
    };

    [Fact]
    public async Task PeekLock_ReceivesWhatWasSentAndCompleteRemovesIt()
    {
        await using var bus = await ServiceBusDouble.StartAsync(Queue);
        await using var client = new ServiceBusClient(bus.ConnectionString, Options());
        await using var sender = client.CreateSender(Queue);
        await using var receiver = client.CreateReceiver(Queue);
        var sent = new ServiceBusMessage(Encoding.UTF8.GetBytes("hello")) { MessageId = "r-1", SessionId = "o-1", Subject = "User", ContentType = "text/plain" };
        sent.ApplicationProperties["attempt"] = 2;
        await sender.SendMessagesAsync([sent, new ServiceBusMessage("second") { MessageId = "r-2" }]);

        var first = await receiver.ReceiveMessageAsync(Wait);

        Assert.NotNull(first);
        Assert.Equal("r-1", first.MessageId);
        Assert.Equal("o-1", first.SessionId);
        Assert.Equal("User", first.Subject);
        Assert.Equal("text/plain", first.ContentType);
        Assert.Equal("hello", first.Body.ToString());
        Assert.Equal(2, first.ApplicationProperties["attempt"]);
        Assert.Equal(1, first.SequenceNumber);
        Assert.NotEqual(Guid.Empty.ToString(), first.LockToken);
        Assert.Equal(2, bus.Outstanding(Queue)); // locked, not gone

        await receiver.CompleteMessageAsync(first);

        Assert.Equal(["r-1"], bus.Completed(Queue).Select(m => m.MessageId));
        Assert.Equal(1, bus.Outstanding(Queue));
        var second = await receiver.ReceiveMessageAsync(Wait);
        Assert.Equal("r-2", second?.MessageId);
    }

    [Fact]
    public async Task Abandon_RedeliversWithAHigherDeliveryCount_DeadLetterIsRecorded()
    {
        await using var bus = await ServiceBusDouble.StartAsync(Queue);
        await using var client = new ServiceBusClient(bus.ConnectionString, Options());
        await using var sender = client.CreateSender(Queue);
        await using var receiver = client.CreateReceiver(Queue);
        await sender.SendMessageAsync(new ServiceBusMessage("x") { MessageId = "a-1" });

        var first = await receiver.ReceiveMessageAsync(Wait);
        Assert.NotNull(first);
        await receiver.AbandonMessageAsync(first);
        var again = await receiver.ReceiveMessageAsync(Wait);
        Assert.NotNull(again);
        await receiver.DeadLetterMessageAsync(again, "poison", "cannot parse");

        Assert.Equal("a-1", again.MessageId);
        Assert.True(again.DeliveryCount > first.DeliveryCount, $"{again.DeliveryCount} after {first.DeliveryCount}");
        Assert.Equal(["a-1"], bus.DeadLettered(Queue).Select(m => m.MessageId));
        Assert.Empty(bus.Completed(Queue));
        Assert.Equal(0, bus.Outstanding(Queue));
    }

    [Fact]
    public async Task ClosingTheReceiver_ReleasesItsLocks()
    {
        await using var bus = await ServiceBusDouble.StartAsync(Queue);
        await using var client = new ServiceBusClient(bus.ConnectionString, Options());
        await using var sender = client.CreateSender(Queue);
        await sender.SendMessageAsync(new ServiceBusMessage("x") { MessageId = "l-1" });
        await using (var first = client.CreateReceiver(Queue))
        {
            Assert.Equal("l-1", (await first.ReceiveMessageAsync(Wait))?.MessageId);
        }

        await using var second = client.CreateReceiver(Queue);
        var again = await second.ReceiveMessageAsync(Wait);

        Assert.Equal("l-1", again?.MessageId);
        Assert.Equal(1, bus.Outstanding(Queue));
        await second.CompleteMessageAsync(again!);
        Assert.Equal(["l-1"], bus.Completed(Queue).Select(m => m.MessageId));
    }

    [Fact]
    public async Task ReceiveAndDelete_TakesTheMessageAtOnce()
    {
        await using var bus = await ServiceBusDouble.StartAsync(Queue);
        await using var client = new ServiceBusClient(bus.ConnectionString, Options());
        await using var sender = client.CreateSender(Queue);
        await using var receiver = client.CreateReceiver(Queue, new ServiceBusReceiverOptions { ReceiveMode = ServiceBusReceiveMode.ReceiveAndDelete });
        await sender.SendMessageAsync(new ServiceBusMessage("x") { MessageId = "d-1" });

        var message = await receiver.ReceiveMessageAsync(Wait);

        Assert.Equal("d-1", message?.MessageId);
        Assert.Equal(["d-1"], bus.Completed(Queue).Select(m => m.MessageId));
        Assert.Equal(0, bus.Outstanding(Queue));
    }

    [Fact]
    public async Task ScheduledMessages_AreNotDelivered()
    {
        await using var bus = await ServiceBusDouble.StartAsync(Queue);
        await using var client = new ServiceBusClient(bus.ConnectionString, Options());
        await using var sender = client.CreateSender(Queue);
        await using var receiver = client.CreateReceiver(Queue);
        await sender.SendMessageAsync(new ServiceBusMessage("later") { MessageId = "s-1", ScheduledEnqueueTime = DateTimeOffset.UtcNow.AddMinutes(5) });
        await sender.SendMessageAsync(new ServiceBusMessage("now") { MessageId = "s-2" });

        var message = await receiver.ReceiveMessageAsync(Wait);

        Assert.Equal("s-2", message?.MessageId);
        Assert.Equal(2, bus.Received(Queue).Count);
    }

    [Fact]
    public async Task SessionReceiver_IsRefusedAsNotImplemented()
    {
        await using var bus = await ServiceBusDouble.StartAsync(Queue);
        await using var client = new ServiceBusClient(bus.ConnectionString, Options());

        // amqp:not-implemented is what the SDK turns into NotSupportedException.
        var error = await Assert.ThrowsAsync<NotSupportedException>(() => client.AcceptSessionAsync(Queue, "o-1"));

        Assert.Contains("no sessions", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeadLetterSubQueue_GivesBackWhatWasDeadLetteredWithReasonAndDescription()
    {
        await using var bus = await ServiceBusDouble.StartAsync(Queue);
        await using var client = new ServiceBusClient(bus.ConnectionString, Options());
        await using var sender = client.CreateSender(Queue);
        await using var receiver = client.CreateReceiver(Queue);
        await sender.SendMessageAsync(new ServiceBusMessage("body-1") { MessageId = "d-1", SessionId = "o-1", Subject = "User" });
        var received = await receiver.ReceiveMessageAsync(Wait);
        Assert.NotNull(received);
        await receiver.DeadLetterMessageAsync(received, "Permanent", "The target refused the user.");

        await using var deadLetters = client.CreateReceiver(Queue, new ServiceBusReceiverOptions { SubQueue = SubQueue.DeadLetter });
        var dead = await deadLetters.ReceiveMessageAsync(Wait);

        Assert.NotNull(dead);
        Assert.Equal("d-1", dead.MessageId);
        Assert.Equal("o-1", dead.SessionId);
        Assert.Equal("body-1", dead.Body.ToString());
        Assert.Equal("Permanent", dead.DeadLetterReason);
        Assert.Equal("The target refused the user.", dead.DeadLetterErrorDescription);
        Assert.Equal(1, bus.Outstanding(Queue + ServiceBusDouble.DeadLetterSuffix));
        await deadLetters.CompleteMessageAsync(dead);
        Assert.Equal(0, bus.Outstanding(Queue + ServiceBusDouble.DeadLetterSuffix));
        Assert.Null(await deadLetters.ReceiveMessageAsync(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task DeadLetterSubQueue_RefusesSends()
    {
        await using var bus = await ServiceBusDouble.StartAsync(Queue);
        await using var client = new ServiceBusClient(bus.ConnectionString, Options());
        await using var sender = client.CreateSender(Queue + ServiceBusDouble.DeadLetterSuffix);

        await Assert.ThrowsAnyAsync<Exception>(() => sender.SendMessageAsync(new ServiceBusMessage("x")));
        Assert.Empty(bus.Received(Queue));
    }
}
