using Microsoft.Extensions.Logging;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.Cli;

/// <summary>The engine as the commands use it (<see cref="SyncRunner"/>'s operator surface). The seam lets the
/// parser tests run every command, exit code and output without a target, a directory or Table Storage.</summary>
internal interface IScimfnEngine : IAsyncDisposable
{
    /// <summary>One request to the target before a connected command starts, so wrong credentials or a wrong
    /// URL end in one clear line (exit 1) instead of a failure per user. Null when the target answers.</summary>
    Task<string?> CheckTargetAsync(CancellationToken cancellationToken = default);

    /// <summary>userPrincipalName by object id for the users the directory knows, to label a plan for people
    /// (Graph reads them in batches). Ids the directory does not know are left out.</summary>
    Task<IReadOnlyDictionary<string, string>> UserNamesAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken = default);

    Task<SyncSummary> SyncAsync(bool dryRun, IProgress<SyncProgress>? progress, CancellationToken cancellationToken = default);

    Task<UserExplanation> ExplainAsync(string idOrUserPrincipalName, CancellationToken cancellationToken = default);

    Task<SyncStatus> GetStatusAsync(CancellationToken cancellationToken = default);

    Task<SyncSummary> ReleaseStagedAsync(CancellationToken cancellationToken = default);

    Task<SyncSummary> DiscardStagedAsync(CancellationToken cancellationToken = default);
}

internal interface IScimfnEngineFactory
{
    /// <summary>Builds the engine from resolved settings. Throws <see cref="Microsoft.Extensions.Options.OptionsValidationException"/>
    /// for a setting the engine's own validation rejects.</summary>
    Task<IScimfnEngine> CreateAsync(EngineSettings settings, ILoggerFactory loggerFactory, CancellationToken cancellationToken = default);
}
