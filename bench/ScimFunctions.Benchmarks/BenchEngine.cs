using Azure.Data.Tables;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ScimFunctions.Provisioning;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.Benchmarks;

/// <summary>The engine as the hosts build it (<c>AddProvisioningEngine</c>, settings validated), over the benchmark's
/// SCIM client, directory and counted Table client.</summary>
internal sealed class BenchEngine : IDisposable
{
    private readonly ServiceProvider _services;

    private BenchEngine(ServiceProvider services) => _services = services;

    public static BenchEngine Build(IScimClient scim, IDirectorySource directory, TableServiceClient tables, string tablePrefix, int parallelism = 4)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["State:TablePrefix"] = tablePrefix,

            // Required by the State settings; the counted TableServiceClient registered below is the one used.
            ["State:ConnectionString"] = "UseDevelopmentStorage=true",
            ["Sync:Parallelism"] = parallelism.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        services.AddSingleton(scim);
        services.AddSingleton(directory);
        services.AddSingleton(tables);
        services.AddProvisioningEngine(configuration);
        var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        return new BenchEngine(provider);
    }

    public Task<SyncSummary> SyncAsync(bool dryRun) => _services.GetRequiredService<FullSync>().SyncAsync(dryRun);

    public Task<SyncSummary> ReconcileGroupsAsync() => _services.GetRequiredService<GroupReconciler>().ReconcileGroupsAsync();

    public void Dispose() => _services.Dispose();
}
