using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Notifications;
using ScimFunctions.Provisioning.State;

namespace ScimFunctions.Provisioning.Sync;

/// <param name="UsersQueued">User work items queued by this run.</param>
/// <param name="UsersFullResync">This run read pages of a full enumeration of users.</param>
public sealed record SweepResult(int UsersQueued, int GroupsQueued, bool UsersFullResync, bool GroupsFullResync)
{
    /// <summary>The users round is not finished: its checkpoint is stored and the next run goes on from it.</summary>
    public bool UsersPending { get; init; }

    /// <summary>The groups round is not finished (or not started: users used up the run's time).</summary>
    public bool GroupsPending { get; init; }

    /// <summary>Delta pages read by this run (users and groups).</summary>
    public int PagesRead { get; init; }
}

/// <summary>The safety net and the initial load: resumes Graph delta for users and groups and queues one work item
/// per changed object, page by page. After each page's items are queued a checkpoint (the next link) is stored, and
/// the cursor only when the round is complete, so a crash replays at most one page (with the same MessageIds, which
/// Service Bus's duplicate detection drops) instead of losing or repeating the round. A run stops reading pages once
/// <see cref="SyncOptions.TimerBudgetSeconds"/> are used and the next run goes on from the checkpoint, so a 100,000-user
/// initial load never needs the Functions time limit (docs/engine.md, "Large tenants").
/// User items carry the user as delta returned it, so processing them costs no further Graph read; group
/// items are scheduled <see cref="SyncOptions.SweepGroupDelaySeconds"/> later so members exist first.
/// With <paramref name="hints"/>, a full-resync round (the initial load) lists the target for its joiners
/// first, so each joiner's item costs one POST instead of a lookup and a POST.</summary>
public sealed class DeltaSweeper(StateStore store, IDirectorySource directory, WorkQueue queue, SyncOptions options, TimeProvider time, ILogger logger, TargetHintWriter? hints = null)
{
    public const string UsersCursor = "users";
    public const string GroupsCursor = "groups";

    private readonly SweepCheckpoints checkpoints = new(store);

    public async Task<SweepResult> SweepAsync(CancellationToken cancellationToken = default)
    {
        var deadline = time.GetUtcNow().AddSeconds(options.TimerBudgetSeconds);
        var users = await SweepRoundAsync(UsersRound(), deadline, cancellationToken);
        if (users.Pending)
        {
            // Group items are only useful once their members exist: the groups round waits for the users round.
            return new SweepResult(users.Queued, 0, users.FullRound, false) { UsersPending = true, GroupsPending = options.GroupChangesMatter, PagesRead = users.Pages };
        }

        var groups = options.GroupChangesMatter ? await SweepRoundAsync(GroupsRound(), deadline, cancellationToken) : RoundRun.Nothing;
        return new SweepResult(users.Queued, groups.Queued, users.FullRound, groups.FullRound) { GroupsPending = groups.Pending, PagesRead = users.Pages + groups.Pages };
    }

    private sealed record RoundRun(int Queued, bool FullRound, bool Pending, int Pages)
    {
        public static readonly RoundRun Nothing = new(0, false, false, 0);
    }

    /// <summary>What differs between the users and the groups round.</summary>
    private sealed record RoundKind(
        string Name,
        Func<string?, bool, CancellationToken, Task<PageItems>> ReadPageAsync,
        Func<SweepCheckpoint, DateTimeOffset, HashSet<string>, CancellationToken, Task<List<QueuedWorkItem>>> MissingFromFullRoundAsync);

    /// <summary>One page turned into work items, with the ids it enumerated and what the Graph page said next.</summary>
    private sealed record PageItems(
        Func<SweepCheckpoint, DateTimeOffset, CancellationToken, Task<List<QueuedWorkItem>>> ItemsAsync,
        IReadOnlyList<string> Ids,
        int Changed,
        int Removed,
        string? NextLink,
        string? DeltaLink,
        bool Restarted);

