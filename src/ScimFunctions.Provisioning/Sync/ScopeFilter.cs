using System.Text.RegularExpressions;
using ScimFunctions.Provisioning.Directory;

namespace ScimFunctions.Provisioning.Sync;

/// <summary>A scoping filter over Graph user properties: clauses <c>property eq|ne|sw 'value'</c>
/// joined by <c>and</c> / <c>or</c> (<c>and</c> binds tighter, no parentheses), as Entra's scoping
/// filters group clauses. Values are compared without case.</summary>
public sealed partial class ScopeFilter
{
    public const string Setting = "Sync__Scope__Filter";

    private readonly List<List<Clause>> _anyOf;

    private sealed record Clause(string Property, string Operator, string Value);

    private ScopeFilter(List<List<Clause>> anyOf, string text)
    {
        _anyOf = anyOf;
        Text = text;
    }

    public string Text { get; }

    [GeneratedRegex("""^\s*(?<prop>[A-Za-z_][A-Za-z0-9_]*)\s+(?<op>eq|ne|sw)\s+'(?<val>(?:[^']|'')*)'\s*""", RegexOptions.IgnoreCase)]
    private static partial Regex ClauseRegex();

    [GeneratedRegex("""^(?<kw>and|or)\s+""", RegexOptions.IgnoreCase)]
    private static partial Regex JoinRegex();

    public static ScopeFilter Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new FormatException($"Setting {Setting} is empty; give clauses like department eq 'Sales'.");
        }

        var anyOf = new List<List<Clause>> { new() };
        var rest = text.Trim();
        while (true)
        {
            var match = ClauseRegex().Match(rest);
            if (!match.Success)
            {
                throw new FormatException($"Setting {Setting}: cannot read a clause at \"{Shorten(rest)}\"; expected property eq|ne|sw 'value'.");
            }

            anyOf[^1].Add(new Clause(match.Groups["prop"].Value, match.Groups["op"].Value.ToLowerInvariant(), match.Groups["val"].Value.Replace("''", "'", StringComparison.Ordinal)));
            rest = rest[match.Length..];
            if (rest.Length == 0)
            {
                break;
            }

            var join = JoinRegex().Match(rest);
            if (!join.Success)
            {
                throw new FormatException($"Setting {Setting}: expected 'and' or 'or' at \"{Shorten(rest)}\".");
            }

            if (join.Groups["kw"].Value.Equals("or", StringComparison.OrdinalIgnoreCase))
            {
                anyOf.Add([]);
            }

            rest = rest[join.Length..];
        }

        return new ScopeFilter(anyOf, text.Trim());
    }

    public bool Matches(DirectoryUser user) => _anyOf.Any(all => all.All(c => Matches(c, user)));

    private static bool Matches(Clause clause, DirectoryUser user)
    {
        var values = AttributeMapper.ReadSource(user, clause.Property);
        return clause.Operator switch
        {
            "eq" => values.Any(v => v.Equals(clause.Value, StringComparison.OrdinalIgnoreCase)),
            "ne" => !values.Any(v => v.Equals(clause.Value, StringComparison.OrdinalIgnoreCase)),
            "sw" => values.Any(v => v.StartsWith(clause.Value, StringComparison.OrdinalIgnoreCase)),
            _ => false,
        };
    }

    private static string Shorten(string s) => s.Length <= 30 ? s : s[..30] + "…";
}
