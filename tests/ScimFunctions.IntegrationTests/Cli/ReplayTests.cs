using System.Text;
using System.Text.Json;
using Azure.Messaging.ServiceBus;
using GenesysScimEmulator.State;
using ScimFunctions.IntegrationTests.Engine.Support;
using ScimFunctions.Provisioning.Notifications;
using ServiceBusTestDouble;

namespace ScimFunctions.IntegrationTests.Cli;

/// <summary><c>scimfn replay</c> through the real Service Bus SDK against the Service Bus double: dead letters
/// made by the SDK's own DeadLetterMessageAsync go back onto the queue as new messages.</summary>
[Collection(CliCollection.Name)]
public sealed class ReplayTests(AzuriteFixture azurite)
{
    private const string Queue = "provisioning";
    private const string Dlq = Queue + ServiceBusDouble.DeadLetterSuffix;
    private const string Alice = "00000000-0000-0000-0000-00000000a11c";
    private const string Bob = "00000000-0000-0000-0000-000000000b0b";
    private const string Sales = "00000000-0000-0000-0000-0000000054e5";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly CliTestBed bed = new(azurite);

    [Fact]
    public async Task DryRun_ListsObjectReasonDescriptionAndWhen_AndMovesNothing()
    {
        await using var bus = await ServiceBusDouble.StartAsync(Queue);
        await DeadLetterAsync(bus);
        await using var emulator = await CliTestBed.StartEmulatorAsync();
        var scimfn = bed.Session(emulator);

        var human = await scimfn.RunAsync("replay", "--dry-run", "--service-bus", bus.ConnectionString);
        var json = await scimfn.RunAsync("replay", "--dry-run", "--json", "--service-bus", bus.ConnectionString);

        // Exit 2: one matching dead letter is not a work item and can only be looked at.
        Assert.True(human.ExitCode == 2, human.ToString());
        Assert.Contains("dry run: nothing was moved", human.Output, StringComparison.Ordinal);
        Assert.Contains(Alice, human.Output, StringComparison.Ordinal);
        Assert.Contains("The target refused the user (400).", human.Output, StringComparison.Ordinal);
        Assert.Contains("RetriesExhausted", human.Output, StringComparison.Ordinal);
        Assert.Contains("(not a work item)", human.Output, StringComparison.Ordinal);
        Assert.Equal(4, json.Field("examined"));
        Assert.Equal(4, json.Field("matched"));
        Assert.Equal(0, json.Field("replayed"));
        Assert.Equal(1, json.Field("unreadable"));
        var alice = json.Json["items"]!.AsArray().Single(i => (string?)i!["id"] == Alice)!;
        Assert.Equal("User", (string?)alice["kind"]);
        Assert.Equal("Permanent", (string?)alice["reason"]);
        Assert.NotNull((string?)alice["enqueuedAt"]);
        Assert.Equal(4, bus.Received(Queue).Count); // nothing sent
        Assert.Equal(4, bus.Outstanding(Dlq));      // nothing taken, nothing left locked
    }

    [Fact]
    public async Task Replay_ByReasonThenByObject_SendsNewMessagesWithNewIds_AndTakesOnlyThoseOffTheDeadLetterQueue()
    {
        await using var bus = await ServiceBusDouble.StartAsync(Queue);
        var originals = await DeadLetterAsync(bus);
        await using var emulator = await CliTestBed.StartEmulatorAsync();
        var scimfn = bed.Session(emulator);

        var permanent = await scimfn.RunAsync("replay", "--reason", "permanent", "--json", "--service-bus", bus.ConnectionString);

        Assert.True(permanent.ExitCode == 0, permanent.ToString());
        Assert.Equal(2, permanent.Field("replayed"));
        var sent = bus.Received(Queue).Skip(4).ToList();
        Assert.Equal(2, sent.Count);
        Assert.Equal(new[] { Alice, Sales }.Order(StringComparer.Ordinal), sent.Select(m => m.SessionId).Order(StringComparer.Ordinal));
        Assert.All(sent, m => Assert.StartsWith("replay-", m.MessageId, StringComparison.Ordinal));
        Assert.DoesNotContain(sent, m => originals.Contains(m.MessageId!));
        Assert.Equal(2, sent.Select(m => m.MessageId).Distinct().Count());
        var item = JsonSerializer.Deserialize(sent.Single(m => m.SessionId == Alice).Body, WorkItemJsonContext.Default.WorkItem)!;
        Assert.Equal(WorkItemSources.Replay, item.Source);
        Assert.Equal(WorkItemKind.User, item.Kind);
        Assert.Null(item.Observed);
        Assert.Equal(2, bus.Outstanding(Dlq));

        var bob = await scimfn.RunAsync("replay", "--object", Bob, "--service-bus", bus.ConnectionString);

        Assert.True(bob.ExitCode == 0, bob.ToString());
        Assert.Contains("Replayed 1 of 2 dead letters", bob.Output, StringComparison.Ordinal);
        Assert.Equal(Bob, bus.Received(Queue)[^1].SessionId);
        Assert.Equal(1, bus.Outstanding(Dlq)); // the unreadable one stays
    }

