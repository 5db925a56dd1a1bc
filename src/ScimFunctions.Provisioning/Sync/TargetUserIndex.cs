using Microsoft.Extensions.Logging;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;

namespace ScimFunctions.Provisioning.Sync;

/// <summary>The target's users as one listing saw them, indexed by the two keys a joiner is matched on
/// (externalId, the anchor this connector writes, and userName). With it a joiner the target does not hold
/// costs one POST instead of a lookup and a POST. It is a hint, never the truth: a user created on the target
/// after the listing still meets the create's 409 and is adopted as without an index, and a match is read
/// again by id before it is adopted.</summary>
public sealed class TargetUserIndex
{
    /// <summary>What the listing asks for: only what matching needs (id and meta come anyway). externalId is one of
    /// Genesys's expensive secondary lookups, so these pages stay at 25 there (reference §5.3); without it a
    /// renamed user with our anchor would be created twice.</summary>
    public static readonly IReadOnlyList<string> Attributes = ["id", ScimAttributes.UserName, ScimAttributes.ExternalId];

    /// <summary>Users per page of that listing on Genesys (the client's page size with externalId selected).</summary>
    public const int PageSize = 25;

    private readonly Dictionary<string, string> _byExternalId;
    private readonly Dictionary<string, string> _byUserName;

    private TargetUserIndex(Dictionary<string, string> byExternalId, Dictionary<string, string> byUserName, DateTimeOffset listedAt)
    {
        _byExternalId = byExternalId;
        _byUserName = byUserName;
        ListedAt = listedAt;
    }

    public DateTimeOffset ListedAt { get; }

    public int Count => _byUserName.Count;

    /// <summary>Builds an index from listed resources (tests, and <see cref="LoadAsync"/>).</summary>
    public static TargetUserIndex From(IEnumerable<ScimResource> resources, DateTimeOffset listedAt)
    {
        // SCIM compares userName case-insensitively (RFC 7643 §4.1.1); object ids are GUIDs.
        var byExternalId = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var byUserName = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var resource in resources)
        {
            if (Text(resource, ScimAttributes.ExternalId) is { Length: > 0 } externalId)
            {
                byExternalId.TryAdd(externalId, resource.Id);
            }

            if (Text(resource, ScimAttributes.UserName) is { Length: > 0 } userName)
            {
                byUserName.TryAdd(userName, resource.Id);
            }
        }

        return new TargetUserIndex(byExternalId, byUserName, listedAt);
    }

    /// <summary>Lists the target once when that costs fewer requests than looking up each of the
    /// <paramref name="candidates"/> joiners (one count request decides); null when it would not pay, or when
    /// the target cannot be listed (the joiners then look themselves up, as without an index).</summary>
    public static async Task<TargetUserIndex?> LoadAsync(IScimClient scim, int candidates, TimeProvider time, ILogger logger, CancellationToken cancellationToken = default)
    {
        if (candidates == 0)
        {
            return null;
        }

        var listedAt = time.GetUtcNow();
        var count = await scim.CountUsersAsync(cancellationToken: cancellationToken);
        if (!count.IsSuccess)
        {
            TargetIndexLog.NotListed(logger, candidates, count.Outcome);
            return null;
        }

        // Genesys counts only active users without a filter and lists the inactive ones in a second scan:
        // at least one more page. A lookup per joiner is one request each.
        var pages = (count.Value + PageSize - 1) / PageSize + 1;
        if (pages >= candidates)
        {
            TargetIndexLog.NotWorthIt(logger, candidates, count.Value, pages);
            return null;
        }

        try
        {
            var resources = new List<ScimResource>();
            await foreach (var resource in scim.ListUsersAsync(attributes: Attributes, cancellationToken: cancellationToken))
            {
                resources.Add(resource);
            }

            var index = From(resources, listedAt);
            TargetIndexLog.Listed(logger, index.Count, candidates);
            return index;
        }
        catch (ScimException ex)
        {
            TargetIndexLog.NotListed(logger, candidates, ex.Outcome);
            return null;
        }
    }

    /// <summary>The target user a joiner matches, and why; null when the listing held neither key.</summary>
    public TargetMatch? Find(string objectId, string userName)
    {
        if (_byExternalId.TryGetValue(objectId, out var anchored))
        {
            return new TargetMatch(anchored, "target user carries this object id as externalId");
        }

        return _byUserName.TryGetValue(userName, out var named) ? new TargetMatch(named, "target user has the same userName") : null;
    }

    private static string? Text(ScimResource resource, string attribute) =>
        resource.Body[attribute] is System.Text.Json.Nodes.JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
}

