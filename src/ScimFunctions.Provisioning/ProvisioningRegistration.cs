using Azure.Data.Tables;
using Azure.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Notifications;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;
using ScimFunctions.Provisioning.Sync;
using ScimFunctions.Provisioning.Sync.Entitlements;
using ScimFunctions.Provisioning.Sync.History;

namespace ScimFunctions.Provisioning;

/// <summary>Registers the engine for a host (the Functions app, <c>scimfn</c>, the tests and the benchmark all come
/// through here). The host also registers an <see cref="IScimClient"/> and an <see cref="IDirectorySource"/> (and
/// <see cref="IGraphSubscriptions"/> and <see cref="WorkQueue"/> where notifications and sweeps run); a
/// <see cref="TableServiceClient"/> it registers first is used instead of one built from <c>State__*</c>.</summary>
public static class ProvisioningRegistration
{
    public static IServiceCollection AddProvisioningEngine(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();

        // Settings: bound, and checked at start by the one validator each has (messages name the setting).
        services.AddOptions<StateOptions>()
            .BindConfiguration(StateOptions.Section)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StateOptions>, StateOptionsValidator>());
        services.AddOptions<SyncOptions>()
            .BindConfiguration(SyncOptions.Section)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<SyncOptions>>(new SyncOptionsValidator(configuration));
        services.TryAddSingleton(provider => provider.GetRequiredService<IOptions<SyncOptions>>().Value);
        services.TryAddSingleton(provider => provider.GetRequiredService<SyncOptions>().Threshold);
        services.TryAddSingleton(provider => provider.GetRequiredService<SyncOptions>().Scope);

        // Values built from the settings.
        services.TryAddSingleton(provider => CreateTableServiceClient(provider.GetRequiredService<IOptions<StateOptions>>().Value));
        services.TryAddSingleton(provider => new StateStore(provider.GetRequiredService<TableServiceClient>(), provider.GetRequiredService<IOptions<StateOptions>>().Value.TablePrefix));
        services.TryAddSingleton(provider =>
        {
            var sync = provider.GetRequiredService<SyncOptions>();
            var rules = AttributeMapper.ParseRules(configuration[$"{SyncOptions.Section}:AttributeMapping"], sync.AttributeMapping, sync.Division);
            return new AttributeMapper(rules, sync.DefaultPhoneCountryCode, provider.GetRequiredService<IScimClient>().Capabilities.SupportedUserSchemas);
        });
        services.TryAddSingleton(provider => ConfiguredEntitlements.From(provider.GetRequiredService<SyncOptions>(), provider.GetRequiredService<IDirectorySource>(), provider.GetRequiredService<TimeProvider>()));
        services.AddHostedService(provider => new EntitlementGroupCheck(provider.GetRequiredService<ConfiguredEntitlements>().Resolver, provider.GetRequiredService<ILogger<EntitlementGroupCheck>>()));

        // What the convergers share.
        services.TryAddSingleton<ProvisioningMetrics>();
        services.TryAddSingleton<ScopeEvaluator>();
        services.TryAddSingleton<DestructiveGate>();

        // The convergers take a plain ILogger; each gets its own category.
        services.TryAddSingleton(provider => new UserConverger(
            provider.GetRequiredService<StateStore>(), provider.GetRequiredService<IDirectorySource>(), provider.GetRequiredService<IScimClient>(),
            provider.GetRequiredService<AttributeMapper>(), provider.GetRequiredService<ScopeEvaluator>(), provider.GetRequiredService<DestructiveGate>(),
            provider.GetRequiredService<SyncOptions>(), provider.GetRequiredService<ProvisioningMetrics>(), provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<ILogger<UserConverger>>(), provider.GetRequiredService<ConfiguredEntitlements>().Resolver));
        services.TryAddSingleton(provider => new GroupConverger(
            provider.GetRequiredService<StateStore>(), provider.GetRequiredService<IDirectorySource>(), provider.GetRequiredService<IScimClient>(),
            provider.GetRequiredService<SyncOptions>(), provider.GetRequiredService<ProvisioningMetrics>(), provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<ILogger<GroupConverger>>()));

        // The operations, one class per caller (docs/engine.md, "Which class decides what").
        services.TryAddSingleton<WorkItemProcessor>();
        services.TryAddSingleton<WorkItemRetryPolicy>();
        services.TryAddSingleton<FullSync>();
        services.TryAddSingleton<OperatorQueries>();
        services.TryAddSingleton<StagedActionReview>();
        services.TryAddSingleton<DisabledUserPurge>();
        services.TryAddSingleton<GroupReconciler>();
        services.TryAddSingleton<SubscriptionKeeper>();
        services.AddHistory();
        services.TryAddSingleton(provider => new DeltaSweeper(
            provider.GetRequiredService<StateStore>(), provider.GetRequiredService<IDirectorySource>(), provider.GetRequiredService<WorkQueue>(),
            provider.GetRequiredService<SyncOptions>(), provider.GetRequiredService<TimeProvider>(), provider.GetRequiredService<ILogger<DeltaSweeper>>(),
            new TargetHintWriter(provider.GetRequiredService<StateStore>(), provider.GetRequiredService<IScimClient>(), provider.GetRequiredService<AttributeMapper>(),
                provider.GetRequiredService<SyncOptions>(), provider.GetRequiredService<TimeProvider>(), provider.GetRequiredService<ILogger<TargetHintWriter>>())));
        return services;
    }

    /// <summary>A connection string (Azurite, local) or the table endpoint with a managed identity (Azure).
    /// <c>TableServiceClient</c> takes the endpoint as <c>endpoint</c>, so the Functions-style
    /// <c>tableServiceUri</c> is passed explicitly here.</summary>
    public static TableServiceClient CreateTableServiceClient(StateOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return new TableServiceClient(options.ConnectionString, StateClientOptions.Create());
        }

        if (options.TableServiceUri is null)
        {
            throw new InvalidOperationException("Setting State__ConnectionString or State__TableServiceUri is required.");
        }

        var credential = string.IsNullOrWhiteSpace(options.ClientId)
            ? new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned)
            : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(options.ClientId));
        return new TableServiceClient(options.TableServiceUri, credential, StateClientOptions.Create());
    }
}
