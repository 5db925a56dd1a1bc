using Azure.Messaging.ServiceBus;
using Microsoft.Extensions.Time.Testing;
using ScimFunctions.Provisioning.Notifications;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.Tests.Sync;

/// <summary>The retry decisions ProvisionObject settles by, on a fake clock: no broker, no engine.</summary>
public sealed class WorkItemRetryPolicyTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeSeconds(1_000_005);
    private readonly FakeTimeProvider _time = new(Start);

    private WorkItemRetryPolicy Policy(Action<SyncOptions>? configure = null)
    {
        var options = new SyncOptions();
        configure?.Invoke(options);
        return new WorkItemRetryPolicy(options, _time);
    }

    private static WorkItem Item(string id = "u-1") =>
        new(WorkItemKind.User, id, WorkItemChangeTypes.Updated, null, null, Start, WorkItemSources.Webhook);

    [Theory]
    [InlineData(0, 10)]
    [InlineData(1, 20)]
    [InlineData(3, 80)]
    [InlineData(6, 640)]
    [InlineData(7, 900)]
    [InlineData(99, 900)]
    public void Backoff_DoublesFromTheBaseDelay_AndStopsAtFifteenMinutes(int attempt, int seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), Policy(o => o.RetryBaseDelaySeconds = 10).Backoff(attempt));
    }

    [Fact]
    public void Retry_IsScheduledTheBackoffAfterNow_UnderTheNextAttemptsMessageId()
    {
        _time.Advance(TimeSpan.FromMinutes(3));

        var retry = Policy(o => o.RetryBaseDelaySeconds = 10).Retry(Item(), "u:abc:1#r2", attempt: 2);

        Assert.Equal("u:abc:1#r3", retry.MessageId);
        Assert.Equal(Start.AddMinutes(3).AddSeconds(40), retry.NotBefore);
        Assert.Equal("u-1", retry.Item.ObjectId);
    }

    [Theory]
    [InlineData(6, false)]
    [InlineData(7, true)]
    [InlineData(12, true)]
    public void IsExhausted_AtTheLastAllowedAttempt(int attempt, bool exhausted)
    {
        Assert.Equal(exhausted, Policy(o => o.MaxAttempts = 8).IsExhausted(attempt));
    }

    [Fact]
    public void ExhaustedDescription_NamesTheAttemptsAndTheLastReason()
    {
        Assert.Equal("8 attempts failed; last: StateUnavailable: Table Storage answered 503 (ServerBusy).",
            Policy(o => o.MaxAttempts = 8).ExhaustedDescription(FailureReasons.StateUnavailable, "Table Storage answered 503 (ServerBusy)."));
    }

    [Theory]
    [InlineData("u:abc:1#rX", 1, 0)]
    [InlineData("u:abc:1#r-2", 1, 0)]
    [InlineData(null, 2, 1)]
    public void AttemptOf_IgnoresASuffixThatIsNotACount(string? messageId, int deliveryCount, int expected)
    {
        Assert.Equal(expected, WorkItemRetryPolicy.AttemptOf(messageId, deliveryCount));
    }

    [Theory]
    [InlineData("u:abc:1", 1, false)]
    [InlineData("u:abc:1", 2, true)]
    [InlineData("u:abc:1#r1", 1, true)]
    public void IsRedelivered_ForACopyOrABrokerRedelivery(string messageId, int deliveryCount, bool redelivered)
    {
        var message = ServiceBusModelFactory.ServiceBusReceivedMessage(messageId: messageId, deliveryCount: deliveryCount);

        Assert.Equal(redelivered, WorkItemRetryPolicy.IsRedelivered(message));
    }

    [Fact]
    public void FollowUps_InOneWindow_ShareAMessageId_AndWaitForTheWindowsEnd()
    {
        var policy = Policy(o => o.FollowUpDelaySeconds = 30);
        FollowUp[] group = [new(WorkItemKind.Group, "g-1", "member provisioned")];

        var first = Assert.Single(policy.FollowUps(group, "n:u-1:1"));
        _time.Advance(TimeSpan.FromSeconds(10));
        var sameWindow = Assert.Single(policy.FollowUps(group, "n:u-2:1"));
        _time.Advance(TimeSpan.FromSeconds(10));
        var nextWindow = Assert.Single(policy.FollowUps(group, "n:u-3:1"));

        // 1,000,005 s is in window 33,333 (30 s each), which ends at 1,000,020 s.
        Assert.Equal("f:g-1:33333", first.MessageId);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_000_020), first.NotBefore);
        Assert.Equal(first.MessageId, sameWindow.MessageId);
        Assert.Equal("f:g-1:33334", nextWindow.MessageId);
        Assert.Equal(WorkItemSources.FollowUp, first.Item.Source);
        Assert.Equal(Start, first.Item.ReceivedAt);
    }

    [Fact]
    public void FollowUps_ForTheSameObject_AreQueuedOnce()
    {
        var items = Policy().FollowUps(
            [new(WorkItemKind.Group, "g-1", "member provisioned"), new(WorkItemKind.Group, "g-1", "manager provisioned"), new(WorkItemKind.User, "g-1", "report")],
            "n:u-1:1");

        Assert.Equal([(WorkItemKind.Group, "g-1"), (WorkItemKind.User, "g-1")], items.Select(i => (i.Item.Kind, i.Item.ObjectId)));
    }

    [Fact]
    public void FollowUps_WithoutAWindow_GoNow_OneIdPerTriggeringMessage()
    {
        var policy = Policy(o => o.FollowUpDelaySeconds = 0);
        FollowUp[] group = [new(WorkItemKind.Group, "g-1", "member provisioned")];

        var one = Assert.Single(policy.FollowUps(group, "n:u-1:1"));
        var again = Assert.Single(policy.FollowUps(group, "n:u-1:1"));
        var other = Assert.Single(policy.FollowUps(group, "n:u-2:1"));

        Assert.Null(one.NotBefore);
        Assert.Matches("^f:g-1:[0-9a-f]{8}$", one.MessageId);
        Assert.Equal(one.MessageId, again.MessageId);
        Assert.NotEqual(one.MessageId, other.MessageId);
    }

    [Theory]
    [InlineData(30)]
    [InlineData(0)]
    public void FollowUps_ForAnIdNear128Characters_HaveMessageIdsWithinTheServiceBusLimit_AndStayDistinct(int window)
    {
        // A safe object id may be 128 characters (Service Bus's SessionId limit); "f:{id}:{window}" then is not,
        // and the SDK refuses a MessageId over 128 characters, so the whole batch of follow-ups would fail.
        var policy = Policy(o => o.FollowUpDelaySeconds = window);
        var a = "g-" + new string('a', 118) + "1";
        var b = "g-" + new string('a', 118) + "2";

        var items = policy.FollowUps([new(WorkItemKind.Group, a, "member provisioned"), new(WorkItemKind.Group, b, "member provisioned")], "n:u-1:1");
        _time.Advance(TimeSpan.FromSeconds(Math.Max(window, 1)));
        var later = policy.FollowUps([new(WorkItemKind.Group, a, "member provisioned")], "n:u-2:1");

        // Room is left for the retry suffix "#rN" the processor appends.
        Assert.All(items.Concat(later), i => Assert.True(i.MessageId.Length <= GraphNotificationParser.MaxServiceBusIdLength - 8, $"MessageId of {i.MessageId.Length} characters"));
        Assert.Equal(3, items.Concat(later).Select(i => i.MessageId).Distinct().Count());
        Assert.Equal([a, b, a], items.Concat(later).Select(i => i.Item.ObjectId));
    }

    [Fact]
    public void FollowUps_None_QueueNothing()
    {
        Assert.Empty(Policy().FollowUps([], "n:u-1:1"));
    }
}