    private async Task<RoundRun> SweepRoundAsync(RoundKind kind, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        var cursor = await store.GetCursorAsync(kind.Name, cancellationToken);
        var checkpoint = await checkpoints.GetAsync(kind.Name, cancellationToken);
        if (checkpoint is not null && checkpoint.Input != cursor.Link)
        {
            // A newer cursor was stored (the CLI's full sync) after this round began: the round is moot.
            SweepLog.StaleCheckpoint(logger, kind.Name);
            await checkpoints.DeleteAsync(checkpoint, cancellationToken);
            checkpoint = null;
        }

        // The round's data is at least as old as its start: a long round ends after webhook items have read
        // (and applied) newer data, and an ObservedAt taken at the end would make its snapshots look newer.
        var startedAt = time.GetUtcNow();
        checkpoint ??= new SweepCheckpoint(kind.Name, cursor.Link, cursor.Link, null, cursor.Link is null, RoundId(cursor.Link, startedAt), 0, startedAt);
        var (queued, pages, changed, removed) = (0, 0, 0, 0);
        var fullThisRun = checkpoint.FullRound;

        // A round read from its first page in this run has every id in memory; a round that began in an earlier run
        // reads the ids its pages stored.
        var idsThisRun = new HashSet<string>(StringComparer.Ordinal);
        var allIdsInMemory = checkpoint.Page == 0;
        try
        {
            while (checkpoint.Final is null)
            {
                // At least one page per run, so every run makes progress whatever the budget.
                if (pages > 0 && time.GetUtcNow() >= deadline)
                {
                    SweepLog.RoundContinues(logger, kind.Name, pages, checkpoint.Page);
                    EngineLog.Swept(logger, kind.Name, changed, removed, queued, checkpoint.FullRound);
                    return new RoundRun(queued, fullThisRun, Pending: true, pages);
                }

                var page = await kind.ReadPageAsync(checkpoint.Next, checkpoint.FullRound, cancellationToken);
                pages++;
                if (page.Restarted)
                {
                    // The link expired (or was not a usable one): a full enumeration starts, as its own round. What
                    // the old round queued stands; the ids it stored are of no use to the new round's comparison.
                    await checkpoints.DeleteIdsAsync(kind.Name, checkpoint.Round, cancellationToken);
                    var now = time.GetUtcNow();
                    checkpoint = checkpoint with { FullRound = true, Round = RoundId(checkpoint.Input + "\nrestarted", now), Page = 0, StartedAt = now };
                    fullThisRun = true;
                    idsThisRun.Clear();
                    allIdsInMemory = true;
                }

                if (page.NextLink is not null && page.NextLink == checkpoint.Next)
                {
                    throw new DirectoryUnavailableException($"Graph {kind.Name} delta returned the same next link twice.");
                }

                var items = await page.ItemsAsync(checkpoint, time.GetUtcNow(), cancellationToken);
                await queue.SendAsync(items, cancellationToken);
                (queued, changed, removed) = (queued + items.Count, changed + page.Changed, removed + page.Removed);
                idsThisRun.UnionWith(page.Ids);

                // A round that ends on the page it began with (most incremental rounds) needs no checkpoint: the cursor
                // is stored next. A crash in between reads the page again, as a new round.
                var next = checkpoint with { Next = page.NextLink, Final = page.DeltaLink, Page = checkpoint.Page + 1 };
                if (page.DeltaLink is not null && checkpoint.ETag == default)
                {
                    checkpoint = next;
                    continue;
                }

                if (checkpoint.FullRound)
                {
                    // Before the checkpoint moves past the page, or a crash in between would leave its ids out.
                    await checkpoints.SaveIdsAsync(kind.Name, checkpoint.Round, checkpoint.Page, page.Ids, cancellationToken);
                }

                checkpoint = await checkpoints.SaveAsync(next, cancellationToken);
            }

            if (checkpoint.FullRound)
            {
                if (pages > 0 && time.GetUtcNow() >= deadline)
                {
                    SweepLog.RoundContinues(logger, kind.Name, pages, checkpoint.Page);
                    return new RoundRun(queued, fullThisRun, Pending: true, pages);
                }

                // A full enumeration reports no removals: objects deleted while the token was expired are only
                // found by comparing with the rows, against every id the round's pages stored.
                var enumerated = allIdsInMemory ? idsThisRun : await checkpoints.ReadIdsAsync(kind.Name, checkpoint.Round, cancellationToken);
                var missing = await kind.MissingFromFullRoundAsync(checkpoint, time.GetUtcNow(), enumerated, cancellationToken);
                await queue.SendAsync(missing, cancellationToken);
                queued += missing.Count;
            }

            await SaveCursorAsync(cursor, checkpoint.Final, checkpoint.FullRound, time.GetUtcNow(), cancellationToken);
            if (checkpoint.ETag != default)
            {
                await checkpoints.DeleteAsync(checkpoint, cancellationToken);
            }
        }
        catch (StateConflictException)
        {
            // Another sweep (the timer and a lifecycle item's sweep) moved the same round's checkpoint first: it
            // read the same pages and queued the same MessageIds; it carries the round on.
            SweepLog.CheckpointTaken(logger, kind.Name);
            return new RoundRun(queued, fullThisRun, Pending: true, pages);
        }

        EngineLog.Swept(logger, kind.Name, changed, removed, queued, checkpoint.FullRound);
        return new RoundRun(queued, fullThisRun, Pending: false, pages);
    }

