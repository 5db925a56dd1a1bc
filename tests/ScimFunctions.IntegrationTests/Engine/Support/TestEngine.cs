using Azure.Data.Tables;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ScimFunctions.Provisioning;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Notifications;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.IntegrationTests.Engine.Support;

/// <summary>The engine as the hosts build it (<see cref="ProvisioningRegistration.AddProvisioningEngine"/>, options
/// validated at start), over the parts a test brings: a SCIM client, a directory, Table Storage, a clock. The
/// operations are the engine's own classes; the methods here only save a test from naming which class holds one.</summary>
public sealed class TestEngine : IDisposable
{
    private TestEngine(ServiceProvider services)
    {
        Services = services;
        Store = services.GetRequiredService<StateStore>();
        Options = services.GetRequiredService<SyncOptions>();
    }

    public ServiceProvider Services { get; }

    public StateStore Store { get; }

    /// <summary>The settings as bound and validated (the defaults, then the test's changes).</summary>
    public SyncOptions Options { get; }

    public FullSync FullSync => Services.GetRequiredService<FullSync>();

    public WorkItemProcessor WorkItems => Services.GetRequiredService<WorkItemProcessor>();

    /// <param name="sync">Changes to the default settings, applied as a host's configuration would be.</param>
    /// <param name="queue">Where the engine's delta sweeper sends (only tests that sweep need one).</param>
    public static TestEngine Build(
        IScimClient scim,
        IDirectorySource directory,
        TableServiceClient tables,
        Action<SyncOptions>? sync = null,
        TimeProvider? time = null,
        ILoggerFactory? loggers = null,
        string tablePrefix = StateStore.DefaultPrefix,
        IGraphSubscriptions? subscriptions = null,
        ProvisioningMetrics? metrics = null,
        WorkQueue? queue = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"{StateOptions.Section}:{nameof(StateOptions.TablePrefix)}"] = tablePrefix,

            // Required by the State settings; the TableServiceClient registered below is the one used.
            [$"{StateOptions.Section}:{nameof(StateOptions.ConnectionString)}"] = "UseDevelopmentStorage=true",
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddSingleton(loggers ?? NullLoggerFactory.Instance);
        services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        services.AddSingleton(time ?? TimeProvider.System);
        services.AddSingleton(scim);
        services.AddSingleton(directory);
        services.AddSingleton(tables);
        if (subscriptions is not null)
        {
            services.AddSingleton(subscriptions);
        }

        if (metrics is not null)
        {
            services.AddSingleton(metrics);
        }

        if (queue is not null)
        {
            services.AddSingleton(queue);
        }

        services.AddProvisioningEngine(configuration);
        if (sync is not null)
        {
            services.Configure(sync);
        }

        var provider = services.BuildServiceProvider();
        try
        {
            // As a host's ValidateOnStart: a bad setting fails here, naming it.
            provider.GetRequiredService<IStartupValidator>().Validate();
            return new TestEngine(provider);
        }
        catch
        {
            provider.Dispose();
            throw;
        }
    }

    public void Dispose() => Services.Dispose();

    public Task<SyncSummary> SyncAsync(bool dryRun, IProgress<SyncProgress>? progress = null, CancellationToken cancellationToken = default) =>
        FullSync.SyncAsync(dryRun, progress, cancellationToken);

    public Task<WorkItemResult> ProcessWorkItemAsync(WorkItem item, bool redelivered = false, CancellationToken cancellationToken = default) =>
        WorkItems.ProcessWorkItemAsync(item, redelivered, cancellationToken);

    public Task RecordFailureAsync(WorkItem item, string error, CancellationToken cancellationToken = default) =>
        WorkItems.RecordFailureAsync(item, error, cancellationToken);

    public Task<UserExplanation> ExplainAsync(string idOrUserPrincipalName, CancellationToken cancellationToken = default) =>
        Services.GetRequiredService<OperatorQueries>().ExplainAsync(idOrUserPrincipalName, cancellationToken);

    public Task<SyncStatus> GetStatusAsync(CancellationToken cancellationToken = default) =>
        Services.GetRequiredService<OperatorQueries>().GetStatusAsync(cancellationToken);

    public Task<SyncSummary> ReleaseStagedAsync(CancellationToken cancellationToken = default) =>
        Services.GetRequiredService<StagedActionReview>().ReleaseStagedAsync(cancellationToken);

    public Task<SyncSummary> DiscardStagedAsync(CancellationToken cancellationToken = default) =>
        Services.GetRequiredService<StagedActionReview>().DiscardStagedAsync(cancellationToken);

    public Task<SyncSummary> PurgeDisabledAsync(bool dryRun = false, CancellationToken cancellationToken = default) =>
        Services.GetRequiredService<DisabledUserPurge>().PurgeDisabledAsync(dryRun, cancellationToken);

    public Task<SyncSummary> ReconcileGroupsAsync(bool dryRun = false, CancellationToken cancellationToken = default) =>
        Services.GetRequiredService<GroupReconciler>().ReconcileGroupsAsync(dryRun, cancellationToken);

    public Task<IReadOnlyList<SubscriptionChange>> EnsureSubscriptionsAsync(CancellationToken cancellationToken = default) =>
        Services.GetRequiredService<SubscriptionKeeper>().EnsureAsync(cancellationToken);
}
