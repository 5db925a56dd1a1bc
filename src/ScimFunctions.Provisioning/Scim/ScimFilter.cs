using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace ScimFunctions.Provisioning.Scim;

/// <summary>Builds single-clause filters <c>attribute eq "value"</c> (U7): the value is a JSON string, so quotes,
/// backslashes and control characters are escaped and nothing the value contains can change the filter.</summary>
public static partial class ScimFilter
{
    public static string Equal(string attribute, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!IsAttributePath(attribute))
        {
            throw new ArgumentException($"'{attribute}' is not a SCIM attribute path (letters, digits, '.', ':', '_', '-', '$').", nameof(attribute));
        }

        return $"{attribute} eq \"{Escape(value)}\"";
    }

    public static string Equal(string attribute, bool value) =>
        IsAttributePath(attribute)
            ? $"{attribute} eq {(value ? "true" : "false")}"
            : throw new ArgumentException($"'{attribute}' is not a SCIM attribute path.", nameof(attribute));

    /// <summary>Escapes a value for use inside double quotes in a filter or a value-path.</summary>
    public static string Escape(string value)
    {
        var builder = new StringBuilder(value.Length + 8);
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                case < ' ': builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture)); break;
                default: builder.Append(c); break;
            }
        }

        return builder.ToString();
    }

    public static bool IsAttributePath(string? attribute) => attribute is not null && AttributePath().IsMatch(attribute);

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9_.:$\-]*$")]
    private static partial Regex AttributePath();
}
