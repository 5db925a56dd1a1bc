using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.Provisioning.State;

/// <summary>The engine's memory in Azure Table Storage. Every update carries the row's ETag; a lost race
/// surfaces as <see cref="StateConflictException"/> so the caller re-reads and re-decides. Tables are
/// created on first use. Long values (delta links, member sets) are properties, never keys.</summary>
public sealed class StateStore(TableServiceClient service, string tablePrefix = StateStore.DefaultPrefix)
{
    /// <summary>With it the tables are ScimUserMappings, ScimGroupMappings, ScimCursors, ScimSubscriptions,
    /// ScimStagedActions, ScimCounters, ScimPending, ScimTargetHints and ScimHistory (main.bicep pre-creates them all).</summary>
    public const string DefaultPrefix = "Scim";

    private const string UserRow = StateColumns.UserRow;
    private const string GroupRow = StateColumns.GroupRow;
    private const int ChunkChars = 30_000; // a string property holds 64 KiB of UTF-16
    private const int MaxMemberChunks = 10;
    private const int MaxPendingChunks = 4;

    private readonly ConcurrentDictionary<string, Lazy<Task<TableClient>>> _tables = new(StringComparer.Ordinal);
    private long _writes;

    /// <summary>Table writes this store made (inserts, updates, deletes; table creation excluded).</summary>
    public long Writes => Interlocked.Read(ref _writes);

    public string UsersTable => tablePrefix + "UserMappings";
    public string GroupsTable => tablePrefix + "GroupMappings";
    public string CursorsTable => tablePrefix + "Cursors";
    public string SubscriptionsTable => tablePrefix + "Subscriptions";
    public string StagedTable => tablePrefix + "StagedActions";
    public string CountersTable => tablePrefix + "Counters";
    public string PendingTable => tablePrefix + "Pending";

    /// <summary>What a sweep's listing of the target said about each joiner it queued (see docs/engine.md).</summary>
    public string TargetHintsTable => tablePrefix + "TargetHints";

    /// <summary>The append-only audit of what the connector did to each user (<see cref="HistoryStore"/>).</summary>
    public string HistoryTable => tablePrefix + "History";

    // ---------- users ----------

    public async Task<UserMapping?> GetUserAsync(string objectId, CancellationToken cancellationToken = default)
    {
        var table = await TableAsync(UsersTable, cancellationToken);
        var response = await table.GetEntityIfExistsAsync<TableEntity>(TableKeys.Validate(objectId, "user object id"), UserRow, cancellationToken: cancellationToken);
        return response.HasValue ? ToUser(response.Value!) : null;
    }

    /// <summary>Inserts (ETag default) or replaces with If-Match; returns the row with its new ETag.</summary>
    public async Task<UserMapping> SaveUserAsync(UserMapping mapping, CancellationToken cancellationToken = default)
    {
        var table = await TableAsync(UsersTable, cancellationToken);
        var entity = FromUser(mapping);
        var etag = await WriteAsync(table, entity, mapping.ETag, $"user {mapping.ObjectId}", cancellationToken);
        return mapping with { ETag = etag };
    }

