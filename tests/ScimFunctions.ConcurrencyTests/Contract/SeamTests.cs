using Azure.Messaging.ServiceBus;
using Microsoft.Extensions.Time.Testing;
using ScimFunctions.ConcurrencyTests.Exploration;
using ScimFunctions.ConcurrencyTests.Seams;
using ScimFunctions.Provisioning.State;

namespace ScimFunctions.ConcurrencyTests.Contract;

/// <summary>The Service Bus double keeps the semantics the engine relies on; the scheduler replays a seed.</summary>
public sealed class SeamTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero));

    private SessionBus NewBus() => new(_time, _ => ValueTask.CompletedTask);

    private static ServiceBusMessage Message(string id, string session, DateTimeOffset? at = null)
    {
        var message = new ServiceBusMessage(BinaryData.FromString(id)) { MessageId = id, SessionId = session };
        if (at is { } when)
        {
            message.ScheduledEnqueueTime = when;
        }

        return message;
    }

    [Fact]
    public async Task OneReceiverPerSessionAndMessagesInOrder()
    {
        var bus = NewBus();
        await bus.CreateSender().SendMessagesAsync([Message("m1", "s1"), Message("m2", "s1"), Message("m3", "s2")]);
        var random = new Random(1);
        var first = await bus.AcceptSessionAsync(random);
        var second = await bus.AcceptSessionAsync(random);
        Assert.NotEqual(first, second);
        Assert.Null(await bus.AcceptSessionAsync(random));

        var s1 = first == "s1" ? first : second!;
        var delivery = await bus.ReceiveAsync(s1);
        Assert.Equal("m1", delivery!.Message.MessageId);
        Assert.Null(await bus.ReceiveAsync(s1)); // one at a time: m2 waits for m1's settlement
        await delivery.CompleteMessageAsync(delivery.Message);
        Assert.Equal("m2", (await bus.ReceiveAsync(s1))!.Message.MessageId);
    }

    [Fact]
    public async Task AbandonRedeliversWithAHigherDeliveryCountThenDeadLetters()
    {
        var bus = NewBus();
        await bus.CreateSender().SendMessagesAsync([Message("m1", "s1")]);
        for (var count = 1; count <= SessionBus.MaxDeliveryCount; count++)
        {
            var delivery = await bus.ReceiveAsync("s1");
            Assert.Equal(count, delivery!.Message.DeliveryCount);
            if (count % 2 == 0)
            {
                await delivery.AbandonMessageAsync(delivery.Message);
            }
            else
            {
                delivery.LockExpired();
            }
        }

        Assert.True(bus.IsEmpty);
        var dead = Assert.Single(bus.DeadLetters);
        Assert.Equal("MaxDeliveryCountExceeded", dead.Reason);
    }

    [Fact]
    public async Task DuplicatesWithinTheWindowAreDroppedAndScheduledMessagesWait()
    {
        var bus = NewBus();
        var sender = bus.CreateSender();
        await sender.SendMessagesAsync([Message("m1", "s1")]);
        await sender.SendMessagesAsync([Message("m1", "s1")]);
        Assert.Equal(1, bus.DuplicatesDropped);
        var delivery = await bus.ReceiveAsync("s1");
        await delivery!.CompleteMessageAsync(delivery.Message);
        _time.Advance(TimeSpan.FromHours(5));
        await sender.SendMessagesAsync([Message("m1", "s1")]);
        Assert.Equal(1, bus.DuplicatesDropped); // past the window: a new message

        var later = _time.GetUtcNow().AddMinutes(1);
        await sender.SendMessagesAsync([Message("m2", "s2", later)]);
        Assert.Null(await bus.ReceiveAsync("s2"));
        Assert.Equal(later, bus.NextScheduled() ?? later);
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal("m2", (await bus.ReceiveAsync("s2"))!.Message.MessageId);
    }

    [Fact]
    public async Task ADeadLetterNeedsAReasonAndASecondSettlementIsRefused()
    {
        var bus = NewBus();
        await bus.CreateSender().SendMessagesAsync([Message("m1", "s1")]);
        var delivery = await bus.ReceiveAsync("s1");
        await Assert.ThrowsAsync<InvalidOperationException>(() => delivery!.DeadLetterMessageAsync(delivery.Message, null, null, null));
        await delivery!.DeadLetterMessageAsync(delivery.Message, null, "Permanent", "why");
        await Assert.ThrowsAsync<InvalidOperationException>(() => delivery.CompleteMessageAsync(delivery.Message));
        Assert.Equal(("Permanent", "why"), (bus.DeadLetters.Single().Reason, bus.DeadLetters.Single().Description));
    }

    [Fact]
    public async Task TheSameSeedReplaysTheSameInterleaving()
    {
        async Task<string> RunAsync(int seed)
        {
            var scheduler = new Scheduler(seed);
            var log = new List<string>();
            (string, Func<Task>) Worker(string name) => (name, async () =>
            {
                for (var i = 0; i < 5; i++)
                {
                    log.Add(name + i);
                    await scheduler.YieldAsync(name);
                }
            });
            await scheduler.RunAsync([Worker("a"), Worker("b"), Worker("c")]);
            return string.Join(",", log);
        }

        var runs = new List<string>();
        for (var seed = 1; seed <= 20; seed++)
        {
            var once = await RunAsync(seed);
            Assert.Equal(once, await RunAsync(seed));
            runs.Add(once);
        }

        Assert.True(runs.Distinct().Count() > 10, "different seeds should give different interleavings");
    }

    [Fact]
    public async Task AFailedTableCreateIsNotCachedWhateverFailed()
    {
        // Before: only a RequestFailedException un-cached the table, so a timeout or a credential error on the
        // first use of a table failed every later call of that host until it restarted.
        var tables = new InMemoryTableService();
        var fail = true;
        tables.BeforeOperation = op => op.Kind == "create-table" && fail ? throw new TimeoutException("The create timed out.") : ValueTask.CompletedTask;
        var store = new StateStore(tables);
        await Assert.ThrowsAsync<TimeoutException>(() => store.GetUserAsync("u1"));
        fail = false;
        Assert.Null(await store.GetUserAsync("u1"));
    }
}
