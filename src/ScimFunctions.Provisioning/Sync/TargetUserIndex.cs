using Microsoft.Extensions.Logging;
using ScimFunctions.Provisioning.Scim;

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
