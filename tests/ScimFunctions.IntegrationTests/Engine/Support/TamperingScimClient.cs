using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using ScimFunctions.Provisioning.Scim;

namespace ScimFunctions.IntegrationTests.Engine.Support;

/// <summary>The real SCIM client with hooks at the seam: rewrite what the target answered (a buggy or hostile
/// target sending other JSON types than SCIM says) and act after a PATCH reached it (another writer at that moment).</summary>
public sealed class TamperingScimClient(IScimClient inner) : IScimClient
{
    /// <summary>Rewrites a user or group body the target returned (call name, body copy); null leaves it.</summary>
    public Action<string, JsonObject>? Rewrite { get; set; }

    /// <summary>Runs after a user PATCH was answered (target user id).</summary>
    public Func<string, Task>? AfterUserPatch { get; set; }

    public ScimTargetCapabilities Capabilities => inner.Capabilities;

    public ScimRequestCounts Counts => inner.Counts;

    public async Task<ScimResult<ScimResource>> CreateUserAsync(JsonObject user, CancellationToken cancellationToken = default) =>
        Tamper("create user", await inner.CreateUserAsync(user, cancellationToken));

    public async Task<ScimResult<ScimResource>> GetUserAsync(string id, string? ifNoneMatch = null, CancellationToken cancellationToken = default) =>
        Tamper("get user", await inner.GetUserAsync(id, ifNoneMatch, cancellationToken));

    public async Task<ScimResult<ScimResource>> FindUserAsync(string attribute, string value, CancellationToken cancellationToken = default) =>
        Tamper("find user", await inner.FindUserAsync(attribute, value, cancellationToken));

    public async IAsyncEnumerable<ScimResource> ListUsersAsync(string? filter = null, IReadOnlyList<string>? attributes = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var user in inner.ListUsersAsync(filter, attributes, cancellationToken))
        {
            yield return Tamper("list users", user);
        }
    }

    /// <summary>Runs before each page of a resumable listing is read (a test's fake clock: "each page takes 10 s").</summary>
    public Action? BeforeListPage { get; set; }

    public async Task<ScimResult<ScimUsersPage>> ListUsersPageAsync(ScimListPosition position, CancellationToken cancellationToken = default)
    {
        BeforeListPage?.Invoke();
        var page = await inner.ListUsersPageAsync(position, cancellationToken);
        return page.Value is null ? page : ScimResult<ScimUsersPage>.Success(page.Value with { Resources = [.. page.Value.Resources.Select(r => Tamper("list users", r))] });
    }

    public Task<ScimResult<int>> CountUsersAsync(string? filter = null, CancellationToken cancellationToken = default) => inner.CountUsersAsync(filter, cancellationToken);

    public async Task<ScimResult<ScimResource>> PatchUserAsync(string id, IReadOnlyList<ScimPatchOperation> operations, string? version, CancellationToken cancellationToken = default)
    {
        var result = Tamper("patch user", await inner.PatchUserAsync(id, operations, version, cancellationToken));
        if (AfterUserPatch is { } after)
        {
            await after(id);
        }

        return result;
    }

    public async Task<ScimResult<ScimResource>> ReplaceUserAsync(string id, JsonObject user, string? version, CancellationToken cancellationToken = default) =>
        Tamper("replace user", await inner.ReplaceUserAsync(id, user, version, cancellationToken));

    public Task<ScimResult<bool>> DeleteUserAsync(string id, string? version, CancellationToken cancellationToken = default) => inner.DeleteUserAsync(id, version, cancellationToken);

    /// <summary>Runs before each group read (target group id): a test's fake clock, "each group takes 10 s".</summary>
    public Action<string>? BeforeGroupRead { get; set; }

    public async Task<ScimResult<ScimResource>> GetGroupAsync(string id, string? ifNoneMatch = null, CancellationToken cancellationToken = default)
    {
        BeforeGroupRead?.Invoke(id);
        return Tamper("get group", await inner.GetGroupAsync(id, ifNoneMatch, cancellationToken));
    }

    public async Task<ScimResult<ScimResource>> FindGroupByDisplayNameAsync(string displayName, CancellationToken cancellationToken = default) =>
        Tamper("find group", await inner.FindGroupByDisplayNameAsync(displayName, cancellationToken));

    public Task<ScimResult<ScimResource>> CreateGroupAsync(string displayName, string? externalId, CancellationToken cancellationToken = default) => inner.CreateGroupAsync(displayName, externalId, cancellationToken);

    public Task<ScimResult<ScimResource>> ReplaceGroupAsync(string id, JsonObject group, string? version, CancellationToken cancellationToken = default) => inner.ReplaceGroupAsync(id, group, version, cancellationToken);

    public Task<ScimResult<bool>> DeleteGroupAsync(string id, string? version, CancellationToken cancellationToken = default) => inner.DeleteGroupAsync(id, version, cancellationToken);

    public async Task<ScimResult<ScimResource>> PatchGroupMembersAsync(string id, IReadOnlyCollection<string> add, IReadOnlyCollection<string> remove, string? version, CancellationToken cancellationToken = default) =>
        Tamper("patch group", await inner.PatchGroupMembersAsync(id, add, remove, version, cancellationToken));

    public Task<ScimResult<JsonObject>> GetServiceProviderConfigAsync(CancellationToken cancellationToken = default) => inner.GetServiceProviderConfigAsync(cancellationToken);

    private ScimResult<ScimResource> Tamper(string call, ScimResult<ScimResource> result) =>
        result.Value is { } value ? result with { Value = Tamper(call, value) } : result;

    private ScimResource Tamper(string call, ScimResource resource)
    {
        if (Rewrite is not { } rewrite)
        {
            return resource;
        }

        var body = resource.Body.DeepClone().AsObject();
        rewrite(call, body);
        return resource with { Body = body };
    }
}
