using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Graph;
using ScimFunctions.Provisioning.Notifications;

namespace ScimFunctions.Provisioning.Directory;

/// <summary>Registers the Graph directory source and the subscription manager for a host with a container.</summary>
public static class DirectoryRegistration
{
    /// <summary>Binds section <c>Graph</c> (validated at start) and registers one <see cref="GraphServiceClient"/>,
    /// <see cref="GraphDirectorySource"/> and <see cref="IDirectorySource"/>.</summary>
    public static IServiceCollection AddGraphDirectory(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<GraphOptions>().Bind(configuration.GetSection(GraphOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GraphOptions>, GraphOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(provider => GraphClients.Create(provider.GetRequiredService<IOptions<GraphOptions>>().Value));
        services.TryAddSingleton(provider => new GraphDirectorySource(
            provider.GetRequiredService<GraphServiceClient>(),
            provider.GetRequiredService<IOptions<GraphOptions>>().Value,
            provider.GetRequiredService<ILogger<GraphDirectorySource>>(),
            provider.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<IDirectorySource>(provider => provider.GetRequiredService<GraphDirectorySource>());
        return services;
    }

    /// <summary>Registers <see cref="IGraphSubscriptions"/> for the Functions app: the subscription settings
    /// of section <c>Graph</c> (validated at start) and the clientState from <c>Notifications__ClientState</c>.
    /// Call after <see cref="AddGraphDirectory"/>.</summary>
    public static IServiceCollection AddGraphSubscriptions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<GraphSubscriptionOptions>().Bind(configuration.GetSection(GraphOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GraphSubscriptionOptions>, GraphSubscriptionOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(provider => new GraphSubscriptionManager(
            provider.GetRequiredService<GraphServiceClient>(),
            provider.GetRequiredService<IOptions<GraphSubscriptionOptions>>().Value,
            provider.GetRequiredService<IOptions<NotificationOptions>>().Value.ClientState,
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<ILogger<GraphSubscriptionManager>>()));
        services.TryAddSingleton<IGraphSubscriptions>(provider => provider.GetRequiredService<GraphSubscriptionManager>());
        return services;
    }
}
