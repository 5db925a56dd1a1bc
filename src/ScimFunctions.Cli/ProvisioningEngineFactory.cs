using System.Globalization;
using Azure.Data.Tables;
using Azure.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ScimFunctions.Provisioning;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Notifications;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;
using ScimFunctions.Provisioning.Sync;
using ScimFunctions.Provisioning.Sync.Entitlements;

namespace ScimFunctions.Cli;

/// <summary>Builds the real engine with the same registrations and settings as the Functions app:
/// <c>AddScimTarget</c>, <c>AddGraphDirectory</c> (or a snapshot file), <c>AddProvisioningEngine</c>.</summary>
internal sealed class ProvisioningEngineFactory(TimeProvider time) : IScimfnEngineFactory
{
    public async Task<IScimfnEngine> CreateAsync(EngineSettings settings, ILoggerFactory loggerFactory, CancellationToken cancellationToken = default)
    {
        var configuration = settings.Settings;
        var services = new ServiceCollection();
        services.AddSingleton(configuration);
        services.AddSingleton(time);
        services.AddSingleton(loggerFactory);
        services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));

        var requestLog = new ScimRequestLog(configuration[$"{ScimOptions.Section}:{nameof(ScimOptions.BaseUrl)}"]);
        if (settings.Connected)
        {
            // Outermost on every client: it sees each request the SCIM client sends, retries included.
            services.ConfigureHttpClientDefaults(http => http.AddHttpMessageHandler(requestLog.Handler));
            services.AddScimTarget(configuration);
            if (settings.SnapshotPath is { } path)
            {
                services.AddSingleton<IDirectorySource>(DirectorySources.Snapshot(path, loggerFactory: loggerFactory));
            }
            else
            {
                services.AddGraphDirectory(configuration);
            }
        }
        else
        {
            // status and staged discard read and write Table Storage only; nothing else may be contacted.
            services.AddSingleton(OfflineTarget.ScimClient());
            services.AddSingleton(OfflineTarget.Directory());
        }

        // An operator signs in with their own Azure identity (az login, environment, ...), not a managed identity.
        var state = configuration.GetSection(StateOptions.Section).Get<StateOptions>();
        if (string.IsNullOrWhiteSpace(state?.ConnectionString) && state?.TableServiceUri is { } tableServiceUri)
        {
            services.AddSingleton(new TableServiceClient(tableServiceUri, new DefaultAzureCredential(), StateClientOptions.Create()));
        }

        services.AddProvisioningEngine(configuration);
        var provider = services.BuildServiceProvider();
        try
        {
            provider.GetService<IStartupValidator>()?.Validate();
            if (settings.Connected)
            {
                // The hosted services of the engine (the entitlement rule groups must exist) as a host would start them.
                foreach (var check in provider.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<EntitlementGroupCheck>())
                {
                    try
                    {
                        await check.StartAsync(cancellationToken);
                    }
                    catch (InvalidOperationException ex)
                    {
                        throw new CliUsageException(ex.Message);
                    }
                }
            }

            return new ProvisioningEngine(
                provider,
                provider.GetRequiredService<FullSync>(),
                provider.GetRequiredService<OperatorQueries>(),
                provider.GetRequiredService<StagedActionReview>(),
                provider.GetRequiredService<WorkItemProcessor>(),
                provider.GetRequiredService<IScimClient>(),
                provider.GetRequiredService<IDirectorySource>(),
                requestLog,
                time)
            {
                History = provider.GetRequiredService<HistoryStore>(),
                Options = provider.GetRequiredService<SyncOptions>(),
            };
        }
        catch
        {
            provider.Dispose();
            throw;
        }
    }

    /// <summary>Each command reaches the engine class that does its job: sync, explain and status, staged actions,
    /// one work item (provision).</summary>
    private sealed class ProvisioningEngine(
        ServiceProvider provider,
        FullSync fullSync,
        OperatorQueries queries,
        StagedActionReview staged,
        WorkItemProcessor workItems,
        IScimClient scim,
        IDirectorySource directory,
        ScimRequestLog requestLog,
        TimeProvider time) : IScimfnEngine
    {
        /// <summary>Beyond this many groups one listing of the group table is cheaper than a point read each.</summary>
        private const int GroupPointReads = 50;

        public required HistoryStore History { get; init; }

        private StateStore Store => provider.GetRequiredService<StateStore>();

        public required SyncOptions Options { get; init; }

        public async Task<GroupNameBook> GroupNamesAsync(IReadOnlyCollection<string> ids, IReadOnlyDictionary<string, string>? seen = null, CancellationToken cancellationToken = default)
        {
            var wanted = ids.Where(TableKeys.IsValid).ToHashSet(StringComparer.Ordinal);
            if (wanted.Count == 0)
            {
                return GroupNameBook.Empty;
            }

            var rows = new Dictionary<string, GroupMapping>(StringComparer.Ordinal);
            if (wanted.Count <= GroupPointReads)
            {
                foreach (var id in wanted)
                {
                    if (await Store.GetGroupAsync(id, cancellationToken) is { } row)
                    {
                        rows[id] = row;
                    }
                }
            }
            else
            {
                await foreach (var row in Store.ListGroupsAsync(cancellationToken))
                {
                    if (wanted.Contains(row.ObjectId))
                    {
                        rows[row.ObjectId] = row;
                    }
                }
            }

            var names = new Dictionary<string, GroupName>(StringComparer.Ordinal);
            foreach (var id in wanted)
            {
                var row = rows.GetValueOrDefault(id);
                var entra = seen?.GetValueOrDefault(id) ?? row?.DisplayName;
                names[id] = new GroupName(id, entra, GroupName.TargetNameOf(Options.Groups.Map, id, entra), row?.ScimId);
            }

            return new GroupNameBook(names);
        }

        public async Task<UserHistoryReport> HistoryAsync(string idOrUserPrincipalName, CancellationToken cancellationToken = default)
        {
            var query = idOrUserPrincipalName.Trim();

            // The rows hold ids only: a userPrincipalName is looked up in the directory, an object id is used as given.
            var objectId = query.Contains('@', StringComparison.Ordinal)
                ? (await directory.GetUserAsync(query, cancellationToken))?.Id
                : TableKeys.IsValid(query) ? query : null;
            if (objectId is null)
            {
                return new UserHistoryReport(query, null, null, [], Options.HistoryDays, GroupNameBook.Empty);
            }

            var mapping = await Store.GetUserAsync(objectId, cancellationToken);
            var entries = await History.ListAsync(objectId, cancellationToken: cancellationToken);
            var groups = await GroupNamesAsync(entries.Select(e => e.GroupId).OfType<string>().Distinct(StringComparer.Ordinal).ToList(), cancellationToken: cancellationToken);
            return new UserHistoryReport(query, objectId, mapping, entries, Options.HistoryDays, groups);
        }

        public async Task<ProvisionReport> ProvisionUserAsync(string idOrUserPrincipalName, CancellationToken cancellationToken = default)
        {
            var query = idOrUserPrincipalName.Trim();
            var user = await directory.GetUserAsync(query, cancellationToken);
            // An object id the directory no longer has still converges: the engine decides what a leaver gets.
            var objectId = user?.Id ?? (TableKeys.IsValid(query) && !query.Contains('@', StringComparison.Ordinal) ? query : null);
            if (objectId is null)
            {
                return new ProvisionReport(query, null, [], [], []);
            }

            requestLog.Start();
            var steps = new List<ProvisionStep>();
            var notRun = new List<FollowUp>();
            var followUps = await RunAsync(WorkItemKind.User, objectId, steps, cancellationToken);
            foreach (var group in followUps.Where(f => f.Kind == WorkItemKind.Group).DistinctBy(f => f.ObjectId))
            {
                notRun.AddRange(await RunAsync(WorkItemKind.Group, group.ObjectId, steps, cancellationToken));
            }

            notRun.AddRange(followUps.Where(f => f.Kind != WorkItemKind.Group));
            return new ProvisionReport(query, objectId, steps, notRun, requestLog.Stop());
        }

        public async Task<ProvisionReport> ProvisionGroupAsync(string groupId, CancellationToken cancellationToken = default)
        {
            var id = groupId.Trim();
            var group = TableKeys.IsValid(id) ? await directory.GetGroupAsync(id, cancellationToken: cancellationToken) : null;
            if (group is null)
            {
                return new ProvisionReport(id, null, [], [], []);
            }

            if (group.MemberIds.Count > ProvisionLimits.MaxGroupMembers)
            {
                throw new CliUsageException(string.Create(CultureInfo.InvariantCulture,
                    $"group {id} has {group.MemberIds.Count} members; 'provision --group' converges at most {ProvisionLimits.MaxGroupMembers} (use 'scimfn sync', or 'scimfn provision USER' for one member)."));
            }

            requestLog.Start();
            var steps = new List<ProvisionStep>();
            var notRun = new List<FollowUp>();
            foreach (var member in group.MemberIds)
            {
                // The group itself runs last, once, when every member has its SCIM id.
                notRun.AddRange((await RunAsync(WorkItemKind.User, member, steps, cancellationToken)).Where(f => f.Kind != WorkItemKind.Group));
            }

            notRun.AddRange((await RunAsync(WorkItemKind.Group, id, steps, cancellationToken)).Where(f => f.Kind != WorkItemKind.Group || f.ObjectId != id));
            return new ProvisionReport(id, id, steps, notRun, requestLog.Stop());
        }

        /// <summary>One object through <see cref="WorkItemProcessor.ProcessWorkItemAsync"/>, the function's own path. A
        /// permanent failure is on the row as the engine stores it; a transient one is for the operator to run again.</summary>
        private async Task<IReadOnlyList<FollowUp>> RunAsync(WorkItemKind kind, string objectId, List<ProvisionStep> steps, CancellationToken cancellationToken)
        {
            var item = new WorkItem(kind, objectId, WorkItemChangeTypes.Updated, null, null, time.GetUtcNow(), WorkItemSources.Cli);
            var result = await workItems.ProcessWorkItemAsync(item, cancellationToken: cancellationToken);

            steps.Add(new ProvisionStep(kind == WorkItemKind.User ? ObjectKind.User : ObjectKind.Group, objectId, result.Status, result.Reason, result.Description, result.Operations));
            return result.FollowUps;
        }

        public async Task<IReadOnlyDictionary<string, string>> UserNamesAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken = default)
        {
            try
            {
                var users = await directory.GetUsersAsync(ids, cancellationToken);
                return users.Where(u => u.Value.UserPrincipalName is not null).ToDictionary(u => u.Key, u => u.Value.UserPrincipalName!, StringComparer.Ordinal);
            }
            catch (DirectoryUnavailableException)
            {
                // Names only label the plan; without them it shows object ids.
                return new Dictionary<string, string>();
            }
        }

        public async Task<string?> CheckTargetAsync(CancellationToken cancellationToken = default)
        {
            var result = await scim.GetServiceProviderConfigAsync(cancellationToken);
            var detail = result.Error?.Detail ?? result.Outcome.ToString();
            return result.Outcome switch
            {
                ScimOutcome.Unauthorized => $"the target refused the credentials (--genesys-client-id/--genesys-client-secret or --scim-token): {detail}",
                ScimOutcome.NotFound => $"no SCIM service answers at --scim-url (setting Scim__BaseUrl): {detail}",
                ScimOutcome.Transient => $"the target cannot be reached at --scim-url (setting Scim__BaseUrl): {detail}",
                _ => null,
            };
        }

        public Task<SyncSummary> SyncAsync(bool dryRun, IProgress<SyncProgress>? progress, CancellationToken cancellationToken = default) =>
            fullSync.SyncAsync(dryRun, progress, cancellationToken);

        public Task<UserExplanation> ExplainAsync(string idOrUserPrincipalName, CancellationToken cancellationToken = default) =>
            queries.ExplainAsync(idOrUserPrincipalName, cancellationToken);

        public Task<SyncStatus> GetStatusAsync(CancellationToken cancellationToken = default) => queries.GetStatusAsync(cancellationToken);

        public Task<SyncSummary> ReleaseStagedAsync(CancellationToken cancellationToken = default) => staged.ReleaseStagedAsync(cancellationToken);

        public Task<SyncSummary> DiscardStagedAsync(CancellationToken cancellationToken = default) => staged.DiscardStagedAsync(cancellationToken);

        public ValueTask DisposeAsync() => provider.DisposeAsync();
    }
}
