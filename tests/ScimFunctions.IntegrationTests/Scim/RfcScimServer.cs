using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using ScimFunctions.Provisioning.Scim;

namespace ScimFunctions.IntegrationTests.Scim;

/// <summary>A plain RFC 7644 server for the scim profile: /Users, /Groups, /ServiceProviderConfig under
/// /scim/v2 (capitalised, matched case-sensitively so a lower-case client path fails), a static bearer token,
/// weak ETags with 412 on a stale If-Match (switchable off), PATCH (switchable off: 501), server-capped pages,
/// a ServiceProviderConfig that follows the switches or is replaced outright, and injectable faults.
/// Kestrel on 127.0.0.1, port 0.</summary>
public sealed partial class RfcScimServer : IAsyncDisposable
{
    public const string Token = "rfc-double-token-0123456789";
    private const string ErrorSchema = "urn:ietf:params:scim:api:messages:2.0:Error";
    private const string ListSchema = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
    private const string PatchSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

    private readonly WebApplication app;
    private readonly Lock gate = new();
    private readonly Dictionary<string, Stored> users = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Stored> groups = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<Fault> faults = new();
    private int nextId;

    private RfcScimServer(WebApplication app)
    {
        this.app = app;
    }

    /// <summary>ETag headers, meta.version, If-Match/If-None-Match and ServiceProviderConfig etag.supported.</summary>
    public bool ETags { get; set; } = true;

    /// <summary>Answer PATCH with 204 and no body (RFC 7644 allows it; Entra expects it for groups).</summary>
    public bool PatchReturnsNoContent { get; set; }

    /// <summary>The server's own page cap: a larger count is cut to this.</summary>
    public int MaxPageSize { get; set; } = 50;

    /// <summary>PATCH accepted (and ServiceProviderConfig patch.supported); false answers PATCH with 501.</summary>
    public bool Patch { get; set; } = true;

    /// <summary>What GET /ServiceProviderConfig answers instead of the document built from the switches above:
    /// a status and a raw body (any text, JSON or not), to vary what the client is told independently of how
    /// the server behaves. Null: the built document.</summary>
    public (int Status, string Body)? ServiceProviderConfig { get; set; }

    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>A <c>scim</c>-profile client for this server, quick to give up (tests count its requests), logging into <paramref name="logs"/>.</summary>
    public ScimClient NewClient(FakeLogCollector logs, Action<ScimOptions>? configure = null)
    {
        return QuickScimClient.Create(new ScimOptions { Profile = "scim", BaseUrl = BaseUrl.ToString(), BearerToken = Token }, logs, configure);
    }

    /// <summary>Runs before a GET /Users list page is served, with its startIndex (to change the set mid-scan).</summary>
    public Action<int>? BeforeUserPage { get; set; }

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    public int UserCount
    {
        get
        {
            lock (gate)
            {
                return users.Count;
            }
        }
    }

    public static async Task<RfcScimServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var server = new RfcScimServer(builder.Build());
        server.app.Run(server.HandleAsync);
        await server.app.StartAsync();
        var address = server.app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseUrl = new Uri(address.TrimEnd('/') + "/scim/v2");
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    /// <summary>Queues a fault for the next request that matches.</summary>
    public void Inject(Fault fault) => faults.Enqueue(fault);

    public IReadOnlyList<RecordedRequest> RequestsTo(string method, string pathPrefix) =>
        Requests.Where(r => r.Method == method && r.Path.StartsWith(pathPrefix, StringComparison.Ordinal)).ToList();

    public string SeedUser(string userName, bool active = true, string? externalId = null)
    {
        lock (gate)
        {
            var id = NewId();
            var body = new JsonObject
            {
                ["schemas"] = new JsonArray("urn:ietf:params:scim:schemas:core:2.0:User"),
                ["id"] = id,
                ["userName"] = userName,
                ["displayName"] = userName,
                ["active"] = active,
            };
            if (externalId is not null)
            {
                body["externalId"] = externalId;
            }

            users[id] = new Stored(body, 1);
            return id;
        }
    }

