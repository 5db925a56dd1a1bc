using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using GenesysScimEmulator.State;

namespace GenesysScimEmulator.Scim;

/// <summary>The result of validating a user representation: canonical data plus the password, which is
/// accepted but never stored in <see cref="UserEntity.Data"/> nor returned.</summary>
public sealed record NormalizedUser(JsonObject Data, bool PasswordGiven);

/// <summary>The Genesys user model rules (reference §3.1–3.2): required userName and displayName,
/// email types work/other with the other email being the userName, phone types and formats, roles by
/// name, division by name, manager by user id, dateHire as a date, routing skills and languages,
/// and the immutable x-pc:scimv2:v1 external id.</summary>
public static partial class UserModel
{
    public const int MaxRoutingEntries = 50;

    /// <summary>Validates a whole user (POST or PUT body, or the result of applying a PATCH to
    /// <see cref="WritableView"/>) and returns the canonical attributes to store.</summary>
    /// <param name="current">The stored user for PUT/PATCH; null on create.</param>
    /// <param name="isLiveUser">Whether an id names a non-deleted user (for manager.value).</param>
    public static NormalizedUser Normalize(JsonObject body, UserEntity? current, EmulatorOptions options, Func<string, bool> isLiveUser)
    {
        var data = new JsonObject();
        var userName = RequiredString(body, Attr.UserName);
        if (!LooksLikeEmail(userName))
        {
            throw ScimException.InvalidValue($"userName '{userName}' must be an email address (it is the user's Genesys Cloud email).");
        }

        data[Attr.UserName] = userName;
        data[Attr.DisplayName] = RequiredString(body, Attr.DisplayName);
        data[Attr.Active] = body.GetBoolean(Attr.Active, Attr.Active) ?? current?.Active ?? true;
        SetIfPresent(data, Attr.Title, body.GetString(Attr.Title, Attr.Title));
        var externalId = body.GetString(Attr.ExternalId, Attr.ExternalId);
        SetIfPresent(data, Attr.ExternalId, externalId);

        var password = body.GetString(Attr.Password, Attr.Password);

        if (body.GetArray(Attr.Groups, Attr.Groups) is { Count: > 0 } && options.UserGroupsWrite == WritePolicy.Reject)
        {
            throw ScimException.Mutability("Attribute 'groups' is read-only; change membership through the Groups endpoint.");
        }

        var emails = NormalizeEmails(body, userName, current?.UserName);
        if (emails.Count > 0)
        {
            data[Attr.Emails] = emails;
        }

        var phones = NormalizePhoneNumbers(body);
        if (phones.Count > 0)
        {
            data[Attr.PhoneNumbers] = phones;
        }

        var roles = NormalizeRoles(body, options);
        if (roles.Count > 0)
        {
            data[Attr.Roles] = roles;
        }

        var enterprise = NormalizeEnterprise(body.GetObject(ScimUrns.Enterprise, ScimUrns.Enterprise), current, options, isLiveUser);
        if (enterprise.Count > 0)
        {
            data[ScimUrns.Enterprise] = enterprise;
        }

        var genesys = NormalizeGenesys(body.GetObject(ScimUrns.Genesys, ScimUrns.Genesys), externalId, current?.ExternalId, options);
        if (genesys.Count > 0)
        {
            data[ScimUrns.Genesys] = genesys;
        }

        return new NormalizedUser(data, password is not null);
    }

