using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.IntegrationTests.Graph;

/// <summary>Subscriptions created, renewed, reauthorized and deleted through the real SDK.</summary>
public sealed class GraphSubscriptionTests : GraphTestBase
{
    private const string ClientState = "a-client-state-secret-of-some-length";
    private const string NotificationUrl = "https://scimfn.example.net/api/GraphNotifications?code=function-key";
    private readonly FakeTimeProvider time = new(new DateTimeOffset(2026, 3, 1, 8, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task Create_Users_PostsEverythingGraphNeedsWithTheMaximumLifetimeLessTheMargin()
    {
        var subscriptions = Manager();

        var created = await subscriptions.CreateAsync("/users");

        var stored = Assert.Single(Graph.Subscriptions).Value;
        Assert.Equal(created.Id, (string?)stored["id"]);
        Assert.Equal("/users", created.Resource);
        Assert.Equal("updated,deleted", (string?)stored["changeType"]);
        Assert.Equal(NotificationUrl, (string?)stored["notificationUrl"]);
        Assert.Equal("https://scimfn.example.net/api/GraphLifecycle?code=function-key", (string?)stored["lifecycleNotificationUrl"]);
        Assert.Equal(ClientState, (string?)stored["clientState"]);
        var expected = time.GetUtcNow().AddMinutes(41_760 - 60);
        Assert.Equal(expected, created.ExpiresAt);
        Assert.Equal(expected, DateTimeOffset.Parse((string)stored["expirationDateTime"]!, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Create_UsersAndGroups_CreatesOnePerResource()
    {
        var subscriptions = Manager();

        foreach (var resource in new[] { SubscriptionKeeper.Users, SubscriptionKeeper.Groups })
        {
            await subscriptions.CreateAsync(resource);
        }

        Assert.Equal(["/groups", "/users"], Graph.Subscriptions.Values.Select(s => (string)s["resource"]!).Order());
    }

    [Fact]
    public async Task Create_QuotaReached_ThrowsAClearPermanentError()
    {
        Graph.SubscriptionQuota = 0;

        var error = await Assert.ThrowsAsync<DirectoryUnavailableException>(() => Manager().CreateAsync("/groups"));

        Assert.False(error.IsTransient);
        Assert.Contains("quota", error.Message, StringComparison.Ordinal);
        Assert.Contains("Group.Read.All", error.Message, StringComparison.Ordinal);
        Assert.Contains("403", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_UnsupportedResource_IsRefusedBeforeCallingGraph()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Manager().CreateAsync("/me/messages"));

        Assert.Empty(Graph.Requests);
    }

    [Fact]
    public async Task Create_NotificationUrlNotYetSet_ThrowsNamingTheSettingWithoutCallingGraph()
    {
        Graph.Time = time;
        var manager = new GraphSubscriptionManager(Client(Options()), new GraphSubscriptionOptions(), ClientState, time, NullLogger<GraphSubscriptionManager>.Instance);

        var error = await Assert.ThrowsAsync<DirectoryUnavailableException>(() => manager.CreateAsync("/users"));

        Assert.Contains("Graph__NotificationUrl", error.Message, StringComparison.Ordinal);
        Assert.False(error.IsTransient);
        Assert.Empty(Graph.Requests);
    }

    [Fact]
    public async Task Renew_LaterOn_ExtendsToTheFullLifetimeFromNow()
    {
        var subscriptions = Manager();
        var created = await subscriptions.CreateAsync("/users");
        time.Advance(TimeSpan.FromDays(20));

        var renewed = await subscriptions.RenewAsync(created.Id);

        Assert.NotNull(renewed);
        var expected = time.GetUtcNow().AddMinutes(41_760 - 60);
        Assert.Equal(expected, renewed.ExpiresAt);
        Assert.True(renewed.ExpiresAt - time.GetUtcNow() >= TimeSpan.FromHours(3));
        Assert.Equal(expected, DateTimeOffset.Parse((string)Graph.Subscriptions[created.Id]["expirationDateTime"]!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1, Graph.CountRequests("PATCH", $"/subscriptions/{created.Id}"));
    }

    [Fact]
    public async Task Renew_Gone_ReturnsNull()
    {
        Assert.Null(await Manager().RenewAsync("5f1f0d8c-0000-0000-0000-000000000000"));
    }

    [Fact]
    public async Task Reauthorize_Existing_ReturnsTrueAndGoneReturnsFalse()
    {
        var subscriptions = Manager();
        var created = await subscriptions.CreateAsync("/groups");

        Assert.True(await subscriptions.ReauthorizeAsync(created.Id));
        Assert.False(await subscriptions.ReauthorizeAsync("5f1f0d8c-0000-0000-0000-000000000000"));
        Assert.Equal(1, Graph.CountRequests("POST", $"/subscriptions/{created.Id}/reauthorize"));
    }

    [Fact]
    public async Task Delete_RemovesTheSubscriptionAndASecondDeleteReturnsFalse()
    {
        var subscriptions = Manager();
        var created = await subscriptions.CreateAsync("/users");

        Assert.True(await subscriptions.DeleteAsync(created.Id));
        Assert.False(await subscriptions.DeleteAsync(created.Id));
        Assert.Empty(Graph.Subscriptions);
    }

    [Fact]
    public async Task Renew_ServerError_ThrowsTransientUnavailableNotGone()
    {
        var subscriptions = Manager();
        var created = await subscriptions.CreateAsync("/users");
        Graph.FailNext(500, pathContains: "/subscriptions/");

        var error = await Assert.ThrowsAsync<DirectoryUnavailableException>(() => subscriptions.RenewAsync(created.Id));

        Assert.True(error.IsTransient);
    }

    [Fact]
    public void Manager_WithoutClientState_RefusesToStartNamingTheSetting()
    {
        var error = Assert.Throws<ArgumentException>(() => new GraphSubscriptionManager(
            Client(Options()), SubscriptionOptions(), "", time, NullLogger<GraphSubscriptionManager>.Instance));

        Assert.Contains("Notifications__ClientState", error.Message, StringComparison.Ordinal);
    }

    private GraphSubscriptionManager Manager()
    {
        Graph.Time = time;
        return new GraphSubscriptionManager(Client(Options()), SubscriptionOptions(), ClientState, time, NullLogger<GraphSubscriptionManager>.Instance);
    }

    private static GraphSubscriptionOptions SubscriptionOptions() => new()
    {
        NotificationUrl = NotificationUrl,
        LifecycleNotificationUrl = "https://scimfn.example.net/api/GraphLifecycle?code=function-key",
    };
}
