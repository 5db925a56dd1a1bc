using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.Sync;
using ScimAttributes = ScimFunctions.Provisioning.Sync.ScimAttributes;

namespace ScimFunctions.Tests.Sync.Converging;

/// <summary>A SCIM target in memory behind <see cref="IScimClient"/>, with the semantics the convergers rely on
/// and the real client returns: a version per resource that changes on every write; a write with a stale
/// version answers VersionConflict; a missing resource NotFound (a DELETE of one succeeds with false);
/// userName unique case-insensitively, a create that meets it answers Uniqueness with the holder as the value
/// (the real client's lookup of the holder); group displayName unique the same way; If-None-Match with the
/// current version answers NotModified. PATCH applies plain, schema-qualified, complex (<c>name.givenName</c>)
/// and manager paths; a filtered path throws (tests keep to the paths it knows). Anything else the engine
/// never calls from a converger throws <see cref="NotSupportedException"/>.
/// <see cref="FailNext"/> injects an outcome for the next calls of one operation (before they reach the data).</summary>
internal sealed class InMemoryScimTarget(bool canCreateGroups = false) : IScimClient
{
    private readonly Dictionary<string, (JsonObject Body, long Version)> _users = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (JsonObject Body, long Version)> _groups = new(StringComparer.Ordinal);
    private readonly Queue<(string Operation, ScimOutcome Outcome)> _faults = new();
    private long _next;
    private long _writes;

    /// <summary>Every call in order, by operation name ("create user", "patch user", …).</summary>
    public List<string> Calls { get; } = [];

    public int Count(string operation) => Calls.Count(c => c == operation);

    public ScimTargetCapabilities Capabilities { get; } = new(SupportsETags: true, CanCreateGroups: canCreateGroups, CanDeleteGroups: canCreateGroups, MemberPatchChunkSize: 50,
        SupportedUserSchemas: new HashSet<string>(StringComparer.Ordinal) { ScimSchemas.User, ScimSchemas.EnterpriseUser });

    public ScimRequestCounts Counts => new(Calls.Count, _writes, 0, 0);

    /// <summary>The next <paramref name="times"/> calls of <paramref name="operation"/> answer <paramref name="outcome"/>.</summary>
    public void FailNext(string operation, ScimOutcome outcome, int times = 1)
    {
        for (var i = 0; i < times; i++)
        {
            _faults.Enqueue((operation, outcome));
        }
    }

    // ---------------- arranging and inspecting (not counted as calls) ----------------

    public string AddUser(string userName, string? externalId = null, bool active = true, Action<JsonObject>? shape = null)
    {
        var body = new JsonObject { [ScimAttributes.UserName] = userName, [ScimAttributes.Active] = active };
        if (externalId is not null)
        {
            body[ScimAttributes.ExternalId] = externalId;
        }

        shape?.Invoke(body);
        return Insert(_users, body);
    }

    /// <summary>An edit outside the connector (an admin): the version moves on.</summary>
    public void EditUser(string id, Action<JsonObject> edit)
    {
        var (body, _) = _users[id];
        edit(body);
        _users[id] = (body, ++_next);
    }

    public void DeleteUserBehindTheConnector(string id) => _users.Remove(id);

    public JsonObject? User(string id) => _users.TryGetValue(id, out var user) ? (JsonObject)Stamp(id, user).DeepClone() : null;

    public IReadOnlyList<JsonObject> Users => [.. _users.Select(u => Stamp(u.Key, u.Value))];

    public string AddGroup(string displayName, params string[] memberIds)
    {
        var members = new JsonArray([.. memberIds.Select(m => (JsonNode)new JsonObject { [ScimAttributes.Value] = m })]);
        return Insert(_groups, new JsonObject { [ScimAttributes.DisplayName] = displayName, [ScimAttributes.Members] = members });
    }

    public IReadOnlySet<string> Members(string groupId) => MemberIds(_groups[groupId].Body);

