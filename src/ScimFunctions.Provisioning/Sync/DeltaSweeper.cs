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
        var delta = await directory.GetUserChangesAsync(cursor.Link, cancellationToken);
        var now = time.GetUtcNow();
        var round = RoundId(cursor.Link, delta.Cursor);
        var items = new Dictionary<string, QueuedWorkItem>(StringComparer.Ordinal);
        foreach (var user in delta.Changed)
        {
            if (GraphNotificationParser.IsSafeId(user.Id))
            {
                items[user.Id] = new QueuedWorkItem(
                    new WorkItem(WorkItemKind.User, user.Id, WorkItemChangeTypes.Updated, null, null, now, WorkItemSources.Delta, user, now),
                    $"d:{user.Id}:{round}");
            }
        }

        foreach (var removed in delta.Removed)
        {
            if (GraphNotificationParser.IsSafeId(removed.Id))
            {
                var change = removed.Reason == RemovalReason.HardDeleted ? WorkItemChangeTypes.Deleted : WorkItemChangeTypes.SoftDeleted;
                items[removed.Id] = new QueuedWorkItem(new WorkItem(WorkItemKind.User, removed.Id, change, null, null, now, WorkItemSources.Delta, null, now), $"d:{removed.Id}:{round}");
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
