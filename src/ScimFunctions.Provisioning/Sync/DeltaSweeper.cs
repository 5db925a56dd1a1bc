using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Notifications;
using ScimFunctions.Provisioning.State;

namespace ScimFunctions.Provisioning.Sync;

public sealed record SweepResult(int UsersQueued, int GroupsQueued, bool UsersFullResync, bool GroupsFullResync);

/// <summary>The safety net and the initial load: resumes Graph delta for users and groups, queues one work
/// item per changed object, and only then stores the new cursor, so a crash in between replays the round
/// instead of losing it (processing is level-triggered, so an item handled twice does no harm).
/// User items carry the user as delta returned it, so processing them costs no further Graph read; group
/// items are scheduled <see cref="SyncOptions.SweepGroupDelaySeconds"/> later so members exist first.</summary>
public sealed class DeltaSweeper(StateStore store, IDirectorySource directory, WorkQueue queue, SyncOptions options, TimeProvider time, ILogger logger)
{
    public const string UsersCursor = "users";
    public const string GroupsCursor = "groups";

    public async Task<SweepResult> SweepAsync(CancellationToken cancellationToken = default)
    {
        var (users, usersFull) = await SweepUsersAsync(cancellationToken);
        var (groups, groupsFull) = await SweepGroupsAsync(cancellationToken);
        return new SweepResult(users, groups, usersFull, groupsFull);
    }

    private async Task<(int, bool)> SweepUsersAsync(CancellationToken cancellationToken)
    {
        var cursor = await store.GetCursorAsync(UsersCursor, cancellationToken);

        // The round's data is at least as old as its start: a long round ends after webhook items have read
        // (and applied) newer data, and an ObservedAt taken at the end would make this snapshot look newer.
        var startedAt = time.GetUtcNow();
        var delta = await directory.GetUserChangesAsync(cursor.Link, cancellationToken);
        var now = time.GetUtcNow();
        var round = RoundId(cursor.Link, delta.Cursor);
        var items = new Dictionary<string, QueuedWorkItem>(StringComparer.Ordinal);
        foreach (var user in delta.Changed)
        {
            if (GraphNotificationParser.IsSafeId(user.Id))
            {
                items[user.Id] = new QueuedWorkItem(
                    new WorkItem(WorkItemKind.User, user.Id, WorkItemChangeTypes.Updated, null, null, now, WorkItemSources.Delta, user, startedAt),
                    $"d:{user.Id}:{round}");
            }
        }

        foreach (var removed in delta.Removed)
        {
            if (GraphNotificationParser.IsSafeId(removed.Id))
            {
                var change = removed.Reason == RemovalReason.HardDeleted ? WorkItemChangeTypes.Deleted : WorkItemChangeTypes.SoftDeleted;
                items[removed.Id] = new QueuedWorkItem(new WorkItem(WorkItemKind.User, removed.Id, change, null, null, now, WorkItemSources.Delta, null, startedAt), $"d:{removed.Id}:{round}");
            }
        }

        if (delta.IsFullResync)
        {
            // A full enumeration reports no removals: users deleted while the token was expired (their
            // notifications long given up by Graph) are only found by comparing with the rows. Each is queued
            // without a snapshot, so its processor reads Graph: a 404 is the leaver, anything else a no-op.
            await foreach (var key in store.ListUserKeysAsync(cancellationToken))
            {
                if (key.IsActive && !items.ContainsKey(key.ObjectId) && GraphNotificationParser.IsSafeId(key.ObjectId))
                {
                    items[key.ObjectId] = new QueuedWorkItem(new WorkItem(WorkItemKind.User, key.ObjectId, WorkItemChangeTypes.Updated, null, null, now, WorkItemSources.Delta), $"d:{key.ObjectId}:{round}");
                }
            }
        }

        await queue.SendAsync(items.Values.ToList(), cancellationToken);
        await SaveCursorAsync(cursor, delta.Cursor, delta.IsFullResync, now, cancellationToken);
        EngineLog.Swept(logger, UsersCursor, delta.Changed.Count, delta.Removed.Count, items.Count, delta.IsFullResync);
        return (items.Count, delta.IsFullResync);
    }

    private async Task<(int, bool)> SweepGroupsAsync(CancellationToken cancellationToken)
    {
        if (!options.GroupChangesMatter)
        {
            return (0, false);
        }

        var cursor = await store.GetCursorAsync(GroupsCursor, cancellationToken);
        var delta = await directory.GetGroupChangesAsync(cursor.Link, cancellationToken);
        var now = time.GetUtcNow();
        var notBefore = now.AddSeconds(options.SweepGroupDelaySeconds);
        var round = RoundId(cursor.Link, delta.Cursor);
        var items = new Dictionary<string, QueuedWorkItem>(StringComparer.Ordinal);
        foreach (var group in delta.Changed)
        {
            if (GraphNotificationParser.IsSafeId(group.Id))
            {
                items[group.Id] = new QueuedWorkItem(new WorkItem(WorkItemKind.Group, group.Id, WorkItemChangeTypes.Updated, null, null, now, WorkItemSources.Delta), $"d:{group.Id}:{round}", notBefore);
            }
        }

        foreach (var removed in delta.Removed)
        {
            if (GraphNotificationParser.IsSafeId(removed.Id))
            {
                items[removed.Id] = new QueuedWorkItem(new WorkItem(WorkItemKind.Group, removed.Id, WorkItemChangeTypes.Deleted, null, null, now, WorkItemSources.Delta, null, now), $"d:{removed.Id}:{round}", notBefore);
            }
        }

        if (delta.IsFullResync)
        {
            // As for users: a managed group deleted during the gap is missing from the enumeration, not reported
            // removed. Its item reads Graph; a 404 takes out the members this connector put in.
            await foreach (var mapping in store.ListGroupsAsync(cancellationToken))
            {
                if (mapping.State == GroupState.Managed && !items.ContainsKey(mapping.ObjectId) && GraphNotificationParser.IsSafeId(mapping.ObjectId))
                {
                    items[mapping.ObjectId] = new QueuedWorkItem(new WorkItem(WorkItemKind.Group, mapping.ObjectId, WorkItemChangeTypes.Updated, null, null, now, WorkItemSources.Delta), $"d:{mapping.ObjectId}:{round}", notBefore);
                }
            }
        }

        await queue.SendAsync(items.Values.ToList(), cancellationToken);
        await SaveCursorAsync(cursor, delta.Cursor, delta.IsFullResync, now, cancellationToken);
        EngineLog.Swept(logger, GroupsCursor, delta.Changed.Count, delta.Removed.Count, items.Count, delta.IsFullResync);
        return (items.Count, delta.IsFullResync);
    }

    private async Task SaveCursorAsync(DeltaCursor cursor, string link, bool fullResync, DateTimeOffset now, CancellationToken cancellationToken)
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

    /// <summary>One id per round (input and output cursor): an item repeated within a round collapses, and a
    /// later round never collides with an earlier one even when a source hands back the same cursor.</summary>
    private static string RoundId(string? input, string output) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes((input ?? "initial") + "\n" + output)).AsSpan(0, 6));
}