    /// <summary>The user as GET returns it.</summary>
    public static JsonObject Render(UserEntity user, IEnumerable<GroupEntity> groups, ResourceUrls urls, EmulatorOptions options)
    {
        var data = user.Data;
        var result = new JsonObject
        {
            [Attr.Schemas] = new JsonArray(ScimUrns.User, ScimUrns.Enterprise, ScimUrns.Genesys),
            [Attr.Id] = user.Id,
        };
        CopyIfPresent(data, result, Attr.ExternalId);
        CopyIfPresent(data, result, Attr.UserName);
        CopyIfPresent(data, result, Attr.DisplayName);
        CopyIfPresent(data, result, Attr.Active);
        CopyIfPresent(data, result, Attr.Title);

        // The "other" email is the userName (Genesys main email); only the work email is stored.
        var emails = new JsonArray(new JsonObject { [Attr.Value] = user.UserName, [Attr.Type] = "other" });
        foreach (var email in (data[Attr.Emails] as JsonArray ?? []))
        {
            emails.Add(email!.DeepClone());
        }

        result[Attr.Emails] = emails;
        CopyIfPresent(data, result, Attr.PhoneNumbers);
        CopyIfPresent(data, result, Attr.Roles);

        var groupRefs = new JsonArray();
        foreach (var group in groups)
        {
            groupRefs.Add(new JsonObject { [Attr.Type] = "Group", [Attr.Value] = group.Id, [Attr.Ref] = urls.Group(group.Id) });
        }

        if (groupRefs.Count > 0)
        {
            result[Attr.Groups] = groupRefs;
        }

        if (data[ScimUrns.Enterprise] is JsonObject enterprise)
        {
            var rendered = (JsonObject)enterprise.DeepClone();
            if (rendered[Attr.Manager] is JsonValue manager)
            {
                var managerId = manager.GetValue<string>();
                rendered[Attr.Manager] = new JsonObject { [Attr.Value] = managerId, [Attr.Ref] = urls.User(managerId) };
            }

            result[ScimUrns.Enterprise] = rendered;
        }

        var genesys = data[ScimUrns.Genesys]?.DeepClone() as JsonObject ?? [];
        var externalIds = new JsonArray();
        if (user.ExternalId is { } externalId)
        {
            externalIds.Add(new JsonObject { [Attr.Authority] = ScimUrns.ScimAuthority, [Attr.Value] = externalId });
        }

        foreach (var entry in (genesys[Attr.ExternalIds] as JsonArray ?? []))
        {
            externalIds.Add(entry!.DeepClone());
        }

        genesys.Remove(Attr.ExternalIds);
        if (externalIds.Count > 0)
        {
            genesys[Attr.ExternalIds] = externalIds;
        }

        if (genesys.Count > 0)
        {
            result[ScimUrns.Genesys] = genesys;
        }

        result[Attr.Meta] = ResourceMeta.Create("User", urls.User(user.Id), user.Version, user.LastModified, options);
        return result;
    }

    /// <summary>What a PATCH edits: the rendered user without the read-only id, meta, schemas and groups,
    /// so value filters such as <c>emails[type eq "other"]</c> see what GET shows.</summary>
    public static JsonObject WritableView(UserEntity user, ResourceUrls urls, EmulatorOptions options)
    {
        var view = Render(user, [], urls, options);
        view.Remove(Attr.Id);
        view.Remove(Attr.Meta);
        view.Remove(Attr.Schemas);
        return view;
    }