    /// <summary>An admin adds a member on the target: the group's version moves on.</summary>
    public void AddMemberBehindTheConnector(string groupId, string memberId)
    {
        var (body, _) = _groups[groupId];
        var members = MemberIds(body);
        members.Add(memberId);
        body[ScimAttributes.Members] = new JsonArray([.. members.Select(m => (JsonNode)new JsonObject { [ScimAttributes.Value] = m })]);
        _groups[groupId] = (body, ++_next);
    }

    // ---------------- IScimClient ----------------

    public Task<ScimResult<ScimResource>> CreateUserAsync(JsonObject user, CancellationToken cancellationToken = default)
    {
        if (Fault("create user") is { } fault)
        {
            return Task.FromResult(fault);
        }

        var userName = Text(user, ScimAttributes.UserName);
        if (_users.FirstOrDefault(u => string.Equals(Text(u.Value.Body, ScimAttributes.UserName), userName, StringComparison.OrdinalIgnoreCase)) is { Key: { } holder })
        {
            return Task.FromResult(new ScimResult<ScimResource>(ScimOutcome.Uniqueness, Resource(holder, _users[holder]), new ScimError(409, ScimErrorTypes.Uniqueness, "userName is taken", null, userName)));
        }

        _writes++;
        var id = Insert(_users, (JsonObject)user.DeepClone());
        return Task.FromResult(ScimResult<ScimResource>.Success(Resource(id, _users[id])));
    }

    public Task<ScimResult<ScimResource>> GetUserAsync(string id, string? ifNoneMatch = null, CancellationToken cancellationToken = default) =>
        Task.FromResult(Fault("get user") ?? Get(_users, id, ifNoneMatch));

    public Task<ScimResult<ScimResource>> FindUserAsync(string attribute, string value, CancellationToken cancellationToken = default)
    {
        if (Fault("find user") is { } fault)
        {
            return Task.FromResult(fault);
        }

        var comparison = attribute == ScimAttributes.UserName ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        var found = _users.FirstOrDefault(u => string.Equals(Text(u.Value.Body, attribute), value, comparison));
        return Task.FromResult(found.Key is null
            ? ScimResult<ScimResource>.Failure(ScimOutcome.NotFound, new ScimError(404, null, $"Nothing matches the {attribute} filter.", null))
            : ScimResult<ScimResource>.Success(Resource(found.Key, found.Value)));
    }

    public async IAsyncEnumerable<ScimResource> ListUsersAsync(string? filter = null, IReadOnlyList<string>? attributes = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Calls.Add("list users");
        if (filter is not null)
        {
            throw new NotSupportedException($"The in-memory target lists without a filter only (asked: {filter}).");
        }

        await Task.Yield();
        foreach (var (id, user) in _users.ToList())
        {
            yield return Resource(id, user);
        }
    }

    public Task<ScimResult<int>> CountUsersAsync(string? filter = null, CancellationToken cancellationToken = default)
    {
        Calls.Add("count users");
        return Task.FromResult(ScimResult<int>.Success(_users.Count));
    }

    public Task<ScimResult<ScimResource>> PatchUserAsync(string id, IReadOnlyList<ScimPatchOperation> operations, string? version, CancellationToken cancellationToken = default) =>
        Task.FromResult(Fault("patch user") ?? Write(_users, id, version, body =>
        {
            foreach (var operation in operations)
            {
                Apply(body, operation);
            }
        }));

