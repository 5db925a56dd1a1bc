using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Graph;
using Microsoft.Graph.Models;
using Microsoft.Graph.Models.ODataErrors;
using Microsoft.Kiota.Abstractions.Serialization;
using Microsoft.Kiota.Serialization.Json;

namespace ScimFunctions.Provisioning.Directory;

/// <summary>The directory as Microsoft Graph tells it: single reads for notifications, delta rounds for
/// sweeps. A 404 with Graph's not-found code is "not found"; every other failure, and every partial
/// round, throws <see cref="DirectoryUnavailableException"/>.</summary>
public sealed class GraphDirectorySource(GraphServiceClient client, GraphOptions options, ILogger<GraphDirectorySource> logger, TimeProvider? time = null) : IDirectorySource
{
    /// <summary>Graph's limit of requests in one <c>$batch</c>.</summary>
    private const int BatchSize = 20;

    /// <summary>What the attribute mapping reads; the first ten have fields of their own in <see cref="DirectoryUser"/>.</summary>
    internal static readonly string[] CoreUserProperties =
    [
        "id", "userPrincipalName", "displayName", "accountEnabled", "mail", "jobTitle", "department",
        "employeeId", "mobilePhone", "businessPhones", "givenName", "surname",
    ];

    private static readonly HashSet<string> OwnFields = new(StringComparer.OrdinalIgnoreCase)
    {
        "id", "userPrincipalName", "displayName", "accountEnabled", "mail", "jobTitle", "department",
        "employeeId", "mobilePhone", "businessPhones", "manager",
    };

    /// <summary>Selected properties without a field of their own: they go to <see cref="DirectoryUser.Properties"/>.</summary>
    private readonly string[] propertyNames = [.. CoreUserProperties.Concat(options.ExtraUserProperties()).Where(p => !OwnFields.Contains(p)).Distinct(StringComparer.OrdinalIgnoreCase)];

    internal string[] UserSelect => [.. CoreUserProperties.Concat(options.ExtraUserProperties()).Distinct(StringComparer.OrdinalIgnoreCase)];

    public async Task<DirectoryUser?> GetUserAsync(string idOrUserPrincipalName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(idOrUserPrincipalName);
        User? user;
        try
        {
            // By object id, or by userPrincipalName when it holds '@': Graph takes either in the path.
            user = await client.Users[idOrUserPrincipalName].GetAsync(request =>
            {
                request.QueryParameters.Select = UserSelect;
                request.QueryParameters.Expand = ["manager($select=id)"];
            }, cancellationToken);
        }
        catch (Exception ex) when (GraphFailure.IsRealNotFound(ex))
        {
            return null;
        }
        catch (Exception ex) when (!GraphFailure.IsCallerCancellation(ex, cancellationToken) && ex is not DirectoryUnavailableException)
        {
            throw GraphFailure.Wrap(ex, $"read of user {idOrUserPrincipalName}");
        }

        if (user?.Id is null)
        {
            throw new DirectoryUnavailableException($"Graph read of user {idOrUserPrincipalName} returned no user object.");
        }

        return ToDirectoryUser(user, user.Manager?.Id, managerKnown: true);
    }

