using System.Text.Json.Nodes;

namespace ScimFunctions.Provisioning.Scim;

/// <summary>Every SCIM call the engine makes. One implementation, two profiles (genesys, scim).
/// Versions: every write takes the stored version (sent as If-Match when the target supports ETags)
/// and every successful result carries the new one.</summary>
public interface IScimClient
{
    ScimTargetCapabilities Capabilities { get; }

    /// <summary>Requests sent so far (including retries), for counters and summaries.</summary>
    ScimRequestCounts Counts { get; }

    /// <summary>Creates a user. A create that timed out and then meets 409 is resolved by finding the
    /// user by userName and returning it as created.</summary>
    Task<ScimResult<ScimResource>> CreateUserAsync(JsonObject user, CancellationToken cancellationToken = default);

    /// <summary>GET by id; with <paramref name="ifNoneMatch"/> a current version answers NotModified.</summary>
    Task<ScimResult<ScimResource>> GetUserAsync(string id, string? ifNoneMatch = null, CancellationToken cancellationToken = default);

    /// <summary>First user matching <c>attribute eq "value"</c> (quoted and escaped), or NotFound.
    /// Inactive users are included (Genesys lists only active users without a filter).</summary>
    Task<ScimResult<ScimResource>> FindUserAsync(string attribute, string value, CancellationToken cancellationToken = default);

    /// <summary>All users matching <paramref name="filter"/> (null: all, on Genesys active and inactive), following
    /// every page and skipping ids already returned. A page that fails throws <see cref="ScimException"/>: a
    /// partial listing must never pass for the whole set.</summary>
    IAsyncEnumerable<ScimResource> ListUsersAsync(string? filter = null, IReadOnlyList<string>? attributes = null, CancellationToken cancellationToken = default);

    /// <summary>One page of the listing <see cref="ListUsersAsync"/> returns with no filter and no attributes, from
    /// <paramref name="position"/>, for a scan that stops and goes on in a later run (ReconcileGroups' drift scan).
    /// A page that fails is a failed result, never an empty page. The default walks <see cref="ListUsersAsync"/> up to
    /// the position (for test doubles); the SCIM client reads just that page.</summary>
    async Task<ScimResult<ScimUsersPage>> ListUsersPageAsync(ScimListPosition position, CancellationToken cancellationToken = default)
    {
        const int pageSize = 25;
        var resources = new List<ScimResource>();
        var index = 0;
        var more = false;
        try
        {
            await foreach (var resource in ListUsersAsync(cancellationToken: cancellationToken))
            {
                if (++index < position.StartIndex)
                {
                    continue;
                }

                if (resources.Count == pageSize)
                {
                    more = true;
                    break;
                }

                resources.Add(resource);
            }
        }
        catch (ScimException ex)
        {
            return ScimResult<ScimUsersPage>.Failure(ex.Outcome, ex.Error);
        }

        return ScimResult<ScimUsersPage>.Success(new ScimUsersPage(resources, more ? position with { StartIndex = position.StartIndex + pageSize } : null));
    }

    /// <summary>totalResults for <paramref name="filter"/> (one request with count=0). Genesys counts only active
    /// users without a filter.</summary>
    Task<ScimResult<int>> CountUsersAsync(string? filter = null, CancellationToken cancellationToken = default);

    Task<ScimResult<ScimResource>> PatchUserAsync(string id, IReadOnlyList<ScimPatchOperation> operations, string? version, CancellationToken cancellationToken = default);

    Task<ScimResult<ScimResource>> ReplaceUserAsync(string id, JsonObject user, string? version, CancellationToken cancellationToken = default);

    /// <summary>DELETE; a 404 counts as success (value false: it was already gone).</summary>
    Task<ScimResult<bool>> DeleteUserAsync(string id, string? version, CancellationToken cancellationToken = default);

    Task<ScimResult<ScimResource>> GetGroupAsync(string id, string? ifNoneMatch = null, CancellationToken cancellationToken = default);

    Task<ScimResult<ScimResource>> FindGroupByDisplayNameAsync(string displayName, CancellationToken cancellationToken = default);

    /// <summary>Creates a group (scim profile with group creation enabled only).</summary>
    Task<ScimResult<ScimResource>> CreateGroupAsync(string displayName, string? externalId, CancellationToken cancellationToken = default);

    /// <summary>PUT a group. Send the members from a fresh GET with its version: membership itself is changed
    /// with <see cref="PatchGroupMembersAsync"/> (U12); Genesys refuses or ignores a changed displayName (U11).</summary>
    Task<ScimResult<ScimResource>> ReplaceGroupAsync(string id, JsonObject group, string? version, CancellationToken cancellationToken = default);

    /// <summary>Deletes a group (scim profile with group creation enabled only); a 404 counts as success.</summary>
    Task<ScimResult<bool>> DeleteGroupAsync(string id, string? version, CancellationToken cancellationToken = default);

    /// <summary>Adds and removes members in PATCHes of at most <see cref="ScimTargetCapabilities.MemberPatchChunkSize"/>
    /// values each; returns the group after the last chunk (its version current).</summary>
    Task<ScimResult<ScimResource>> PatchGroupMembersAsync(string id, IReadOnlyCollection<string> add, IReadOnlyCollection<string> remove, string? version, CancellationToken cancellationToken = default);

    Task<ScimResult<JsonObject>> GetServiceProviderConfigAsync(CancellationToken cancellationToken = default);
}