    public Task<ScimResult<ScimResource>> ReplaceUserAsync(string id, JsonObject user, string? version, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("The convergers never PUT a user.");

    public Task<ScimResult<bool>> DeleteUserAsync(string id, string? version, CancellationToken cancellationToken = default)
    {
        if (Fault("delete user") is { } fault)
        {
            return Task.FromResult(ScimResult<bool>.Failure(fault.Outcome, fault.Error));
        }

        if (!_users.TryGetValue(id, out var user))
        {
            return Task.FromResult(ScimResult<bool>.Success(false));
        }

        if (version is not null && version != Version(user.Version))
        {
            return Task.FromResult(ScimResult<bool>.Failure(ScimOutcome.VersionConflict, new ScimError(412, null, "stale version", null)));
        }

        _writes++;
        _users.Remove(id);
        return Task.FromResult(ScimResult<bool>.Success(true));
    }

    public Task<ScimResult<ScimResource>> GetGroupAsync(string id, string? ifNoneMatch = null, CancellationToken cancellationToken = default) =>
        Task.FromResult(Fault("get group") ?? Get(_groups, id, ifNoneMatch));

    public Task<ScimResult<ScimResource>> FindGroupByDisplayNameAsync(string displayName, CancellationToken cancellationToken = default)
    {
        if (Fault("find group") is { } fault)
        {
            return Task.FromResult(fault);
        }

        var found = _groups.FirstOrDefault(g => string.Equals(Text(g.Value.Body, ScimAttributes.DisplayName), displayName, StringComparison.OrdinalIgnoreCase));
        return Task.FromResult(found.Key is null
            ? ScimResult<ScimResource>.Failure(ScimOutcome.NotFound, new ScimError(404, null, "Nothing matches the displayName filter.", null))
            : ScimResult<ScimResource>.Success(Resource(found.Key, found.Value)));
    }

    public Task<ScimResult<ScimResource>> CreateGroupAsync(string displayName, string? externalId, CancellationToken cancellationToken = default)
    {
        if (Fault("create group") is { } fault)
        {
            return Task.FromResult(fault);
        }

        if (!Capabilities.CanCreateGroups)
        {
            return Task.FromResult(ScimResult<ScimResource>.Failure(ScimOutcome.Permanent, new ScimError(0, null, "Groups are not created on this target.", null)));
        }

        if (_groups.FirstOrDefault(g => string.Equals(Text(g.Value.Body, ScimAttributes.DisplayName), displayName, StringComparison.OrdinalIgnoreCase)) is { Key: { } holder })
        {
            return Task.FromResult(new ScimResult<ScimResource>(ScimOutcome.Uniqueness, Resource(holder, _groups[holder]), new ScimError(409, ScimErrorTypes.Uniqueness, "displayName is taken", null)));
        }

        _writes++;
        var id = Insert(_groups, new JsonObject { [ScimAttributes.DisplayName] = displayName, [ScimAttributes.ExternalId] = externalId, [ScimAttributes.Members] = new JsonArray() });
        return Task.FromResult(ScimResult<ScimResource>.Success(Resource(id, _groups[id])));
    }

    public Task<ScimResult<ScimResource>> ReplaceGroupAsync(string id, JsonObject group, string? version, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("The convergers never PUT a group.");

    public Task<ScimResult<bool>> DeleteGroupAsync(string id, string? version, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("The convergers never delete a group.");

    public Task<ScimResult<ScimResource>> PatchGroupMembersAsync(string id, IReadOnlyCollection<string> add, IReadOnlyCollection<string> remove, string? version, CancellationToken cancellationToken = default) =>
        Task.FromResult(Fault("patch group members") ?? Write(_groups, id, version, body =>
        {
            var members = MemberIds(body);
            members.UnionWith(add);
            members.ExceptWith(remove);
            body[ScimAttributes.Members] = new JsonArray([.. members.Order(StringComparer.Ordinal).Select(m => (JsonNode)new JsonObject { [ScimAttributes.Value] = m })]);
        }));

    public Task<ScimResult<JsonObject>> GetServiceProviderConfigAsync(CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("The convergers never read the ServiceProviderConfig.");

    // ---------------- semantics ----------------

    private ScimResult<ScimResource>? Fault(string operation)
    {
        Calls.Add(operation);
        if (_faults.Count > 0 && _faults.Peek().Operation == operation)
        {
            var (_, outcome) = _faults.Dequeue();
            var status = outcome switch
            {
                ScimOutcome.NotFound => 404,
                ScimOutcome.VersionConflict => 412,
                ScimOutcome.Uniqueness => 409,
                ScimOutcome.InvalidValue => 400,
                ScimOutcome.Unauthorized => 401,
                ScimOutcome.Throttled => 429,
                ScimOutcome.Transient => 503,
                _ => 422,
            };
            return ScimResult<ScimResource>.Failure(outcome, new ScimError(status, outcome == ScimOutcome.InvalidValue ? "invalidValue" : null, $"injected {outcome}", null));
        }

        return null;
    }

    private string Insert(Dictionary<string, (JsonObject Body, long Version)> resources, JsonObject body)
    {
        var id = "t-" + (++_next).ToString("D4", CultureInfo.InvariantCulture);
        resources[id] = (body, ++_next);
        return id;
    }

    private static ScimResult<ScimResource> Get(Dictionary<string, (JsonObject Body, long Version)> resources, string id, string? ifNoneMatch)
    {
        if (!resources.TryGetValue(id, out var resource))
        {
            return ScimResult<ScimResource>.Failure(ScimOutcome.NotFound, new ScimError(404, null, "Resource not found.", null));
        }

        return ifNoneMatch is not null && ifNoneMatch == Version(resource.Version)
            ? new ScimResult<ScimResource>(ScimOutcome.NotModified, new ScimResource(id, ifNoneMatch, []))
            : ScimResult<ScimResource>.Success(Resource(id, resource));
    }

    private ScimResult<ScimResource> Write(Dictionary<string, (JsonObject Body, long Version)> resources, string id, string? version, Action<JsonObject> change)
    {
        if (!resources.TryGetValue(id, out var resource))
        {
            return ScimResult<ScimResource>.Failure(ScimOutcome.NotFound, new ScimError(404, null, "Resource not found.", null));
        }

        if (version is not null && version != Version(resource.Version))
        {
            return ScimResult<ScimResource>.Failure(ScimOutcome.VersionConflict, new ScimError(412, null, "stale version", null));
        }

        _writes++;
        change(resource.Body);
        resources[id] = (resource.Body, ++_next);
        return ScimResult<ScimResource>.Success(Resource(id, resources[id]));
    }

    private static void Apply(JsonObject body, ScimPatchOperation operation)
    {
        if (operation.Path is null)
        {
            foreach (var (key, value) in (JsonObject)operation.Value!)
            {
                body[key] = value?.DeepClone();
            }

            return;
        }

        var path = ScimPath.Parse(operation.Path);
        if (path.FilterAttribute is not null)
        {
            throw new NotSupportedException($"The in-memory target does not apply filtered paths ({operation.Path}).");
        }

        var container = body;
        if (path.Schema is not null)
        {
            container = body[path.Schema] as JsonObject ?? [];
            body[path.Schema] = container;
        }

        var remove = operation.Op == ScimPatchOps.Remove;
        if (path.SubAttribute is not null)
        {
            var complex = container[path.Attribute] as JsonObject ?? [];
            container[path.Attribute] = complex;
            if (remove)
            {
                complex.Remove(path.SubAttribute);
            }
            else
            {
                complex[path.SubAttribute] = operation.Value?.DeepClone();
            }

            return;
        }

        if (remove)
        {
            container.Remove(path.Attribute);
        }
        else
        {
            container[path.Attribute] = operation.Value?.DeepClone();
        }
    }

    private static HashSet<string> MemberIds(JsonObject body) =>
        new((body[ScimAttributes.Members] as JsonArray ?? []).OfType<JsonObject>().Select(m => Text(m, ScimAttributes.Value)).OfType<string>(), StringComparer.Ordinal);

    private static string? Text(JsonObject body, string attribute) =>
        body[attribute] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private static string Version(long version) => $"W/\"{version.ToString(CultureInfo.InvariantCulture)}\"";

    private static JsonObject Stamp(string id, (JsonObject Body, long Version) resource)
    {
        var body = (JsonObject)resource.Body.DeepClone();
        body["id"] = id;
        body["meta"] = new JsonObject { ["version"] = Version(resource.Version) };
        return body;
    }

    private static ScimResource Resource(string id, (JsonObject Body, long Version) resource) => new(id, Version(resource.Version), Stamp(id, resource));
}
