using System.Text.Json;
using System.Text.Json.Nodes;
using GenesysScimEmulator.State;

namespace GenesysScimEmulator.Scim;

public sealed record NormalizedGroup(string DisplayName, string? ExternalId, List<string> Members);

/// <summary>The Genesys group model (reference §3.3, §6): displayName required but not changeable,
/// externalId writable, members are user ids with server-made <c>type</c> and <c>$ref</c>.</summary>
public static class GroupModel
{
    public static NormalizedGroup Normalize(JsonObject body, GroupEntity current, EmulatorOptions options, Func<string, bool> isLiveUser)
    {
        var displayName = body.GetString(Attr.DisplayName, Attr.DisplayName);
        if (string.IsNullOrWhiteSpace(displayName))
        {
            throw ScimException.InvalidValue("Attribute 'displayName' is required.");
        }

        if (!displayName.Equals(current.DisplayName, StringComparison.Ordinal))
        {
            switch (options.GroupRename)
            {
                case RenamePolicy.Reject:
                    throw ScimException.Mutability($"displayName is read-only: group '{current.DisplayName}' cannot be renamed through SCIM.");
                case RenamePolicy.Ignore:
                    displayName = current.DisplayName;
                    break;
            }
        }

        var externalId = body.GetString(Attr.ExternalId, Attr.ExternalId);
        var members = new List<string>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var node in body.GetArray(Attr.Members, Attr.Members) ?? [])
        {
            var id = node switch
            {
                JsonObject member => member.GetString(Attr.Value, "members.value"),
                JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
                _ => throw ScimException.InvalidValue("Each value of 'members' must be an object with a 'value' (a user id)."),
            };
            if (string.IsNullOrWhiteSpace(id))
            {
                throw ScimException.InvalidValue("members.value is required.");
            }

            if (!isLiveUser(id) && !current.HasMember(id))
            {
                if (options.UnknownMemberIds == WritePolicy.Reject)
                {
                    throw ScimException.InvalidValue($"members.value '{id}' is not the id of an existing user.");
                }

                continue;
            }

            if (seen.Add(id))
            {
                members.Add(id);
            }
        }

        return new NormalizedGroup(displayName, string.IsNullOrEmpty(externalId) ? null : externalId, members);
    }

    public static JsonObject Render(GroupEntity group, ResourceUrls urls, EmulatorOptions options)
    {
        var result = new JsonObject
        {
            [Attr.Schemas] = new JsonArray(ScimUrns.Group),
            [Attr.Id] = group.Id,
            [Attr.DisplayName] = group.DisplayName,
        };
        if (group.ExternalId is not null)
        {
            result[Attr.ExternalId] = group.ExternalId;
        }

        if (group.Members.Count > 0)
        {
            var members = new JsonArray();
            foreach (var id in group.Members)
            {
                members.Add(new JsonObject { [Attr.Value] = id, [Attr.Type] = "User", [Attr.Ref] = urls.User(id) });
            }

            result[Attr.Members] = members;
        }

        result[Attr.Meta] = ResourceMeta.Create("Group", urls.Group(group.Id), group.Version, group.LastModified, options);
        return result;
    }

    public static JsonObject WritableView(GroupEntity group, ResourceUrls urls, EmulatorOptions options)
    {
        var view = Render(group, urls, options);
        view.Remove(Attr.Id);
        view.Remove(Attr.Meta);
        view.Remove(Attr.Schemas);
        return view;
    }
}
