using System.Text;
using Azure.Messaging.ServiceBus;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Infrastructure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ScimFunctions.Functions;
using ScimFunctions.Provisioning.Notifications;
using ScimFunctions.Tests.Support;

namespace ScimFunctions.Tests.Functions;

public sealed class GraphNotificationsTests : IAsyncDisposable
{
    private readonly RecordingServiceBusSender sender = new();
    private readonly FakeLogger<GraphNotifications> logger = new();
    private readonly FakeTimeProvider time = new(new DateTimeOffset(2026, 11, 27, 10, 0, 0, TimeSpan.Zero));
    private readonly NotificationOptions options = new() { ClientState = Notifications.ClientState, MaxBodyBytes = 64 * 1024 };

    private GraphNotifications Function => new(new WorkQueue(sender), Options.Create(options), time, logger);

    public ValueTask DisposeAsync() => sender.DisposeAsync();

    [Fact]
    public async Task Handshake_EchoesDecodedTokenAsPlainText_AndQueuesNothing()
    {
        var request = Request("POST", query: "?validationToken=Validation%3A%20Testing%20client%20application%20reachability%20%3Cb%3E");

        var result = await Function.RunAsync(request);

        var content = Assert.IsType<ContentResult>(result);
        Assert.Equal(200, content.StatusCode);
        Assert.StartsWith("text/plain", content.ContentType, StringComparison.Ordinal);
        Assert.Equal("Validation: Testing client application reachability <b>", content.Content);
        Assert.Equal("nosniff", request.HttpContext.Response.Headers.XContentTypeOptions.ToString());
        Assert.Empty(sender.Sends);
    }

    [Fact]
    public async Task Handshake_WithOverlongToken_Answers400()
    {
        var request = Request("POST", query: "?validationToken=" + new string('a', options.MaxValidationTokenLength + 1));

        var result = await Function.RunAsync(request);

        Assert.Equal(400, StatusOf(result));
        Assert.Empty(sender.Sends);
    }

    [Fact]
    public async Task UserNotification_IsQueuedWithObjectIdAsSession_AndAnswers202()
    {
        const string userId = "5a6b9e0f-3c1d-4b7e-9f2a-0c1d2e3f4a5b";

        var result = await Function.RunAsync(Request("POST", Notifications.Collection(Notifications.UserChange(userId))));

        Assert.Equal(202, StatusOf(result));
        var message = Assert.Single(sender.Messages);
        Assert.Equal(userId, message.SessionId);
        Assert.StartsWith("u:" + userId + ":", message.MessageId, StringComparison.Ordinal);
        var item = WorkQueue.Parse(message.Body);
        Assert.Equal(new WorkItem(WorkItemKind.User, userId, "updated", Notifications.SubscriptionId, Notifications.TenantId, time.GetUtcNow()), item);
    }

    [Fact]
    public async Task GroupNotification_BecomesGroupWorkItem()
    {
        const string groupId = "02bd9fd6-8f93-4758-87c3-1fb73740a315";

        await Function.RunAsync(Request("POST", Notifications.Collection(Notifications.GroupChange(groupId))));

        var item = WorkQueue.Parse(Assert.Single(sender.Messages).Body);
        Assert.Equal(WorkItemKind.Group, item.Kind);
        Assert.Equal(groupId, item.ObjectId);
    }

