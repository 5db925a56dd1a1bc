using GenesysScimEmulator.State;

namespace GenesysScimEmulator.Scim;

/// <summary>The user filters Genesys documents (reference §5.1): <c>id</c>, <c>userName</c>,
/// <c>externalId</c>, <c>email</c>, <c>manager</c>, <c>division</c>, <c>employeeNumber</c>, <c>active</c>
/// (all <c>eq</c>), and the value path on the Genesys extension's <c>externalIds</c>.</summary>
public static class UserFilters
{
    private const string CorePrefix = ScimUrns.User + ":";
    private const string EnterprisePrefix = ScimUrns.Enterprise + ":";

    private static readonly string[] Attributes = ["id", "userName", "externalId", "email", "manager", "division", "employeeNumber", "active"];
    private static readonly string[] EnterpriseAttributes = ["manager", "manager.value", "division", "employeeNumber"];

    /// <summary>Builds the predicate for GET /users. Without a filter only active users are listed.</summary>
    public static Func<UserEntity, bool> Predicate(ScimFilter? filter, EmulatorOptions options)
    {
        switch (filter)
        {
            case null:
                return user => user.Active;

            case EqualsFilter equals:
                var attribute = Canonical(equals.Attribute);
                if (attribute == "active")
                {
                    var wanted = bool.TryParse(equals.Value, out var parsed)
                        ? parsed
                        : throw ScimException.InvalidFilter($"'active' compares with true or false, not '{equals.Value}'.");
                    return user => user.Active == wanted;
                }

                var comparison = attribute is "id" or "userName" or "email" or "division" ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
                return user => (options.FilteredListsIncludeInactive || user.Active)
                    && UserModel.FilterValues(user, attribute).Any(value => value.Equals(equals.Value, comparison));

            case ValuePathFilter valuePath:
                var path = valuePath.Attribute;
                if (!path.Equals($"{ScimUrns.Genesys}:{Attr.ExternalIds}", StringComparison.OrdinalIgnoreCase)
                    && !path.Equals(Attr.ExternalIds, StringComparison.OrdinalIgnoreCase))
                {
                    throw ScimException.InvalidFilter($"Value path filters are supported on '{ScimUrns.Genesys}:externalIds' only, not '{path}'.");
                }

                foreach (var clause in valuePath.Clauses)
                {
                    if (!clause.Attribute.Equals(Attr.Authority, StringComparison.OrdinalIgnoreCase) && !clause.Attribute.Equals(Attr.Value, StringComparison.OrdinalIgnoreCase))
                    {
                        throw ScimException.InvalidFilter($"externalIds can be filtered by 'authority' and 'value', not '{clause.Attribute}'.");
                    }
                }

                return user => (options.FilteredListsIncludeInactive || user.Active)
                    && UserModel.ExternalIds(user).Any(entry => valuePath.Clauses.All(clause =>
                        clause.Attribute.Equals(Attr.Authority, StringComparison.OrdinalIgnoreCase)
                            ? entry.Authority == clause.Value
                            : entry.Value == clause.Value));

            default:
                throw ScimException.InvalidFilter("Unsupported filter.");
        }
    }

    private static string Canonical(string attribute)
    {
        var name = attribute;
        if (name.StartsWith(CorePrefix, StringComparison.OrdinalIgnoreCase))
        {
            name = name[CorePrefix.Length..];
        }
        else if (name.StartsWith(EnterprisePrefix, StringComparison.OrdinalIgnoreCase))
        {
            var sub = name[EnterprisePrefix.Length..];
            name = EnterpriseAttributes.FirstOrDefault(a => a.Equals(sub, StringComparison.OrdinalIgnoreCase)) is { } known
                ? known.Split('.')[0]
                : throw ScimException.InvalidFilter($"Filtering on '{attribute}' is not supported.");
        }

        return Attributes.FirstOrDefault(a => a.Equals(name, StringComparison.OrdinalIgnoreCase))
            ?? throw ScimException.InvalidFilter(
                $"Filtering on '{attribute}' is not supported; use one of {string.Join(", ", Attributes)} with 'eq', or the externalIds value path.");
    }
}

/// <summary>The group filters Genesys documents (§5.2): <c>displayName eq</c> (also spelt
/// <c>displayname</c>) and <c>id eq</c>.</summary>
public static class GroupFilters
{
    private const string CorePrefix = ScimUrns.Group + ":";

    public static Func<GroupEntity, bool> Predicate(ScimFilter? filter)
    {
        switch (filter)
        {
            case null:
                return _ => true;
            case EqualsFilter equals:
                var attribute = equals.Attribute.StartsWith(CorePrefix, StringComparison.OrdinalIgnoreCase)
                    ? equals.Attribute[CorePrefix.Length..]
                    : equals.Attribute;
                if (attribute.Equals(Attr.DisplayName, StringComparison.OrdinalIgnoreCase))
                {
                    return group => group.DisplayName.Equals(equals.Value, StringComparison.OrdinalIgnoreCase);
                }

                if (attribute.Equals(Attr.Id, StringComparison.OrdinalIgnoreCase))
                {
                    return group => group.Id.Equals(equals.Value, StringComparison.OrdinalIgnoreCase);
                }

                throw ScimException.InvalidFilter($"Filtering groups on '{equals.Attribute}' is not supported; use displayName or id with 'eq'.");
            default:
                throw ScimException.InvalidFilter("Groups support only 'displayName eq' and 'id eq' filters.");
        }
    }
}
