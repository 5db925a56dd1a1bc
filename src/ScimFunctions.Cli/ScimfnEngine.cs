using Microsoft.Extensions.Logging;
using ScimFunctions.Provisioning.State;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.Cli;

/// <summary>The engine as the commands use it (<see cref="FullSync"/>, <see cref="OperatorQueries"/>, <see cref="StagedActionReview"/>, <see cref="WorkItemProcessor"/>). The seam lets the
/// parser tests run every command, exit code and output without a target, a directory or Table Storage.</summary>
internal interface IScimfnEngine : IAsyncDisposable
{
    /// <summary>One request to the target before a connected command starts, so wrong credentials or a wrong
    /// URL end in one clear line (exit 1) instead of a failure per user. Null when the target answers.</summary>
    Task<string?> CheckTargetAsync(CancellationToken cancellationToken = default);

    /// <summary>userPrincipalName by object id for the users the directory knows, to label a plan for people
    /// (Graph reads them in batches). Ids the directory does not know are left out.</summary>
    Task<IReadOnlyDictionary<string, string>> UserNamesAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken = default);

    /// <summary>Names of the given Entra groups, for people: the state's group rows, the names a run saw
    /// (<paramref name="seen"/>: <see cref="SyncSummary.GroupNames"/>) and the group map. Reads Table Storage only.</summary>
    Task<GroupNameBook> GroupNamesAsync(IReadOnlyCollection<string> ids, IReadOnlyDictionary<string, string>? seen = null, CancellationToken cancellationToken = default);

    /// <summary>What the connector did for one user, newest first (the <c>ScimHistory</c> rows), with the mapping and group names.</summary>
    Task<UserHistoryReport> HistoryAsync(string idOrUserPrincipalName, CancellationToken cancellationToken = default);

    Task<SyncSummary> SyncAsync(bool dryRun, IProgress<SyncProgress>? progress, CancellationToken cancellationToken = default);

    Task<UserExplanation> ExplainAsync(string idOrUserPrincipalName, CancellationToken cancellationToken = default);

    Task<SyncStatus> GetStatusAsync(CancellationToken cancellationToken = default);

    Task<SyncSummary> ReleaseStagedAsync(CancellationToken cancellationToken = default);

    Task<SyncSummary> DiscardStagedAsync(CancellationToken cancellationToken = default);

    /// <summary>Converges one user now, as <c>ProvisionObject</c> would a work item for it (same engine, same
    /// threshold), then the groups that were waiting for it.</summary>
    Task<ProvisionReport> ProvisionUserAsync(string idOrUserPrincipalName, CancellationToken cancellationToken = default);

    /// <summary>Converges a group's members (at most <see cref="ProvisionLimits.MaxGroupMembers"/>), then the group.</summary>
    Task<ProvisionReport> ProvisionGroupAsync(string groupId, CancellationToken cancellationToken = default);
}

internal static class ProvisionLimits
{
    /// <summary>As Entra's provision on demand: a group with more members is a job for <c>scimfn sync</c>, which
    /// batches its reads, rather than for a command an operator waits on.</summary>
    public const int MaxGroupMembers = 5;
}

internal interface IScimfnEngineFactory
{
    /// <summary>Builds the engine from resolved settings. Throws <see cref="Microsoft.Extensions.Options.OptionsValidationException"/>
    /// for a setting the engine's own validation rejects.</summary>
    Task<IScimfnEngine> CreateAsync(EngineSettings settings, ILoggerFactory loggerFactory, CancellationToken cancellationToken = default);
}

/// <summary>What <c>scimfn history</c> shows.</summary>
/// <param name="ObjectId">The user the query resolved to; null when the directory does not know the userPrincipalName.</param>
/// <param name="HistoryDays">How long rows are kept (<c>Sync__HistoryDays</c>).</param>
internal sealed record UserHistoryReport(string Query, string? ObjectId, UserMapping? Mapping, IReadOnlyList<HistoryEntry> Entries, int HistoryDays, GroupNameBook Groups);

/// <summary>One object <c>scimfn provision</c> converged, as the engine settled it.</summary>
internal sealed record ProvisionStep(ObjectKind ObjectKind, string ObjectId, WorkItemStatus Status, string? Reason, string? Description, IReadOnlyList<PlannedOperation> Operations);

/// <summary>What <c>scimfn provision</c> did and what it took.</summary>
/// <param name="ObjectId">The object the query resolved to; null when the directory does not know it.</param>
/// <param name="NotRun">Follow-ups the engine asked for that this command leaves to the functions or the next sweep
/// (reports whose manager reference can now be set).</param>
/// <param name="ScimRequests">Every request sent to the target, in order: <c>METHOD /path status</c>.</param>
internal sealed record ProvisionReport(
    string Query,
    string? ObjectId,
    IReadOnlyList<ProvisionStep> Steps,
    IReadOnlyList<FollowUp> NotRun,
    IReadOnlyList<string> ScimRequests);
