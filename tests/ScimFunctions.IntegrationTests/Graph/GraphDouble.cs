using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace ScimFunctions.IntegrationTests.Graph;

/// <summary>How an expired delta token is answered.</summary>
public enum ExpiredTokenStyle
{
    /// <summary><c>410 Gone</c> with a Location header.</summary>
    Gone,

    /// <summary><c>400</c> with error code <c>syncStateNotFound</c>.</summary>
    SyncStateNotFound,
}

/// <summary>One request the double received.</summary>
/// <param name="Path">Decoded path.</param>
/// <param name="RawTarget">Path and query exactly as sent.</param>
public sealed record RecordedRequest(string Method, string Path, string Query, string RawTarget, string? Authorization, string? RetryAttempt);

/// <summary>A Microsoft Graph test double on 127.0.0.1 (a random port), serving the JSON shapes Graph documents:
/// users (with <c>$select</c> and <c>$expand=manager</c>), groups and (transitive) members with
/// <c>@odata.nextLink</c>, <c>users/delta</c> and <c>groups/delta</c> with next and delta links on its own host
/// (a group's <c>members@delta</c> spread over several pages), subscriptions (create, renew, reauthorize,
/// delete, quota), 404s with Graph's error codes, injected 429 with Retry-After and other faults, and 410
/// on an expired delta token. Its directory is mutable from tests; every change is visible to delta.
/// Use it from code (<see cref="StartAsync"/>) or point <c>--graph-url</c> at <see cref="BaseUrl"/>.</summary>
public sealed class GraphDouble : IAsyncDisposable
{
    public const string DefaultToken = "graph-double-token";
    public const int MaxSubscriptionLifetimeMinutes = 41_760;

    private readonly Lock gate = new();
    private readonly WebApplication app;
    private readonly Dictionary<string, UserRecord> users = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, GroupRecord> groups = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, string> otherObjectTypes = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, DeltaToken> deltaTokens = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DeltaSession> deltaSessions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, JsonObject> subscriptions = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<Fault> faults = [];
    private readonly List<RecordedRequest> requests = [];
    private long version;

    private GraphDouble(WebApplication app)
    {
        this.app = app;
    }

    /// <summary>Root including the version, e.g. <c>http://127.0.0.1:41234/v1.0</c>.</summary>
    public string BaseUrl { get; private set; } = "";

    /// <summary>The bearer token every request must carry (null: no check).</summary>
    public string? Token { get; set; } = DefaultToken;

    /// <summary>Entries per delta page.</summary>
    public int DeltaPageSize { get; set; } = 2;

    /// <summary>Members per <c>members@delta</c> chunk: a group with more members appears on several entries
    /// (interleaved with other groups, so on several pages).</summary>
    public int MembersPerDeltaEntry { get; set; } = 2;

    /// <summary>Members per members page (the smaller of this and the request's <c>$top</c>).</summary>
    public int MembersPageSize { get; set; } = 2;

    /// <summary>Emit every delta entry twice, as Graph's replays do.</summary>
    public bool ReplayDeltaEntries { get; set; }

    public ExpiredTokenStyle ExpiredTokenStyle { get; set; } = ExpiredTokenStyle.Gone;

    /// <summary>Called for every request before it is answered (outside the double's lock): a test advances its fake
    /// clock here ("each page takes 5 s") or arranges a fault at one exact request.</summary>
    public Action<RecordedRequest>? OnRequest { get; set; }

    /// <summary>Subscriptions allowed before creation answers 403 (Graph: 100 per app and tenant).</summary>
    public int SubscriptionQuota { get; set; } = 100;

