using ScimFunctions.IntegrationTests.Engine.Support;
using ScimFunctions.Provisioning.Notifications;

namespace ScimFunctions.IntegrationTests.Engine;

/// <summary>DeltaSweep on large tenants: MessageIds within Service Bus's limits for any id Graph may hand out, a
/// round stored page by page so that a run inside the Functions time limit always makes progress, and a killed
/// run that goes on from its last page.</summary>
[Collection(EngineCollection.Name)]
public sealed class ResumableSweepTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private EngineHarness h = null!;

    public async Task InitializeAsync() => h = await EngineHarness.StartAsync(azurite);

    public async Task DisposeAsync() => await h.DisposeAsync();

    [Fact]
    public async Task Sweep_OfAnIdNear128Characters_QueuesItWithAMessageIdWithinTheServiceBusLimit()
    {
        // A safe object id may be 128 characters (Service Bus's SessionId limit); "d:{id}:{round}" then is not.
        var longId = "u-" + new string('a', 118);
        h.AddUser(longId, "long@contoso.com", "Long Id");
        h.AddUser("u-short", "short@contoso.com", "Short Id");

        await h.Sweeper.SweepAsync();

        var users = h.Queue.Sent.Where(m => m.SessionId is "u-short" || m.SessionId == longId).ToList();
        Assert.Equal(2, users.Count);
        // Room is left for the retry suffix "#rN" the processor appends.
        Assert.All(users, m => Assert.True(m.MessageId.Length <= GraphNotificationParser.MaxServiceBusIdLength - 8, $"MessageId of {m.MessageId.Length} characters"));
        Assert.Equal(2, users.Select(m => m.MessageId).Distinct().Count());
    }
}
