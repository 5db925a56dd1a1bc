using Microsoft.Extensions.Logging;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;
using ScimFunctions.Provisioning.Sync.History;

namespace ScimFunctions.Provisioning.Sync;

/// <summary><c>scimfn sync</c> (and its dry run, the plan): every user in scope, then every group, in one run that
/// reads the rows and, when there are enough joiners, the target's users once for all of them.</summary>
public sealed class FullSync(
    StateStore store,
    IDirectorySource directory,
    IScimClient scim,
    UserConverger users,
    GroupConverger groups,
    SyncOptions options,
    TimeProvider time,
    ILogger<FullSync> logger,
    HistoryRecorder history)
{
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
                var outcome = await history.UserAsync(request.ObjectId, HistoryTrigger.Operator, run, transientIsFinal: true, () => users.ConvergeAsync(request, run, ct), ct);
                summary.Add(outcome);
                if (outcome.Decision?.PendingManagerId is not null)
                {
                    waitingForManager.Add(request.ObjectId);
                }
            }
            catch (ProvisioningException ex)
            {
                summary.Fail(ObjectKind.User, request.ObjectId, StateFailures.Describe(ex));
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
                summary.Add(await history.GroupAsync(HistoryTrigger.Operator, run, index, () => groups.ConvergeAsync(request, run, index, ct), ct));
            }
            catch (ProvisioningException ex)
            {
                summary.Fail(ObjectKind.Group, request.ObjectId, StateFailures.Describe(ex));
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
}
