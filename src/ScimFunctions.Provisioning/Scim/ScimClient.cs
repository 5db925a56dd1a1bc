using System.Collections.Frozen;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly.RateLimiting;
using Polly.Timeout;

namespace ScimFunctions.Provisioning.Scim;

/// <summary>The SCIM client for both profiles. A typed HttpClient: its handler chain (limiter, retries, timeouts,
/// auth) is described on <see cref="ScimResilience"/>. Every method returns a typed outcome for HTTP failures
/// and never throws for them; only the caller's own cancellation is thrown. Each call has one time budget
/// (Scim__CallTimeBudget) covering all its requests; when it is spent the outcome is Transient.</summary>
public sealed class ScimClient(HttpClient httpClient, IOptions<ScimOptions> options, ScimTargetState state, TimeProvider timeProvider, ILogger<ScimClient> logger)
    : IScimClient, IDisposable
{
    private const int GenesysPageSize = 25;
    private const int TrimmedPageSize = 100;
    private const string InactiveFilter = "active eq false";

    private static readonly FrozenSet<string> GenesysUserSchemas =
        new[] { ScimSchemas.User, ScimSchemas.EnterpriseUser, ScimSchemas.GenesysUser }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    private static readonly FrozenSet<string> RfcUserSchemas =
        new[] { ScimSchemas.User, ScimSchemas.EnterpriseUser }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    private readonly ScimOptions settings = options.Value;

    /// <summary>Set when the client was built by <see cref="Create(ScimOptions, TimeProvider?, ILoggerFactory?)"/>: the private container it owns.</summary>
    internal IDisposable? Owner { get; set; }

    public ScimTargetCapabilities Capabilities => new(
        SupportsETags,
        CanCreateGroups: GroupLifecycleEnabled,
        CanDeleteGroups: GroupLifecycleEnabled,
        settings.MemberChunkSize,
        UserSchemas);

    public ScimRequestCounts Counts => state.Counts;

    private ScimTargetProfile Profile => settings.TargetProfile;

    private bool SupportsETags => Profile == ScimTargetProfile.Genesys || state.ETagsOffered;

    private bool GroupLifecycleEnabled => Profile == ScimTargetProfile.Scim && settings.CreateGroups;

    private FrozenSet<string> UserSchemas => Profile == ScimTargetProfile.Genesys ? GenesysUserSchemas : RfcUserSchemas;

    private string UsersPath => ScimPaths.Users(Profile);

    private string GroupsPath => ScimPaths.Groups(Profile);

    /// <summary>A client without a host (the CLI): the same handler chain as <c>AddScimTarget</c>, in a private
    /// container that disposing the client releases. Throws <see cref="OptionsValidationException"/> for bad settings.</summary>
    public static ScimClient Create(ScimOptions options, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null) =>
        ScimRegistration.CreateStandalone(options, timeProvider ?? TimeProvider.System, loggerFactory);

    /// <summary>As <see cref="Create(ScimOptions, TimeProvider?, ILoggerFactory?)"/>, with the Table Storage account that holds
    /// <see cref="ScimOptions.SharedBudgetTable"/> when the budget is shared with other processes.</summary>
    public static ScimClient Create(ScimOptions options, TableServiceClient sharedBudgetTables, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null) =>
        ScimRegistration.CreateStandalone(options, timeProvider ?? TimeProvider.System, loggerFactory, sharedBudgetTables);

    public void Dispose() => Owner?.Dispose();

    public Task<ScimResult<ScimResource>> CreateUserAsync(JsonObject user, CancellationToken cancellationToken = default) =>
        RunAsync("create user", async scope =>
        {
            var body = ScimPayloads.PrepareUser(user, UserSchemas, forReplace: false);
            var response = await SendAsync(HttpMethod.Post, UsersPath, body, ScimRetryMode.Checkable, scope);
            if (response.IsSuccess)
            {
                return ScimResult<ScimResource>.Success(await CompleteWriteAsync(response, UsersPath, null, scope));
            }

            return response.Outcome == ScimOutcome.Uniqueness
                ? await ResolveUserClashAsync(body, response, scope)
                : Fail<ScimResource>(response);
        }, cancellationToken);

    public Task<ScimResult<ScimResource>> GetUserAsync(string id, string? ifNoneMatch = null, CancellationToken cancellationToken = default) =>
        RunAsync("get user", scope => GetAsync(UsersPath, id, ifNoneMatch, scope), cancellationToken);

    public Task<ScimResult<ScimResource>> FindUserAsync(string attribute, string value, CancellationToken cancellationToken = default)
    {
        var filter = ScimFilter.Equal(attribute, value);
        return RunAsync("find user", scope => FindFirstAsync(UsersPath, filter, attribute, scope), cancellationToken);
    }

    public async IAsyncEnumerable<ScimResource> ListUsersAsync(
        string? filter = null, IReadOnlyList<string>? attributes = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // Genesys lists only active users without a filter; "all" needs the inactive ones as a second scan.
        string?[] scans = filter is null && Profile == ScimTargetProfile.Genesys ? [null, InactiveFilter] : [filter];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var scan in scans)
        {
            var startIndex = 1;
            while (true)
            {
                // The page size is taken per page: the first page's call is what reads ServiceProviderConfig (maxResults).
                var page = await RunAsync("list users", scope => ListPageAsync(UsersPath, scan, attributes, startIndex, PageSize(attributes), scope), cancellationToken);
                if (!page.IsSuccess || page.Value is null)
                {
                    throw new ScimException($"Listing SCIM users failed at startIndex {startIndex}", page.Outcome, page.Error);
                }

                foreach (var resource in page.Value.Resources)
                {
                    // No sort order is promised (U10): pages may overlap when the set shifts mid-scan.
                    if (seen.Add(resource.Id))
                    {
                        yield return resource;
                    }
                }

                startIndex += page.Value.Resources.Count;

                // totalResults may drift while we page; an empty page or passing the latest total ends the scan.
                if (page.Value.Resources.Count == 0 || startIndex > page.Value.TotalResults)
                {
                    break;
                }
            }
        }
    }

    public Task<ScimResult<ScimUsersPage>> ListUsersPageAsync(ScimListPosition position, CancellationToken cancellationToken = default)
    {
        // The same scans as ListUsersAsync: Genesys lists only active users without a filter.
        string?[] scans = Profile == ScimTargetProfile.Genesys ? [null, InactiveFilter] : [null];
        if (position.Scan < 0 || position.Scan >= scans.Length || position.StartIndex < 1)
        {
            return Task.FromResult(ScimResult<ScimUsersPage>.Success(new ScimUsersPage([], null)));
        }

        return RunAsync("list users", async scope =>
        {
            var page = await ListPageAsync(UsersPath, scans[position.Scan], null, position.StartIndex, PageSize(null), scope);
            if (!page.IsSuccess || page.Value is null)
            {
                return ScimResult<ScimUsersPage>.Failure(page.Outcome, page.Error);
            }

            var next = position.StartIndex + page.Value.Resources.Count;
            var scanDone = page.Value.Resources.Count == 0 || next > page.Value.TotalResults;
            ScimListPosition? after = !scanDone ? position with { StartIndex = next }
                : position.Scan + 1 < scans.Length ? new ScimListPosition(position.Scan + 1, 1)
                : null;
            return ScimResult<ScimUsersPage>.Success(new ScimUsersPage(page.Value.Resources, after));
        }, cancellationToken);
    }

    public Task<ScimResult<int>> CountUsersAsync(string? filter = null, CancellationToken cancellationToken = default) =>
        RunAsync("count users", async scope =>
        {
            var page = await ListPageAsync(UsersPath, filter, null, 1, 0, scope);
            return page.IsSuccess ? ScimResult<int>.Success(page.Value!.TotalResults) : ScimResult<int>.Failure(page.Outcome, page.Error);
        }, cancellationToken);

    public Task<ScimResult<ScimResource>> PatchUserAsync(string id, IReadOnlyList<ScimPatchOperation> operations, string? version, CancellationToken cancellationToken = default) =>
        RunAsync("patch user", async scope =>
        {
            var kept = ScimPayloads.FilterOperations(operations, UserSchemas);
            if (kept.Count == 0)
            {
                // Nothing this target accepts: report the user as it stands instead of sending an empty PATCH.
                return await GetAsync(UsersPath, id, null, scope);
            }

            return await WriteAsync(HttpMethod.Patch, UsersPath, id, ScimPayloads.PatchBody(kept), version, scope);
        }, cancellationToken);

    public Task<ScimResult<ScimResource>> ReplaceUserAsync(string id, JsonObject user, string? version, CancellationToken cancellationToken = default) =>
        RunAsync("replace user", scope =>
            WriteAsync(HttpMethod.Put, UsersPath, id, ScimPayloads.PrepareUser(user, UserSchemas, forReplace: true), version, scope), cancellationToken);

    public Task<ScimResult<bool>> DeleteUserAsync(string id, string? version, CancellationToken cancellationToken = default) =>
        RunAsync("delete user", scope => DeleteAsync(UsersPath, id, version, scope), cancellationToken);

    public Task<ScimResult<ScimResource>> GetGroupAsync(string id, string? ifNoneMatch = null, CancellationToken cancellationToken = default) =>
        RunAsync("get group", scope => GetAsync(GroupsPath, id, ifNoneMatch, scope), cancellationToken);

    public Task<ScimResult<ScimResource>> FindGroupByDisplayNameAsync(string displayName, CancellationToken cancellationToken = default)
    {
        // Genesys requires a filter on /scim/v2/groups (U8): groups are always resolved one by one.
        var filter = ScimFilter.Equal(ScimAttributes.DisplayName, displayName);
        return RunAsync("find group", scope => FindFirstAsync(GroupsPath, filter, ScimAttributes.DisplayName, scope), cancellationToken);
    }

    public Task<ScimResult<ScimResource>> CreateGroupAsync(string displayName, string? externalId, CancellationToken cancellationToken = default)
    {
        if (!GroupLifecycleEnabled)
        {
            return Task.FromResult(ScimResult<ScimResource>.Failure(ScimOutcome.Permanent, GroupLifecycleDisabled("created")));
        }

        return RunAsync("create group", async scope =>
        {
            var body = new JsonObject
            {
                [ScimAttributes.Schemas] = new JsonArray(ScimSchemas.Group),
                [ScimAttributes.DisplayName] = displayName,
            };
            if (externalId is not null)
            {
                body[ScimAttributes.ExternalId] = externalId;
            }

            var response = await SendAsync(HttpMethod.Post, GroupsPath, body, ScimRetryMode.Checkable, scope);
            if (response.IsSuccess)
            {
                return ScimResult<ScimResource>.Success(await CompleteWriteAsync(response, GroupsPath, null, scope));
            }

            if (response.Outcome != ScimOutcome.Uniqueness)
            {
                return Fail<ScimResource>(response);
            }

            var existing = await FindFirstAsync(GroupsPath, ScimFilter.Equal(ScimAttributes.DisplayName, displayName), ScimAttributes.DisplayName, scope);
            return ResolveClash(body, response, existing.Outcome == ScimOutcome.Ok ? existing.Value : null, clashingUserName: null);
        }, cancellationToken);
    }

    public Task<ScimResult<ScimResource>> ReplaceGroupAsync(string id, JsonObject group, string? version, CancellationToken cancellationToken = default) =>
        RunAsync("replace group", scope => WriteAsync(HttpMethod.Put, GroupsPath, id, ScimPayloads.PrepareGroup(group), version, scope), cancellationToken);

    public Task<ScimResult<bool>> DeleteGroupAsync(string id, string? version, CancellationToken cancellationToken = default) =>
        GroupLifecycleEnabled
            ? RunAsync("delete group", scope => DeleteAsync(GroupsPath, id, version, scope), cancellationToken)
            : Task.FromResult(ScimResult<bool>.Failure(ScimOutcome.Permanent, GroupLifecycleDisabled("deleted")));

    public Task<ScimResult<ScimResource>> PatchGroupMembersAsync(
        string id, IReadOnlyCollection<string> add, IReadOnlyCollection<string> remove, string? version, CancellationToken cancellationToken = default) =>
        RunAsync("patch group members", async scope =>
        {
            var chunks = ScimPayloads.MemberChunks(add, remove, settings.MemberChunkSize, settings.RemoveMembersByFilter);
            if (chunks.Count == 0)
            {
                return await GetAsync(GroupsPath, id, null, scope);
            }

            var current = version;
            ScimResource? last = null;
            foreach (var chunk in chunks)
            {
                // Member add/remove are set operations: repeating a chunk changes nothing, so it may be retried.
                var response = await SendAsync(HttpMethod.Patch, ItemPath(GroupsPath, id), ScimPayloads.PatchBody(chunk), ScimRetryMode.Idempotent, scope, ifMatch: current);
                if (!response.IsSuccess)
                {
                    // Earlier chunks stay applied; the caller re-reads the group and re-decides.
                    return Fail<ScimResource>(response);
                }

                last = await CompleteWriteAsync(response, GroupsPath, id, scope);
                current = last.Version;
            }

            return ScimResult<ScimResource>.Success(last!);
        }, cancellationToken);

    public Task<ScimResult<JsonObject>> GetServiceProviderConfigAsync(CancellationToken cancellationToken = default) =>
        RunAsync("get service provider config", async scope =>
        {
            var response = await ReadServiceProviderConfigAsync(scope);
            return response.IsSuccess ? ScimResult<JsonObject>.Success(response.Body ?? []) : Fail<JsonObject>(response);
        }, cancellationToken, discover: false);

    private async Task<ScimResult<T>> RunAsync<T>(string operation, Func<CallScope, Task<ScimResult<T>>> body, CancellationToken cancellationToken, bool discover = true)
    {
        using var budget = new CancellationTokenSource(settings.CallTimeBudget, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, budget.Token);
        var scope = new CallScope(timeProvider.GetUtcNow() + settings.CallTimeBudget, linked.Token);
        try
        {
            if (discover)
            {
                await DiscoverAsync(scope);
                if (Profile == ScimTargetProfile.Scim && state.ServiceProviderConfig?.Refusal is { } refusal)
                {
                    // Nothing goes out to a target the connector cannot work with (see ScimServiceProviderConfig).
                    return ScimResult<T>.Failure(ScimOutcome.Permanent, new ScimError(0, null, refusal, null));
                }
            }

            return await body(scope);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return BudgetSpent<T>(operation);
        }
    }

    private ScimResult<T> BudgetSpent<T>(string operation)
    {
        ScimLog.BudgetSpent(logger, operation, settings.CallTimeBudget);
        return ScimResult<T>.Failure(ScimOutcome.Transient, new ScimError(0, null, $"The call time budget (Scim__CallTimeBudget = {settings.CallTimeBudget}) is spent.", null));
    }

    /// <summary>scim profile: read ServiceProviderConfig once per process and adapt to it (<see cref="ScimServiceProviderConfig"/>).
    /// A transient failure leaves it unread, to be read on the next call; any other failure means defaults.</summary>
    private async Task DiscoverAsync(CallScope scope)
    {
        if (Profile == ScimTargetProfile.Genesys || state.Discovered)
        {
            return;
        }

        using (await state.EnterDiscoveryAsync(scope.Token))
        {
            if (state.Discovered)
            {
                return;
            }

            await ReadServiceProviderConfigAsync(scope);
        }
    }

    /// <summary>Reads the document and records what it says; an answer other than a transient one that is not the
    /// document records the defaults.</summary>
    private async Task<ScimResponse> ReadServiceProviderConfigAsync(CallScope scope)
    {
        var response = await SendAsync(HttpMethod.Get, ScimPaths.ServiceProviderConfig(Profile), null, ScimRetryMode.Idempotent, scope);
        if (response.IsSuccess)
        {
            Record(ScimServiceProviderConfig.Parse(response.Body ?? []));
        }
        else if (response.Outcome is not ScimOutcome.Transient and not ScimOutcome.Throttled)
        {
            var reason = response.Status > 0 ? $"answered {response.Status}" : response.Error?.Detail ?? response.Outcome.ToString();
            Record(ScimServiceProviderConfig.Default(reason));
        }

        return response;
    }

    private void Record(ScimServiceProviderConfig found)
    {
        if (Profile == ScimTargetProfile.Genesys)
        {
            return;
        }

        state.RecordServiceProviderConfig(found);
        var pageSize = PageSize(null);
        if (found.Source != ScimConfigSource.Defaults)
        {
            ScimLog.ServiceProviderConfigFound(logger, found.ETag, found.Patch, found.Filter, found.FilterMaxResults, found.Bulk, state.ETagsOffered, pageSize);
        }

        if (found.Unusable.Count > 0)
        {
            var reason = found.Source == ScimConfigSource.Defaults ? found.Unusable[0] : "unreadable: " + string.Join(", ", found.Unusable);
            ScimLog.ServiceProviderConfigDefaulted(logger, reason, pageSize);
        }

        if (found.Refusal is { } refusal)
        {
            ScimLog.TargetRefused(logger, refusal);
        }
    }

    private async Task<ScimResult<ScimResource>> GetAsync(string collection, string id, string? ifNoneMatch, CallScope scope)
    {
        var response = await SendAsync(HttpMethod.Get, ItemPath(collection, id), null, ScimRetryMode.Idempotent, scope, ifNoneMatch: ifNoneMatch);
        if (response.Outcome == ScimOutcome.NotModified)
        {
            // The stored copy is current; no body comes with a 304.
            return new ScimResult<ScimResource>(ScimOutcome.NotModified, new ScimResource(id, response.ETag ?? ifNoneMatch, []));
        }

        return response.IsSuccess ? ScimResult<ScimResource>.Success(ToResource(response, id)) : Fail<ScimResource>(response);
    }

    private async Task<ScimResult<ScimResource>> WriteAsync(HttpMethod method, string collection, string id, JsonObject body, string? version, CallScope scope)
    {
        // A PATCH without If-Match may not be idempotent (add to a multi-valued attribute), so it is only
        // repeated after a 429; with If-Match a repeat that already applied meets a version conflict instead.
        var mode = method == HttpMethod.Patch && (version is null || !SupportsETags) ? ScimRetryMode.ThrottleOnly : ScimRetryMode.Idempotent;
        var response = await SendAsync(method, ItemPath(collection, id), body, mode, scope, ifMatch: version);
        return response.IsSuccess
            ? ScimResult<ScimResource>.Success(await CompleteWriteAsync(response, collection, id, scope))
            : Fail<ScimResource>(response);
    }

    private async Task<ScimResult<bool>> DeleteAsync(string collection, string id, string? version, CallScope scope)
    {
        var response = await SendAsync(HttpMethod.Delete, ItemPath(collection, id), null, ScimRetryMode.Idempotent, scope, ifMatch: version);
        return response.Outcome switch
        {
            ScimOutcome.Ok => ScimResult<bool>.Success(true),

            // Already gone (U16): the desired state holds.
            ScimOutcome.NotFound => ScimResult<bool>.Success(false),
            _ => Fail<bool>(response),
        };
    }

    /// <summary>The written resource with its new version; re-read when the target answered without a body
    /// and without an ETag but uses versions (RFC servers may answer a PATCH with 204).</summary>
    private async Task<ScimResource> CompleteWriteAsync(ScimResponse response, string collection, string? id, CallScope scope)
    {
        var resource = ToResource(response, id ?? IdFromLocation(response.Location));
        if (response.Body is null && resource.Version is null && SupportsETags && resource.Id.Length > 0)
        {
            var reread = await SendAsync(HttpMethod.Get, ItemPath(collection, resource.Id), null, ScimRetryMode.Idempotent, scope);
            if (reread.IsSuccess)
            {
                return ToResource(reread, resource.Id);
            }
        }

        return resource;
    }

    private async Task<ScimResult<ScimResource>> FindFirstAsync(string collection, string filter, string attribute, CallScope scope)
    {
        var page = await ListPageAsync(collection, filter, null, 1, 1, scope);
        if (!page.IsSuccess)
        {
            return ScimResult<ScimResource>.Failure(page.Outcome, page.Error);
        }

        return page.Value!.Resources.Count > 0
            ? ScimResult<ScimResource>.Success(page.Value.Resources[0])
            : ScimResult<ScimResource>.Failure(ScimOutcome.NotFound, new ScimError(404, null, $"Nothing matches the {attribute} filter.", null));
    }

    /// <summary>409 on create: find who holds the userName. After a retried attempt that is most likely our own
    /// first attempt (it was processed but the answer was lost), so it is returned as created when its
    /// externalId agrees; otherwise Uniqueness with the existing user as the value, for the caller to adopt.</summary>
    private async Task<ScimResult<ScimResource>> ResolveUserClashAsync(JsonObject body, ScimResponse response, CallScope scope)
    {
        var userName = body[ScimAttributes.UserName] is JsonValue name && name.TryGetValue<string>(out var text) ? text : null;
        if (userName is null)
        {
            return Fail<ScimResource>(response);
        }

        var existing = await FindUserHoldingAsync(userName, scope);
        return ResolveClash(body, response, existing, userName);
    }

    private ScimResult<ScimResource> ResolveClash(JsonObject body, ScimResponse response, ScimResource? existing, string? clashingUserName)
    {
        var error = (response.Error ?? new ScimError(409, ScimErrorTypes.Uniqueness, "Conflict", null)) with { UserName = clashingUserName };
        if (existing is not null && response.Retried && SameExternalId(body, existing.Body))
        {
            ScimLog.CreateResolvedByLookup(logger, existing.Id);
            return ScimResult<ScimResource>.Success(existing);
        }

        return new ScimResult<ScimResource>(ScimOutcome.Uniqueness, existing, error);
    }

    /// <summary>The user holding <paramref name="userName"/>, inactive ones included: Genesys may leave inactive
    /// users out of a userName filter (U17), so it falls back to paging <c>active eq false</c>.</summary>
    private async Task<ScimResource?> FindUserHoldingAsync(string userName, CallScope scope)
    {
        var found = await FindFirstAsync(UsersPath, ScimFilter.Equal(ScimAttributes.UserName, userName), ScimAttributes.UserName, scope);
        if (found.Outcome == ScimOutcome.Ok)
        {
            return found.Value;
        }

        if (found.Outcome != ScimOutcome.NotFound || Profile != ScimTargetProfile.Genesys)
        {
            return null;
        }

        IReadOnlyList<string> slim = [ScimAttributes.Id, ScimAttributes.UserName, ScimAttributes.ExternalId];
        var startIndex = 1;
        while (true)
        {
            var page = await ListPageAsync(UsersPath, InactiveFilter, slim, startIndex, GenesysPageSize, scope);
            if (!page.IsSuccess || page.Value!.Resources.Count == 0)
            {
                return null;
            }

            var match = page.Value.Resources.FirstOrDefault(r =>
                r.Body[ScimAttributes.UserName] is JsonValue value && value.TryGetValue<string>(out var candidate)
                && string.Equals(candidate, userName, StringComparison.OrdinalIgnoreCase));
            if (match is not null)
            {
                var full = await GetAsync(UsersPath, match.Id, null, scope);
                return full.Outcome == ScimOutcome.Ok ? full.Value : match;
            }

            startIndex += page.Value.Resources.Count;
            if (startIndex > page.Value.TotalResults)
            {
                return null;
            }
        }
    }

    private static bool SameExternalId(JsonObject sent, JsonObject existing)
    {
        var wanted = StringValue(sent[ScimAttributes.ExternalId]);
        return wanted is null || string.Equals(wanted, StringValue(existing[ScimAttributes.ExternalId]), StringComparison.Ordinal);
    }

    private static string? StringValue(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private async Task<ScimResult<ScimListPage>> ListPageAsync(
        string collection, string? filter, IReadOnlyList<string>? attributes, int startIndex, int count, CallScope scope)
    {
        var query = new StringBuilder(collection).Append('?');
        if (filter is not null)
        {
            query.Append("filter=").Append(Uri.EscapeDataString(filter)).Append('&');
        }

        if (attributes is { Count: > 0 })
        {
            query.Append("attributes=").Append(Uri.EscapeDataString(string.Join(',', attributes))).Append('&');
        }

        query.Append("startIndex=").Append(startIndex).Append("&count=").Append(count);
        var response = await SendAsync(HttpMethod.Get, query.ToString(), null, ScimRetryMode.Idempotent, scope);
        if (!response.IsSuccess)
        {
            return ScimResult<ScimListPage>.Failure(response.Outcome, response.Error);
        }

        var body = response.Body ?? [];
        var resources = new List<ScimResource>();
        if ((body[ScimAttributes.Resources] ?? body["resources"]) is JsonArray items)
        {
            foreach (var item in items.OfType<JsonObject>())
            {
                var id = item[ScimAttributes.Id] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
                if (id is not null)
                {
                    resources.Add(new ScimResource(id, SupportsETags ? ScimVersion.FromMeta(item) : null, (JsonObject)item.DeepClone()));
                }
            }
        }

        var total = body[ScimAttributes.TotalResults] is JsonValue t && t.TryGetValue<int>(out var n) ? n : resources.Count;
        return ScimResult<ScimListPage>.Success(new ScimListPage(total, resources));
    }

    private int PageSize(IReadOnlyList<string>? attributes)
    {
        if (Profile == ScimTargetProfile.Scim)
        {
            // The target's filter.maxResults caps a page: asking for more is answered with fewer, or refused.
            return Math.Min(TrimmedPageSize, state.ServiceProviderConfig?.FilterMaxResults ?? TrimmedPageSize);
        }

        // Genesys: over 25 only when the expensive secondary lookups are left out (U9).
        var trimmed = attributes is { Count: > 0 } && !attributes.Any(IsExpensive);
        return trimmed ? TrimmedPageSize : GenesysPageSize;
    }

    private static bool IsExpensive(string attribute) =>
        attribute.Equals(ScimSchemas.GenesysUser, StringComparison.OrdinalIgnoreCase)
        || ScimAttributes.ExpensiveUserAttributes.Any(x =>
            attribute.Equals(x, StringComparison.OrdinalIgnoreCase) || attribute.EndsWith(":" + x, StringComparison.OrdinalIgnoreCase));

    private async Task<ScimResponse> SendAsync(
        HttpMethod method, string pathAndQuery, JsonObject? body, ScimRetryMode mode, CallScope scope, string? ifMatch = null, string? ifNoneMatch = null)
    {
        var response = await SendOnceAsync(method, pathAndQuery, body, mode, scope, ifMatch, ifNoneMatch);
        if (response.Outcome != ScimOutcome.NotFound || IsServiceProviderConfig(pathAndQuery))
        {
            return response;
        }

        // The engine reads NotFound as "the user or group is gone" (recreate, or a delete counted as done). A wrong
        // Scim__BaseUrl or a proxy answers 404 to everything, so the 404 stands only if the users collection answers.
        var probe = await SendOnceAsync(HttpMethod.Get, UsersPath + "?startIndex=1&count=1", null, ScimRetryMode.Idempotent, scope);
        if (probe.IsSuccess)
        {
            return response;
        }

        var path = pathAndQuery.Split('?')[0];
        ScimLog.NotFoundUnconfirmed(logger, method.Method, path, probe.Status, probe.Outcome);
        var detail = $"The target answered 404 to {method.Method} {path}, but its users collection did not answer either ({probe.Status}, {probe.Outcome}): "
            + "check Scim__BaseUrl; the 404 is not taken to mean the object is gone.";
        return response with { Outcome = ScimOutcome.Transient, Error = new ScimError(response.Status, null, detail, response.Error?.CorrelationId) };
    }

    private bool IsServiceProviderConfig(string pathAndQuery) =>
        pathAndQuery.Split('?')[0].Equals(ScimPaths.ServiceProviderConfig(Profile), StringComparison.OrdinalIgnoreCase);

    private async Task<ScimResponse> SendOnceAsync(
        HttpMethod method, string pathAndQuery, JsonObject? body, ScimRetryMode mode, CallScope scope, string? ifMatch = null, string? ifNoneMatch = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(pathAndQuery, UriKind.Relative));
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, Profile == ScimTargetProfile.Genesys ? ScimMediaTypes.Json : ScimMediaTypes.ScimJson);
        }

        if (ifMatch is not null && SupportsETags)
        {
            request.Headers.TryAddWithoutValidation(ScimHeaders.IfMatch, ScimVersion.Quote(ifMatch));
        }

        if (ifNoneMatch is not null && SupportsETags)
        {
            request.Headers.TryAddWithoutValidation(ScimHeaders.IfNoneMatch, ScimVersion.Quote(ifNoneMatch));
        }

        var call = new ScimCall(mode, scope.Deadline);
        request.Options.Set(ScimCall.Key, call);
        var path = request.RequestUri!.OriginalString.Split('?')[0];
        try
        {
            using var response = await httpClient.SendAsync(request, scope.Token);
            var status = (int)response.StatusCode;
            var text = await response.Content.ReadAsStringAsync(scope.Token);
            var correlationId = Header(response.Headers, ScimHeaders.GenesysCorrelationId);
            var etag = Header(response.Headers, ScimHeaders.ETag);
            if (response.IsSuccessStatusCode)
            {
                var json = string.IsNullOrWhiteSpace(text) ? null : JsonNode.Parse(text) as JsonObject
                    ?? throw new JsonException("The response body is not a JSON object.");
                return new ScimResponse(ScimOutcome.Ok, status, json, etag, response.Headers.Location?.OriginalString, null, call.Retried);
            }

            var error = ScimErrors.Parse(status, text, correlationId, response.ReasonPhrase);
            var outcome = ScimErrors.Classify(Profile, method, status, error.ScimType);
            if (outcome is ScimOutcome.NotFound or ScimOutcome.NotModified or ScimOutcome.Uniqueness)
            {
                ScimLog.RequestExpectedMiss(logger, method.Method, path, status, outcome, error.CorrelationId);
            }
            else
            {
                ScimLog.RequestFailed(logger, method.Method, path, status, outcome, error.Detail, error.CorrelationId);
            }

            return new ScimResponse(outcome, status, null, etag, null, error, call.Retried);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or TimeoutRejectedException or RateLimiterRejectedException)
        {
            // The budget ran out while this attempt was failing: report that, not the symptom.
            scope.Token.ThrowIfCancellationRequested();

            ScimLog.TransportFailed(logger, method.Method, path, ex.GetType().Name, ex);
            var detail = ex is TimeoutRejectedException ? "The request timed out." : "The request failed in transport: " + ex.Message;
            return new ScimResponse(ScimOutcome.Transient, 0, null, null, null, new ScimError(0, null, detail, null), call.Retried);
        }
        catch (ScimTokenException ex)
        {
            ScimLog.TokenUnavailable(logger, ex.Message, ex);
            var outcome = ex.IsTransient ? ScimOutcome.Transient : ScimOutcome.Unauthorized;
            return new ScimResponse(outcome, ex.Status ?? 401, null, null, null, new ScimError(ex.Status ?? 401, null, ex.Message, null), call.Retried);
        }
        catch (JsonException ex)
        {
            ScimLog.TransportFailed(logger, method.Method, path, "unreadable body", ex);
            return new ScimResponse(ScimOutcome.Permanent, 0, null, null, null, new ScimError(0, null, "The target answered with a body that is not a JSON object.", null), call.Retried);
        }
    }

    private ScimResource ToResource(ScimResponse response, string? knownId)
    {
        var body = response.Body ?? [];
        var id = body[ScimAttributes.Id] is JsonValue value && value.TryGetValue<string>(out var text) ? text : knownId ?? "";
        return new ScimResource(id, SupportsETags ? ScimVersion.FromResponse(response.ETag, response.Body) : null, body);
    }

    private static string? IdFromLocation(string? location) =>
        string.IsNullOrEmpty(location) ? null : Uri.UnescapeDataString(location.TrimEnd('/').Split('/')[^1]);

    private static string ItemPath(string collection, string id) => $"{collection}/{Uri.EscapeDataString(id)}";

    private static string? Header(HttpResponseHeaders headers, string name) =>
        headers.NonValidated.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    private static ScimResult<T> Fail<T>(ScimResponse response) => ScimResult<T>.Failure(response.Outcome, response.Error);

    private static ScimError GroupLifecycleDisabled(string verb) => new(
        0, null, $"Groups cannot be {verb} on this target: Genesys Cloud has no SCIM group create/delete, and the scim profile needs Scim__CreateGroups=true.", null);

    private readonly record struct CallScope(DateTimeOffset Deadline, CancellationToken Token);

    private sealed record ScimResponse(ScimOutcome Outcome, int Status, JsonObject? Body, string? ETag, string? Location, ScimError? Error, bool Retried)
    {
        public bool IsSuccess => Outcome == ScimOutcome.Ok;
    }
}

/// <summary>One page of a list response.</summary>
public sealed record ScimListPage(int TotalResults, IReadOnlyList<ScimResource> Resources);
