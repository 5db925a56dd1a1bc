using System.Text.RegularExpressions;
using ScimFunctions.Provisioning.Scim;

namespace ScimFunctions.Provisioning.Sync;

/// <summary>A SCIM attribute path as the attribute mapping names it: <c>title</c>, <c>name.givenName</c>,
/// <c>emails[type eq "work"].value</c>, or any of those behind a schema URN
/// (<c>urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department</c>).</summary>
/// <param name="Schema">The extension schema URN, or null for the core schema.</param>
/// <param name="FilterAttribute">For a value-filtered multi-valued attribute, the attribute compared (<c>type</c>).</param>
/// <param name="FilterValue">The value it must equal (<c>work</c>).</param>
/// <param name="SubAttribute">The sub-attribute written (<c>value</c>, <c>givenName</c>).</param>
public sealed partial record ScimPath(string Text, string? Schema, string Attribute, string? FilterAttribute, string? FilterValue, string? SubAttribute)
{
    /// <summary>True for the enterprise <c>manager</c> reference, whose value is the manager's target id.</summary>
    public bool IsManager => Schema == ScimSchemas.EnterpriseUser && SubAttribute is null && Attribute.Equals("manager", StringComparison.OrdinalIgnoreCase);

    public bool IsBoolean => Schema is null && FilterAttribute is null && SubAttribute is null && Attribute.Equals(ScimAttributes.Active, StringComparison.OrdinalIgnoreCase);

    public bool IsMultiValued => FilterAttribute is not null;

    /// <summary>Attributes RFC 7643 defines as caseExact=false, compared without case.</summary>
    public bool IsCaseInsensitive => Schema is null && (Attribute.Equals(ScimAttributes.UserName, StringComparison.OrdinalIgnoreCase) || Attribute.Equals("emails", StringComparison.OrdinalIgnoreCase));

    /// <summary>The entry of a multi-valued attribute this path points into, e.g. <c>emails[type eq "work"]</c>.</summary>
    public string EntryPath => FilterAttribute is null ? Text : $"{Prefix}{Attribute}[{FilterAttribute} eq \"{FilterValue}\"]";

    private string Prefix => Schema is null ? "" : Schema + ":";

    [GeneratedRegex("""^(?<attr>[A-Za-z][A-Za-z0-9_$-]*)(\[(?<fattr>[A-Za-z][A-Za-z0-9_]*)\s+eq\s+"(?<fval>[^"\\]*)"\])?(\.(?<sub>[A-Za-z][A-Za-z0-9_$-]*))?$""")]
    private static partial Regex AttributeRegex();

    public static ScimPath Parse(string text)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        var trimmed = text.Trim();
        string? schema = null;
        var rest = trimmed;
        if (trimmed.StartsWith("urn:", StringComparison.OrdinalIgnoreCase))
        {
            // The attribute is whatever follows the last ':' that precedes any '[' filter.
            var bracket = trimmed.IndexOf('[', StringComparison.Ordinal);
            var searchEnd = bracket < 0 ? trimmed.Length - 1 : bracket;
            var colon = trimmed.LastIndexOf(':', searchEnd);
            if (colon <= 4 || colon == trimmed.Length - 1)
            {
                throw new FormatException($"The SCIM path '{text}' names a schema but no attribute after it.");
            }

            schema = trimmed[..colon];
            rest = trimmed[(colon + 1)..];
            if (schema.Equals(ScimSchemas.User, StringComparison.OrdinalIgnoreCase))
            {
                schema = null; // the core schema is the default
            }
        }

        var match = AttributeRegex().Match(rest);
        if (!match.Success)
        {
            throw new FormatException($"The SCIM path '{text}' is not of the form attribute, attribute.sub or attribute[type eq \"x\"].sub.");
        }

        var filterAttribute = match.Groups["fattr"].Success ? match.Groups["fattr"].Value : null;
        var sub = match.Groups["sub"].Success ? match.Groups["sub"].Value : null;
        if (filterAttribute is not null && sub is null)
        {
            sub = "value";
        }

        var path = new ScimPath("", schema, match.Groups["attr"].Value, filterAttribute, match.Groups["fval"].Success ? match.Groups["fval"].Value : null, sub);
        return path with { Text = path.Canonical() };
    }

    private string Canonical()
    {
        var text = Prefix + Attribute;
        if (FilterAttribute is not null)
        {
            text += $"[{FilterAttribute} eq \"{FilterValue}\"]";
        }

        return SubAttribute is null ? text : $"{text}.{SubAttribute}";
    }

    public override string ToString() => Text;
}

/// <summary>SCIM attribute names the engine refers to by name.</summary>
public static class ScimAttributes
{
    public const string UserName = "userName";
    public const string DisplayName = "displayName";
    public const string Active = "active";
    public const string ExternalId = "externalId";
    public const string Members = "members";
    public const string Value = "value";
    public const string Schemas = "schemas";

    public const string EnterpriseManager = ScimSchemas.EnterpriseUser + ":manager";
}
