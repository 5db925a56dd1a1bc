using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
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
        services.TryAddSingleton<UserConverger>();

        // The resolver exists only when Sync__Entitlements has rules; without it the projection is the mapping's.
        services.TryAddSingleton(provider => entitlements(provider) is { } resolver
            ? ActivatorUtilities.CreateInstance<UserProjector>(provider, resolver)
            : ActivatorUtilities.CreateInstance<UserProjector>(provider));

        services.TryAddSingleton<GroupTargetResolver>();
        services.TryAddSingleton<GroupMemberSync>();
        services.TryAddSingleton<GroupConverger>();
        return services;
    }
}
