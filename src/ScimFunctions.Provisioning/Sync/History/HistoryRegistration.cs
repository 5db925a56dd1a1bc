using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using ScimFunctions.Provisioning.State;

namespace ScimFunctions.Provisioning.Sync.History;

/// <summary>Registers the per-user history (one call from <c>AddProvisioningEngine</c>).</summary>
public static class HistoryRegistration
{
    public static IServiceCollection AddHistory(this IServiceCollection services)
    {
        services.TryAddSingleton(provider => new HistoryStore(provider.GetRequiredService<StateStore>()));
        services.TryAddSingleton(provider => new HistoryRecorder(
            provider.GetRequiredService<HistoryStore>(), provider.GetRequiredService<StateStore>(), provider.GetRequiredService<ProvisioningMetrics>(),
            provider.GetRequiredService<TimeProvider>(), provider.GetRequiredService<ILogger<HistoryRecorder>>()));
        return services;
    }
}