    [Fact]
    public async Task MixedBatch_QueuesOnlyItemsWithTheRightClientState_AndLogsASecurityWarning()
    {
        var body = Notifications.Collection(
            Notifications.UserChange("11111111-1111-1111-1111-111111111111"),
            Notifications.UserChange("22222222-2222-2222-2222-222222222222", clientState: "forged-client-state-value"),
            Notifications.UserChange("33333333-3333-3333-3333-333333333333", clientState: Notifications.ClientState + "x"),
            Notifications.GroupChange("44444444-4444-4444-4444-444444444444"));

        var result = await Function.RunAsync(Request("POST", body));

        Assert.Equal(202, StatusOf(result));
        Assert.Equal(["11111111-1111-1111-1111-111111111111", "44444444-4444-4444-4444-444444444444"], sender.Messages.Select(m => m.SessionId).Order());
        var warning = Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Id == 1002);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("2 notification items failed the clientState check", warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(logger.Collector.GetSnapshot(), r => r.Message.Contains("forged-client-state-value", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RejectedItems_OnlyWellFormedGuidSubscriptionIdsAreLogged()
    {
        var forgedWithGuid = Notifications.UserChange("11111111-1111-1111-1111-111111111111", clientState: "forged-client-state-value");
        var forgedWithText = Notifications.UserChange("22222222-2222-2222-2222-222222222222", clientState: "forged-client-state-value");
        forgedWithText["subscriptionId"] = "<script>jane.doe@example.org";

        await Function.RunAsync(Request("POST", Notifications.Collection(forgedWithGuid, forgedWithText)));

        var warning = Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Id == 1002);
        Assert.Contains(Notifications.SubscriptionId, warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("jane.doe", warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AllItemsForged_AnswersThe202AGenuineBatchGets()
    {
        var result = await Function.RunAsync(Request("POST", Notifications.Collection(Notifications.UserChange("11111111-1111-1111-1111-111111111111", clientState: "nope"))));

        // The caller learns nothing about which items passed.
        Assert.Equal(202, StatusOf(result));
        Assert.Empty(sender.Messages);
    }

    [Fact]
    public async Task MissingClientState_IsRejected()
    {
        var item = Notifications.UserChange("11111111-1111-1111-1111-111111111111");
        item.Remove("clientState");

        await Function.RunAsync(Request("POST", Notifications.Collection(item)));

        Assert.Empty(sender.Messages);
    }

    [Theory]
    [InlineData("reauthorizationRequired")]
    [InlineData("subscriptionRemoved")]
    [InlineData("missed")]
    public async Task LifecycleNotification_BecomesLifecycleWorkItem(string lifecycleEvent)
    {
        await Function.RunAsync(Request("POST", Notifications.Collection(Notifications.Lifecycle(lifecycleEvent))));

        var message = Assert.Single(sender.Messages);
        var item = WorkQueue.Parse(message.Body);
        Assert.Equal(WorkItemKind.Lifecycle, item.Kind);
        Assert.Equal(lifecycleEvent, item.ChangeType);
        Assert.Equal(Notifications.SubscriptionId, item.ObjectId);
        Assert.Equal(Notifications.SubscriptionId, message.SessionId);
    }

    [Fact]
    public async Task RedeliveredNotification_GetsTheSameMessageId()
    {
        var body = Notifications.Collection(Notifications.UserChange("11111111-1111-1111-1111-111111111111"));

        await Function.RunAsync(Request("POST", body));
        time.Advance(TimeSpan.FromMinutes(3));
        await Function.RunAsync(Request("POST", body));

        Assert.Equal(2, sender.Sends.Count);
        Assert.Equal(sender.Sends[0][0].MessageId, sender.Sends[1][0].MessageId);
    }

    [Fact]
    public async Task LaterChangeToTheSameUser_GetsANewMessageId()
    {
        const string userId = "11111111-1111-1111-1111-111111111111";

        await Function.RunAsync(Request("POST", Notifications.Collection(Notifications.UserChange(userId, eventTime: "2026-11-27T10:00:00Z"))));
        await Function.RunAsync(Request("POST", Notifications.Collection(Notifications.UserChange(userId, eventTime: "2026-11-27T10:05:00Z"))));

        Assert.NotEqual(sender.Sends[0][0].MessageId, sender.Sends[1][0].MessageId);
    }

    [Fact]
    public async Task LaterChangeWithoutEventTimeOrSequenceNumber_GetsANewMessageId()
    {
        // Graph documents neither field for users; a disable two hours after a title change must not be
        // dropped by duplicate detection (4-hour window) as a copy of the first.
        var first = WithoutChangeMarkers(Notifications.UserChange("11111111-1111-1111-1111-111111111111"));

        await Function.RunAsync(Request("POST", Notifications.Collection(first)));
        time.Advance(TimeSpan.FromHours(2));
        await Function.RunAsync(Request("POST", Notifications.Collection(first.DeepClone().AsObject())));

        Assert.Equal(2, sender.Sends.Count);
        Assert.NotEqual(sender.Sends[0][0].MessageId, sender.Sends[1][0].MessageId);
    }

    [Fact]
    public async Task LaterChangeWithNullMarkers_GetsANewMessageId()
    {
        var first = WithoutChangeMarkers(Notifications.UserChange("11111111-1111-1111-1111-111111111111"));
        first["resourceData"]!["sequenceNumber"] = null;
        first["id"] = null;

        await Function.RunAsync(Request("POST", Notifications.Collection(first)));
        time.Advance(TimeSpan.FromHours(2));
        await Function.RunAsync(Request("POST", Notifications.Collection(first.DeepClone().AsObject())));

        Assert.NotEqual(sender.Sends[0][0].MessageId, sender.Sends[1][0].MessageId);
    }

    [Fact]
    public async Task ImmediateRedeliveryWithoutEventTimeOrSequenceNumber_GetsTheSameMessageId()
    {
        var item = WithoutChangeMarkers(Notifications.UserChange("11111111-1111-1111-1111-111111111111"));
        time.Advance(TimeSpan.FromSeconds(1));

        await Function.RunAsync(Request("POST", Notifications.Collection(item)));
        time.Advance(TimeSpan.FromSeconds(2));
        await Function.RunAsync(Request("POST", Notifications.Collection(item.DeepClone().AsObject())));

        Assert.Equal(2, sender.Sends.Count);
        Assert.Equal(sender.Sends[0][0].MessageId, sender.Sends[1][0].MessageId);
    }

    [Fact]
    public async Task ItemWithoutChangeMarkers_IsScheduledForTheEndOfItsBucket_AndAMarkedOneIsNot()
    {
        // Received 10:00:03; the 10-second bucket ends 10:00:10. The one message standing for every change of the
        // bucket must read Graph after all of them.
        time.Advance(TimeSpan.FromSeconds(3));
        var unmarked = WithoutChangeMarkers(Notifications.UserChange("11111111-1111-1111-1111-111111111111"));

        await Function.RunAsync(Request("POST", Notifications.Collection(unmarked, Notifications.UserChange("22222222-2222-2222-2222-222222222222"))));

        var messages = sender.Messages.ToDictionary(m => m.SessionId);
        Assert.Equal(new DateTimeOffset(2026, 11, 27, 10, 0, 10, TimeSpan.Zero), messages["11111111-1111-1111-1111-111111111111"].ScheduledEnqueueTime);
        Assert.Equal(default, messages["22222222-2222-2222-2222-222222222222"].ScheduledEnqueueTime);
    }

    [Fact]
    public async Task DuplicateItemsInOneBatch_AreQueuedOnce()
    {
        var item = Notifications.UserChange("11111111-1111-1111-1111-111111111111");

        await Function.RunAsync(Request("POST", Notifications.Collection(item, item.DeepClone().AsObject())));

        Assert.Single(sender.Messages);
    }

    [Fact]
    public async Task LargeBatch_IsSentInOneCall()
    {
        var items = Enumerable.Range(0, 100).Select(i => Notifications.UserChange($"00000000-0000-0000-0000-{i:D12}")).ToArray();

        await Function.RunAsync(Request("POST", Notifications.Collection(items)));

        Assert.Single(sender.Sends);
        Assert.Equal(100, sender.Messages.Count());
    }

    [Fact]
    public async Task ServiceBusFailure_Answers503SoGraphRetries()
    {
        sender.FailWith = () => new ServiceBusException("namespace unavailable", ServiceBusFailureReason.ServiceCommunicationProblem);

        var result = await Function.RunAsync(Request("POST", Notifications.Collection(Notifications.UserChange("11111111-1111-1111-1111-111111111111"))));

        Assert.Equal(503, StatusOf(result));
        Assert.Contains(logger.Collector.GetSnapshot(), r => r.Id.Id == 1005 && r.Exception is ServiceBusException);
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("[]")]
    [InlineData("{\"value\": 3}")]
    [InlineData("{}")]
    [InlineData("")]
    public async Task MalformedBody_Answers400WithAProblem(string body)
    {
        var result = await Function.RunAsync(Request("POST", body));

        var problem = Assert.IsType<ObjectResult>(result);
        Assert.Equal(400, problem.StatusCode);
        var details = Assert.IsType<ProblemDetails>(problem.Value);
        Assert.False(string.IsNullOrWhiteSpace(details.Detail));
        Assert.DoesNotContain("   at ", details.Detail, StringComparison.Ordinal);
        Assert.Empty(sender.Sends);
    }

    [Fact]
    public async Task MalformedItemAmongGoodOnes_IsSkippedAndTheRestQueued()
    {
        var bad = Notifications.UserChange("11111111-1111-1111-1111-111111111111");
        bad.Remove("resource");
        bad.Remove("resourceData");
        var evil = Notifications.UserChange("x");
        evil["resource"] = "Users/../../etc";
        evil["resourceData"]!["id"] = "../../etc";

        var result = await Function.RunAsync(Request("POST", Notifications.Collection(bad, evil, Notifications.UserChange("22222222-2222-2222-2222-222222222222"))));

        Assert.Equal(202, StatusOf(result));
        Assert.Equal("22222222-2222-2222-2222-222222222222", Assert.Single(sender.Messages).SessionId);
    }

    [Fact]
    public async Task NotificationForAnotherResource_IsIgnored()
    {
        var item = Notifications.UserChange("11111111-1111-1111-1111-111111111111");
        item["resource"] = "me/mailFolders('Inbox')/messages/AAA";
        item.Remove("resourceData");

        var result = await Function.RunAsync(Request("POST", Notifications.Collection(item)));

        Assert.Equal(202, StatusOf(result));
        Assert.Empty(sender.Messages);
    }

    [Fact]
    public async Task BodyOverTheLimit_Answers413_FromContentLength()
    {
        var request = Request("POST", "{}");
        request.ContentLength = options.MaxBodyBytes + 1;

        Assert.Equal(413, StatusOf(await Function.RunAsync(request)));
    }

    [Fact]
    public async Task ChunkedBodyOverTheLimit_Answers413_WhileReading()
    {
        var huge = Notifications.Collection(Enumerable.Range(0, 2000).Select(i => Notifications.UserChange($"00000000-0000-0000-0000-{i:D12}")).ToArray());
        var request = Request("POST", huge);
        request.ContentLength = null;

        Assert.Equal(413, StatusOf(await Function.RunAsync(request)));
        Assert.Empty(sender.Sends);
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    public async Task WrongMethod_Answers405WithAllowHeader(string method)
    {
        var request = Request(method, Notifications.Collection(Notifications.UserChange("11111111-1111-1111-1111-111111111111")));

        var result = await Function.RunAsync(request);

        Assert.Equal(405, StatusOf(result));
        Assert.Equal("POST", request.HttpContext.Response.Headers.Allow.ToString());
        Assert.Empty(sender.Sends);
    }

    [Fact]
    public async Task ArbitraryBytes_NeverThrow()
    {
        var random = new Random(20261127);
        var seeds = new List<byte[]>();
        for (var i = 0; i < 300; i++)
        {
            var bytes = new byte[random.Next(0, 400)];
            random.NextBytes(bytes);
            seeds.Add(bytes);
        }

        // Structurally plausible but wrong shapes too.
        seeds.AddRange(new[]
        {
            "{\"value\":[1,2,3]}", "{\"value\":[{\"clientState\":5}]}", "{\"value\":[null]}", "{\"value\":[{}]}",
            "{\"value\":[{\"clientState\":\"" + Notifications.ClientState + "\",\"resource\":7,\"changeType\":[]}]}",
            new string('[', 5000) + new string(']', 5000), "\"value\"", "null",
        }.Select(Encoding.UTF8.GetBytes));

        foreach (var bytes in seeds)
        {
            var result = await Function.RunAsync(Request("POST", bytes));
            Assert.True(StatusOf(result) is 202 or 400, $"Unexpected status {StatusOf(result)}");
        }
    }

    [Theory]
    [InlineData("clientState")]
    [InlineData("subscriptionId")]
    [InlineData("lifecycleEvent")]
    [InlineData("changeType")]
    [InlineData("subscriptionExpirationDateTime")]
    public async Task LoneSurrogateInAField_IsAnsweredNotThrown_AndTheGoodItemIsQueued(string field)
    {
        var bad = Notifications.UserChange("11111111-1111-1111-1111-111111111111");
        bad[field] = "PLACEHOLDER";
        var body = Notifications.Collection(bad, Notifications.UserChange("22222222-2222-2222-2222-222222222222"))
            .Replace("\"PLACEHOLDER\"", "\"\\ud800\"", StringComparison.Ordinal);

        var result = await Function.RunAsync(Request("POST", body));

        Assert.Equal(202, StatusOf(result));
        Assert.Contains("22222222-2222-2222-2222-222222222222", sender.Messages.Select(m => m.SessionId));
    }

    [Theory]
    [InlineData("id")]
    [InlineData("sequenceNumber")]
    [InlineData("eventTime")]
    public async Task LoneSurrogateInResourceData_IsAnsweredNotThrown_AndTheGoodItemIsQueued(string field)
    {
        var bad = Notifications.UserChange("11111111-1111-1111-1111-111111111111");
        bad["resourceData"]![field] = "PLACEHOLDER";
        var body = Notifications.Collection(bad, Notifications.UserChange("22222222-2222-2222-2222-222222222222"))
            .Replace("\"PLACEHOLDER\"", "\"\\udc00x\"", StringComparison.Ordinal);

        var result = await Function.RunAsync(Request("POST", body));

        Assert.Equal(202, StatusOf(result));
        Assert.Contains("22222222-2222-2222-2222-222222222222", sender.Messages.Select(m => m.SessionId));
    }

    [Theory]
    [InlineData("clientState")]
    [InlineData("resource")]
    [InlineData("subscriptionExpirationDateTime")]
    public async Task InvalidUtf8InAString_IsAnsweredNotThrown_AndTheGoodItemIsQueued(string field)
    {
        var bad = Notifications.UserChange("11111111-1111-1111-1111-111111111111");
        bad[field] = "PLACEHOLDER";
        var text = Notifications.Collection(bad, Notifications.UserChange("22222222-2222-2222-2222-222222222222"));
        var bytes = Encoding.UTF8.GetBytes(text).ToList();
        var at = text.IndexOf("PLACEHOLDER", StringComparison.Ordinal);
        bytes.RemoveRange(at, "PLACEHOLDER".Length);
        bytes.InsertRange(at, new byte[] { 0x61, 0xC3, 0x28, 0xFF, 0x62 });

        var result = await Function.RunAsync(Request("POST", bytes.ToArray()));

        Assert.Equal(202, StatusOf(result));
        Assert.Contains("22222222-2222-2222-2222-222222222222", sender.Messages.Select(m => m.SessionId));
    }

    [Theory]
    [InlineData(36)]
    [InlineData(95)]
    [InlineData(99)]
    [InlineData(101)]
    [InlineData(128)]
    public async Task MessageId_LeavesRoomForTheRetryCopySuffix(int length)
    {
        // ProvisionObject reschedules a transient failure as "{MessageId}#r{attempt}"; that id must fit too.
        var id = new string('b', length);

        await Function.RunAsync(Request("POST", Notifications.Collection(Notifications.UserChange(id))));

        var message = Assert.Single(sender.Messages);
        Assert.InRange(WorkItemRetryPolicy.RetryMessageId(message.MessageId, 99_999).Length, 1, 128);
    }

    [Theory]
    [InlineData(101)]
    [InlineData(102)]
    [InlineData(128)]
    public async Task LongObjectId_GetsAServiceBusValidMessageId_AndTheOtherItemsAreQueued(int length)
    {
        var longId = new string('a', length);

        var result = await Function.RunAsync(Request("POST", Notifications.Collection(
            Notifications.UserChange("11111111-1111-1111-1111-111111111111"),
            Notifications.UserChange(longId),
            Notifications.GroupChange(longId))));

        Assert.Equal(202, StatusOf(result));
        Assert.Equal(3, sender.Messages.Count());
        Assert.All(sender.Messages, m => Assert.InRange(m.MessageId.Length, 1, 128));
        Assert.Equal(2, sender.Messages.Count(m => m.SessionId == longId));
        Assert.Equal(3, sender.Messages.Select(m => m.MessageId).Distinct().Count());
    }

    private static System.Text.Json.Nodes.JsonObject WithoutChangeMarkers(System.Text.Json.Nodes.JsonObject item)
    {
        var data = item["resourceData"]!.AsObject();
        data.Remove("eventTime");
        data.Remove("sequenceNumber");
        return item;
    }

    private static int? StatusOf(IActionResult result) => result switch
    {
        IStatusCodeActionResult status => status.StatusCode,
        _ => null,
    };

    private static HttpRequest Request(string method, string body = "", string query = "") => Request(method, Encoding.UTF8.GetBytes(body), query);

    private static HttpRequest Request(string method, byte[] body, string query = "")
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.QueryString = new QueryString(query);
        context.Request.ContentType = "application/json";
        context.Request.Body = new MemoryStream(body);
        context.Request.ContentLength = body.Length;
        return context.Request;
    }
}