    public TimeProvider Time { get; set; } = TimeProvider.System;

    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (gate)
            {
                return [.. requests];
            }
        }
    }

    public IReadOnlyDictionary<string, JsonObject> Subscriptions
    {
        get
        {
            lock (gate)
            {
                return subscriptions.ToDictionary(p => p.Key, p => (JsonObject)p.Value.DeepClone());
            }
        }
    }

    public static async Task<GraphDouble> StartAsync(CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var graph = new GraphDouble(app);
        app.Run(graph.HandleAsync);
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetService(typeof(IServer)) is IServer server
            ? server.Features.Get<IServerAddressesFeature>()!.Addresses.First()
            : throw new InvalidOperationException("Kestrel did not start.");
        graph.BaseUrl = address.TrimEnd('/') + "/v1.0";
        return graph;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    // ---- directory state ------------------------------------------------------------------

    /// <summary>Adds (or revives) a user. <paramref name="properties"/> may set any Graph property.</summary>
    public void AddUser(string id, string userPrincipalName, string displayName, bool accountEnabled = true, Action<JsonObject>? properties = null)
    {
        var props = new JsonObject
        {
            ["id"] = id,
            ["userPrincipalName"] = userPrincipalName,
            ["displayName"] = displayName,
            ["accountEnabled"] = accountEnabled,
            ["mail"] = userPrincipalName,
            ["businessPhones"] = new JsonArray(),
        };
        properties?.Invoke(props);
        lock (gate)
        {
            var now = ++version;
            users[id] = new UserRecord(props) { ChangedAt = now, ManagerChangedAt = 0 };
        }
    }

    public void UpdateUser(string id, Action<JsonObject> change)
    {
        lock (gate)
        {
            var user = ActiveUser(id);
            change(user.Properties);
            user.ChangedAt = ++version;
        }
    }

    public void SetManager(string userId, string? managerId)
    {
        lock (gate)
        {
            var user = ActiveUser(userId);
            user.PreviousManagerId = user.ManagerId;
            user.ManagerId = managerId;
            user.ManagerChangedAt = ++version;
        }
    }

    /// <summary>Soft delete: the user goes to deleted items (GET answers 404; delta says <c>changed</c>).</summary>
    public void SoftDeleteUser(string id) => RemoveUser(id, "changed");

    /// <summary>Permanent delete: delta says <c>deleted</c>.</summary>
    public void HardDeleteUser(string id) => RemoveUser(id, "deleted");

    public void RestoreUser(string id)
    {
        lock (gate)
        {
            var user = users[id];
            user.RemovedReason = null;
            user.ChangedAt = ++version;
        }
    }

    public void AddGroup(string id, string displayName, params string[] memberIds)
    {
        lock (gate)
        {
            var group = new GroupRecord(displayName) { ChangedAt = ++version };
            groups[id] = group;
            foreach (var member in memberIds)
            {
                group.Members.Add(member);
                group.Events.Add(new MembershipEvent(member, Added: true, ++version));
            }
        }
    }

    public void RenameGroup(string id, string displayName)
    {
        lock (gate)
        {
            var group = ActiveGroup(id);
            group.DisplayName = displayName;
            group.ChangedAt = ++version;
        }
    }

    /// <summary>Adds a member: a user, a group (nesting), or another object given its <paramref name="odataType"/>.</summary>
    public void AddMember(string groupId, string memberId, string? odataType = null)
    {
        lock (gate)
        {
            if (odataType is not null)
            {
                otherObjectTypes[memberId] = odataType;
            }

            var group = ActiveGroup(groupId);
            if (!group.Members.Contains(memberId))
            {
                group.Members.Add(memberId);
            }

            group.Events.Add(new MembershipEvent(memberId, Added: true, ++version));
        }
    }

    public void RemoveMember(string groupId, string memberId)
    {
        lock (gate)
        {
            var group = ActiveGroup(groupId);
            group.Members.Remove(memberId);
            group.Events.Add(new MembershipEvent(memberId, Added: false, ++version));
        }
    }

    public void DeleteGroup(string id, bool permanently = true)
    {
        lock (gate)
        {
            var group = ActiveGroup(id);
            group.RemovedReason = permanently ? "deleted" : "changed";
            group.RemovedAt = ++version;
        }
    }

    // ---- faults ---------------------------------------------------------------------------

    /// <summary>The next <paramref name="count"/> requests whose path contains <paramref name="pathContains"/>
    /// get 429 with <c>Retry-After: retryAfterSeconds</c>.</summary>
    public void ThrottleNext(int count, int retryAfterSeconds = 0, string? pathContains = null) =>
        AddFault(new Fault(pathContains, 429, count, retryAfterSeconds, "TooManyRequests", "Too many requests."));

    /// <summary>After letting <paramref name="skip"/> matching requests through, the next <paramref name="count"/>
    /// fail with <paramref name="status"/>. A failure without a code has no Graph error body (as from a proxy).</summary>
    public void FailNext(int status, int count = 1, string? pathContains = null, string? code = "generalException", int skip = 0) =>
        AddFault(new Fault(pathContains, status, count, null, code, $"Injected failure {status}.") { Skip = skip });

    /// <summary>Every delta token handed out so far stops working.</summary>
    public void ExpireDeltaTokens()
    {
        lock (gate)
        {
            foreach (var token in deltaTokens.Values)
            {
                token.Expired = true;
            }
        }
    }

    public int CountRequests(string method, string pathContains) =>
        Requests.Count(r => r.Method == method && r.Path.Contains(pathContains, StringComparison.OrdinalIgnoreCase));

    public void ClearRequests()
    {
        lock (gate)
        {
            requests.Clear();
        }
    }

    // ---- HTTP -----------------------------------------------------------------------------

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        string? body;
        using (var reader = new StreamReader(request.Body))
        {
            body = await reader.ReadToEndAsync();
        }

        body = string.IsNullOrWhiteSpace(body) ? null : body;

        var recorded = new RecordedRequest(request.Method, request.Path.Value ?? "", request.QueryString.Value ?? "",
            context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? "",
            request.Headers.Authorization.FirstOrDefault(), request.Headers["Retry-Attempt"].FirstOrDefault());
        OnRequest?.Invoke(recorded);
        Response response;
        lock (gate)
        {
            requests.Add(recorded);
            response = Token is not null && request.Headers.Authorization.FirstOrDefault() != $"Bearer {Token}"
                ? Error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.")
                : Route(new DoubleRequest(request.Method, request.Path.Value ?? "", request.Query, body));
        }

        context.Response.StatusCode = response.Status;
        foreach (var (name, value) in response.Headers)
        {
            context.Response.Headers[name] = value;
        }

        if (response.Body is not null)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(response.Body.ToJsonString());
        }
    }

    private Response Route(DoubleRequest request)
    {
        var path = request.Path;
        var fault = faults.FirstOrDefault(f => f.Remaining > 0 && (f.PathContains is null || path.Contains(f.PathContains, StringComparison.OrdinalIgnoreCase)));
        if (fault is { Skip: > 0 })
        {
            fault.Skip--;
            fault = null;
        }

        if (fault is not null)
        {
            fault.Remaining--;
            var failure = fault.Code is null ? new Response(fault.Status, null, []) : Error(fault.Status, fault.Code, fault.Message);
            if (fault.RetryAfterSeconds is { } seconds)
            {
                failure.Headers["Retry-After"] = seconds.ToString(CultureInfo.InvariantCulture);
            }

            return failure;
        }

        if (!path.StartsWith("/v1.0/", StringComparison.Ordinal))
        {
            return new Response(404, null, []);
        }

        var segments = path["/v1.0/".Length..].Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        var body = request.Body;
        return (request.Method, segments) switch
        {
            ("POST", ["$batch"]) => Batch(body),
            ("GET", ["users", var d]) when IsDelta(d) => UsersDelta(request),
            ("GET", ["groups", var d]) when IsDelta(d) => GroupsDelta(request),
            ("GET", ["users", var id]) => GetUser(id, request),
            ("GET", ["groups"]) => FindGroups(request),
            ("GET", ["groups", var id]) => GetGroup(id),
            ("GET", ["groups", var id, "members"]) => GetMembers(id, transitive: false, request),
            ("GET", ["groups", var id, "transitiveMembers"]) => GetMembers(id, transitive: true, request),
            ("GET", ["subscriptions"]) => new Response(200, new JsonObject { ["value"] = new JsonArray([.. subscriptions.Values.Select(s => s.DeepClone())]) }, []),
            ("POST", ["subscriptions"]) => CreateSubscription(body),
            ("PATCH", ["subscriptions", var id]) => RenewSubscription(id, body),
            ("POST", ["subscriptions", var id, "reauthorize"]) => subscriptions.ContainsKey(id) ? new Response(204, null, []) : SubscriptionNotFound(),
            ("DELETE", ["subscriptions", var id]) => subscriptions.Remove(id) ? new Response(204, null, []) : SubscriptionNotFound(),
            _ => Error(400, "BadRequest", $"Resource not found for the segment '{segments.LastOrDefault()}'."),
        };
    }

    /// <summary>JSON batching: each inner request is routed (and throttled) on its own; the outer answer is 200.</summary>
    private Response Batch(string? body)
    {
        if ((body is null ? null : JsonNode.Parse(body)) is not JsonObject batch || batch["requests"] is not JsonArray inner || inner.Count is 0 or > 20)
        {
            return Error(400, "BadRequest", "A batch holds 1 to 20 requests.");
        }

        var responses = new JsonArray();
        foreach (var item in inner.OfType<JsonObject>())
        {
            var url = (string?)item["url"] ?? "";
            var queryStart = url.IndexOf('?', StringComparison.Ordinal);
            var innerPath = "/v1.0" + (queryStart < 0 ? url : url[..queryStart]);
            var query = new QueryCollection(Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(queryStart < 0 ? "" : url[queryStart..]));
            var innerBody = item["body"] is JsonNode b ? b.ToJsonString() : null;
            var innerMethod = (string?)item["method"] ?? "GET";
            requests.Add(new RecordedRequest(innerMethod, innerPath, queryStart < 0 ? "" : url[queryStart..], "$batch " + url, null, null));
            var answer = Route(new DoubleRequest(innerMethod, innerPath, query, innerBody));
            var headers = new JsonObject { ["Content-Type"] = "application/json" };
            foreach (var (name, value) in answer.Headers)
            {
                headers[name] = value;
            }

            var entry = new JsonObject { ["id"] = (string?)item["id"], ["status"] = answer.Status, ["headers"] = headers };
            if (answer.Body is not null)
            {
                entry["body"] = answer.Body;
            }

            responses.Add(entry);
        }

        return new Response(200, new JsonObject { ["responses"] = responses }, []);
    }

    private static bool IsDelta(string segment) => segment is "delta" or "delta()" or "microsoft.graph.delta" or "microsoft.graph.delta()";

    private Response GetUser(string idOrUpn, DoubleRequest request)
    {
        var user = FindActiveUser(idOrUpn);
        if (user is null)
        {
            return Error(404, "Request_ResourceNotFound", $"Resource '{idOrUpn}' does not exist or one of its queried reference-property objects are not present.");
        }

        var result = Select(user.Properties, SelectOf(request));
        if ((request.Query["$expand"].FirstOrDefault() ?? "").Contains("manager", StringComparison.OrdinalIgnoreCase) && user.ManagerId is { } managerId)
        {
            result["manager"] = new JsonObject { ["@odata.type"] = "#microsoft.graph.user", ["id"] = managerId };
        }

        return new Response(200, result, []);
    }

    /// <summary><c>GET /groups?$filter=displayName eq '…'</c> as Graph answers it: an exact, case-insensitive match
    /// on displayName ('' inside the literal is one quote), in a <c>value</c> array. Other filters are refused.</summary>
    private Response FindGroups(DoubleRequest request)
    {
        const string prefix = "displayName eq '";
        var filter = request.Query["$filter"].FirstOrDefault() ?? "";
        if (!filter.StartsWith(prefix, StringComparison.Ordinal) || !filter.EndsWith('\'') || filter.Length < prefix.Length + 1)
        {
            return Error(400, "Request_UnsupportedQuery", $"The Graph double supports only $filter=displayName eq '…' on groups (got '{filter}').");
        }

        var literal = filter[prefix.Length..^1];
        if (literal.Replace("''", "", StringComparison.Ordinal).Contains('\'', StringComparison.Ordinal))
        {
            return Error(400, "BadRequest", $"Invalid filter clause: unescaped quote in '{filter}'.");
        }

        var name = literal.Replace("''", "'", StringComparison.Ordinal);
        var value = new JsonArray([.. groups
            .Where(g => g.Value.RemovedReason is null && string.Equals(g.Value.DisplayName, name, StringComparison.OrdinalIgnoreCase))
            .OrderBy(g => g.Value.CreatedOrder)
            .Select(g => (JsonNode)new JsonObject { ["id"] = g.Key, ["displayName"] = g.Value.DisplayName })]);
        return new Response(200, new JsonObject { ["value"] = value }, []);
    }

    private Response GetGroup(string id)
    {
        if (!groups.TryGetValue(id, out var group) || group.RemovedReason is not null)
        {
            return Error(404, "Request_ResourceNotFound", $"Resource '{id}' does not exist or one of its queried reference-property objects are not present.");
        }

        return new Response(200, new JsonObject { ["id"] = id, ["displayName"] = group.DisplayName }, []);
    }

    private Response GetMembers(string id, bool transitive, DoubleRequest request)
    {
        if (!groups.TryGetValue(id, out var group) || group.RemovedReason is not null)
        {
            return Error(404, "Request_ResourceNotFound", $"Resource '{id}' does not exist or one of its queried reference-property objects are not present.");
        }

        var members = transitive ? TransitiveMembers(id) : [.. group.Members];
        var top = int.TryParse(request.Query["$top"].FirstOrDefault(), CultureInfo.InvariantCulture, out var t) ? Math.Min(t, MembersPageSize) : MembersPageSize;
        var offset = int.TryParse(request.Query["$skiptoken"].FirstOrDefault(), CultureInfo.InvariantCulture, out var o) ? o : 0;
        var page = members.Skip(offset).Take(top).Select(m => (JsonNode)new JsonObject { ["@odata.type"] = TypeOf(m), ["id"] = m }).ToArray();
        var result = new JsonObject { ["value"] = new JsonArray(page) };
        if (offset + top < members.Count)
        {
            var segment = transitive ? "transitiveMembers" : "members";
            result["@odata.nextLink"] = $"{BaseUrl}/groups/{id}/{segment}?$select=id&$top={top}&$skiptoken={offset + top}";
        }

        return new Response(200, result, []);
    }

    private List<string> TransitiveMembers(string groupId)
    {
        var result = new List<string>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var pending = new Queue<string>([groupId]);
        var visited = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { groupId };
        while (pending.TryDequeue(out var current))
        {
            foreach (var member in groups[current].Members)
            {
                if (seen.Add(member))
                {
                    result.Add(member);
                }

                if (groups.TryGetValue(member, out var nested) && nested.RemovedReason is null && visited.Add(member))
                {
                    pending.Enqueue(member);
                }
            }
        }

        return result;
    }

    private Response UsersDelta(DoubleRequest request) => Delta(request, "users", (since, select) =>
    {
        var entries = new List<JsonObject>();
        foreach (var (id, user) in users.OrderBy(u => u.Value.CreatedOrder))
        {
            if (since is null)
            {
                if (user.RemovedReason is not null)
                {
                    continue;
                }

                var entry = Select(user.Properties, select);
                if (user.ManagerId is { } managerId && Wants(select, "manager"))
                {
                    entry["manager@delta"] = new JsonArray(new JsonObject { ["@odata.type"] = "#microsoft.graph.user", ["id"] = managerId });
                }

                entries.Add(entry);
                continue;
            }

            if (user.RemovedReason is { } reason && user.RemovedAt > since)
            {
                entries.Add(new JsonObject { ["id"] = id, ["@removed"] = new JsonObject { ["reason"] = reason } });
                continue;
            }

            if (user.RemovedReason is null && (user.ChangedAt > since || user.ManagerChangedAt > since))
            {
                var entry = Select(user.Properties, select);
                if (user.ManagerChangedAt > since && Wants(select, "manager"))
                {
                    entry["manager@delta"] = user.ManagerId is { } managerId
                        ? new JsonArray(new JsonObject { ["@odata.type"] = "#microsoft.graph.user", ["id"] = managerId })
                        : new JsonArray(new JsonObject { ["@odata.type"] = "#microsoft.graph.user", ["id"] = user.PreviousManagerId, ["@removed"] = new JsonObject { ["reason"] = "deleted" } });
                }

                entries.Add(entry);
            }
        }

        return entries;
    });

    private Response GroupsDelta(DoubleRequest request) => Delta(request, "groups", (since, select) =>
    {
        // Each group's members@delta is cut into chunks; chunks of different groups are interleaved, so one
        // group spreads over several pages as in Graph.
        var perGroup = new List<List<JsonObject>>();
        foreach (var (id, group) in groups.OrderBy(g => g.Value.CreatedOrder))
        {
            if (group.RemovedReason is { } reason)
            {
                if (since is not null && group.RemovedAt > since)
                {
                    perGroup.Add([new JsonObject { ["id"] = id, ["@removed"] = new JsonObject { ["reason"] = reason } }]);
                }

                continue;
            }

            List<JsonObject> members;
            if (since is null)
            {
                members = [.. group.Members.Select(m => new JsonObject { ["@odata.type"] = TypeOf(m), ["id"] = m })];
            }
            else
            {
                members = [.. group.Events.Where(e => e.Version > since).Select(e => e.Added
                    ? new JsonObject { ["@odata.type"] = TypeOf(e.MemberId), ["id"] = e.MemberId }
                    : new JsonObject { ["@odata.type"] = TypeOf(e.MemberId), ["id"] = e.MemberId, ["@removed"] = new JsonObject { ["reason"] = "deleted" } })];
                if (members.Count == 0 && group.ChangedAt <= since)
                {
                    continue;
                }
            }

            var chunks = members.Chunk(Math.Max(1, MembersPerDeltaEntry)).ToList();
            if (chunks.Count == 0)
            {
                chunks.Add([]);
            }

            var entries = new List<JsonObject>();
            for (var i = 0; i < chunks.Count; i++)
            {
                var entry = new JsonObject { ["id"] = id };
                // Later chunks carry only the id and members, so a reader must merge by id.
                if (i == 0 && Wants(select, "displayName"))
                {
                    entry["displayName"] = group.DisplayName;
                }

                if (Wants(select, "members"))
                {
                    entry["members@delta"] = new JsonArray([.. chunks[i]]);
                }

                entries.Add(entry);
            }

            perGroup.Add(entries);
        }

        var interleaved = new List<JsonObject>();
        for (var round = 0; perGroup.Any(g => g.Count > round); round++)
        {
            interleaved.AddRange(perGroup.Where(g => g.Count > round).Select(g => g[round]));
        }

        return interleaved;
    });

    private Response Delta(DoubleRequest request, string resource, Func<long?, HashSet<string>?, List<JsonObject>> entriesSince)
    {
        var skipToken = request.Query["$skiptoken"].FirstOrDefault();
        var deltaToken = request.Query["$deltatoken"].FirstOrDefault();
        if (skipToken is not null)
        {
            // Graph: $select combined with $skiptoken is unsupported; the token already carries it.
            if (request.Query.ContainsKey("$select"))
            {
                return Error(400, "Request_BadRequest", "$select is not supported together with $skiptoken.");
            }

            var parts = skipToken.Split('.');
            if (parts.Length != 2 || !deltaSessions.TryGetValue(parts[0], out var session) || session.Resource != resource
                || !int.TryParse(parts[1], CultureInfo.InvariantCulture, out var pageIndex) || pageIndex >= session.Pages.Count)
            {
                return Error(400, "Request_BadRequest", "Unknown $skiptoken.");
            }

            return DeltaPage(resource, session, pageIndex, parts[0]);
        }

        long? since = null;
        HashSet<string>? select;
        if (deltaToken is not null)
        {
            if (!deltaTokens.TryGetValue(deltaToken, out var token) || token.Resource != resource)
            {
                return Error(400, "syncStateNotFound", "The sync state is not found.");
            }

            if (token.Expired)
            {
                return ExpiredTokenStyle == ExpiredTokenStyle.Gone
                    ? new Response(410, new JsonObject { ["error"] = new JsonObject { ["code"] = "resyncRequired", ["message"] = "Resync required." } },
                        new() { ["Location"] = $"{BaseUrl}/{resource}/delta?$deltatoken=" })
                    : Error(400, "syncStateNotFound", "The sync state generation is not found.");
            }

            since = token.Version;
            select = token.Select;
        }
        else
        {
            var selectText = request.Query["$select"].FirstOrDefault();
            select = selectText is null ? null : [.. selectText.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];
            select?.Add("id");
            if (select is not null)
            {
                select = new HashSet<string>(select, StringComparer.OrdinalIgnoreCase);
            }
        }

        var entries = entriesSince(since, select);
        if (ReplayDeltaEntries)
        {
            entries = [.. entries.SelectMany(e => new[] { e, (JsonObject)e.DeepClone() })];
        }

        var pages = entries.Chunk(Math.Max(1, DeltaPageSize)).Select(c => c.ToList()).ToList();
        if (pages.Count == 0)
        {
            pages.Add([]);
        }

        var next = new DeltaToken(resource, version, select);
        var nextTokenId = Guid.NewGuid().ToString("N");
        deltaTokens[nextTokenId] = next;
        var sessionId = Guid.NewGuid().ToString("N");
        var newSession = new DeltaSession(resource, pages, nextTokenId);
        deltaSessions[sessionId] = newSession;
        return DeltaPage(resource, newSession, 0, sessionId);
    }

    private Response DeltaPage(string resource, DeltaSession session, int pageIndex, string sessionId)
    {
        var result = new JsonObject
        {
            ["@odata.context"] = $"{BaseUrl}/$metadata#{resource}",
            ["value"] = new JsonArray([.. session.Pages[pageIndex].Select(e => e.DeepClone())]),
        };
        if (pageIndex + 1 < session.Pages.Count)
        {
            result["@odata.nextLink"] = $"{BaseUrl}/{resource}/delta()?$skiptoken={sessionId}.{pageIndex + 1}";
        }
        else
        {
            result["@odata.deltaLink"] = $"{BaseUrl}/{resource}/delta()?$deltatoken={session.NextDeltaToken}";
        }

        return new Response(200, result, []);
    }

    private Response CreateSubscription(string? body)
    {
        var request = body is null ? null : JsonNode.Parse(body) as JsonObject;
        if (request is null)
        {
            return Error(400, "InvalidRequest", "A subscription body is required.");
        }

        var changeType = (string?)request["changeType"] ?? "";
        var resource = (string?)request["resource"];
        var notificationUrl = (string?)request["notificationUrl"];
        var clientState = (string?)request["clientState"];
        if (changeType.Split(',').Any(c => c is not ("updated" or "deleted")))
        {
            return Error(400, "ExtensionError", $"Operation: Create; Exception: [Status Code: BadRequest; Reason: '{changeType}' is not supported for {resource}; use updated, deleted.]");
        }

        if (resource is null || !(resource.StartsWith("/users", StringComparison.Ordinal) || resource.StartsWith("/groups", StringComparison.Ordinal)))
        {
            return Error(400, "InvalidRequest", "Resource is missing or not supported.");
        }

        if (notificationUrl is null || !Uri.TryCreate(notificationUrl, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps)
        {
            return Error(400, "InvalidRequest", "The notificationUrl must be an https URL.");
        }

        if (clientState is { Length: > 128 })
        {
            return Error(400, "InvalidRequest", "clientState is longer than 128 characters.");
        }

        if (ExpirationProblem(request) is { } problem)
        {
            return problem;
        }

        if (subscriptions.Count >= SubscriptionQuota)
        {
            return Error(403, "ExtensionError", "Operation: Create; Exception: [Status Code: Forbidden; Reason: The maximum number of subscriptions for this app and tenant has been reached.]");
        }

        var id = Guid.NewGuid().ToString();
        var created = (JsonObject)request.DeepClone();
        created["id"] = id;
        created["applicationId"] = "00000000-0000-0000-0000-000000000001";
        subscriptions[id] = created;
        return new Response(201, (JsonObject)created.DeepClone(), []);
    }

    private Response RenewSubscription(string id, string? body)
    {
        if (!subscriptions.TryGetValue(id, out var subscription))
        {
            return SubscriptionNotFound();
        }

        var request = body is null ? null : JsonNode.Parse(body) as JsonObject;
        if (request is null || ExpirationProblem(request) is { } problem)
        {
            return request is null ? Error(400, "InvalidRequest", "A body is required.") : ExpirationProblem(request)!;
        }

        subscription["expirationDateTime"] = request["expirationDateTime"]!.DeepClone();
        return new Response(200, (JsonObject)subscription.DeepClone(), []);
    }

    private Response? ExpirationProblem(JsonObject request)
    {
        var text = (string?)request["expirationDateTime"];
        if (text is null || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var expiration))
        {
            return Error(400, "InvalidRequest", "expirationDateTime is missing or not a date.");
        }

        var now = Time.GetUtcNow();
        if (expiration <= now || expiration > now.AddMinutes(MaxSubscriptionLifetimeMinutes))
        {
            return Error(400, "InvalidRequest", $"Subscription expiration can only be {MaxSubscriptionLifetimeMinutes} minutes in the future.");
        }

        return null;
    }

    private static Response SubscriptionNotFound() =>
        Error(404, "ResourceNotFound", "The object was not found.");

    private static Response Error(int status, string code, string message) =>
        new(status, new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } }, []);

    private static HashSet<string>? SelectOf(DoubleRequest request)
    {
        var text = request.Query["$select"].FirstOrDefault();
        if (text is null)
        {
            return null;
        }

        var select = new HashSet<string>(text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries), StringComparer.OrdinalIgnoreCase) { "id" };
        return select;
    }

    private static bool Wants(HashSet<string>? select, string property) => select is null || select.Contains(property);

    private static JsonObject Select(JsonObject properties, HashSet<string>? select)
    {
        var result = new JsonObject();
        foreach (var (name, value) in properties)
        {
            if (select is null || select.Contains(name))
            {
                result[name] = value?.DeepClone();
            }
        }

        if (select is not null)
        {
            // Graph returns every selected property, null when unset.
            foreach (var name in select.Where(n => !properties.ContainsKey(n) && n is not "manager" and not "members"))
            {
                result[name] = null;
            }
        }

        return result;
    }

    private string TypeOf(string id) =>
        users.ContainsKey(id) ? "#microsoft.graph.user"
        : groups.ContainsKey(id) ? "#microsoft.graph.group"
        : otherObjectTypes.GetValueOrDefault(id) ?? "#microsoft.graph.user";

    private UserRecord? FindActiveUser(string idOrUpn)
    {
        if (users.TryGetValue(idOrUpn, out var byId))
        {
            return byId.RemovedReason is null ? byId : null;
        }

        return users.Values.FirstOrDefault(u => u.RemovedReason is null
            && string.Equals((string?)u.Properties["userPrincipalName"], idOrUpn, StringComparison.OrdinalIgnoreCase));
    }

    private UserRecord ActiveUser(string id) =>
        users.TryGetValue(id, out var user) && user.RemovedReason is null ? user : throw new InvalidOperationException($"No active user {id} in the Graph double.");

    private GroupRecord ActiveGroup(string id) =>
        groups.TryGetValue(id, out var group) && group.RemovedReason is null ? group : throw new InvalidOperationException($"No group {id} in the Graph double.");

    private void RemoveUser(string id, string reason)
    {
        lock (gate)
        {
            var user = users[id];
            user.RemovedReason = reason;
            user.RemovedAt = ++version;
        }
    }

    private void AddFault(Fault fault)
    {
        lock (gate)
        {
            faults.Add(fault);
        }
    }

    private static long order;

    private sealed class UserRecord(JsonObject properties)
    {
        public JsonObject Properties { get; } = properties;

        public long CreatedOrder { get; } = Interlocked.Increment(ref order);

        public long ChangedAt { get; set; }

        public string? ManagerId { get; set; }

        public string? PreviousManagerId { get; set; }

        public long ManagerChangedAt { get; set; }

        public string? RemovedReason { get; set; }

        public long RemovedAt { get; set; }
    }

    private sealed class GroupRecord(string displayName)
    {
        public string DisplayName { get; set; } = displayName;

        public long CreatedOrder { get; } = Interlocked.Increment(ref order);

        public long ChangedAt { get; set; }

        public List<string> Members { get; } = [];

        public List<MembershipEvent> Events { get; } = [];

        public string? RemovedReason { get; set; }

        public long RemovedAt { get; set; }
    }

    private sealed record MembershipEvent(string MemberId, bool Added, long Version);

    private sealed class DeltaToken(string resource, long version, HashSet<string>? select)
    {
        public string Resource { get; } = resource;

        public long Version { get; } = version;

        public HashSet<string>? Select { get; } = select;

        public bool Expired { get; set; }
    }

    private sealed record DeltaSession(string Resource, List<List<JsonObject>> Pages, string NextDeltaToken);

    private sealed class Fault(string? pathContains, int status, int remaining, int? retryAfterSeconds, string? code, string message)
    {
        public string? PathContains { get; } = pathContains;

        public int Status { get; } = status;

        public int Remaining { get; set; } = remaining;

        public int Skip { get; set; }

        public int? RetryAfterSeconds { get; } = retryAfterSeconds;

        public string? Code { get; } = code;

        public string Message { get; } = message;
    }

    private sealed record Response(int Status, JsonObject? Body, Dictionary<string, string> Headers);

    private sealed record DoubleRequest(string Method, string Path, IQueryCollection Query, string? Body);
}
