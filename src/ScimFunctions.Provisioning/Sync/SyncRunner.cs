using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Notifications;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;
using ScimFunctions.Provisioning.Sync.Entitlements;

namespace ScimFunctions.Provisioning.Sync;

/// <summary>The engine's public face for its hosts (the functions and <c>scimfn</c>): full syncs and plans,
/// one work item at a time, status, explain, the timers' jobs, and the operator's answer to staged actions.</summary>
public sealed class SyncRunner(
    StateStore store,
    IDirectorySource directory,
    IScimClient scim,
    UserConverger users,
    GroupConverger groups,
    ScopeEvaluator scope,
    SyncOptions options,
    TimeProvider time,
    ILogger<SyncRunner> logger,
    SubscriptionKeeper? subscriptions = null,
    EntitlementResolver? entitlements = null)
{
    public StateStore Store => store;

    /// <summary>Builds an engine without a host (the CLI, tests): the caller brings the SCIM client, the
    /// directory, the Table service and the settings.</summary>
    public static SyncRunner Create(
        IScimClient scim,
        IDirectorySource directory,
        TableServiceClient tables,
        SyncOptions options,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null,
        string tablePrefix = StateStore.DefaultPrefix,
        IGraphSubscriptions? graphSubscriptions = null,
        ProvisioningMetrics? metrics = null,
        IReadOnlyList<AttributeMappingRule>? attributeMapping = null)
    {
        var failures = ProvisioningRegistration.ValidateSyncOptions(options);
        if (failures.Count > 0)
        {
            throw new Microsoft.Extensions.Options.OptionsValidationException(SyncOptions.Section, typeof(SyncOptions), failures);
        }

        var time = timeProvider ?? TimeProvider.System;
        var loggers = loggerFactory ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;
        var store = new StateStore(tables, tablePrefix);
        var mapper = new AttributeMapper(attributeMapping ?? AttributeMapper.ParseRules(null, options.AttributeMapping, options.Division), options.DefaultPhoneCountryCode, scim.Capabilities.SupportedUserSchemas);
        metrics ??= new ProvisioningMetrics();
        var engineLogger = loggers.CreateLogger("ScimFunctions.Provisioning.Engine");
        var scope = new ScopeEvaluator(options.Scope, directory, time, engineLogger);
        var gate = new DestructiveGate(store, options.Threshold, time, engineLogger);
        var rules = EntitlementRules.Parse(options.Entitlements);
        var entitlements = rules.IsEmpty ? null : new EntitlementResolver(rules, directory, time, options.Scope.GroupCacheSeconds);
        var (users, groups) = ConvergerRegistration.Build(store, directory, scim, mapper, scope, gate, options, metrics, time, loggers, entitlements);
        var keeper = graphSubscriptions is null ? null : new SubscriptionKeeper(store, graphSubscriptions, options, time, engineLogger);
        return new SyncRunner(store, directory, scim, users, groups, scope, options, time, loggers.CreateLogger<SyncRunner>(), keeper, entitlements);
    }

    // ---------------- full sync ----------------

    /// <summary>Converges everything in scope: users, then groups. A dry run reads but writes nothing and
    /// returns the plan. A mapped user missing from a full enumeration is a leaver only when the directory
    /// confirms it (Graph 404; for a snapshot, absence is removal).</summary>
    public async Task<SyncSummary> SyncAsync(bool dryRun, IProgress<SyncProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var run = new RunContext(dryRun);
        var summary = new SummaryBuilder(scim.Counts);
        var now = time.GetUtcNow();

        var userCursor = await store.GetCursorAsync(DeltaSweeper.UsersCursor, cancellationToken);
        var delta = await directory.GetUserChangesAsync(null, cancellationToken);
        var seen = new Dictionary<string, DirectoryUser>(StringComparer.Ordinal);
        foreach (var user in delta.Changed)
        {
            seen[user.Id] = user;
        }

        var removed = delta.Removed.Where(r => !seen.ContainsKey(r.Id)).GroupBy(r => r.Id).Select(g => g.Last()).ToList();
        var removedIds = removed.Select(r => r.Id).ToHashSet(StringComparer.Ordinal);

        // Every row in pages of 1,000, once: the convergers decide "unchanged" from this copy instead of one
        // point read per user (they read the row again before anything else).
        var rows = new Dictionary<string, UserMapping>(StringComparer.Ordinal);
        var missing = new List<string>();
        await foreach (var row in store.ListUsersAsync(cancellationToken: cancellationToken))
        {
            rows[row.ObjectId] = row;
            if (row.State == LifecycleState.Active && row.ScimId is not null && !seen.ContainsKey(row.ObjectId) && !removedIds.Contains(row.ObjectId))
            {
                missing.Add(row.ObjectId);
            }
        }

        // Joiners: enabled users without a provisioned row. Listing the target once beats a lookup each.
        var joiners = seen.Values.Count(u => u.AccountEnabled && rows.GetValueOrDefault(u.Id) is not { IsProvisioned: true });
        var target = await TargetUserIndex.LoadAsync(scim, joiners, time, logger, cancellationToken);
        var fullRun = new FullRunState(rows, target);

        var total = seen.Count + removed.Count + missing.Count;
        var done = 0;
        var waitingForManager = new System.Collections.Concurrent.ConcurrentBag<string>();
        async ValueTask Converge(UserRequest request, CancellationToken ct)
        {
            try
            {
                var outcome = await users.ConvergeAsync(request, run, ct);
                summary.Add(outcome);
                if (outcome.Decision?.PendingManagerId is not null)
                {
                    waitingForManager.Add(request.ObjectId);
                }
            }
            catch (ProvisioningException ex)
            {
                summary.Fail(ObjectKinds.User, request.ObjectId, $"{ex.Reason}: {ex.Message}");
            }

            progress?.Report(new SyncProgress("users", Interlocked.Increment(ref done), total));
        }

        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Parallelism, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(seen.Values, parallel, (user, ct) => Converge(new UserRequest(user.Id, user, now) { FullRun = fullRun }, ct));
        await Parallel.ForEachAsync(removed, parallel, (r, ct) => Converge(new UserRequest(r.Id, Removed: r.Reason, ObservedAt: now), ct));
        await Parallel.ForEachAsync(missing, parallel, (id, ct) => Converge(new UserRequest(id), ct));

        // Reports whose manager was provisioned later in this run get the manager now.
        if (!dryRun)
        {
            foreach (var id in waitingForManager)
            {
                if (seen.TryGetValue(id, out var user) && user.ManagerId is { } managerId && await store.GetUserAsync(managerId, cancellationToken) is { IsProvisioned: true })
                {
                    await Converge(new UserRequest(id, user, time.GetUtcNow()), cancellationToken);
                }
            }
        }

        if (!dryRun && summary.FailureCount == 0)
        {
            await SaveCursorAsync(userCursor, delta, cancellationToken);
        }

        if (options.Groups.Enabled)
        {
            await SyncGroupsAsync(run, summary, progress, cancellationToken);
        }

        return summary.Build(scim.Counts);
    }

    private async Task SyncGroupsAsync(RunContext run, SummaryBuilder summary, IProgress<SyncProgress>? progress, CancellationToken cancellationToken)
    {
        var groupCursor = await store.GetCursorAsync(DeltaSweeper.GroupsCursor, cancellationToken);
        var delta = await directory.GetGroupChangesAsync(null, cancellationToken);
        var index = await UserIndex.LoadAsync(store, cancellationToken);
        var seen = new Dictionary<string, GroupChange>(StringComparer.Ordinal);
        foreach (var change in delta.Changed)
        {
            // A full enumeration lists every member as added; a group may span several pages.
            seen[change.Id] = seen.TryGetValue(change.Id, out var earlier)
                ? earlier with { DisplayName = change.DisplayName ?? earlier.DisplayName, MembersAdded = [.. earlier.MembersAdded, .. change.MembersAdded] }
                : change;
        }

        var requests = seen.Values.Select(c => options.Groups.Transitive
                ? new GroupRequest(c.Id)
                : new GroupRequest(c.Id, new DirectoryGroup(c.Id, c.DisplayName ?? c.Id, c.MembersAdded.Except(c.MembersRemoved).ToList())))
            .ToList();
        var removedIds = delta.Removed.Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
        await foreach (var mapping in store.ListGroupsAsync(cancellationToken))
        {
            if (mapping.State == GroupState.Managed && !seen.ContainsKey(mapping.ObjectId))
            {
                requests.Add(removedIds.Contains(mapping.ObjectId) ? new GroupRequest(mapping.ObjectId, Removed: true) : new GroupRequest(mapping.ObjectId));
            }
        }

        var done = 0;
        var failuresBefore = summary.FailureCount;
        await Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = options.Parallelism, CancellationToken = cancellationToken }, async (request, ct) =>
        {
            try
            {
                summary.Add(await groups.ConvergeAsync(request, run, index, ct));
            }
            catch (ProvisioningException ex)
            {
                summary.Fail(ObjectKinds.Group, request.ObjectId, $"{ex.Reason}: {ex.Message}");
            }

            progress?.Report(new SyncProgress("groups", Interlocked.Increment(ref done), requests.Count));
        });

        if (!run.DryRun && summary.FailureCount == failuresBefore)
        {
            await SaveCursorAsync(groupCursor, delta, cancellationToken);
        }
    }

    private async Task SaveCursorAsync<T>(DeltaCursor cursor, DeltaResult<T> delta, CancellationToken cancellationToken)
    {
        // The functions' delta sweep can resume from here instead of enumerating again. A cursor stored
        // within the last day is kept, so re-running on an unchanged directory writes nothing.
        var now = time.GetUtcNow();
        if (cursor.Link is not null && cursor.UpdatedAt is { } updated && now - updated < TimeSpan.FromDays(1))
        {
            return;
        }

        try
        {
            await store.SaveCursorAsync(cursor with { Link = delta.Cursor, UpdatedAt = now, LastFullResyncAt = now }, cancellationToken);
        }
        catch (StateConflictException)
        {
        }
    }

    // ---------------- one work item ----------------

    /// <summary>Converges the object a queued work item names. <paramref name="redelivered"/>: the message was
    /// delivered before, so follow-ups are recomputed even if nothing changes now.</summary>
    public async Task<WorkItemResult> ProcessWorkItemAsync(WorkItem item, bool redelivered = false, CancellationToken cancellationToken = default)
    {
        var run = new RunContext(dryRun: false, forceFollowUps: redelivered);
        try
        {
            switch (item.Kind)
            {
                case WorkItemKind.User:
                {
                    var fromDelta = item.Source == WorkItemSources.Delta;
                    RemovalReason? removal = fromDelta ? item.ChangeType switch
                    {
                        WorkItemChangeTypes.Deleted => RemovalReason.HardDeleted,
                        WorkItemChangeTypes.SoftDeleted => RemovalReason.SoftDeleted,
                        _ => null,
                    } : null;
                    var request = new UserRequest(item.ObjectId, fromDelta ? item.Observed : null, fromDelta ? item.ObservedAt : null, removal, item.ReceivedAt);
                    var outcome = await users.ConvergeAsync(request, run, cancellationToken);
                    return WorkItemResult.Done(outcome.Operations, outcome.FollowUps);
                }

                case WorkItemKind.Group:
                {
                    var followUps = new List<FollowUp>();
                    if (scope.IsScopeGroup(item.ObjectId))
                    {
                        followUps.AddRange(await ScopeGroupFollowUpsAsync(item.ObjectId, cancellationToken));
                    }

                    if (entitlements?.IsRuleGroup(item.ObjectId) == true)
                    {
                        // Members who joined or left an entitlement rule group: one convergence (one PATCH) each.
                        followUps.AddRange(await entitlements.GroupChangedFollowUpsAsync(item.ObjectId, store, cancellationToken));
                    }

                    if (!options.Groups.Enabled)
                    {
                        return WorkItemResult.Done([new PlannedOperation(ObjectKinds.Group, item.ObjectId, PlanActions.Skip, "group sync disabled (Sync__Groups__Enabled)")], followUps);
                    }

                    var removed = item.Source == WorkItemSources.Delta && item.ChangeType is WorkItemChangeTypes.Deleted or WorkItemChangeTypes.SoftDeleted;
                    var outcome = await groups.ConvergeAsync(new GroupRequest(item.ObjectId, Removed: removed, SeenAt: item.ReceivedAt), run, cancellationToken: cancellationToken);
                    return WorkItemResult.Done(outcome.Operations, followUps);
                }

                case WorkItemKind.Lifecycle:
                {
                    var action = subscriptions is null ? "no Graph subscriptions configured" : await subscriptions.HandleLifecycleAsync(item.ObjectId, item.ChangeType, cancellationToken);
                    return WorkItemResult.Done([new PlannedOperation("subscription", item.ObjectId, item.ChangeType, action)], sweepRequested: true);
                }

                default:
                    return new WorkItemResult(WorkItemStatus.Permanent, FailureReasons.MalformedBody, $"Unknown work item kind {item.Kind}.", [], false, []);
            }
        }
        catch (ProvisioningException ex)
        {
            if (ex.IsTransient)
            {
                EngineLog.Postponed(logger, ex, item.Kind.ToString(), item.ObjectId, ex.Reason);
            }
            else
            {
                EngineLog.Failed(logger, ex, item.Kind.ToString(), item.ObjectId, ex.Reason);

                // A permanent failure (e.g. a PATCH the target rejects: an unknown skill name) is shown by status.
                await TryRecordFailureAsync(item, $"{ex.Reason}: {ex.Message}", cancellationToken);
            }

            return WorkItemResult.Failed(ex);
        }
        catch (DirectoryUnavailableException ex)
        {
            EngineLog.Postponed(logger, ex, item.Kind.ToString(), item.ObjectId, FailureReasons.DirectoryUnavailable);
            return WorkItemResult.Failed(new ProvisioningException(FailureReasons.DirectoryUnavailable, "The directory could not be read.", ex.IsTransient, ex));
        }
        catch (StateConflictException ex)
        {
            // The row kept changing through every re-decision (or a lifecycle or scope step lost a race):
            // the host must still settle the message, so it is retried later like any transient failure.
            EngineLog.Postponed(logger, ex, item.Kind.ToString(), item.ObjectId, FailureReasons.StateConflicts);
            return WorkItemResult.Failed(new ProvisioningException(FailureReasons.StateConflicts, "The mapping row kept changing under concurrent writers.", isTransient: true, ex));
        }
        catch (RequestFailedException ex)
        {
            // Table Storage outside the convergers' own handling (lifecycle, scope groups), or a 400: a write
            // Table Storage will never accept, which retrying cannot fix.
            if (ex.Status == 400)
            {
                var rejected = new ProvisioningException(FailureReasons.StateRejected, $"Table Storage refused a write ({ex.ErrorCode}).", isTransient: false, ex);
                EngineLog.Failed(logger, ex, item.Kind.ToString(), item.ObjectId, rejected.Reason);
                await TryRecordFailureAsync(item, $"{rejected.Reason}: {rejected.Message}", cancellationToken);
                return WorkItemResult.Failed(rejected);
            }

            EngineLog.Postponed(logger, ex, item.Kind.ToString(), item.ObjectId, FailureReasons.StateUnavailable);
            return WorkItemResult.Failed(new ProvisioningException(FailureReasons.StateUnavailable, $"Table Storage answered {ex.Status} ({ex.ErrorCode}).", isTransient: true, ex));
        }
    }

    /// <summary>Stores the error when Table Storage lets it; the dead-letter carries it either way.</summary>
    private async Task TryRecordFailureAsync(WorkItem item, string error, CancellationToken cancellationToken)
    {
        try
        {
            await RecordFailureAsync(item, error, cancellationToken);
        }
        catch (RequestFailedException)
        {
        }
    }

    /// <summary>A scope group changed: its members may have joined or left scope. Members not yet mapped and
    /// mapped active users not in the group are re-evaluated (the user convergence decides).</summary>
    private async Task<IReadOnlyList<FollowUp>> ScopeGroupFollowUpsAsync(string groupId, CancellationToken cancellationToken)
    {
        scope.Invalidate();
        var group = await directory.GetGroupAsync(groupId, options.Scope.Transitive, cancellationToken);
        if (group is null)
        {
            // A scope group Graph does not know is a configuration failure, not a group everyone left: no
            // user is queued to leave; users outside the other scope groups fail with ScopeGroupNotFound.
            EngineLog.ScopeGroupNotFound(logger, groupId);
            return [];
        }

        var members = new HashSet<string>(group?.MemberIds ?? [], StringComparer.Ordinal);
        var result = new List<FollowUp>();
        var mapped = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var key in store.ListUserKeysAsync(cancellationToken))
        {
            mapped.Add(key.ObjectId);
            if (key.State == LifecycleState.Active && !members.Contains(key.ObjectId))
            {
                result.Add(new FollowUp(WorkItemKind.User, key.ObjectId, "scope group changed"));
            }
        }

        result.AddRange(members.Where(m => !mapped.Contains(m) && GraphNotificationParser.IsSafeId(m)).Select(m => new FollowUp(WorkItemKind.User, m, "scope group changed")));
        return result;
    }

    /// <summary>Stores a failure the host decided on (retries exhausted) on the object's row.</summary>
    public async Task RecordFailureAsync(WorkItem item, string error, CancellationToken cancellationToken = default)
    {
        if (item.Kind == WorkItemKind.User && TableKeys.IsValid(item.ObjectId))
        {
            await users.RecordErrorAsync(item.ObjectId, error, cancellationToken);
        }
        else if (item.Kind == WorkItemKind.Group && TableKeys.IsValid(item.ObjectId) && await store.GetGroupAsync(item.ObjectId, cancellationToken) is { } group)
        {
            try
            {
                await store.SaveGroupAsync(group with { LastError = error, LastErrorAt = time.GetUtcNow() }, cancellationToken);
            }
            catch (StateConflictException)
            {
            }
        }
    }

    // ---------------- explain and status ----------------

    public async Task<UserExplanation> ExplainAsync(string idOrUserPrincipalName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(idOrUserPrincipalName);
        var user = await directory.GetUserAsync(idOrUserPrincipalName.Trim(), cancellationToken);
        var objectId = user?.Id ?? (TableKeys.IsValid(idOrUserPrincipalName) && !idOrUserPrincipalName.Contains('@', StringComparison.Ordinal) ? idOrUserPrincipalName.Trim() : null);
        var mapping = objectId is null ? null : await store.GetUserAsync(objectId, cancellationToken);
        if (objectId is null)
        {
            return new UserExplanation(idOrUserPrincipalName, null, false, false, "not found in the directory", null, null, [], [], null,
                [new PlannedOperation(ObjectKinds.User, idOrUserPrincipalName, PlanActions.Skip, "not found in the directory")], null);
        }

        var run = new RunContext(dryRun: true);
        var request = user is null ? new UserRequest(objectId) : new UserRequest(objectId, user, time.GetUtcNow());
        var outcome = await users.ConvergeAsync(request, run, cancellationToken);
        var decision = outcome.Decision;
        var entitlementLines = entitlements is null || user is null || decision?.Desired is null ? []
            : EntitlementResolver.Explain(await entitlements.DesiredAsync(objectId, cancellationToken), mapping?.Projection, decision.Desired);
        return new UserExplanation(
            idOrUserPrincipalName,
            objectId,
            user is not null,
            user is not null && decision?.OutOfScopeReason is null,
            user is null ? "not found in the directory" : decision?.OutOfScopeReason,
            decision?.Desired,
            mapping?.Projection,
            decision?.ChangedPaths ?? [],
            decision?.Patch ?? [],
            decision?.PendingManagerId,
            outcome.Operations,
            mapping) { Entitlements = entitlementLines };
    }

    public async Task<SyncStatus> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        var usersByState = Enum.GetNames<LifecycleState>().ToDictionary(n => n, _ => 0);
        var failures = new List<StatusFailure>();
        await foreach (var mapping in store.ListUsersAsync(cancellationToken: cancellationToken))
        {
            usersByState[mapping.State.ToString()]++;
            if (mapping.LastError is not null)
            {
                failures.Add(new StatusFailure(ObjectKinds.User, mapping.ObjectId, mapping.LastError, mapping.LastErrorAt));
            }
        }

        var groupsByState = Enum.GetNames<GroupState>().ToDictionary(n => n, _ => 0);
        var unmatched = new List<string>();
        await foreach (var group in store.ListGroupsAsync(cancellationToken))
        {
            groupsByState[group.State.ToString()]++;
            if (group.State == GroupState.Unmatched)
            {
                unmatched.Add(group.DisplayName ?? group.ObjectId);
            }

            if (group.LastError is not null)
            {
                failures.Add(new StatusFailure(ObjectKinds.Group, group.ObjectId, group.LastError, group.LastErrorAt));
            }
        }

        var userCursor = await store.GetCursorAsync(DeltaSweeper.UsersCursor, cancellationToken);
        var groupCursor = await store.GetCursorAsync(DeltaSweeper.GroupsCursor, cancellationToken);
        return new SyncStatus(
            usersByState,
            groupsByState,
            userCursor.UpdatedAt,
            groupCursor.UpdatedAt,
            await store.ListSubscriptionsAsync(cancellationToken),
            failures.OrderByDescending(f => f.At).ToList(),
            await store.ListStagedAsync(cancellationToken),
            await store.GetHoldAsync(cancellationToken),
            unmatched.Order(StringComparer.OrdinalIgnoreCase).ToList());
    }

    // ---------------- staged destructive actions ----------------

    /// <summary>The operator allows the held actions: each is decided again (the directory is re-read, so a
    /// user who came back is not disabled) and runs past the threshold; the hold is lifted.</summary>
    public async Task<SyncSummary> ReleaseStagedAsync(CancellationToken cancellationToken = default)
    {
        var summary = new SummaryBuilder(scim.Counts);
        var staged = await store.ListStagedAsync(cancellationToken);
        await store.ClearHoldAsync(cancellationToken);
        var run = new RunContext(dryRun: false, bypassThreshold: true);
        foreach (var action in staged)
        {
            try
            {
                if (action.Action == PlanActions.Delete)
                {
                    if (await store.GetUserAsync(action.ObjectId, cancellationToken) is { } mapping)
                    {
                        summary.Add(await users.PurgeAsync(mapping, run, cancellationToken));
                    }
                }
                else
                {
                    summary.Add(await users.ConvergeAsync(new UserRequest(action.ObjectId), run, cancellationToken));
                }

                await store.RemoveStagedAsync(action, cancellationToken);
            }
            catch (ProvisioningException ex)
            {
                summary.Fail(ObjectKinds.User, action.ObjectId, $"{ex.Reason}: {ex.Message}");
            }
        }

        EngineLog.StagedDecision(logger, "released", staged.Count);
        return summary.Build(scim.Counts);
    }

    /// <summary>The operator rejects the held actions: they are dropped and the hold is lifted. Objects are
    /// decided afresh the next time they are converged (and staged again if still over the threshold).</summary>
    public async Task<SyncSummary> DiscardStagedAsync(CancellationToken cancellationToken = default)
    {
        var summary = new SummaryBuilder(scim.Counts);
        var staged = await store.ListStagedAsync(cancellationToken);
        foreach (var action in staged)
        {
            await store.RemoveStagedAsync(action, cancellationToken);
            summary.Note(new PlannedOperation(ObjectKinds.User, action.ObjectId, PlanActions.Skip, $"staged {action.Action} discarded by the operator"));
        }

        await store.ClearHoldAsync(cancellationToken);
        EngineLog.StagedDecision(logger, "discarded", staged.Count);
        return summary.Build(scim.Counts);
    }

    // ---------------- timer jobs ----------------

    /// <summary>Deletes users disabled longer than the grace period (created or adopted only), under the threshold.</summary>
    public async Task<SyncSummary> PurgeDisabledAsync(bool dryRun = false, CancellationToken cancellationToken = default)
    {
        var summary = new SummaryBuilder(scim.Counts);
        var cutoff = time.GetUtcNow().AddDays(-options.DisabledGraceDays);
        var run = new RunContext(dryRun);
        var due = new List<UserMapping>();
        await foreach (var mapping in store.ListUsersAsync(LifecycleState.Disabled, cancellationToken))
        {
            if (mapping.DisabledSince is { } since && since <= cutoff)
            {
                due.Add(mapping);
            }
        }

        foreach (var mapping in due)
        {
            try
            {
                summary.Add(await users.PurgeAsync(mapping, run, cancellationToken));
            }
            catch (ProvisioningException ex)
            {
                summary.Fail(ObjectKinds.User, mapping.ObjectId, $"{ex.Reason}: {ex.Message}");
            }
            catch (StateConflictException ex)
            {
                // One user's row racing with its own convergence must not stop the purge of the others.
                summary.Fail(ObjectKinds.User, mapping.ObjectId, $"{FailureReasons.StateConflicts}: {ex.Message}");
            }
            catch (DirectoryUnavailableException ex)
            {
                // Nothing is deleted on a failed read, and the next user is still looked at.
                summary.Fail(ObjectKinds.User, mapping.ObjectId, $"{FailureReasons.DirectoryUnavailable}: {ex.Message}");
            }
            catch (RequestFailedException ex) when (ex.Status != 400)
            {
                summary.Fail(ObjectKinds.User, mapping.ObjectId, $"{FailureReasons.StateUnavailable}: Table Storage answered {ex.Status} ({ex.ErrorCode}).");
            }
        }

        return summary.Build(scim.Counts);
    }

    /// <summary>Reports drift on managed users (and puts it back with Sync__RemediateUserDrift), then for every
    /// known group compares the target's members with the desired set (If-None-Match, so an untouched group
    /// costs one read) and fixes the difference.</summary>
    public async Task<SyncSummary> ReconcileGroupsAsync(bool dryRun = false, CancellationToken cancellationToken = default)
    {
        var summary = new SummaryBuilder(scim.Counts);
        var run = new RunContext(dryRun);
        var known = new List<GroupMapping>();
        await foreach (var group in store.ListGroupsAsync(cancellationToken))
        {
            if (options.Groups.Enabled && group.State is GroupState.Managed or GroupState.Unmatched)
            {
                known.Add(group);
            }
        }

        try
        {
            var failures = new List<ObjectFailure>();
            foreach (var drift in await users.ReportDriftAsync(dryRun, failures, cancellationToken))
            {
                summary.Note(drift);
            }

            foreach (var failure in failures)
            {
                summary.Fail(failure.ObjectKind, failure.ObjectId, failure.Reason);
            }
        }
        catch (ProvisioningException ex)
        {
            summary.Fail(ObjectKinds.User, "*", $"{ex.Reason}: {ex.Message}");
        }
        catch (RequestFailedException ex) when (ex.Status != 400)
        {
            // The rows could not be listed: the drift scan is skipped, the groups still converge.
            summary.Fail(ObjectKinds.User, "*", $"{FailureReasons.StateUnavailable}: Table Storage answered {ex.Status} ({ex.ErrorCode}).");
        }

        if (entitlements is not null)
        {
            await EntitlementReconciler.ReconvergeAsync(entitlements, store, users, run, summary, cancellationToken);
        }

        // Loaded after the long drift scan, not before it; still, users leave while the groups converge, so the
        // convergers confirm every member they would add with a point read (GroupConverger).
        var index = await UserIndex.LoadAsync(store, cancellationToken);
        await Parallel.ForEachAsync(known, new ParallelOptions { MaxDegreeOfParallelism = options.Parallelism, CancellationToken = cancellationToken }, async (group, ct) =>
        {
            try
            {
                var outcome = await groups.ConvergeAsync(new GroupRequest(group.ObjectId, VerifyTarget: true), run, index, ct);
                if (outcome.MembersAdded + outcome.MembersRemoved > 0)
                {
                    var detail = $"+{outcome.MembersAdded} -{outcome.MembersRemoved} members";
                    EngineLog.Drift(logger, ObjectKinds.Group, group.ObjectId, group.ScimId, detail);
                }

                summary.Add(outcome);
            }
            catch (ProvisioningException ex)
            {
                summary.Fail(ObjectKinds.Group, group.ObjectId, $"{ex.Reason}: {ex.Message}");
            }
            catch (StateConflictException ex)
            {
                // The group's row kept changing under its own work items: they converge it; the others go on.
                summary.Fail(ObjectKinds.Group, group.ObjectId, $"{FailureReasons.StateConflicts}: {ex.Message}");
            }
        });

        return summary.Build(scim.Counts);
    }

    public async Task<IReadOnlyList<SubscriptionChange>> EnsureSubscriptionsAsync(CancellationToken cancellationToken = default) =>
        subscriptions is null ? [] : await subscriptions.EnsureAsync(cancellationToken);
}
