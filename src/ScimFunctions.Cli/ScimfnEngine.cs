using Microsoft.Extensions.Logging;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.Cli;

/// <summary>The engine as the commands use it. The seam lets the parser tests run every command, exit code
/// and output without a target, a directory or Table Storage.</summary>
internal interface IScimfnEngine : IAsyncDisposable
{
    Task<SyncSummary> SyncAsync(bool dryRun, IProgress<SyncProgress>? progress, CancellationToken cancellationToken = default);
}

internal interface IScimfnEngineFactory
{
    /// <summary>Builds the engine from validated settings. Throws <see cref="CliUsageException"/> for a setting
    /// the engine's own validation rejects.</summary>
    Task<IScimfnEngine> CreateAsync(EngineSettings settings, ILoggerFactory loggerFactory, CancellationToken cancellationToken = default);
}