    private RoundKind UsersRound()
    {
        var provisioned = new ProvisionedUsers(store);
        var run = hints?.StartRun();
        return new(UsersCursor, (link, full, ct) => ReadUsersPageAsync(link, full, provisioned, run, ct), MissingUsersAsync);
    }

    private RoundKind GroupsRound()
    {
        var queued = new HashSet<string>(StringComparer.Ordinal);
        return new(GroupsCursor, (link, full, ct) => ReadGroupsPageAsync(link, full, queued, ct), MissingGroupsAsync);
    }

    private async Task<PageItems> ReadUsersPageAsync(string? link, bool fullRound, ProvisionedUsers provisioned, TargetHintWriter.HintRun? hintRun, CancellationToken cancellationToken)
    {
        var delta = await directory.GetUserChangesPageAsync(link, fullRound, cancellationToken);
        var ids = delta.Changed.Select(u => u.Id).Concat(delta.Removed.Select(r => r.Id)).ToList();
        return new PageItems(
            async (checkpoint, now, ct) =>
            {
                var items = new Dictionary<string, QueuedWorkItem>(StringComparer.Ordinal);
                foreach (var user in delta.Changed)
                {
                    if (GraphNotificationParser.IsSafeId(user.Id))
                    {
                        items[user.Id] = new QueuedWorkItem(
                            new WorkItem(WorkItemKind.User, user.Id, WorkItemChangeTypes.Updated, null, null, now, WorkItemSources.Delta, user, checkpoint.StartedAt),
                            MessageId(user.Id, checkpoint));
                    }
                }

                foreach (var removed in delta.Removed)
                {
                    if (GraphNotificationParser.IsSafeId(removed.Id))
                    {
                        var change = removed.Reason == RemovalReason.HardDeleted ? WorkItemChangeTypes.Deleted : WorkItemChangeTypes.SoftDeleted;
                        items[removed.Id] = new QueuedWorkItem(new WorkItem(WorkItemKind.User, removed.Id, change, null, null, now, WorkItemSources.Delta, null, checkpoint.StartedAt), MessageId(removed.Id, checkpoint));
                    }
                }

                if (checkpoint.FullRound && hintRun is not null)
                {
                    // Hints are stored before the page's items are queued, so no item runs ahead of its hint.
                    var managed = await provisioned.GetAsync(ct);
                    await hintRun.WriteAsync([.. delta.Changed.Where(u => u.AccountEnabled && !managed.Contains(u.Id) && items.ContainsKey(u.Id)).DistinctBy(u => u.Id)], ct);
                }

                return [.. items.Values];
            },
            ids,
            delta.Changed.Count,
            delta.Removed.Count,
            delta.NextLink,
            delta.DeltaLink,
            delta.Restarted);
    }

    /// <summary>A large group is on several pages (each with part of its member changes). Its item carries no data (the
    /// processor reads the group), so one item per round is enough: the run queues it once, and its MessageId is the
    /// round's, so a later run's page of the same group is dropped by duplicate detection.</summary>
    private async Task<PageItems> ReadGroupsPageAsync(string? link, bool fullRound, HashSet<string> queuedThisRun, CancellationToken cancellationToken)
    {
        var delta = await directory.GetGroupChangesPageAsync(link, fullRound, cancellationToken);
        var ids = delta.Changed.Select(g => g.Id).Concat(delta.Removed.Select(r => r.Id)).ToList();
        return new PageItems(
            (checkpoint, now, _) =>
            {
                var notBefore = now.AddSeconds(options.SweepGroupDelaySeconds);
                var items = new Dictionary<string, QueuedWorkItem>(StringComparer.Ordinal);
                foreach (var group in delta.Changed)
                {
                    if (GraphNotificationParser.IsSafeId(group.Id) && !queuedThisRun.Contains(group.Id))
                    {
                        items[group.Id] = new QueuedWorkItem(new WorkItem(WorkItemKind.Group, group.Id, WorkItemChangeTypes.Updated, null, null, now, WorkItemSources.Delta), MessageId(group.Id, checkpoint, "g"), notBefore);
                    }
                }

                foreach (var removed in delta.Removed)
                {
                    // A removal is the last word about the group in this round: it replaces an update queued earlier.
                    if (GraphNotificationParser.IsSafeId(removed.Id))
                    {
                        items[removed.Id] = new QueuedWorkItem(new WorkItem(WorkItemKind.Group, removed.Id, WorkItemChangeTypes.Deleted, null, null, now, WorkItemSources.Delta, null, now), MessageId(removed.Id, checkpoint, "gr"), notBefore);
                    }
                }

                queuedThisRun.UnionWith(items.Keys);

                return Task.FromResult<List<QueuedWorkItem>>([.. items.Values]);
            },
            ids,
            delta.Changed.Count,
            delta.Removed.Count,
            delta.NextLink,
            delta.DeltaLink,
            delta.Restarted);
    }

