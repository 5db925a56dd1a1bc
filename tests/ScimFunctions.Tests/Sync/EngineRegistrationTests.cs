using Azure.Messaging.ServiceBus;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ScimFunctions.Functions;
using ScimFunctions.Provisioning;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Notifications;
using ScimFunctions.Provisioning.State;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.Tests.Sync;

public sealed class EngineRegistrationTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddProvisioningEngine(configuration);
        return services.BuildServiceProvider();
    }

    [Fact]
    public void Settings_BindWithDefaults_AndAJsonMappingInOneSetting()
    {
        using var provider = Build(new()
        {
            ["State:ConnectionString"] = "UseDevelopmentStorage=true",
            ["Sync:AttributeMapping"] = """[{"target":"userName","source":"mail","transforms":["lower"]}]""",
            ["Sync:Threshold:MaxActionsPerHour"] = "50",
        });

        var sync = provider.GetRequiredService<IOptions<SyncOptions>>().Value;
        var state = provider.GetRequiredService<IOptions<StateOptions>>().Value;

        Assert.Equal(50, sync.Threshold.MaxActionsPerHour);
        Assert.Equal(0.2, sync.Threshold.MaxFractionPerHour);
        Assert.Equal(30, sync.DisabledGraceDays);
        Assert.Equal(30, sync.HistoryDays);
        Assert.Equal("ScimHistory", provider.GetRequiredService<StateStore>().HistoryTable);
        Assert.Equal("Scim", state.TablePrefix);
        Assert.Equal("ScimUserMappings", provider.GetRequiredService<StateStore>().UsersTable);
    }

    [Theory]
    [InlineData("Sync:AttributeMapping", "[{\"target\":\"displayName\",\"source\":\"displayName\"}]", "Sync__AttributeMapping")]
    [InlineData("Sync:Scope:Mode", "everyone", "Sync__Scope__Mode")]
    [InlineData("Sync:HistoryDays", "0", "Sync__HistoryDays")]
    [InlineData("Sync:Threshold:MaxFractionPerHour", "2", "Sync__Threshold__MaxFractionPerHour")]
    [InlineData("Sync:Scope:Filter", "department = 'x'", "Sync__Scope__Filter")]
    [InlineData("Sync:Entitlements", "{\"rules\":[{\"group\":\"0b5a7c2e-1111-4c3e-9a51-000000000001\",\"skills\":[{\"name\":\"Billing\",\"proficiency\":7}]}]}", "Sync__Entitlements")]
    public void BadSetting_FailsAtStart_NamingTheSetting(string key, string value, string expected)
    {
        var settings = new Dictionary<string, string?> { ["State:ConnectionString"] = "UseDevelopmentStorage=true", [key] = value };
        if (key == "Sync:Scope:Filter")
        {
            settings["Sync:Scope:Mode"] = "filter";
        }

        using var provider = Build(settings);

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<SyncOptions>>().Value);
        Assert.Contains(ex.Failures, f => f.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void MalformedStateConnectionString_FailsAtStart_LikeTheCli_WithoutQuotingIt()
    {
        // The CLI always refused it before contacting anything; the host took it and failed at the first table call.
        using var provider = Build(new() { ["State:ConnectionString"] = "AccountName=acct;AccountKey=c2VjcmV0LWtleQ==;Nonsense" });

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<StateOptions>>().Value);
        var failure = Assert.Single(ex.Failures);
        Assert.Contains("State__ConnectionString is not a storage connection string", failure, StringComparison.Ordinal);
        Assert.DoesNotContain("c2VjcmV0LWtleQ", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutGraphSubscriptions_TheKeeperKeepsNone_AndAnswersLifecycleItemsSo()
    {
        using var provider = Build(new() { ["State:ConnectionString"] = "UseDevelopmentStorage=true" });
        var keeper = provider.GetRequiredService<SubscriptionKeeper>();

        // No Table or Graph call is made: there is nothing to keep.
        Assert.Empty(await keeper.EnsureAsync());
        Assert.Equal("no Graph subscriptions configured", await keeper.HandleLifecycleAsync("sub-1", "reauthorizationRequired"));
    }

    [Fact]
    public void MissingStateConnection_FailsAtStart_NamingBothSettings()
    {
        using var provider = Build([]);

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<StateOptions>>().Value);
        Assert.Contains("State__ConnectionString", ex.Message, StringComparison.Ordinal);
        Assert.Contains("State__TableServiceUri", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TableKeys_RejectForbiddenCharacters()
    {
        Assert.Equal("u-1", TableKeys.Validate("u-1", "user object id"));
        foreach (var bad in new[] { "a/b", "a\\b", "a#b", "a?b", "a\u0001b", "" })
        {
            var ex = Assert.Throws<ArgumentException>(() => TableKeys.Validate(bad, "user object id"));
            Assert.Contains("user object id", ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void SweepWorkItem_CarriesTheObservedUser_AcrossTheQueue()
    {
        var user = SyncTestData.User(businessPhones: ["+1 425 555 0100"], managerId: "m-1") with { ManagerKnown = false };
        var item = new WorkItem(WorkItemKind.User, user.Id, WorkItemChangeTypes.Updated, null, null, DateTimeOffset.UnixEpoch, WorkItemSources.Delta, user, DateTimeOffset.UnixEpoch);

        var message = WorkQueue.ToMessage(new QueuedWorkItem(item, "d:1", DateTimeOffset.UnixEpoch.AddMinutes(1)));
        var back = WorkQueue.Parse(message.Body);

        Assert.Equal(DateTimeOffset.UnixEpoch.AddMinutes(1), message.ScheduledEnqueueTime);
        Assert.Equal(user.Id, back.Observed!.Id);
        Assert.Equal(["+1 425 555 0100"], back.Observed.BusinessPhones);
        Assert.False(back.Observed.ManagerKnown);
        Assert.Equal(DateTimeOffset.UnixEpoch, back.ObservedAt);
    }

    [Theory]
    [InlineData("u:abc:1", 1, 0)]
    [InlineData("u:abc:1", 3, 2)]
    [InlineData("u:abc:1#r4", 1, 4)]
    [InlineData("u:abc:1#r4", 2, 5)]
    public void Attempts_CountRescheduledCopiesAndRedeliveries(string messageId, int deliveryCount, int expected)
    {
        var message = ServiceBusModelFactory.ServiceBusReceivedMessage(messageId: messageId, deliveryCount: deliveryCount);

        Assert.Equal(expected, WorkItemRetryPolicy.AttemptOf(message));
        Assert.Equal("u:abc:1#r5", WorkItemRetryPolicy.RetryMessageId(messageId, 5));
    }
}

public sealed class FunctionsEngineWiringTests
{
    [Fact]
    public void EngineFunctions_ResolveFromTheAppsRegistrations()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["State:ConnectionString"] = "UseDevelopmentStorage=true",
            ["Scim:Profile"] = "genesys",
            ["Scim:BaseUrl"] = "http://127.0.0.1:5080/api/v2/scim/v2",
            ["Scim:ClientId"] = "local-client",
            ["Scim:ClientSecret"] = "local-secret",
            ["Graph:BaseUrl"] = "http://127.0.0.1:5081/v1.0",
            ["Graph:Credential"] = "token",
            ["Graph:StaticToken"] = "t",
            ["Graph:NotificationUrl"] = "https://scimfn.example/api/notifications?code=k",
            ["Notifications:ClientState"] = "a-client-state-of-sufficient-length",
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddOptions<NotificationOptions>().BindConfiguration(NotificationOptions.Section);
        services.AddSingleton<ServiceBusSender>(new Support.RecordingServiceBusSender());
        services.AddSingleton<WorkQueue>();
        Provisioning.Scim.ScimRegistration.AddScimTarget(services, configuration);
        services.AddGraphDirectory(configuration);
        services.AddGraphSubscriptions(configuration);
        services.AddProvisioningEngine(configuration);
        using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });

        Assert.NotNull(ActivatorUtilities.CreateInstance<ProvisionObject>(provider));
        Assert.NotNull(ActivatorUtilities.CreateInstance<DeltaSweep>(provider));
        Assert.NotNull(ActivatorUtilities.CreateInstance<ReconcileGroups>(provider));
        Assert.NotNull(ActivatorUtilities.CreateInstance<RenewSubscriptions>(provider));
        Assert.NotNull(ActivatorUtilities.CreateInstance<PurgeDisabled>(provider));
        Assert.IsType<GraphDirectorySource>(provider.GetRequiredService<IDirectorySource>());
    }
}