    public string SeedGroup(string displayName, params string[] members)
    {
        lock (gate)
        {
            var id = NewId();
            var list = new JsonArray();
            foreach (var member in members)
            {
                list.Add(new JsonObject { ["value"] = member });
            }

            groups[id] = new Stored(new JsonObject
            {
                ["schemas"] = new JsonArray("urn:ietf:params:scim:schemas:core:2.0:Group"),
                ["id"] = id,
                ["displayName"] = displayName,
                ["members"] = list,
            }, 1);
            return id;
        }
    }

    public JsonObject? User(string id)
    {
        lock (gate)
        {
            return users.TryGetValue(id, out var stored) ? (JsonObject)stored.Body.DeepClone() : null;
        }
    }

    public IReadOnlyList<string> GroupMembers(string id)
    {
        lock (gate)
        {
            return ((JsonArray?)groups[id].Body["members"] ?? []).Select(m => (string)m!["value"]!).ToList();
        }
    }

    /// <summary>Bumps a user's version behind the client's back, as another writer would.</summary>
    public void Touch(string id)
    {
        lock (gate)
        {
            users[id] = users[id] with { Version = users[id].Version + 1 };
        }
    }

    private string NewId() => $"u{Interlocked.Increment(ref nextId):D4}";

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        string body;
        using (var reader = new StreamReader(request.Body, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync();
        }

        var recorded = new RecordedRequest(
            request.Method, request.Path.Value ?? "", request.QueryString.Value ?? "", request.Headers.IfMatch.ToString(),
            request.Headers.IfNoneMatch.ToString(), request.Headers.Authorization.ToString(), request.ContentType, body);
        Requests.Enqueue(recorded);

        if (recorded.Authorization != "Bearer " + Token)
        {
            await WriteAsync(context, Error(401, null, "Bearer token missing or wrong."));
            return;
        }

        var fault = TakeFault(recorded);
        if (fault is { Reset: true })
        {
            context.Abort();
            return;
        }

        if (fault is { Status: { } status })
        {
            if (fault.RetryAfter is { } retryAfter)
            {
                context.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            }

            await WriteAsync(context, Error(status, null, "Injected fault."));
            return;
        }

        if (fault is { Delay: { } before, DelayAfterProcessing: false })
        {
            await Task.Delay(before, context.RequestAborted);
        }

        if (recorded.Method == "GET" && recorded.Path == "/scim/v2/Users" && BeforeUserPage is { } hook)
        {
            var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(recorded.Query);
            hook(query.TryGetValue("startIndex", out var start) ? int.Parse(start!, CultureInfo.InvariantCulture) : 1);
        }

        Reply reply;
        lock (gate)
        {
            reply = Process(recorded);
        }

        if (fault is { Delay: { } after, DelayAfterProcessing: true })
        {
            try
            {
                await Task.Delay(after, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        await WriteAsync(context, reply);
    }

    private Fault? TakeFault(RecordedRequest request)
    {
        // Only the head of the queue is eligible, so faults fire in the order they were injected.
        if (faults.TryPeek(out var next) && next.Matches(request) && faults.TryDequeue(out var taken))
        {
            return taken;
        }

        return null;
    }

    private Reply Process(RecordedRequest request)
    {
        var segments = request.Path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length < 3 || segments[0] != "scim" || segments[1] != "v2")
        {
            return Error(404, null, "Unknown path.");
        }

        var resource = segments[2];
        var id = segments.Length > 3 ? Uri.UnescapeDataString(segments[3]) : null;
        return (resource, id, request.Method) switch
        {
            ("ServiceProviderConfig", null, "GET") when ServiceProviderConfig is { } raw => new Reply(raw.Status, null, null, raw.Body),
            ("ServiceProviderConfig", null, "GET") => new Reply(200, new JsonObject
            {
                ["schemas"] = new JsonArray("urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"),
                ["patch"] = new JsonObject { ["supported"] = Patch },
                ["bulk"] = new JsonObject { ["supported"] = false, ["maxOperations"] = 0, ["maxPayloadSize"] = 0 },
                ["etag"] = new JsonObject { ["supported"] = ETags },
                ["filter"] = new JsonObject { ["supported"] = true, ["maxResults"] = MaxPageSize },
                ["changePassword"] = new JsonObject { ["supported"] = false },
                ["sort"] = new JsonObject { ["supported"] = false },
            }, null),
            (_, not null, "PATCH") when !Patch => Error(501, null, "PATCH is not implemented."),
            ("Users", null, "POST") => Create(users, request, "User", "userName"),
            ("Groups", null, "POST") => Create(groups, request, "Group", "displayName"),
            ("Users", null, "GET") => List(users, request),
            ("Groups", null, "GET") => List(groups, request),
            ("Users", not null, _) => Item(users, id, request),
            ("Groups", not null, _) => Item(groups, id, request),
            _ => Error(404, null, "Unknown endpoint."),
        };
    }

    private Reply Create(Dictionary<string, Stored> store, RecordedRequest request, string resourceType, string uniqueAttribute)
    {
        if (JsonNode.Parse(request.Body) is not JsonObject body || body[uniqueAttribute] is null)
        {
            return Error(400, "invalidValue", $"{uniqueAttribute} is required.");
        }

        var unique = (string)body[uniqueAttribute]!;
        if (store.Values.Any(s => string.Equals((string?)s.Body[uniqueAttribute], unique, StringComparison.OrdinalIgnoreCase)))
        {
            return Error(409, "uniqueness", $"{uniqueAttribute} is already taken.");
        }

        var id = NewId();
        body["id"] = id;
        store[id] = new Stored(body, 1);
        return Render(store[id], 201, resourceType);
    }

    private Reply Item(Dictionary<string, Stored> store, string id, RecordedRequest request)
    {
        if (!store.TryGetValue(id, out var stored))
        {
            return Error(404, null, "Not found.");
        }

        var resourceType = ReferenceEquals(store, users) ? "User" : "Group";
        if (request.Method == "GET")
        {
            return ETags && request.IfNoneMatch == ETag(stored) ? new Reply(304, null, ETag(stored)) : Render(stored, 200, resourceType);
        }

        if (ETags && request.IfMatch.Length > 0 && request.IfMatch != ETag(stored))
        {
            return Error(412, null, "The resource changed (If-Match).");
        }

        switch (request.Method)
        {
            case "DELETE":
                store.Remove(id);
                return new Reply(204, null, null);
            case "PUT":
                var replacement = (JsonObject)JsonNode.Parse(request.Body)!;
                replacement["id"] = id;
                replacement.Remove("meta");
                store[id] = new Stored(replacement, stored.Version + 1);
                return Render(store[id], 200, resourceType);
            case "PATCH":
                var patch = JsonNode.Parse(request.Body) as JsonObject;
                if (patch?["schemas"] is not JsonArray schemas || !schemas.Any(s => (string?)s == PatchSchema) || patch["Operations"] is not JsonArray operations)
                {
                    return Error(400, "invalidSyntax", "A PatchOp needs schemas and Operations.");
                }

                var updated = (JsonObject)stored.Body.DeepClone();
                foreach (var operation in operations.OfType<JsonObject>())
                {
                    if (Apply(updated, operation) is { } failure)
                    {
                        return failure;
                    }
                }

                store[id] = new Stored(updated, stored.Version + 1);
                return PatchReturnsNoContent ? new Reply(204, null, ETags ? ETag(store[id]) : null) : Render(store[id], 200, resourceType);
            default:
                return Error(405, null, "Method not allowed.");
        }
    }

    private static Reply? Apply(JsonObject target, JsonObject operation)
    {
        var op = ((string?)operation["op"])?.ToLowerInvariant();
        var path = (string?)operation["path"];
        var value = operation["value"];
        if (op is not ("add" or "replace" or "remove"))
        {
            return Error(400, "invalidSyntax", "Unknown op.");
        }

        if (path is null)
        {
            if (op == "remove" || value is not JsonObject merge)
            {
                return Error(400, "noTarget", "remove needs a path; add/replace without one needs an object.");
            }

            foreach (var (key, node) in merge)
            {
                target[key] = node?.DeepClone();
            }

            return null;
        }

        var memberFilter = MemberFilter().Match(path);
        if (memberFilter.Success && op == "remove")
        {
            var removeId = (string)JsonNode.Parse(memberFilter.Groups[1].Value)!;
            var members = (JsonArray?)target["members"] ?? [];
            foreach (var member in members.Where(m => (string?)m!["value"] == removeId).ToList())
            {
                members.Remove(member);
            }

            return null;
        }

        if (path == "members")
        {
            var members = (JsonArray?)target["members"] ?? [];
            target["members"] = members;
            var ids = (value as JsonArray ?? []).Select(v => (string)v!["value"]!).ToList();
            if (op == "remove" && value is null)
            {
                members.Clear();
            }
            else if (op == "remove")
            {
                foreach (var member in members.Where(m => ids.Contains((string)m!["value"]!)).ToList())
                {
                    members.Remove(member);
                }
            }
            else
            {
                foreach (var id in ids.Where(id => !members.Any(m => (string?)m!["value"] == id)))
                {
                    members.Add(new JsonObject { ["value"] = id });
                }
            }

            return null;
        }

        // "attr", "urn:…:User:attr" (an extension attribute) or "attr.sub".
        var owner = target;
        var name = path;
        var colon = path.LastIndexOf(':');
        if (path.StartsWith("urn:", StringComparison.Ordinal) && colon > 0)
        {
            var schema = path[..colon];
            name = path[(colon + 1)..];
            owner = target[schema] as JsonObject ?? [];
            target[schema] = owner;
        }

        var dot = name.IndexOf('.', StringComparison.Ordinal);
        if (dot > 0)
        {
            var parent = owner[name[..dot]] as JsonObject ?? [];
            owner[name[..dot]] = parent;
            owner = parent;
            name = name[(dot + 1)..];
        }

        if (op == "remove")
        {
            owner.Remove(name);
        }
        else
        {
            owner[name] = value?.DeepClone();
        }

        return null;
    }

    private Reply List(Dictionary<string, Stored> store, RecordedRequest request)
    {
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(request.Query);
        IEnumerable<Stored> matches = store.Values.OrderBy(s => (string)s.Body["id"]!, StringComparer.Ordinal);
        if (query.TryGetValue("filter", out var filterValue))
        {
            var filter = FilterExpression().Match(filterValue.ToString());
            if (!filter.Success)
            {
                return Error(400, "invalidFilter", "Only 'attribute eq value' is supported.");
            }

            var attribute = filter.Groups[1].Value;
            var literal = JsonNode.Parse(filter.Groups[2].Value);
            matches = matches.Where(s => Equal(s.Body[s.Body.Select(p => p.Key).FirstOrDefault(k => string.Equals(k, attribute, StringComparison.OrdinalIgnoreCase)) ?? attribute], literal, attribute)).ToList();
        }

        var all = matches.ToList();
        var startIndex = query.TryGetValue("startIndex", out var s) ? Math.Max(1, int.Parse(s!, CultureInfo.InvariantCulture)) : 1;
        var count = query.TryGetValue("count", out var c) ? int.Parse(c!, CultureInfo.InvariantCulture) : MaxPageSize;
        count = Math.Min(count, MaxPageSize);
        var page = all.Skip(startIndex - 1).Take(count).ToList();
        var resources = new JsonArray();
        foreach (var stored in page)
        {
            resources.Add(Render(stored, 200, ReferenceEquals(store, users) ? "User" : "Group").Body);
        }

        return new Reply(200, new JsonObject
        {
            ["schemas"] = new JsonArray(ListSchema),
            ["totalResults"] = all.Count,
            ["startIndex"] = startIndex,
            ["itemsPerPage"] = page.Count,
            ["Resources"] = resources,
        }, null);
    }

    private static bool Equal(JsonNode? actual, JsonNode? literal, string attribute)
    {
        if (actual is null || literal is null)
        {
            return false;
        }

        if (literal.GetValueKind() == System.Text.Json.JsonValueKind.String)
        {
            var comparison = string.Equals(attribute, "userName", StringComparison.OrdinalIgnoreCase)
                || string.Equals(attribute, "displayName", StringComparison.OrdinalIgnoreCase)
                ? StringComparison.OrdinalIgnoreCase
                : StringComparison.Ordinal;
            return actual.GetValueKind() == System.Text.Json.JsonValueKind.String && string.Equals((string)actual!, (string)literal!, comparison);
        }

        return JsonNode.DeepEquals(actual, literal);
    }

    private static string ETag(Stored stored) => $"W/\"{stored.Version}\"";

    private Reply Render(Stored stored, int status, string resourceType)
    {
        var body = (JsonObject)stored.Body.DeepClone();
        var meta = new JsonObject { ["resourceType"] = resourceType };
        if (ETags)
        {
            meta["version"] = ETag(stored);
        }

        body["meta"] = meta;
        return new Reply(status, body, ETags ? ETag(stored) : null);
    }

    private static Reply Error(int status, string? scimType, string detail)
    {
        var body = new JsonObject { ["schemas"] = new JsonArray(ErrorSchema), ["status"] = status.ToString(CultureInfo.InvariantCulture), ["detail"] = detail };
        if (scimType is not null)
        {
            body["scimType"] = scimType;
        }

        return new Reply(status, body, null);
    }

    private static async Task WriteAsync(HttpContext context, Reply reply)
    {
        context.Response.StatusCode = reply.Status;
        if (reply.ETag is not null)
        {
            context.Response.Headers.ETag = reply.ETag;
        }

        if (reply.Raw is not null)
        {
            context.Response.ContentType = "application/scim+json";
            await context.Response.WriteAsync(reply.Raw);
        }
        else if (reply.Body is not null)
        {
            context.Response.ContentType = "application/scim+json";
            await context.Response.WriteAsync(reply.Body.ToJsonString());
        }
    }

    [GeneratedRegex(@"^members\[value eq (""(?:[^""\\]|\\.)*"")\]$")]
    private static partial Regex MemberFilter();

    [GeneratedRegex(@"^([A-Za-z][\w.:$-]*) eq (""(?:[^""\\]|\\.)*""|true|false)$")]
    private static partial Regex FilterExpression();

    private sealed record Stored(JsonObject Body, int Version);

    private sealed record Reply(int Status, JsonObject? Body, string? ETag, string? Raw = null);
}

/// <summary>One request as the double received it.</summary>
public sealed record RecordedRequest(
    string Method, string Path, string Query, string IfMatch, string IfNoneMatch, string Authorization, string? ContentType, string Body);

/// <summary>A fault for the next matching request: a status (with Retry-After), a delay before or after the
/// request is processed, or a connection reset.</summary>
public sealed record Fault(Func<RecordedRequest, bool> Matches, int? Status = null, TimeSpan? RetryAfter = null, TimeSpan? Delay = null, bool DelayAfterProcessing = false, bool Reset = false)
{
    public static Fault For(string method, int status, TimeSpan? retryAfter = null) => new(r => r.Method == method, status, retryAfter);
}