    public async IAsyncEnumerable<UserMapping> ListUsersAsync(LifecycleState? state = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var table = await TableAsync(UsersTable, cancellationToken);
        var filter = state is { } s ? TableClient.CreateQueryFilter($"State eq {s.ToString()}") : null;
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, maxPerPage: 1000, cancellationToken: cancellationToken))
        {
            yield return ToUser(entity);
        }
    }

    /// <summary>Object id, target id and state of every user row, reading only those columns.</summary>
    public async IAsyncEnumerable<UserKey> ListUserKeysAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var table = await TableAsync(UsersTable, cancellationToken);
        await foreach (var e in table.QueryAsync<TableEntity>(maxPerPage: 1000, select: [nameof(TableEntity.PartitionKey), StateColumns.ScimId, StateColumns.State], cancellationToken: cancellationToken))
        {
            yield return new UserKey(e.PartitionKey, e.GetString(StateColumns.ScimId), Enum.TryParse<LifecycleState>(e.GetString(StateColumns.State), out var s) ? s : LifecycleState.Failed);
        }
    }

    /// <summary>Mappings that point at <paramref name="scimId"/> (normally none or one).</summary>
    public async Task<IReadOnlyList<UserMapping>> FindUsersByScimIdAsync(string scimId, CancellationToken cancellationToken = default)
    {
        var table = await TableAsync(UsersTable, cancellationToken);
        var result = new List<UserMapping>();
        await foreach (var entity in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"ScimId eq {scimId}"), cancellationToken: cancellationToken))
        {
            result.Add(ToUser(entity));
        }

        return result;
    }

    public async Task DeleteUserAsync(UserMapping mapping, CancellationToken cancellationToken = default)
    {
        var table = await TableAsync(UsersTable, cancellationToken);
        await DeleteAsync(table, mapping.ObjectId, UserRow, mapping.ETag, cancellationToken);
    }

    // ---------- groups ----------

    public async Task<GroupMapping?> GetGroupAsync(string objectId, CancellationToken cancellationToken = default)
    {
        var table = await TableAsync(GroupsTable, cancellationToken);
        var response = await table.GetEntityIfExistsAsync<TableEntity>(TableKeys.Validate(objectId, "group object id"), GroupRow, cancellationToken: cancellationToken);
        return response.HasValue ? ToGroup(response.Value!) : null;
    }

    public async Task<GroupMapping> SaveGroupAsync(GroupMapping mapping, CancellationToken cancellationToken = default)
    {
        var table = await TableAsync(GroupsTable, cancellationToken);
        var etag = await WriteAsync(table, FromGroup(mapping), mapping.ETag, $"group {mapping.ObjectId}", cancellationToken);
        return mapping with { ETag = etag };
    }

    public async IAsyncEnumerable<GroupMapping> ListGroupsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var table = await TableAsync(GroupsTable, cancellationToken);
        await foreach (var entity in table.QueryAsync<TableEntity>(maxPerPage: 1000, cancellationToken: cancellationToken))
        {
            yield return ToGroup(entity);
        }
    }

    // ---------- pending (an object waiting for another to be provisioned) ----------

    /// <summary>Records that <paramref name="waiterKind"/> <paramref name="waiterId"/> waits for <paramref name="awaitedId"/>.</summary>
    public async Task AddPendingAsync(string awaitedId, ObjectKind waiterKind, string waiterId, CancellationToken cancellationToken = default)
    {
        var table = await TableAsync(PendingTable, cancellationToken);
        var entity = new TableEntity(TableKeys.Validate(awaitedId, "awaited object id"), WaiterKey(waiterKind, waiterId))
        {
            [StateColumns.WaiterKind] = waiterKind.ToWireName(),
            [StateColumns.WaiterId] = waiterId,
        };
        await table.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken);
        Interlocked.Increment(ref _writes);
    }

    public async Task RemovePendingAsync(string awaitedId, ObjectKind waiterKind, string waiterId, CancellationToken cancellationToken = default)
    {
        var table = await TableAsync(PendingTable, cancellationToken);
        await DeleteAsync(table, TableKeys.Validate(awaitedId, "awaited object id"), WaiterKey(waiterKind, waiterId), ETag.All, cancellationToken);
    }

    private static string WaiterKey(ObjectKind waiterKind, string waiterId) =>
        TableKeys.Validate($"{waiterKind.ToWireName()}-{waiterId}", "waiter key");

    /// <summary>Objects waiting for <paramref name="awaitedId"/>: (kind, id) pairs.</summary>
    public async Task<IReadOnlyList<(ObjectKind Kind, string Id)>> ListPendingAsync(string awaitedId, CancellationToken cancellationToken = default)
    {
        var table = await TableAsync(PendingTable, cancellationToken);
        var result = new List<(ObjectKind, string)>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {TableKeys.Validate(awaitedId, "awaited object id")}");
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            // Only users and groups wait; any other word was always followed up as a user.
            var kind = WireNames<ObjectKind>.TryParse(entity.GetString(StateColumns.WaiterKind), out var parsed) && parsed == ObjectKind.Group ? ObjectKind.Group : ObjectKind.User;
            result.Add((kind, entity.GetString(StateColumns.WaiterId) ?? ""));
        }

        return result;
    }

    // ---------- cursors ----------

    public async Task<DeltaCursor> GetCursorAsync(string name, CancellationToken cancellationToken = default)
    {
        var table = await TableAsync(CursorsTable, cancellationToken);
        var response = await table.GetEntityIfExistsAsync<TableEntity>(StateColumns.CursorPartition, TableKeys.Validate(name, "cursor name"), cancellationToken: cancellationToken);
        if (!response.HasValue)
        {
            return new DeltaCursor(name, null, null, null);
        }

        var e = response.Value!;
        return new DeltaCursor(name, JoinChunks(e, StateColumns.Link), e.GetDateTimeOffset(StateColumns.UpdatedAt), e.GetDateTimeOffset(StateColumns.LastFullResyncAt), e.ETag);
    }

    public async Task<DeltaCursor> SaveCursorAsync(DeltaCursor cursor, CancellationToken cancellationToken = default)
    {
        var table = await TableAsync(CursorsTable, cancellationToken);
        var entity = new TableEntity(StateColumns.CursorPartition, TableKeys.Validate(cursor.Name, "cursor name"))
        {
            [StateColumns.UpdatedAt] = cursor.UpdatedAt,
            [StateColumns.LastFullResyncAt] = cursor.LastFullResyncAt,
        };
        if (!SplitChunks(entity, StateColumns.Link, cursor.Link, 8))
        {
            throw new InvalidOperationException($"The {cursor.Name} delta link is longer than the cursor row can hold.");
        }

        var etag = await WriteAsync(table, entity, cursor.ETag, $"cursor {cursor.Name}", cancellationToken);
        return cursor with { ETag = etag };
    }

    // ---------- subscriptions ----------

    public async Task<IReadOnlyList<GraphSubscription>> ListSubscriptionsAsync(CancellationToken cancellationToken = default)
    {
        var table = await TableAsync(SubscriptionsTable, cancellationToken);
        var result = new List<GraphSubscription>();
        await foreach (var e in table.QueryAsync<TableEntity>(cancellationToken: cancellationToken))
        {
            result.Add(new GraphSubscription(e.GetString(StateColumns.SubscriptionId) ?? e.RowKey, e.GetString(StateColumns.Resource) ?? "", e.GetDateTimeOffset(StateColumns.ExpiresAt) ?? DateTimeOffset.MinValue));
        }

        return result;
    }

    public async Task SaveSubscriptionAsync(GraphSubscription subscription, CancellationToken cancellationToken = default)
    {
        var table = await TableAsync(SubscriptionsTable, cancellationToken);
        var entity = new TableEntity(StateColumns.SubscriptionPartition, TableKeys.Validate(subscription.Id, "subscription id"))
        {
            [StateColumns.SubscriptionId] = subscription.Id,
            [StateColumns.Resource] = subscription.Resource,
            [StateColumns.ExpiresAt] = subscription.ExpiresAt,
        };
        await table.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken);
        Interlocked.Increment(ref _writes);
    }

    public async Task DeleteSubscriptionAsync(string id, CancellationToken cancellationToken = default)
    {
        var table = await TableAsync(SubscriptionsTable, cancellationToken);
        await DeleteAsync(table, StateColumns.SubscriptionPartition, TableKeys.Validate(id, "subscription id"), ETag.All, cancellationToken);
    }

    // ---------- staged destructive actions and the hold ----------

    public async Task<IReadOnlyList<StagedAction>> ListStagedAsync(CancellationToken cancellationToken = default)
    {
        var table = await TableAsync(StagedTable, cancellationToken);
        var result = new List<StagedAction>();
        await foreach (var e in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {StateColumns.StagedPartition}"), cancellationToken: cancellationToken))
        {
            // Only disable and delete are ever staged; a word no version wrote is decided again like a disable.
            var action = WireNames<PlanAction>.TryParse(e.GetString(StateColumns.Action), out var parsed) ? parsed : PlanAction.Disable;
            result.Add(new StagedAction(e.GetString(StateColumns.ObjectId) ?? "", action, e.GetString(StateColumns.Reason) ?? "", e.GetDateTimeOffset(StateColumns.StagedAt) ?? default, e.GetString(StateColumns.ScimId)));
        }

        return result;
    }

    /// <summary>Stores the staged action unless the same one is already waiting; true when written.</summary>
    public async Task<bool> StageAsync(StagedAction action, CancellationToken cancellationToken = default)
    {
        var table = await TableAsync(StagedTable, cancellationToken);
        var rowKey = StagedKey(action);
        var existing = await table.GetEntityIfExistsAsync<TableEntity>(StateColumns.StagedPartition, rowKey, cancellationToken: cancellationToken);
        if (existing.HasValue)
        {
            return false;
        }

        var entity = new TableEntity(StateColumns.StagedPartition, rowKey)
        {
            [StateColumns.ObjectId] = action.ObjectId,
            [StateColumns.Action] = action.Action.ToWireName(),
            [StateColumns.Reason] = action.Reason,
            [StateColumns.StagedAt] = action.StagedAt,
            [StateColumns.ScimId] = action.ScimId,
        };
        try
        {
            await table.AddEntityAsync(entity, cancellationToken);
            Interlocked.Increment(ref _writes);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return false;
        }
    }

    public async Task RemoveStagedAsync(StagedAction action, CancellationToken cancellationToken = default)
    {
        var table = await TableAsync(StagedTable, cancellationToken);
        await DeleteAsync(table, StateColumns.StagedPartition, StagedKey(action), ETag.All, cancellationToken);
    }

    private static string StagedKey(StagedAction action) =>
        TableKeys.Validate($"{action.Action.ToWireName()}-{action.ObjectId}", "staged action key");

    public async Task<DestructiveHold?> GetHoldAsync(CancellationToken cancellationToken = default)
    {
        var table = await TableAsync(StagedTable, cancellationToken);
        var response = await table.GetEntityIfExistsAsync<TableEntity>(StateColumns.HoldKey, StateColumns.HoldKey, cancellationToken: cancellationToken);
        return response.HasValue ? new DestructiveHold(response.Value!.GetDateTimeOffset(StateColumns.Since) ?? default, response.Value.GetString(StateColumns.Reason) ?? "") : null;
    }

    public async Task SetHoldAsync(DestructiveHold hold, CancellationToken cancellationToken = default)
    {
        var table = await TableAsync(StagedTable, cancellationToken);
        try
        {
            // The first trip wins; later ones keep its time and reason.
            await table.AddEntityAsync(new TableEntity(StateColumns.HoldKey, StateColumns.HoldKey) { [StateColumns.Since] = hold.Since, [StateColumns.Reason] = hold.Reason }, cancellationToken);
            Interlocked.Increment(ref _writes);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
        }
    }

    public async Task ClearHoldAsync(CancellationToken cancellationToken = default)
    {
        var table = await TableAsync(StagedTable, cancellationToken);
        await DeleteAsync(table, StateColumns.HoldKey, StateColumns.HoldKey, ETag.All, cancellationToken);
    }

    // ---------- target hints (the sweep's listing of the target, per joiner) ----------

    /// <summary>Upserts one hint per joiner (one row each: a joiner's item reads only its own).</summary>
    public async Task SaveTargetHintsAsync(IReadOnlyCollection<TargetHint> hints, int parallelism, CancellationToken cancellationToken = default)
    {
        var table = await TableAsync(TargetHintsTable, cancellationToken);
        await Parallel.ForEachAsync(hints, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken }, async (hint, ct) =>
        {
            var entity = new TableEntity(TableKeys.Validate(hint.ObjectId, "user object id"), StateColumns.HintRow)
            {
                [StateColumns.UserName] = hint.UserName,
                [StateColumns.ScimId] = hint.ScimId,
                [StateColumns.Why] = hint.Why,
                [StateColumns.ListedAt] = hint.ListedAt,
            };
            await table.UpsertEntityAsync(entity, TableUpdateMode.Replace, ct);
            Interlocked.Increment(ref _writes);
        });
    }

    public async Task<TargetHint?> GetTargetHintAsync(string objectId, CancellationToken cancellationToken = default)
    {
        var table = await TableAsync(TargetHintsTable, cancellationToken);
        var response = await table.GetEntityIfExistsAsync<TableEntity>(TableKeys.Validate(objectId, "user object id"), StateColumns.HintRow, cancellationToken: cancellationToken);
        if (!response.HasValue)
        {
            return null;
        }

        var e = response.Value!;
        return e.GetDateTimeOffset(StateColumns.ListedAt) is { } listedAt && e.GetString(StateColumns.UserName) is { } userName
            ? new TargetHint(objectId, userName, e.GetString(StateColumns.ScimId), e.GetString(StateColumns.Why), listedAt)
            : null;
    }

    // ---------- the destructive-action ledger (sliding window) ----------

    /// <summary>Every disable and delete counted in the threshold's window, in one row so that one ETag
    /// serialises the check-and-count of every instance. Entries are (when, key); the key is a short hash of
    /// action and object id, so the row's size does not depend on how long object ids are.</summary>
    public async Task<(IReadOnlyList<LedgerEntry> Entries, ETag ETag)> GetLedgerAsync(CancellationToken cancellationToken = default)
    {
        var table = await TableAsync(CountersTable, cancellationToken);
        var response = await table.GetEntityIfExistsAsync<TableEntity>(LedgerPartition, LedgerRow, cancellationToken: cancellationToken);
        if (!response.HasValue)
        {
            return ([], default);
        }

        var text = JoinChunks(response.Value!, StateColumns.Entries) ?? "";
        var entries = new List<LedgerEntry>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space > 0 && long.TryParse(line.AsSpan(0, space), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds))
            {
                entries.Add(new LedgerEntry(DateTimeOffset.FromUnixTimeSeconds(seconds), line[(space + 1)..]));
            }
        }

        return (entries, response.Value!.ETag);
    }

    /// <summary>Replaces the ledger if it is still at <paramref name="etag"/> (default: creates it); a lost race is a <see cref="StateConflictException"/>.</summary>
    public async Task SaveLedgerAsync(IReadOnlyList<LedgerEntry> entries, ETag etag, CancellationToken cancellationToken = default)
    {
        var table = await TableAsync(CountersTable, cancellationToken);
        var text = string.Join('\n', entries.Select(e => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{e.At.ToUnixTimeSeconds()} {e.Key}")));
        var entity = new TableEntity(LedgerPartition, LedgerRow) { [StateColumns.Count] = entries.Count };
        if (!SplitChunks(entity, StateColumns.Entries, text, MaxLedgerChunks))
        {
            throw new InvalidOperationException($"The destructive-action ledger holds {entries.Count} entries, more than its row can hold.");
        }

        await WriteAsync(table, entity, etag, "destructive-action ledger", cancellationToken);
    }

    /// <summary>The ledger key of one action on one object: the same disable retried or redelivered has the same key.</summary>
    public static string LedgerKey(PlanAction action, string objectId) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(action.ToWireName() + "\n" + objectId)).AsSpan(0, 8));

    private const string LedgerPartition = StateColumns.LedgerPartition;
    private const string LedgerRow = StateColumns.LedgerRow;
    private const int MaxLedgerChunks = 12; // 12 × 30,000 characters: 13,000 entries of 27, within the 1 MiB entity limit

    // ---------- plumbing ----------

    public async Task<TableClient> TableAsync(string name, CancellationToken cancellationToken = default)
    {
        var lazy = _tables.GetOrAdd(name, n => new Lazy<Task<TableClient>>(() => CreateAsync(n)));
        try
        {
            return await lazy.Value.WaitAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || lazy.Value.IsFaulted || lazy.Value.IsCanceled)
        {
            // A failed create must not be cached, whatever failed (a 5xx, a timeout, a credential error): the next
            // call tries again. Only this caller giving up (its own token) leaves the create running for others.
            _tables.TryRemove(new KeyValuePair<string, Lazy<Task<TableClient>>>(name, lazy));
            throw;
        }
    }

    private async Task<TableClient> CreateAsync(string name)
    {
        var client = service.GetTableClient(name);
        await client.CreateIfNotExistsAsync();
        return client;
    }

    private async Task<ETag> WriteAsync(TableClient table, TableEntity entity, ETag etag, string what, CancellationToken cancellationToken)
    {
        try
        {
            Response response = etag == default
                ? await table.AddEntityAsync(entity, cancellationToken)
                : await table.UpdateEntityAsync(entity, etag, TableUpdateMode.Replace, cancellationToken);
            Interlocked.Increment(ref _writes);
            return response.Headers.ETag ?? default;
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            throw new StateConflictException($"The {what} row was changed by another writer.", ex);
        }
    }

    private async Task DeleteAsync(TableClient table, string partitionKey, string rowKey, ETag etag, CancellationToken cancellationToken)
    {
        try
        {
            await table.DeleteEntityAsync(partitionKey, rowKey, etag, cancellationToken);
            Interlocked.Increment(ref _writes);
        }
        catch (RequestFailedException ex) when (ex.Status == 412)
        {
            throw new StateConflictException($"The row {partitionKey}/{rowKey} was changed by another writer.", ex);
        }
    }

    private static TableEntity FromUser(UserMapping m)
    {
        var e = new TableEntity(TableKeys.Validate(m.ObjectId, "user object id"), UserRow)
        {
            [StateColumns.ScimId] = m.ScimId,
            [StateColumns.TargetVersion] = m.TargetVersion,
            [StateColumns.ProjectionHash] = m.ProjectionHash,
            [StateColumns.Projection] = m.Projection is null ? null : JsonSerializer.Serialize(m.Projection, StateJsonContext.Default.IReadOnlyDictionaryStringString),
            [StateColumns.State] = m.State.ToString(),
            [StateColumns.DisabledSince] = m.DisabledSince,
            [StateColumns.Origin] = m.Origin?.ToString(),
            [StateColumns.LastError] = Truncate(m.LastError, 2000),
            [StateColumns.LastErrorAt] = m.LastErrorAt,
            [StateColumns.LastLagSeconds] = m.LastLagSeconds,
            [StateColumns.ObservedAt] = m.ObservedAt,
            [StateColumns.AppliedAt] = m.AppliedAt,
            [StateColumns.PendingManagerId] = m.PendingManagerId,
            [StateColumns.RecreatedAt] = m.RecreatedAt,
        };
        return e;
    }

    private static UserMapping ToUser(TableEntity e)
    {
        var projectionJson = e.GetString(StateColumns.Projection);
        return new UserMapping(
            e.PartitionKey,
            e.GetString(StateColumns.ScimId),
            e.GetString(StateColumns.TargetVersion),
            e.GetString(StateColumns.ProjectionHash),
            projectionJson is null ? null : JsonSerializer.Deserialize(projectionJson, StateJsonContext.Default.IReadOnlyDictionaryStringString),
            Enum.TryParse<LifecycleState>(e.GetString(StateColumns.State), out var state) ? state : LifecycleState.Failed,
            e.GetDateTimeOffset(StateColumns.DisabledSince),
            Enum.TryParse<MappingOrigin>(e.GetString(StateColumns.Origin), out var origin) ? origin : null,
            e.GetString(StateColumns.LastError),
            e.GetDateTimeOffset(StateColumns.LastErrorAt),
            e.GetDouble(StateColumns.LastLagSeconds),
            e.GetDateTimeOffset(StateColumns.ObservedAt),
            e.GetDateTimeOffset(StateColumns.AppliedAt),
            e.GetString(StateColumns.PendingManagerId),
            e.GetDateTimeOffset(StateColumns.RecreatedAt),
            e.ETag);
    }

    private static TableEntity FromGroup(GroupMapping m)
    {
        var e = new TableEntity(TableKeys.Validate(m.ObjectId, "group object id"), GroupRow)
        {
            [StateColumns.ScimId] = m.ScimId,
            [StateColumns.TargetVersion] = m.TargetVersion,
            [StateColumns.State] = m.State.ToString(),
            [StateColumns.DisplayName] = Truncate(m.DisplayName, 1000),
            [StateColumns.MembersHash] = m.MembersHash ?? (m.Members is null ? null : HashSet(m.Members)),
            [StateColumns.MemberCount] = m.Members?.Count,
            [StateColumns.LastError] = Truncate(m.LastError, 2000),
            [StateColumns.LastErrorAt] = m.LastErrorAt,
            [StateColumns.AppliedAt] = m.AppliedAt,
        };
        if (m.Members is not null && !SplitChunks(e, StateColumns.Members, SerializeSet(m.Members), MaxMemberChunks))
        {
            // Too many to keep: the hash stays, and the target is read when the set is needed.
            e[StateColumns.MembersStored] = false;
        }
        else
        {
            e[StateColumns.MembersStored] = m.Members is not null;
        }

        if (!SplitChunks(e, StateColumns.PendingMembers, SerializeSet(m.PendingMembers), MaxPendingChunks))
        {
            SplitChunks(e, StateColumns.PendingMembers, SerializeSet(m.PendingMembers.Take(3000).ToHashSet()), MaxPendingChunks);
        }

        return e;
    }

    private static GroupMapping ToGroup(TableEntity e)
    {
        var stored = e.GetBoolean(StateColumns.MembersStored) ?? false;
        var membersJson = stored ? JoinChunks(e, StateColumns.Members) : null;
        var pendingJson = JoinChunks(e, StateColumns.PendingMembers);
        return new GroupMapping(
            e.PartitionKey,
            e.GetString(StateColumns.ScimId),
            e.GetString(StateColumns.TargetVersion),
            Enum.TryParse<GroupState>(e.GetString(StateColumns.State), out var state) ? state : GroupState.Unmatched,
            e.GetString(StateColumns.DisplayName),
            membersJson is null ? null : DeserializeSet(membersJson),
            e.GetString(StateColumns.MembersHash),
            pendingJson is null ? new HashSet<string>(StringComparer.Ordinal) : DeserializeSet(pendingJson),
            e.GetString(StateColumns.LastError),
            e.GetDateTimeOffset(StateColumns.LastErrorAt),
            e.GetDateTimeOffset(StateColumns.AppliedAt),
            e.ETag);
    }

    public static string HashSet(IEnumerable<string> values)
    {
        var joined = string.Join('\n', values.Order(StringComparer.Ordinal));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(joined)).AsSpan(0, 16));
    }

    private static string SerializeSet(IEnumerable<string> values) =>
        JsonSerializer.Serialize(values.Order(StringComparer.Ordinal).ToArray(), StateJsonContext.Default.StringArray);

    private static HashSet<string> DeserializeSet(string json) =>
        new(JsonSerializer.Deserialize(json, StateJsonContext.Default.StringArray) ?? [], StringComparer.Ordinal);

    private static bool SplitChunks(TableEntity entity, string name, string? value, int maxChunks)
    {
        if (value is null)
        {
            return true;
        }

        var count = (value.Length + ChunkChars - 1) / ChunkChars;
        if (count > maxChunks)
        {
            return false;
        }

        entity[name + StateColumns.ChunksSuffix] = count;
        for (var i = 0; i < count; i++)
        {
            entity[$"{name}{i}"] = value.Substring(i * ChunkChars, Math.Min(ChunkChars, value.Length - (i * ChunkChars)));
        }

        return true;
    }

    private static string? JoinChunks(TableEntity entity, string name)
    {
        var count = entity.GetInt32(name + StateColumns.ChunksSuffix);
        if (count is null)
        {
            return null;
        }

        var builder = new StringBuilder();
        for (var i = 0; i < count; i++)
        {
            builder.Append(entity.GetString($"{name}{i}"));
        }

        return builder.ToString();
    }

    private static string? Truncate(string? value, int max) => value is null || value.Length <= max ? value : value[..max];
}
