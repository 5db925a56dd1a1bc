using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;
using ScimFunctions.Provisioning.Sync.Entitlements;
using ScimFunctions.Provisioning.Sync.Groups;
using ScimFunctions.Provisioning.Sync.Users;

namespace ScimFunctions.Provisioning.Sync;

/// <summary>Registers the convergers and their lifecycle steps by type (each logs as <c>ILogger&lt;T&gt;</c>).
/// Called once from <see cref="ProvisioningRegistration.AddProvisioningEngine"/>, which registers what they take.</summary>
internal static class ConvergerRegistration
{
    /// <param name="entitlements">The entitlement rules' resolver, when <c>Sync__Entitlements</c> has rules.</param>
    public static IServiceCollection AddConvergers(this IServiceCollection services, Func<IServiceProvider, EntitlementResolver?> entitlements)
    {
        services.TryAddSingleton<UserRows>();
        services.TryAddSingleton<UserFollowUps>();
        services.TryAddSingleton<UserPatcher>();
        services.TryAddSingleton<UserJoiner>();
        services.TryAddSingleton<UserMover>();
        services.TryAddSingleton<UserLeaver>();
        services.TryAddSingleton<UserPurger>();
        services.TryAddSingleton<UserDriftCheck>();
        services.TryAddSingleton(provider => entitlements(provider) is { } resolver
            ? ActivatorUtilities.CreateInstance<UserConverger>(provider, resolver)
            : ActivatorUtilities.CreateInstance<UserConverger>(provider));

        services.TryAddSingleton<GroupTargetResolver>();
        services.TryAddSingleton<GroupMemberSync>();
        services.TryAddSingleton<GroupConverger>();
        return services;
    }

    /// <summary>The convergers for an engine built without a host (<see cref="SyncRunner.Create"/>), through the same
    /// registrations as a host's.</summary>
    internal static (UserConverger Users, GroupConverger Groups) Build(
        StateStore store, IDirectorySource directory, IScimClient scim, AttributeMapper mapper, ScopeEvaluator scope, DestructiveGate gate,
        SyncOptions options, ProvisioningMetrics metrics, TimeProvider time, ILoggerFactory loggers, EntitlementResolver? entitlements)
    {
        var services = new ServiceCollection()
            .AddSingleton(store).AddSingleton(directory).AddSingleton(scim).AddSingleton(mapper).AddSingleton(scope).AddSingleton(gate)
            .AddSingleton(options).AddSingleton(metrics).AddSingleton(time).AddSingleton(loggers)
            .AddSingleton(typeof(ILogger<>), typeof(Logger<>))
            .AddConvergers(_ => entitlements);

        // Everything it holds is a singleton the runner keeps; nothing it creates needs disposing.
        var provider = services.BuildServiceProvider();
        return (provider.GetRequiredService<UserConverger>(), provider.GetRequiredService<GroupConverger>());
    }
}