    /// <summary>Every active user row the full round did not enumerate, queued without a snapshot: its processor
    /// reads Graph, and a 404 is the leaver; anything else a no-op.</summary>
    private async Task<List<QueuedWorkItem>> MissingUsersAsync(SweepCheckpoint checkpoint, DateTimeOffset now, HashSet<string> enumerated, CancellationToken cancellationToken)
    {
        var items = new List<QueuedWorkItem>();
        await foreach (var key in store.ListUserKeysAsync(cancellationToken))
        {
            if (key.IsActive && !enumerated.Contains(key.ObjectId) && GraphNotificationParser.IsSafeId(key.ObjectId))
            {
                items.Add(new QueuedWorkItem(new WorkItem(WorkItemKind.User, key.ObjectId, WorkItemChangeTypes.Updated, null, null, now, WorkItemSources.Delta), MessageId(key.ObjectId, checkpoint, "end")));
            }
        }

        return items;
    }

    /// <summary>As for users: a managed group deleted during the gap is missing from the enumeration, not reported
    /// removed. Its item reads Graph; a 404 takes out the members this connector put in.</summary>
    private async Task<List<QueuedWorkItem>> MissingGroupsAsync(SweepCheckpoint checkpoint, DateTimeOffset now, HashSet<string> enumerated, CancellationToken cancellationToken)
    {
        var notBefore = now.AddSeconds(options.SweepGroupDelaySeconds);
        var items = new List<QueuedWorkItem>();
        await foreach (var mapping in store.ListGroupsAsync(cancellationToken))
        {
            if (mapping.State == GroupState.Managed && !enumerated.Contains(mapping.ObjectId) && GraphNotificationParser.IsSafeId(mapping.ObjectId))
            {
                items.Add(new QueuedWorkItem(new WorkItem(WorkItemKind.Group, mapping.ObjectId, WorkItemChangeTypes.Updated, null, null, now, WorkItemSources.Delta), MessageId(mapping.ObjectId, checkpoint, "end"), notBefore));
            }
        }

        return items;
    }

    private async Task SaveCursorAsync(DeltaCursor cursor, string? link, bool fullResync, DateTimeOffset now, CancellationToken cancellationToken)
    {
        try
        {
            await store.SaveCursorAsync(cursor with { Link = link, UpdatedAt = now, LastFullResyncAt = fullResync ? now : cursor.LastFullResyncAt }, cancellationToken);
        }
        catch (StateConflictException)
        {
            // A concurrent sweep (timer and lifecycle) stored its cursor first; its items went out too.
        }
    }

    /// <summary>One id per object, round and page: an object repeated within a page collapses, a page read again
    /// after a crash queues the same ids (duplicate detection drops them), and a later page or round never collides
    /// with an earlier one. An object id too long for the whole to fit is cut and hashed (<see cref="MessageIds"/>).</summary>
    internal static string MessageId(string objectId, SweepCheckpoint checkpoint, string? page = null)
    {
        var suffix = $"{checkpoint.Round}.{page ?? checkpoint.Page.ToString("x", System.Globalization.CultureInfo.InvariantCulture)}";
        return MessageIds.Bounded("d", objectId, suffix);
    }

    /// <summary>The users with a target user (active or disabled), read once per run (one paged scan of the rows)
    /// the first time a full round's page needs them to tell joiners from the rest.</summary>
    private sealed class ProvisionedUsers(StateStore store)
    {
        private HashSet<string>? ids;

        public async Task<HashSet<string>> GetAsync(CancellationToken cancellationToken)
        {
            if (ids is null)
            {
                var read = new HashSet<string>(StringComparer.Ordinal);
                await foreach (var key in store.ListUserKeysAsync(cancellationToken))
                {
                    if (key.IsManaged)
                    {
                        read.Add(key.ObjectId);
                    }
                }

                ids = read;
            }

            return ids;
        }
    }

    /// <summary>One id per round (its input cursor and when it started).</summary>
    private static string RoundId(string? input, DateTimeOffset startedAt) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes((input ?? "initial") + "\n" + startedAt.UtcTicks.ToString(System.Globalization.CultureInfo.InvariantCulture))).AsSpan(0, 6));
}