    /// <summary>Reads users 20 to a <c>$batch</c> request. Graph throttles each inner request on its own and
    /// the SDK does not retry inside a batch, so throttled reads are sent again after the longest Retry-After.</summary>
    public async Task<IReadOnlyDictionary<string, DirectoryUser>> GetUsersAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken = default)
    {
        var users = new Dictionary<string, DirectoryUser>(StringComparer.Ordinal);
        foreach (var chunk in ids.Distinct(StringComparer.Ordinal).Chunk(BatchSize))
        {
            IReadOnlyList<string> pending = chunk;
            for (var attempt = 0; pending.Count > 0; attempt++)
            {
                var (throttled, retryAfter) = await ReadBatchAsync(pending, users, cancellationToken);
                if (throttled.Count > 0 && attempt >= options.MaxRetries)
                {
                    throw new DirectoryUnavailableException($"Graph batched read of {throttled.Count} users was still throttled after {attempt} retries.");
                }

                if (throttled.Count > 0)
                {
                    var wait = retryAfter ?? TimeSpan.FromSeconds(Math.Pow(2, attempt));
                    await Task.Delay(TimeSpan.FromSeconds(Math.Min(wait.TotalSeconds, options.RetryTimeLimitSeconds)), time ?? TimeProvider.System, cancellationToken);
                }

                pending = throttled;
            }
        }

        return users;
    }

    private async Task<(List<string> Throttled, TimeSpan? RetryAfter)> ReadBatchAsync(IReadOnlyList<string> ids, Dictionary<string, DirectoryUser> users, CancellationToken cancellationToken)
    {
        var throttled = new List<string>();
        TimeSpan? retryAfter = null;
        try
        {
            var batch = new BatchRequestContentCollection(client);
            var idOfStep = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var id in ids)
            {
                var request = client.Users[id].ToGetRequestInformation(request =>
                {
                    request.QueryParameters.Select = UserSelect;
                    request.QueryParameters.Expand = ["manager($select=id)"];
                });
                idOfStep[await batch.AddBatchRequestStepAsync(request)] = id;
            }

            var responses = await client.Batch.PostAsync(batch, cancellationToken);
            foreach (var (step, status) in await responses.GetResponsesStatusCodesAsync())
            {
                var id = idOfStep[step];
                using var response = await responses.GetResponseByIdAsync(step);
                var body = response.Content is null ? "" : await response.Content.ReadAsStringAsync(cancellationToken);
                switch (status)
                {
                    case HttpStatusCode.OK:
                        var user = Parse(body, User.CreateFromDiscriminatorValue);
                        if (user?.Id is null)
                        {
                            throw new DirectoryUnavailableException($"Graph batched read of user {id} returned no user object.");
                        }

                        users[id] = ToDirectoryUser(user, user.Manager?.Id, managerKnown: true);
                        break;
                    case HttpStatusCode.NotFound when GraphFailure.IsNotFoundCode(Parse(body, ODataError.CreateFromDiscriminatorValue)?.Error?.Code):
                        break;
                    case HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout:
                        throttled.Add(id);
                        var delay = response.Headers.RetryAfter?.Delta;
                        retryAfter = delay > retryAfter || retryAfter is null ? delay : retryAfter;
                        break;
                    default:
                        var error = Parse(body, ODataError.CreateFromDiscriminatorValue)?.Error;
                        throw new DirectoryUnavailableException(
                            $"Graph batched read of user {id} failed: HTTP {(int)status} {error?.Code}: {error?.Message}.",
                            isTransient: GraphFailure.IsTransientStatus((int)status));
                }
            }
        }
        catch (Exception ex) when (!GraphFailure.IsCallerCancellation(ex, cancellationToken) && ex is not DirectoryUnavailableException)
        {
            throw GraphFailure.Wrap(ex, $"batched read of {ids.Count} users");
        }

        return (throttled, retryAfter);
    }

    private static T? Parse<T>(string json, ParsableFactory<T> factory)
        where T : IParsable
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return default;
        }

        // Untyped values are read lazily from the element; a clone outlives the document.
        using var document = JsonDocument.Parse(json);
        return new JsonParseNode(document.RootElement.Clone()).GetObjectValue(factory);
    }

    public async Task<DirectoryGroup?> GetGroupAsync(string id, bool transitive = false, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        Group? group;
        try
        {
            group = await client.Groups[id].GetAsync(request => request.QueryParameters.Select = ["id", "displayName"], cancellationToken);
        }
        catch (Exception ex) when (GraphFailure.IsRealNotFound(ex))
        {
            return null;
        }
        catch (Exception ex) when (!GraphFailure.IsCallerCancellation(ex, cancellationToken))
        {
            throw GraphFailure.Wrap(ex, $"read of group {id}");
        }

        if (group?.Id is null)
        {
            throw new DirectoryUnavailableException($"Graph read of group {id} returned no group object.");
        }

        var what = transitive ? $"read of transitive members of group {id}" : $"read of members of group {id}";
        var members = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            // A members page that fails after the group was found is a failure, never "no members".
            var page = transitive
                ? await client.Groups[id].TransitiveMembers.GetAsync(request =>
                {
                    request.QueryParameters.Select = ["id"];
                    request.QueryParameters.Top = options.MembersPageSize;
                }, cancellationToken)
                : await client.Groups[id].Members.GetAsync(request =>
                {
                    request.QueryParameters.Select = ["id"];
                    request.QueryParameters.Top = options.MembersPageSize;
                }, cancellationToken);
            var links = new HashSet<string>(StringComparer.Ordinal);
            while (true)
            {
                if (page is null)
                {
                    throw new DirectoryUnavailableException($"Graph {what} returned an empty page.");
                }

                foreach (var member in page.Value ?? [])
                {
                    if (member.Id is { } memberId && IsUser(member) && seen.Add(memberId))
                    {
                        members.Add(memberId);
                    }
                }

                if (page.OdataNextLink is not { } next)
                {
                    break;
                }

                if (!links.Add(next))
                {
                    throw new DirectoryUnavailableException($"Graph {what} returned the same next link twice.");
                }

                page = transitive
                    ? await client.Groups[id].TransitiveMembers.WithUrl(next).GetAsync(cancellationToken: cancellationToken)
                    : await client.Groups[id].Members.WithUrl(next).GetAsync(cancellationToken: cancellationToken);
            }
        }
        catch (Exception ex) when (!GraphFailure.IsCallerCancellation(ex, cancellationToken) && ex is not DirectoryUnavailableException)
        {
            throw GraphFailure.Wrap(ex, what);
        }

        return new DirectoryGroup(group.Id, group.DisplayName ?? "", members);
    }

    public async Task<IReadOnlyList<string>> FindGroupIdsByDisplayNameAsync(string displayName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(displayName);

        // OData string literals escape a single quote by doubling it; Graph compares displayName case-insensitively.
        var filter = $"displayName eq '{displayName.Replace("'", "''", StringComparison.Ordinal)}'";
        const string what = "lookup of groups by displayName";
        var ids = new List<string>();
        try
        {
            var page = await client.Groups.GetAsync(request =>
            {
                request.QueryParameters.Filter = filter;
                request.QueryParameters.Select = ["id", "displayName"];
            }, cancellationToken);
            var links = new HashSet<string>(StringComparer.Ordinal);
            while (true)
            {
                if (page is null)
                {
                    throw new DirectoryUnavailableException($"Graph {what} returned an empty page.");
                }

                ids.AddRange(page.Value?.Select(g => g.Id).OfType<string>() ?? []);
                if (page.OdataNextLink is not { } next)
                {
                    break;
                }

                if (!links.Add(next))
                {
                    throw new DirectoryUnavailableException($"Graph {what} returned the same next link twice.");
                }

                page = await client.Groups.WithUrl(next).GetAsync(cancellationToken: cancellationToken);
            }
        }
        catch (Exception ex) when (!GraphFailure.IsCallerCancellation(ex, cancellationToken) && ex is not DirectoryUnavailableException)
        {
            throw GraphFailure.Wrap(ex, what);
        }

        return [.. ids.Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal)];
    }

    public async Task<DeltaResult<DirectoryUser>> GetUserChangesAsync(string? cursor, CancellationToken cancellationToken = default)
    {
        var round = await ReadRoundAsync("users", cursor, FetchUsersDeltaAsync, isFullResync => new UserRound(this, isFullResync), cancellationToken);

        var (changed, removed) = (round.Accumulator.Changed, round.Accumulator.Removed);
        DirectoryLog.DeltaRoundCompleted(logger, "users", round.Pages, changed.Count, removed.Count, round.IsFullResync);
        return new DeltaResult<DirectoryUser>([.. changed.Values], [.. removed.Values], round.DeltaLink, round.IsFullResync);
    }

    public async Task<DeltaResult<GroupChange>> GetGroupChangesAsync(string? cursor, CancellationToken cancellationToken = default)
    {
        var round = await ReadRoundAsync("groups", cursor, FetchGroupsDeltaAsync, _ => new GroupRound(), cancellationToken);

        var (changed, removed) = (round.Accumulator.Changed, round.Accumulator.Removed);
        DirectoryLog.DeltaRoundCompleted(logger, "groups", round.Pages, changed.Count, removed.Count, round.IsFullResync);
        return new DeltaResult<GroupChange>(
            [.. changed.Select(p => new GroupChange(p.Key, p.Value.DisplayName, [.. p.Value.Added], [.. p.Value.Removed]))],
            [.. removed.Values],
            round.DeltaLink,
            round.IsFullResync);
    }

    public async Task<DeltaPageResult<DirectoryUser>> GetUserChangesPageAsync(string? link, bool fullRound, CancellationToken cancellationToken = default)
    {
        var (page, restarted) = await ReadOnePageAsync("users", link, FetchUsersDeltaAsync, cancellationToken);
        var accumulator = new UserRound(this, fullRound || restarted || link is null);
        foreach (var user in page.Items)
        {
            accumulator.Apply(user);
        }

        return new DeltaPageResult<DirectoryUser>([.. accumulator.Changed.Values], [.. accumulator.Removed.Values], page.DeltaLink is null ? page.NextLink : null, page.DeltaLink, restarted);
    }

    public async Task<DeltaPageResult<GroupChange>> GetGroupChangesPageAsync(string? link, bool fullRound, CancellationToken cancellationToken = default)
    {
        var (page, restarted) = await ReadOnePageAsync("groups", link, FetchGroupsDeltaAsync, cancellationToken);
        var accumulator = new GroupRound();
        foreach (var group in page.Items)
        {
            accumulator.Apply(group);
        }

        return new DeltaPageResult<GroupChange>(
            [.. accumulator.Changed.Select(p => new GroupChange(p.Key, p.Value.DisplayName, [.. p.Value.Added], [.. p.Value.Removed]))],
            [.. accumulator.Removed.Values],
            page.DeltaLink is null ? page.NextLink : null,
            page.DeltaLink,
            restarted);
    }

    private async Task<DeltaPage<User>?> FetchUsersDeltaAsync(string? url, CancellationToken cancellationToken)
    {
        string[] select = [.. UserSelect, "manager"];
        var response = url is null
            ? await client.Users.Delta.GetAsDeltaGetResponseAsync(request => request.QueryParameters.Select = select, cancellationToken)
            : await client.Users.Delta.WithUrl(url).GetAsDeltaGetResponseAsync(cancellationToken: cancellationToken);
        return response is null ? null : new DeltaPage<User>(response.Value ?? [], response.OdataNextLink, response.OdataDeltaLink);
    }

    private async Task<DeltaPage<Group>?> FetchGroupsDeltaAsync(string? url, CancellationToken cancellationToken)
    {
        var response = url is null
            ? await client.Groups.Delta.GetAsDeltaGetResponseAsync(request => request.QueryParameters.Select = ["displayName", "members"], cancellationToken)
            : await client.Groups.Delta.WithUrl(url).GetAsDeltaGetResponseAsync(cancellationToken: cancellationToken);
        return response is null ? null : new DeltaPage<Group>(response.Value ?? [], response.OdataNextLink, response.OdataDeltaLink);
    }

    /// <summary>One page from <paramref name="link"/>; an unusable or expired link starts a full enumeration instead
    /// (Restarted), exactly as a whole round does.</summary>
    private async Task<(DeltaPage<T> Page, bool Restarted)> ReadOnePageAsync<T>(
        string resource, string? link, Func<string?, CancellationToken, Task<DeltaPage<T>?>> fetch, CancellationToken cancellationToken)
    {
        var start = link;
        if (link is not null && UnusableCursorReason(link, resource) is { } reason)
        {
            DirectoryLog.DeltaCursorUnusable(logger, resource, reason);
            start = null;
        }

        try
        {
            return (await FetchOnePageAsync(resource, start, fetch, cancellationToken), link is not null && start is null);
        }
        catch (Exception ex) when (start is not null && GraphFailure.IsExpiredDeltaToken(ex))
        {
            DirectoryLog.DeltaTokenExpired(logger, resource, GraphFailure.Describe(ex), ex);
            return (await FetchOnePageAsync(resource, null, fetch, cancellationToken), true);
        }
    }

    private static async Task<DeltaPage<T>> FetchOnePageAsync<T>(string resource, string? url, Func<string?, CancellationToken, Task<DeltaPage<T>?>> fetch, CancellationToken cancellationToken)
    {
        DeltaPage<T>? page;
        try
        {
            page = await fetch(url, cancellationToken);
        }
        catch (Exception ex) when (GraphFailure.IsExpiredDeltaToken(ex) && url is not null)
        {
            throw;
        }
        catch (Exception ex) when (!GraphFailure.IsCallerCancellation(ex, cancellationToken) && ex is not DirectoryUnavailableException)
        {
            throw GraphFailure.Wrap(ex, $"{resource} delta (one page)");
        }

        if (page is null)
        {
            throw new DirectoryUnavailableException($"Graph {resource} delta answered an empty page; the round is incomplete.");
        }

        if (page.DeltaLink is null && page.NextLink is null)
        {
            throw new DirectoryUnavailableException($"Graph {resource} delta answered a page with neither @odata.nextLink nor @odata.deltaLink; the round is incomplete.");
        }

        return page;
    }

    internal DirectoryUser ToDirectoryUser(User user, string? managerId, bool managerKnown)
    {
        var properties = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in propertyNames)
        {
            GraphPayload.AddProperty(properties, name, ReadProperty(user, name));
        }

        return new DirectoryUser(
            user.Id!,
            user.UserPrincipalName,
            user.DisplayName,
            // Graph always returns accountEnabled when selected; a missing value is not read as "disabled".
            user.AccountEnabled ?? true,
            user.Mail,
            user.JobTitle,
            user.Department,
            user.EmployeeId,
            user.MobilePhone,
            [.. user.BusinessPhones ?? []],
            managerId,
            properties)
        {
            ManagerKnown = managerKnown,
        };
    }

    internal DirectoryUser ToDeltaUser(User user, bool isFullResync)
    {
        IReadOnlyList<DeltaReference>? manager;
        try
        {
            manager = GraphPayload.ReferencesOf(user.AdditionalData, GraphNames.ManagerDelta);
        }
        catch (FormatException ex)
        {
            throw new DirectoryUnavailableException($"Graph users delta returned an unreadable manager for user {user.Id}: {ex.Message}", ex);
        }

        if (manager is null)
        {
            // A full round lists every manager, so none means none; an incremental round sends
            // manager@delta only when the manager changed.
            return ToDirectoryUser(user, managerId: user.Manager?.Id, managerKnown: isFullResync || user.Manager is not null);
        }

        return ToDirectoryUser(user, manager.LastOrDefault(m => m.Removed is null).Id, managerKnown: true);
    }

    /// <summary>A selected property by its Graph name: typed ones live in the backing store under that
    /// name, unknown ones (extension attributes) in AdditionalData.</summary>
    private static object? ReadProperty(User user, string name)
    {
        if (user.BackingStore.Get<object>(name) is { } typed)
        {
            return typed;
        }

        if (user.AdditionalData.TryGetValue(name, out var extra))
        {
            return extra;
        }

        foreach (var (key, value) in user.BackingStore.Enumerate())
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                return user.BackingStore.Get<object>(key) ?? value;
            }
        }

        return user.AdditionalData.FirstOrDefault(p => string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
    }

    private static bool IsUser(DirectoryObject member) =>
        member is User || member.OdataType is null || string.Equals(member.OdataType, GraphNames.UserType, StringComparison.OrdinalIgnoreCase);

    private async Task<DeltaRound<TAccumulator>> ReadRoundAsync<T, TAccumulator>(
        string resource,
        string? cursor,
        Func<string?, CancellationToken, Task<DeltaPage<T>?>> fetch,
        Func<bool, TAccumulator> newAccumulator,
        CancellationToken cancellationToken)
        where TAccumulator : IDeltaAccumulator<T>
    {
        var start = cursor;
        if (cursor is not null && UnusableCursorReason(cursor, resource) is { } reason)
        {
            DirectoryLog.DeltaCursorUnusable(logger, resource, reason);
            start = null;
        }

        try
        {
            return await ReadPagesAsync(resource, start, fetch, newAccumulator(start is null), cancellationToken);
        }
        catch (Exception ex) when (start is not null && GraphFailure.IsExpiredDeltaToken(ex))
        {
            // What the expired round gathered is dropped: the full round starts from nothing.
            DirectoryLog.DeltaTokenExpired(logger, resource, GraphFailure.Describe(ex), ex);
            return await ReadPagesAsync(resource, null, fetch, newAccumulator(true), cancellationToken);
        }
    }

    private static async Task<DeltaRound<TAccumulator>> ReadPagesAsync<T, TAccumulator>(
        string resource,
        string? start,
        Func<string?, CancellationToken, Task<DeltaPage<T>?>> fetch,
        TAccumulator accumulator,
        CancellationToken cancellationToken)
        where TAccumulator : IDeltaAccumulator<T>
    {
        var links = new HashSet<string>(StringComparer.Ordinal);
        var url = start;
        var pages = 0;
        while (true)
        {
            DeltaPage<T>? page;
            try
            {
                page = await fetch(url, cancellationToken);
            }
            catch (Exception ex) when (GraphFailure.IsExpiredDeltaToken(ex) && start is not null)
            {
                throw;
            }
            catch (Exception ex) when (!GraphFailure.IsCallerCancellation(ex, cancellationToken) && ex is not DirectoryUnavailableException)
            {
                throw GraphFailure.Wrap(ex, $"{resource} delta (page {pages + 1})");
            }

            pages++;
            if (page is null)
            {
                throw new DirectoryUnavailableException($"Graph {resource} delta page {pages} was empty; the round is incomplete.");
            }

            // Each page is merged as it arrives: the SDK's untyped members@delta nodes read lazily from
            // the response they came in, so they are not kept beyond it.
            foreach (var item in page.Items)
            {
                accumulator.Apply(item);
            }

            if (page.DeltaLink is { } deltaLink)
            {
                return new DeltaRound<TAccumulator>(accumulator, deltaLink, start is null, pages);
            }

            // Never take a partial round for a whole one: no link at all is a failure.
            if (page.NextLink is not { } next)
            {
                throw new DirectoryUnavailableException($"Graph {resource} delta page {pages} had neither @odata.nextLink nor @odata.deltaLink; the round is incomplete.");
            }

            if (!links.Add(next))
            {
                throw new DirectoryUnavailableException($"Graph {resource} delta returned the same next link twice.");
            }

            url = next;
        }
    }

    private string? UnusableCursorReason(string cursor, string resource)
    {
        if (!Uri.TryCreate(cursor, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            return "not an absolute URL";
        }

        var baseUrl = new Uri(options.BaseUrl);
        if (!string.Equals(uri.Authority, baseUrl.Authority, StringComparison.OrdinalIgnoreCase))
        {
            // The token would go nowhere useful (and is only sent to the configured host anyway).
            return $"it points at {uri.Authority}, not the configured Graph {baseUrl.Authority}";
        }

        if (!uri.AbsolutePath.Contains($"/{resource}/", StringComparison.OrdinalIgnoreCase))
        {
            return $"it is not a {resource} delta link";
        }

        return null;
    }

    private sealed record DeltaPage<T>(IReadOnlyList<T> Items, string? NextLink, string? DeltaLink);

    private sealed record DeltaRound<TAccumulator>(TAccumulator Accumulator, string DeltaLink, bool IsFullResync, int Pages);

    private interface IDeltaAccumulator<in T>
    {
        void Apply(T item);
    }

    /// <summary>Users of one round: one entry per id, the last one wins (replays are harmless).</summary>
    private sealed class UserRound(GraphDirectorySource source, bool isFullResync) : IDeltaAccumulator<User>
    {
        public OrderedDictionary<string, DirectoryUser> Changed { get; } = new(StringComparer.Ordinal);

        public OrderedDictionary<string, DirectoryRemoval> Removed { get; } = new(StringComparer.Ordinal);

        public void Apply(User user)
        {
            if (user.Id is not { } id)
            {
                throw new DirectoryUnavailableException("Graph users delta returned an entry without an id.");
            }

            if (GraphPayload.RemovalOf(user.AdditionalData) is { } reason)
            {
                Changed.Remove(id);
                Removed[id] = new DirectoryRemoval(id, reason);
                return;
            }

            Removed.Remove(id);
            var current = source.ToDeltaUser(user, isFullResync);
            if (!current.ManagerKnown && Changed.TryGetValue(id, out var earlier) && earlier.ManagerKnown)
            {
                current = current with { ManagerId = earlier.ManagerId, ManagerKnown = true };
            }

            Changed[id] = current;
        }
    }

    /// <summary>Groups of one round. A large group arrives on several pages, each with part of
    /// members@delta: they are merged, and the last word about a member wins.</summary>
    private sealed class GroupRound : IDeltaAccumulator<Group>
    {
        public OrderedDictionary<string, GroupAccumulator> Changed { get; } = new(StringComparer.Ordinal);

        public OrderedDictionary<string, DirectoryRemoval> Removed { get; } = new(StringComparer.Ordinal);

        public void Apply(Group group)
        {
            if (group.Id is not { } id)
            {
                throw new DirectoryUnavailableException("Graph groups delta returned an entry without an id.");
            }

            if (GraphPayload.RemovalOf(group.AdditionalData) is { } reason)
            {
                Changed.Remove(id);
                Removed[id] = new DirectoryRemoval(id, reason);
                return;
            }

            Removed.Remove(id);
            if (!Changed.TryGetValue(id, out var accumulator))
            {
                accumulator = new GroupAccumulator();
                Changed[id] = accumulator;
            }

            accumulator.DisplayName = group.DisplayName ?? accumulator.DisplayName;
            IReadOnlyList<DeltaReference>? references;
            try
            {
                references = GraphPayload.ReferencesOf(group.AdditionalData, GraphNames.MembersDelta);
            }
            catch (FormatException ex)
            {
                throw new DirectoryUnavailableException($"Graph groups delta returned unreadable members for group {id}: {ex.Message}", ex);
            }

            foreach (var member in references ?? [])
            {
                if (member.IsUser)
                {
                    accumulator.Apply(member.Id, member.Removed is null);
                }
            }
        }
    }

    private sealed class GroupAccumulator
    {
        public string? DisplayName { get; set; }

        public OrderedSet Added { get; } = new();

        public OrderedSet Removed { get; } = new();

        public void Apply(string memberId, bool added)
        {
            (added ? Removed : Added).Remove(memberId);
            (added ? Added : Removed).Add(memberId);
        }
    }

    /// <summary>Insertion-ordered set, so member lists come out in the order Graph sent them.</summary>
    private sealed class OrderedSet : IEnumerable<string>
    {
        private readonly OrderedDictionary<string, bool> items = new(StringComparer.Ordinal);

        public void Add(string item) => items.TryAdd(item, true);

        public void Remove(string item) => items.Remove(item);

        public IEnumerator<string> GetEnumerator() => items.Keys.GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
