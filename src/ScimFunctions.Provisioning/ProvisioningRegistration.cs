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

namespace ScimFunctions.Provisioning;

/// <summary>Registers the engine for a host. The host also registers an <see cref="IScimClient"/> and an
/// <see cref="IDirectorySource"/> (and <see cref="IGraphSubscriptions"/> and <see cref="WorkQueue"/> where
/// notifications and sweeps run).</summary>
public static class ProvisioningRegistration
{
    public const string EngineLoggerCategory = "ScimFunctions.Provisioning.Engine";

    public static IServiceCollection AddProvisioningEngine(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();

        services.AddOptions<StateOptions>()
            .BindConfiguration(StateOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddOptions<SyncOptions>()
            .BindConfiguration(SyncOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<SyncOptions>>(new SyncOptionsValidator(configuration));

        services.TryAddSingleton(provider => CreateTableServiceClient(provider.GetRequiredService<IOptions<StateOptions>>().Value));
        services.TryAddSingleton(provider => new StateStore(provider.GetRequiredService<TableServiceClient>(), provider.GetRequiredService<IOptions<StateOptions>>().Value.TablePrefix));
        services.TryAddSingleton(provider => provider.GetRequiredService<IOptions<SyncOptions>>().Value);
        services.TryAddSingleton(provider => provider.GetRequiredService<SyncOptions>().Threshold);
        services.TryAddSingleton<ProvisioningMetrics>();
        services.TryAddSingleton(provider =>
        {
            var sync = provider.GetRequiredService<SyncOptions>();
            var rules = AttributeMapper.ParseRules(configuration[$"{SyncOptions.Section}:AttributeMapping"], sync.AttributeMapping, sync.Division);
            return new AttributeMapper(rules, sync.DefaultPhoneCountryCode, provider.GetRequiredService<IScimClient>().Capabilities.SupportedUserSchemas);
        });
        services.TryAddSingleton(provider => new ScopeEvaluator(provider.GetRequiredService<SyncOptions>().Scope, provider.GetRequiredService<IDirectorySource>(), provider.GetRequiredService<TimeProvider>(), EngineLogger(provider)));
        services.TryAddSingleton(provider =>
        {
            var sync = provider.GetRequiredService<SyncOptions>();
            var rules = EntitlementRules.Parse(sync.Entitlements);
            return new EntitlementHolder(rules.IsEmpty ? null : new EntitlementResolver(rules, provider.GetRequiredService<IDirectorySource>(), provider.GetRequiredService<TimeProvider>(), sync.Scope.GroupCacheSeconds));
        });
        services.AddHostedService(provider => new EntitlementGroupCheck(provider.GetRequiredService<EntitlementHolder>().Resolver, EngineLogger(provider)));
        services.TryAddSingleton(provider => new DestructiveGate(provider.GetRequiredService<StateStore>(), provider.GetRequiredService<ThresholdOptions>(), provider.GetRequiredService<TimeProvider>(), EngineLogger(provider)));
        services.AddConvergers(provider => provider.GetRequiredService<EntitlementHolder>().Resolver);
        services.TryAddSingleton(provider => provider.GetService<IGraphSubscriptions>() is { } graph
            ? new SubscriptionKeeperHolder(new SubscriptionKeeper(provider.GetRequiredService<StateStore>(), graph, provider.GetRequiredService<SyncOptions>(), provider.GetRequiredService<TimeProvider>(), EngineLogger(provider)))
            : new SubscriptionKeeperHolder(null));
        services.TryAddSingleton(provider => new SyncRunner(
            provider.GetRequiredService<StateStore>(), provider.GetRequiredService<IDirectorySource>(), provider.GetRequiredService<IScimClient>(),
            provider.GetRequiredService<UserConverger>(), provider.GetRequiredService<GroupConverger>(), provider.GetRequiredService<ScopeEvaluator>(),
            provider.GetRequiredService<SyncOptions>(), provider.GetRequiredService<TimeProvider>(), provider.GetRequiredService<ILogger<SyncRunner>>(),
            provider.GetRequiredService<SubscriptionKeeperHolder>().Keeper,
            provider.GetRequiredService<EntitlementHolder>().Resolver));
        services.TryAddSingleton(provider => new DeltaSweeper(
            provider.GetRequiredService<StateStore>(), provider.GetRequiredService<IDirectorySource>(), provider.GetRequiredService<WorkQueue>(),
            provider.GetRequiredService<SyncOptions>(), provider.GetRequiredService<TimeProvider>(), EngineLogger(provider),
            new TargetHintWriter(provider.GetRequiredService<StateStore>(), provider.GetRequiredService<IScimClient>(), provider.GetRequiredService<AttributeMapper>(),
                provider.GetRequiredService<SyncOptions>(), provider.GetRequiredService<TimeProvider>(), EngineLogger(provider))));
        return services;
    }

    /// <summary>A connection string (Azurite, local) or the table endpoint with a managed identity (Azure).
    /// <c>TableServiceClient</c> takes the endpoint as <c>endpoint</c>, so the Functions-style
    /// <c>tableServiceUri</c> is passed explicitly here.</summary>
    public static TableServiceClient CreateTableServiceClient(StateOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return new TableServiceClient(options.ConnectionString);
        }

        if (options.TableServiceUri is null)
        {
            throw new InvalidOperationException("Setting State__ConnectionString or State__TableServiceUri is required.");
        }

        var credential = string.IsNullOrWhiteSpace(options.ClientId)
            ? new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned)
            : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(options.ClientId));
        return new TableServiceClient(options.TableServiceUri, credential);
    }

    private static ILogger EngineLogger(IServiceProvider provider) =>
        provider.GetRequiredService<ILoggerFactory>().CreateLogger(EngineLoggerCategory);

    /// <summary>Subscriptions are optional (a snapshot directory has none).</summary>
    internal sealed record SubscriptionKeeperHolder(SubscriptionKeeper? Keeper);

    /// <summary>Entitlement rules are optional (no <c>Sync__Entitlements</c>: none).</summary>
    internal sealed record EntitlementHolder(EntitlementResolver? Resolver);

    /// <summary>Every problem with the Sync settings, each naming its setting; empty when valid.
    /// <paramref name="attributeMappingJson"/> is <c>Sync__AttributeMapping</c> when given as one JSON string.</summary>
    public static IReadOnlyList<string> ValidateSyncOptions(SyncOptions options, string? attributeMappingJson = null)
    {
        var results = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
        foreach (var section in new object[] { options, options.Scope, options.Threshold, options.Groups })
        {
            System.ComponentModel.DataAnnotations.Validator.TryValidateObject(section, new System.ComponentModel.DataAnnotations.ValidationContext(section), results, validateAllProperties: true);
        }

        var failures = results.Select(r => r.ErrorMessage ?? "Invalid Sync setting.").ToList();
        try
        {
            _ = new AttributeMapper(AttributeMapper.ParseRules(attributeMappingJson, options.AttributeMapping, options.Division), options.DefaultPhoneCountryCode);
        }
        catch (FormatException ex)
        {
            failures.Add(ex.Message);
        }

        try
        {
            var rules = EntitlementRules.Parse(options.Entitlements);
            var mapsDivision = AttributeMapper.ParseRules(attributeMappingJson, options.AttributeMapping, options.Division)
                .Any(r => string.Equals(r.Target?.Trim(), EntitlementProjection.DivisionKey, StringComparison.OrdinalIgnoreCase));
            if (rules.GivesDivision && mapsDivision)
            {
                failures.Add($"Setting {EntitlementRules.Setting} gives divisions while Sync__Division or Sync__AttributeMapping also sets the division; keep one (put the constant in defaultDivision).");
            }
        }
        catch (FormatException ex)
        {
            failures.Add(ex.Message);
        }

        if (options.Scope.Mode.Equals("filter", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                ScopeFilter.Parse(options.Scope.Filter ?? "");
            }
            catch (FormatException ex)
            {
                failures.Add(ex.Message);
            }
        }

        if (options.Scope.Mode.Equals("groups", StringComparison.OrdinalIgnoreCase) && string.IsNullOrWhiteSpace(options.Scope.Groups))
        {
            failures.Add("Setting Sync__Scope__Groups must list at least one Entra group id when Sync__Scope__Mode is groups.");
        }

        return failures;
    }

    /// <summary>Fails the host at start when the mapping, the scope or a nested setting is wrong, naming the setting.</summary>
    private sealed class SyncOptionsValidator(IConfiguration configuration) : IValidateOptions<SyncOptions>
    {
        public ValidateOptionsResult Validate(string? name, SyncOptions options)
        {
            var failures = ValidateSyncOptions(options, configuration[$"{SyncOptions.Section}:AttributeMapping"]);
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}