    [Fact]
    public async Task Replay_WithoutAServiceBus_ExitsOneNamingTheOption()
    {
        await using var emulator = await CliTestBed.StartEmulatorAsync();
        var scimfn = bed.Session(emulator);

        var run = await scimfn.RunAsync("replay");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("--service-bus (setting ServiceBusConnection) is required", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReplayFailed_QueuesEveryUserWithALastError_FromTheSettings()
    {
        await using var bus = await ServiceBusDouble.StartAsync(Queue);
        await using var emulator = await CliTestBed.StartEmulatorAsync();
        var scimfn = bed.Session(emulator);
        emulator.State.Faults.Set(new FaultSettings { ErrorCount = 2, ErrorStatuses = [400], Methods = ["POST"], Kinds = ["users"] });
        Assert.Equal(2, (await scimfn.SyncAsync(CliTestBed.Slice(CliTestBed.Day1, 8))).ExitCode);
        var failed = (await scimfn.RunAsync("status", "--state", bed.StateConnection, "--json")).Json["failures"]!.AsArray()
            .Select(f => (string)f!["id"]!).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(2, failed.Count);
        scimfn.Settings["ServiceBusConnection"] = bus.ConnectionString;

        var dry = await scimfn.RunAsync("replay", "--failed", "--dry-run", "--state", bed.StateConnection);
        var run = await scimfn.RunAsync("replay", "--failed", "--json", "--state", bed.StateConnection);

        Assert.True(dry.ExitCode == 0, dry.ToString());
        Assert.Contains("Users with a last error (dry run: nothing was queued): 2.", dry.Output, StringComparison.Ordinal);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(2, run.Field("queued"));
        var queued = bus.Received(Queue);
        Assert.Equal(failed, queued.Select(m => m.SessionId!).Order(StringComparer.Ordinal));
        Assert.All(queued, m => Assert.Equal(WorkItemSources.Replay, JsonSerializer.Deserialize(m.Body, WorkItemJsonContext.Default.WorkItem)!.Source));
    }

    /// <summary>Four dead letters made the way the function makes them: Alice and the Sales group Permanent,
    /// Bob RetriesExhausted, and a body that is not a work item MalformedBody. Returns their MessageIds.</summary>
    private static async Task<HashSet<string>> DeadLetterAsync(ServiceBusDouble bus)
    {
        await using var client = new ServiceBusClient(bus.ConnectionString);
        await using (var sender = client.CreateSender(Queue))
        {
            var now = DateTimeOffset.UtcNow;
            await new WorkQueue(sender).SendAsync(
            [
                new QueuedWorkItem(new WorkItem(WorkItemKind.User, Alice, "updated", null, null, now), "m-alice"),
                new QueuedWorkItem(new WorkItem(WorkItemKind.User, Bob, "updated", null, null, now, WorkItemSources.Delta), "m-bob"),
                new QueuedWorkItem(new WorkItem(WorkItemKind.Group, Sales, "updated", null, null, now), "m-sales"),
            ]);
            await sender.SendMessageAsync(new ServiceBusMessage(Encoding.UTF8.GetBytes("{not json")) { MessageId = "m-bad" });
        }

        await using var receiver = client.CreateReceiver(Queue);
        var reasons = new Dictionary<string, (string Reason, string Description)>
        {
            ["m-alice"] = ("Permanent", "The target refused the user (400)."),
            ["m-bob"] = ("RetriesExhausted", "Gave up after 10 attempts."),
            ["m-sales"] = ("Permanent", "The group has no target group."),
            ["m-bad"] = ("MalformedBody", "Not a work item."),
        };
        for (var i = 0; i < reasons.Count; i++)
        {
            var message = await receiver.ReceiveMessageAsync(Wait) ?? throw new InvalidOperationException("The double delivered fewer messages than were sent.");
            var (reason, description) = reasons[message.MessageId];
            await receiver.DeadLetterMessageAsync(message, reason, description);
        }

        return [.. reasons.Keys];
    }
}
