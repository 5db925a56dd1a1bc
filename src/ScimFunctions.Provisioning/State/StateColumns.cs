namespace ScimFunctions.Provisioning.State;

/// <summary>The property and fixed key names of the engine's Table rows, written and read only through these
/// constants (<see cref="StateStore"/>). Renaming one orphans every row already stored: a new name needs a
/// migration, not an edit here. Columns shared by several tables mean the same thing in each. Two query filters
/// name a column in their text, because <c>CreateQueryFilter</c> quotes whatever is interpolated: the state filter of
/// <c>ListUsersAsync</c> and the ScimId filter of <c>FindUsersByScimIdAsync</c>.</summary>
internal static class StateColumns
{
    // Shared: user and group mappings, staged actions, target hints.
    public const string ScimId = "ScimId";
    public const string State = "State";
    public const string TargetVersion = "TargetVersion";
    public const string LastError = "LastError";
    public const string LastErrorAt = "LastErrorAt";
    public const string AppliedAt = "AppliedAt";
    public const string Reason = "Reason";

    // User mappings (PartitionKey = object id, RowKey = UserRow).
    public const string UserRow = "user";
    public const string ProjectionHash = "ProjectionHash";
    public const string Projection = "Projection";
    public const string DisabledSince = "DisabledSince";
    public const string Origin = "Origin";
    public const string LastLagSeconds = "LastLagSeconds";
    public const string ObservedAt = "ObservedAt";
    public const string PendingManagerId = "PendingManagerId";
    public const string RecreatedAt = "RecreatedAt";

    // Group mappings (PartitionKey = object id, RowKey = GroupRow); Members and Pending are chunked (Members0.., MembersChunks).
    public const string GroupRow = "group";
    public const string DisplayName = "DisplayName";
    public const string MembersHash = "MembersHash";
    public const string MemberCount = "MemberCount";
    public const string Members = "Members";
    public const string MembersStored = "MembersStored";
    public const string PendingMembers = "Pending";

    // Pending (PartitionKey = awaited object id, RowKey = "{kind}-{waiter id}").
    public const string WaiterKind = "WaiterKind";
    public const string WaiterId = "WaiterId";

    // Cursors (PartitionKey = CursorPartition, RowKey = cursor name); Link is chunked.
    public const string CursorPartition = "cursor";
    public const string Link = "Link";
    public const string UpdatedAt = "UpdatedAt";
    public const string LastFullResyncAt = "LastFullResyncAt";

    // Subscriptions (PartitionKey = SubscriptionPartition, RowKey = subscription id).
    public const string SubscriptionPartition = "subscription";
    public const string SubscriptionId = "SubscriptionId";
    public const string Resource = "Resource";
    public const string ExpiresAt = "ExpiresAt";

    // Staged actions (PartitionKey = StagedPartition) and the hold (HoldKey / HoldKey).
    public const string StagedPartition = "staged";
    public const string ObjectId = "ObjectId";
    public const string Action = "Action";
    public const string StagedAt = "StagedAt";
    public const string HoldKey = "hold";
    public const string Since = "Since";

    // Target hints (PartitionKey = object id, RowKey = HintRow).
    public const string HintRow = "hint";
    public const string UserName = "UserName";
    public const string Why = "Why";
    public const string ListedAt = "ListedAt";

    // The destructive-action ledger (one row in Counters); Entries is chunked.
    public const string LedgerPartition = "destructive";
    public const string LedgerRow = "ledger";
    public const string Count = "Count";
    public const string Entries = "Entries";

    /// <summary>Suffix of the column that holds how many chunks a long value was split into.</summary>
    public const string ChunksSuffix = "Chunks";
}