    /// <summary>The attribute values a list filter compares, by Genesys filter attribute name.</summary>
    public static IEnumerable<string> FilterValues(UserEntity user, string attribute)
    {
        var data = user.Data;
        var enterprise = data[ScimUrns.Enterprise] as JsonObject;
        switch (attribute.ToLowerInvariant())
        {
            case "id":
                yield return user.Id;
                break;
            case "username":
                yield return user.UserName;
                break;
            case "externalid":
                if (user.ExternalId is { } externalId)
                {
                    yield return externalId;
                }

                break;
            case "email":
            case "emails":
            case "emails.value":
                yield return user.UserName;
                foreach (var email in (data[Attr.Emails] as JsonArray ?? []).OfType<JsonObject>())
                {
                    yield return email[Attr.Value]!.GetValue<string>();
                }

                break;
            case "manager":
            case "manager.value":
                if (enterprise?[Attr.Manager] is JsonValue manager)
                {
                    yield return manager.GetValue<string>();
                }

                break;
            case "division":
            case "employeenumber":
            case "department":
                var key = Attr.Enterprise.First(name => name.Equals(attribute, StringComparison.OrdinalIgnoreCase));
                if (enterprise?[key] is JsonValue value)
                {
                    yield return value.GetValue<string>();
                }

                break;
            case "active":
                yield return user.Active ? "true" : "false";
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(attribute), attribute, "Not a user filter attribute.");
        }
    }

    /// <summary>Genesys externalIds entries including the derived x-pc:scimv2:v1 one.</summary>
    public static IEnumerable<(string Authority, string Value)> ExternalIds(UserEntity user)
    {
        if (user.ExternalId is { } externalId)
        {
            yield return (ScimUrns.ScimAuthority, externalId);
        }

        if (user.Data[ScimUrns.Genesys]?[Attr.ExternalIds] is JsonArray entries)
        {
            foreach (var entry in entries.OfType<JsonObject>())
            {
                yield return (entry[Attr.Authority]!.GetValue<string>(), entry[Attr.Value]!.GetValue<string>());
            }
        }
    }

    private static JsonArray NormalizeEmails(JsonObject body, string userName, string? currentUserName)
    {
        var work = new JsonArray();
        foreach (var email in body.GetArray(Attr.Emails, Attr.Emails).Objects(Attr.Emails))
        {
            var value = email.GetString(Attr.Value, "emails.value");
            var type = email.GetString(Attr.Type, "emails.type")?.ToLowerInvariant();
            if (type is null || !Attr.EmailTypes.Contains(type))
            {
                throw ScimException.InvalidValue($"emails.type '{type}' is not supported; use 'work' or 'other'.");
            }

            if (type == "other")
            {
                // The other email is the userName and is read-only; echoing it (old or new userName) is fine.
                if (value is not null && !value.Equals(userName, StringComparison.OrdinalIgnoreCase)
                    && !value.Equals(currentUserName, StringComparison.OrdinalIgnoreCase))
                {
                    throw ScimException.Mutability("emails[type eq \"other\"].value is the userName and is immutable; change userName instead.");
                }

                continue;
            }

            if (string.IsNullOrWhiteSpace(value))
            {
                // Entra clears the work email with an empty value.
                continue;
            }

            if (!LooksLikeEmail(value))
            {
                throw ScimException.InvalidValue($"emails[type eq \"work\"].value '{value}' is not an email address.");
            }

            if (work.Count > 0)
            {
                throw ScimException.InvalidValue("Only one email of type 'work' is supported.");
            }

            var normalized = new JsonObject { [Attr.Value] = value, [Attr.Type] = "work" };
            if (email.GetBoolean(Attr.Primary, "emails.primary") is { } primary)
            {
                normalized[Attr.Primary] = primary;
            }

            work.Add(normalized);
        }

        return work;
    }

    private static JsonArray NormalizePhoneNumbers(JsonObject body)
    {
        var phones = new JsonArray();
        var seen = new HashSet<string>();
        foreach (var phone in body.GetArray(Attr.PhoneNumbers, Attr.PhoneNumbers).Objects(Attr.PhoneNumbers))
        {
            var type = phone.GetString(Attr.Type, "phoneNumbers.type")?.ToLowerInvariant();
            if (type is null || !Attr.PhoneTypes.Contains(type))
            {
                throw ScimException.InvalidValue($"phoneNumbers.type '{type}' is not supported; use one of {string.Join(", ", Attr.PhoneTypes)}.");
            }

            var value = phone.GetString(Attr.Value, "phoneNumbers.value");
            if (string.IsNullOrWhiteSpace(value))
            {
                continue;
            }

            if (!PhoneFormat().IsMatch(value))
            {
                throw ScimException.InvalidValue($"phoneNumbers[type eq \"{type}\"].value '{value}' must be E.164 (+14155550100) or a tel URI (tel:+14155550100;ext=123).");
            }

            if (!seen.Add(type))
            {
                throw ScimException.InvalidValue($"Only one phone number of type '{type}' is supported.");
            }

            var normalized = new JsonObject { [Attr.Value] = value, [Attr.Type] = type };
            if (phone.GetBoolean(Attr.Primary, "phoneNumbers.primary") is { } primary)
            {
                normalized[Attr.Primary] = primary;
            }

            phones.Add(normalized);
        }

        return phones;
    }

    private static JsonArray NormalizeRoles(JsonObject body, EmulatorOptions options)
    {
        var roles = new JsonArray();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var node in body.GetArray(Attr.Roles, Attr.Roles) ?? [])
        {
            var name = node switch
            {
                JsonObject role => role.GetString(Attr.Value, "roles.value"),
                JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
                _ => throw ScimException.InvalidValue("Each value of 'roles' must be an object with a 'value'."),
            };
            if (string.IsNullOrWhiteSpace(name))
            {
                throw ScimException.InvalidValue("roles.value is required.");
            }

            if (!IsKnown(options.Roles, name, StringComparer.OrdinalIgnoreCase, options, "role") || !seen.Add(name))
            {
                continue;
            }

            roles.Add(new JsonObject { [Attr.Value] = name });
        }

        return roles;
    }

    private static JsonObject NormalizeEnterprise(JsonObject? input, UserEntity? current, EmulatorOptions options, Func<string, bool> isLiveUser)
    {
        var result = new JsonObject();
        const string Prefix = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:";
        if (input is not null)
        {
            var division = input.GetString(Attr.Division, Prefix + Attr.Division);
            if (!string.IsNullOrWhiteSpace(division) && IsKnown(options.Divisions, division, StringComparer.OrdinalIgnoreCase, options, "division"))
            {
                result[Attr.Division] = division;
            }

            SetIfPresent(result, Attr.Department, input.GetString(Attr.Department, Prefix + Attr.Department));
            SetIfPresent(result, Attr.EmployeeNumber, input.GetString(Attr.EmployeeNumber, Prefix + Attr.EmployeeNumber));

            var managerId = input.Get(Attr.Manager) switch
            {
                null => null,
                JsonObject manager => manager.GetString(Attr.Value, Prefix + "manager.value"),
                JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
                _ => throw ScimException.InvalidValue($"Attribute '{Prefix}manager' must be an object with a 'value' (the manager's user id)."),
            };
            if (!string.IsNullOrWhiteSpace(managerId))
            {
                // A reference that is already stored stays valid (the echo of a GET); a new one must name a live user.
                var unchanged = current?.Data[ScimUrns.Enterprise]?[Attr.Manager]?.GetValue<string>() == managerId;
                if (!unchanged && (!isLiveUser(managerId) || managerId == current?.Id))
                {
                    throw ScimException.InvalidValue($"manager.value '{managerId}' is not the id of another existing user.");
                }

                result[Attr.Manager] = managerId;
            }

            var dateHire = input.GetString(Attr.DateHire, Prefix + Attr.DateHire);
            if (!string.IsNullOrWhiteSpace(dateHire))
            {
                result[Attr.DateHire] = ParseDate(dateHire);
            }
        }

        if (!result.ContainsKey(Attr.Division) && !string.IsNullOrEmpty(options.DefaultDivision))
        {
            result[Attr.Division] = options.DefaultDivision;
        }

        return result;
    }

    private static JsonObject NormalizeGenesys(JsonObject? input, string? externalId, string? currentExternalId, EmulatorOptions options)
    {
        var result = new JsonObject();
        if (input is null)
        {
            return result;
        }

        var skills = NormalizeRouting(input, Attr.RoutingSkills, options.RoutingSkills, options, "routing skill");
        if (skills.Count > 0)
        {
            result[Attr.RoutingSkills] = skills;
        }

        var languages = NormalizeRouting(input, Attr.RoutingLanguages, options.RoutingLanguages, options, "routing language");
        if (languages.Count > 0)
        {
            result[Attr.RoutingLanguages] = languages;
        }

        var externalIds = new JsonArray();
        var seen = new HashSet<(string, string)>();
        foreach (var entry in input.GetArray(Attr.ExternalIds, Attr.ExternalIds).Objects(Attr.ExternalIds))
        {
            var authority = entry.GetString(Attr.Authority, "externalIds.authority");
            var value = entry.GetString(Attr.Value, "externalIds.value");
            if (string.IsNullOrWhiteSpace(authority) || string.IsNullOrWhiteSpace(value))
            {
                throw ScimException.InvalidValue("externalIds entries need both 'authority' and 'value'.");
            }

            if (authority.StartsWith(ScimUrns.ScimAuthority, StringComparison.OrdinalIgnoreCase))
            {
                // Mirrors the core externalId; echoing it is fine, changing it is not.
                if (value != externalId && value != currentExternalId)
                {
                    throw ScimException.Mutability($"The externalIds entry with authority '{ScimUrns.ScimAuthority}' is immutable; it mirrors the core externalId.");
                }

                continue;
            }

            if (seen.Add((authority, value)))
            {
                externalIds.Add(new JsonObject { [Attr.Authority] = authority, [Attr.Value] = value });
            }
        }

        if (externalIds.Count > 0)
        {
            result[Attr.ExternalIds] = externalIds;
        }

        return result;
    }

    private static JsonArray NormalizeRouting(JsonObject input, string attribute, List<string> known, EmulatorOptions options, string what)
    {
        var result = new JsonArray();
        var entries = input.GetArray(attribute, attribute).Objects(attribute).ToList();
        if (entries.Count > MaxRoutingEntries)
        {
            throw ScimException.InvalidValue($"'{attribute}' has {entries.Count} entries; at most {MaxRoutingEntries} are allowed.");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            var name = entry.GetString(Attr.Name, $"{attribute}.name");
            if (string.IsNullOrWhiteSpace(name))
            {
                throw ScimException.InvalidValue($"{attribute}.name is required.");
            }

            if (!seen.Add(name))
            {
                throw ScimException.InvalidValue($"'{attribute}' lists '{name}' twice.");
            }

            var normalized = new JsonObject { [Attr.Name] = name };
            switch (entry.Get(Attr.Proficiency))
            {
                case null:
                    break;
                case JsonValue value when value.GetValueKind() == JsonValueKind.Number:
                    var proficiency = value.GetValue<double>();
                    if (proficiency is < 0 or > 5)
                    {
                        throw ScimException.InvalidValue($"{attribute}[name eq \"{name}\"].proficiency {proficiency.ToString(CultureInfo.InvariantCulture)} is outside 0.0–5.0.");
                    }

                    normalized[Attr.Proficiency] = proficiency;
                    break;
                default:
                    throw ScimException.InvalidValue($"{attribute}.proficiency must be a number from 0.0 to 5.0.");
            }

            // Skill and language names are case-sensitive in Genesys.
            if (IsKnown(known, name, StringComparer.Ordinal, options, what))
            {
                result.Add(normalized);
            }
        }

        return result;
    }

    private static bool IsKnown(List<string> known, string name, StringComparer comparer, EmulatorOptions options, string what)
    {
        if (known.Count == 0 || known.Contains(name, comparer))
        {
            return true;
        }

        return options.UnknownNames == WritePolicy.Ignore
            ? false
            : throw ScimException.InvalidValue($"Unknown {what} '{name}'.");
    }

    private static string ParseDate(string text)
    {
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            return date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        }

        // ISO-8601 only: a culture-dependent form such as 03/02/2025 is ambiguous (March or February).
        if (IsoTimestamp().IsMatch(text) && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var timestamp))
        {
            return timestamp.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        }

        throw ScimException.InvalidValue($"dateHire '{text}' is not a date (YYYY-MM-DD or ISO-8601).");
    }

    private static string RequiredString(JsonObject body, string name)
    {
        var value = body.GetString(name, name);
        return string.IsNullOrWhiteSpace(value)
            ? throw ScimException.InvalidValue($"Attribute '{name}' is required.")
            : value;
    }

    private static bool LooksLikeEmail(string value)
    {
        var at = value.IndexOf('@', StringComparison.Ordinal);
        return at > 0 && at < value.Length - 1 && !value.Any(char.IsWhiteSpace);
    }

    private static void SetIfPresent(JsonObject target, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            target[name] = value;
        }
    }

    private static void CopyIfPresent(JsonObject source, JsonObject target, string name)
    {
        if (source[name] is { } value)
        {
            target[name] = value.DeepClone();
        }
    }

    [GeneratedRegex(@"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}")]
    private static partial Regex IsoTimestamp();

    [GeneratedRegex(@"^(\+[1-9][0-9]{1,14}|tel:\+[0-9]{2,15}(;\s?ext=[0-9]+)?)$")]
    private static partial Regex PhoneFormat();
}

/// <summary><c>meta</c> of users and groups: no <c>created</c> (Genesys has none).</summary>
public static class ResourceMeta
{
    public static string ETag(long version) => $"\"{version.ToString(CultureInfo.InvariantCulture)}\"";

    public static string FormatTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static JsonObject Create(string resourceType, string location, long version, DateTimeOffset lastModified, EmulatorOptions options) => new()
    {
        ["resourceType"] = resourceType,
        ["lastModified"] = FormatTime(lastModified),
        ["location"] = location,
        ["version"] = options.QuoteMetaVersion ? ETag(version) : version.ToString(CultureInfo.InvariantCulture),
    };
}
