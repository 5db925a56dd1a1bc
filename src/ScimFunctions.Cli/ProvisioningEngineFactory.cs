using Microsoft.Extensions.Logging;

namespace ScimFunctions.Cli;

/// <summary>Builds the real engine over the SCIM client, the directory source and Table Storage.</summary>
internal sealed class ProvisioningEngineFactory : IScimfnEngineFactory
{
    public Task<IScimfnEngine> CreateAsync(EngineSettings settings, ILoggerFactory loggerFactory, CancellationToken cancellationToken = default) =>
        throw new CliUsageException("the provisioning engine is not wired into scimfn yet.");
}
