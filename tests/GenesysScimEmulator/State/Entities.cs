using System.Text.Json.Nodes;
using GenesysScimEmulator.Scim;

namespace GenesysScimEmulator.State;

/// <summary>A stored user. <see cref="Data"/> holds the canonical writable attributes only: no id, meta,
/// schemas or groups, no password, no <c>other</c> email and no <c>x-pc:scimv2:v1</c> external id
/// (those are derived from userName and externalId when rendering).</summary>
public sealed class UserEntity(string id)
{
    public string Id { get; } = id;

    /// <summary>Creation order, used as the list order.</summary>
    public long Sequence { get; set; }

    public long Version { get; set; }

    public DateTimeOffset LastModified { get; set; }

    /// <summary>Soft-deleted: invisible to SCIM, userName free for reuse, kept for the admin state.</summary>
    public bool Deleted { get; set; }

    public bool HasPassword { get; set; }

    public JsonObject Data { get; set; } = [];

    public string UserName => Data[Attr.UserName]!.GetValue<string>();

    public string? ExternalId => Data[Attr.ExternalId]?.GetValue<string>();

    public bool Active => Data[Attr.Active]?.GetValue<bool>() ?? true;
}

/// <summary>A stored group. Genesys groups are made outside SCIM; here by the seed or the admin API.</summary>
public sealed class GroupEntity(string id)
{
    public string Id { get; } = id;

    public long Sequence { get; set; }

    public long Version { get; set; }

    public DateTimeOffset LastModified { get; set; }

    public string DisplayName { get; set; } = "";

    public string? ExternalId { get; set; }

    private List<string> members = [];
    private HashSet<string> memberSet = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>User ids, in the order they were added.</summary>
    public IReadOnlyList<string> Members
    {
        get => members;
        set
        {
            members = [.. value];
            memberSet = new HashSet<string>(value, StringComparer.OrdinalIgnoreCase);
        }
    }

    public bool HasMember(string userId) => memberSet.Contains(userId);

    public bool RemoveMember(string userId)
    {
        if (!memberSet.Remove(userId))
        {
            return false;
        }

        members.RemoveAll(id => id.Equals(userId, StringComparison.OrdinalIgnoreCase));
        return true;
    }
}

/// <summary>Where resources live, for <c>meta.location</c> and <c>$ref</c>: the SCIM base the request
/// used (<c>…/api/v2/scim/v2</c> or the legacy <c>…/api/v2/scim</c>).</summary>
public sealed record ResourceUrls(string BaseUrl)
{
    public string User(string id) => $"{BaseUrl}/users/{id}";

    public string Group(string id) => $"{BaseUrl}/groups/{id}";
}