/// <summary>The Functions' initial load: a <see cref="DeltaSweeper"/> round that queues many joiners lists the
/// target once and stores, per joiner, what the listing said (<see cref="TargetHint"/>, Table Storage). The
/// joiner's item, whoever delivers it (sweep or webhook) and on whichever instance, reads its own row: one Table
/// read instead of a SCIM lookup. A hint older than <see cref="MaxAge"/> is not used.</summary>
public sealed class TargetHintWriter(StateStore store, IScimClient scim, AttributeMapper mapper, SyncOptions options, TimeProvider time, ILogger logger)
{
    /// <summary>Long enough for the queue to drain a large initial load at the rate limit (100,000 creates at
    /// 300 a minute take about 5.6 hours); after that a joiner looks itself up again.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromHours(8);

    public async Task<int> WriteAsync(IReadOnlyCollection<DirectoryUser> joiners, CancellationToken cancellationToken = default)
    {
        var index = await TargetUserIndex.LoadAsync(scim, joiners.Count, time, logger, cancellationToken);
        return index is null ? 0 : await WriteAsync(joiners, index, cancellationToken);
    }

    /// <summary>Hints for one sweep run that queues its joiners page by page: the target is listed at most once per
    /// run, the first time the joiners the run has met make the listing worth it (the decision is asked again each
    /// time they double, so a run spends at most about the listing's cost on lookups before it lists).</summary>
    public HintRun StartRun() => new(this);

    public sealed class HintRun(TargetHintWriter writer)
    {
        private TargetUserIndex? index;
        private int joiners;
        private int nextTry = 1;

        public async Task<int> WriteAsync(IReadOnlyCollection<DirectoryUser> pageJoiners, CancellationToken cancellationToken = default)
        {
            joiners += pageJoiners.Count;
            if (index is null && pageJoiners.Count > 0 && joiners >= nextTry)
            {
                nextTry = joiners * 2;
                index = await writer.LoadIndexAsync(joiners, cancellationToken);
            }

            return index is null || pageJoiners.Count == 0 ? 0 : await writer.WriteAsync(pageJoiners, index, cancellationToken);
        }
    }

    private Task<TargetUserIndex?> LoadIndexAsync(int candidates, CancellationToken cancellationToken) =>
        TargetUserIndex.LoadAsync(scim, candidates, time, logger, cancellationToken);

    private async Task<int> WriteAsync(IReadOnlyCollection<DirectoryUser> joiners, TargetUserIndex index, CancellationToken cancellationToken)
    {
        var hints = new List<TargetHint>(joiners.Count);
        foreach (var user in joiners)
        {
            if (TableKeys.IsValid(user.Id) && mapper.Project(user, null).Values.TryGetValue(ScimAttributes.UserName, out var userName))
            {
                var match = index.Find(user.Id, userName);
                hints.Add(new TargetHint(user.Id, userName, match?.ScimId, match?.Why, index.ListedAt));
            }
        }

        // Stored before the items are queued, so no item runs ahead of its hint.
        await store.SaveTargetHintsAsync(hints, options.Parallelism, cancellationToken);
        return hints.Count;
    }

    /// <summary>The hint for a joiner, if one was stored, is recent and was matched on the same userName.</summary>
    public static TargetMatch? Usable(TargetHint? hint, string userName, DateTimeOffset now, out bool absent)
    {
        absent = false;
        if (hint is null || now - hint.ListedAt > MaxAge || !string.Equals(hint.UserName, userName, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        absent = hint.ScimId is null;
        return hint.ScimId is null ? null : new TargetMatch(hint.ScimId, hint.Why ?? "listed on the target");
    }
}

/// <summary>A listed target user a joiner would be adopted onto (read again by id before it is).</summary>
public sealed record TargetMatch(string ScimId, string Why);

internal static partial class TargetIndexLog
{
    [LoggerMessage(EventId = 3050, Level = LogLevel.Information, Message = "Target users listed once for {Candidates} joiners: {Listed} users indexed by externalId and userName")]
    public static partial void Listed(ILogger logger, int listed, int candidates);

    [LoggerMessage(EventId = 3051, Level = LogLevel.Information, Message = "Target users not listed for {Candidates} joiners: {TargetUsers} target users take about {Pages} pages, no fewer requests than a lookup each")]
    public static partial void NotWorthIt(ILogger logger, int candidates, int targetUsers, int pages);

    [LoggerMessage(EventId = 3052, Level = LogLevel.Warning, Message = "Target users could not be listed for {Candidates} joiners ({Outcome}); each joiner looks itself up")]
    public static partial void NotListed(ILogger logger, int candidates, ScimOutcome outcome);
}
