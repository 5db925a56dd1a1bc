using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using ScimFunctions.Provisioning.Scim;

namespace ScimFunctions.ConcurrencyTests.Seams;

/// <summary>The real SCIM client (against the emulator) with a yield point before every call, and a hook that
/// can fail or crash a call before or after it reached the target.</summary>
public sealed class YieldingScimClient(IScimClient inner, Func<string, ValueTask> yield) : IScimClient
{
    /// <summary>Runs after a write reached the target; throw here for "the write happened, the worker died".</summary>
    public Func<string, ValueTask>? AfterWrite { get; set; }

    public ScimTargetCapabilities Capabilities => inner.Capabilities;

    public ScimRequestCounts Counts => inner.Counts;

    public async Task<ScimResult<ScimResource>> CreateUserAsync(JsonObject user, CancellationToken cancellationToken = default) =>
        await WriteAsync("scim create user", () => inner.CreateUserAsync(user, cancellationToken));

    public async Task<ScimResult<ScimResource>> GetUserAsync(string id, string? ifNoneMatch = null, CancellationToken cancellationToken = default)
    {
        await yield("scim get user");
        return await inner.GetUserAsync(id, ifNoneMatch, cancellationToken);
    }

    public async Task<ScimResult<ScimResource>> FindUserAsync(string attribute, string value, CancellationToken cancellationToken = default)
    {
        await yield("scim find user");
        return await inner.FindUserAsync(attribute, value, cancellationToken);
    }

    public async IAsyncEnumerable<ScimResource> ListUsersAsync(string? filter = null, IReadOnlyList<string>? attributes = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await yield("scim list users");
        await foreach (var user in inner.ListUsersAsync(filter, attributes, cancellationToken))
        {
            yield return user;
        }
    }

    public async Task<ScimResult<int>> CountUsersAsync(string? filter = null, CancellationToken cancellationToken = default)
    {
        await yield("scim count users");
        return await inner.CountUsersAsync(filter, cancellationToken);
    }

    public async Task<ScimResult<ScimResource>> PatchUserAsync(string id, IReadOnlyList<ScimPatchOperation> operations, string? version, CancellationToken cancellationToken = default) =>
        await WriteAsync("scim patch user", () => inner.PatchUserAsync(id, operations, version, cancellationToken));

    public async Task<ScimResult<ScimResource>> ReplaceUserAsync(string id, JsonObject user, string? version, CancellationToken cancellationToken = default) =>
        await WriteAsync("scim replace user", () => inner.ReplaceUserAsync(id, user, version, cancellationToken));

    public async Task<ScimResult<bool>> DeleteUserAsync(string id, string? version, CancellationToken cancellationToken = default) =>
        await WriteAsync("scim delete user", () => inner.DeleteUserAsync(id, version, cancellationToken));

    public async Task<ScimResult<ScimResource>> GetGroupAsync(string id, string? ifNoneMatch = null, CancellationToken cancellationToken = default)
    {
        await yield("scim get group");
        return await inner.GetGroupAsync(id, ifNoneMatch, cancellationToken);
    }

    public async Task<ScimResult<ScimResource>> FindGroupByDisplayNameAsync(string displayName, CancellationToken cancellationToken = default)
    {
        await yield("scim find group");
        return await inner.FindGroupByDisplayNameAsync(displayName, cancellationToken);
    }

    public async Task<ScimResult<ScimResource>> CreateGroupAsync(string displayName, string? externalId, CancellationToken cancellationToken = default) =>
        await WriteAsync("scim create group", () => inner.CreateGroupAsync(displayName, externalId, cancellationToken));

    public async Task<ScimResult<ScimResource>> ReplaceGroupAsync(string id, JsonObject group, string? version, CancellationToken cancellationToken = default) =>
        await WriteAsync("scim replace group", () => inner.ReplaceGroupAsync(id, group, version, cancellationToken));

    public async Task<ScimResult<bool>> DeleteGroupAsync(string id, string? version, CancellationToken cancellationToken = default) =>
        await WriteAsync("scim delete group", () => inner.DeleteGroupAsync(id, version, cancellationToken));

    public async Task<ScimResult<ScimResource>> PatchGroupMembersAsync(string id, IReadOnlyCollection<string> add, IReadOnlyCollection<string> remove, string? version, CancellationToken cancellationToken = default) =>
        await WriteAsync("scim patch group", () => inner.PatchGroupMembersAsync(id, add, remove, version, cancellationToken));

    public async Task<ScimResult<JsonObject>> GetServiceProviderConfigAsync(CancellationToken cancellationToken = default)
    {
        await yield("scim config");
        return await inner.GetServiceProviderConfigAsync(cancellationToken);
    }

    private async Task<T> WriteAsync<T>(string what, Func<Task<T>> call)
    {
        await yield(what);
        var result = await call();
        if (AfterWrite is { } after)
        {
            await after(what);
        }

        return result;
    }
}
