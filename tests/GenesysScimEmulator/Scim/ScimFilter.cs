using System.Text;

namespace GenesysScimEmulator.Scim;

/// <summary>A filter Genesys documents: one <c>attribute eq value</c> comparison, or a value path
/// <c>attribute[a eq "x" and b eq "y"]</c>. Values may be quoted or not, as in the vendor examples.</summary>
public abstract record ScimFilter;

public sealed record EqualsFilter(string Attribute, string Value) : ScimFilter;

public sealed record ValuePathFilter(string Attribute, IReadOnlyList<EqualsFilter> Clauses) : ScimFilter;

/// <summary>Parses the filter subset Genesys documents. Everything else (other operators, or/not,
/// grouping, and outside a value path) is refused with the given error, so a client relying on an
/// undocumented operator finds out here rather than against the real service.</summary>
public static class FilterParser
{
    /// <summary>Parses a <c>filter</c> query value; null or blank means no filter.</summary>
    public static ScimFilter? ParseListFilter(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var cursor = new Cursor(text.Trim(), ScimException.InvalidFilter);
        var attribute = cursor.ReadAttributePath();
        if (cursor.Peek() == '[')
        {
            var clauses = ParseClauses(cursor.ReadBracketed(), ScimException.InvalidFilter);
            cursor.SkipSpaces();
            if (!cursor.AtEnd)
            {
                throw ScimException.InvalidFilter($"Unexpected text after ']' in filter '{text}'; combining filters is not supported.");
            }

            return new ValuePathFilter(attribute, clauses);
        }

        cursor.ExpectEqualsOperator(text);
        cursor.SkipSpaces();
        string value;
        if (cursor.Peek() == '"')
        {
            value = cursor.ReadQuoted();
            cursor.SkipSpaces();
            if (!cursor.AtEnd)
            {
                throw ScimException.InvalidFilter($"Filter '{text}' has more than one comparison; only a single 'attribute eq value' is supported ('and' only inside a value path, 'or' not at all).");
            }
        }
        else
        {
            // Unquoted values run to the end ("displayname eq Sales Team"), as in the vendor examples.
            value = cursor.Rest().Trim();
            if (value.Length == 0)
            {
                throw ScimException.InvalidFilter($"Filter '{text}' has no value after 'eq'.");
            }

            if (value.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Any(word => word.Equals("and", StringComparison.OrdinalIgnoreCase) || word.Equals("or", StringComparison.OrdinalIgnoreCase)))
            {
                throw ScimException.InvalidFilter($"Filter '{text}' combines comparisons; only a single 'attribute eq value' is supported. Quote the value if it contains 'and' or 'or'.");
            }
        }

        return new EqualsFilter(attribute, value);
    }

    /// <summary>Parses the inside of a value path (<c>type eq "work"</c>, <c>authority eq "a" and value eq "b"</c>).</summary>
    public static IReadOnlyList<EqualsFilter> ParseClauses(string text, Func<string, ScimException> error)
    {
        var cursor = new Cursor(text.Trim(), error);
        var clauses = new List<EqualsFilter>();
        while (true)
        {
            cursor.SkipSpaces();
            var attribute = cursor.ReadAttributePath();
            cursor.ExpectEqualsOperator(text);
            cursor.SkipSpaces();
            var value = cursor.Peek() == '"' ? cursor.ReadQuoted() : cursor.ReadWord();
            if (value.Length == 0)
            {
                throw error($"Value filter '{text}' has no value after 'eq'.");
            }

            clauses.Add(new EqualsFilter(attribute, value));
            cursor.SkipSpaces();
            if (cursor.AtEnd)
            {
                return clauses;
            }

            var conjunction = cursor.ReadWord();
            if (!conjunction.Equals("and", StringComparison.OrdinalIgnoreCase))
            {
                throw error($"Value filter '{text}' may only join comparisons with 'and'; found '{conjunction}'.");
            }
        }
    }

    private sealed class Cursor(string text, Func<string, ScimException> error)
    {
        private int position;

        public bool AtEnd => position >= text.Length;

        public char Peek() => AtEnd ? '\0' : text[position];

        public string Rest() => text[position..];

        public void SkipSpaces()
        {
            while (!AtEnd && char.IsWhiteSpace(text[position]))
            {
                position++;
            }
        }

        public string ReadAttributePath()
        {
            SkipSpaces();
            var start = position;
            while (!AtEnd && !char.IsWhiteSpace(text[position]) && text[position] is not ('[' or ']' or '(' or ')' or '"'))
            {
                position++;
            }

            if (position == start)
            {
                throw error($"Expected an attribute name at position {start + 1} of '{text}'.");
            }

            var attribute = text[start..position];
            if (attribute.Equals("not", StringComparison.OrdinalIgnoreCase))
            {
                throw error($"'not' is not supported in '{text}'.");
            }

            return attribute;
        }

        public string ReadWord()
        {
            var start = position;
            while (!AtEnd && !char.IsWhiteSpace(text[position]) && text[position] != ']')
            {
                position++;
            }

            return text[start..position];
        }

        public void ExpectEqualsOperator(string whole)
        {
            SkipSpaces();
            var op = ReadWord();
            if (op.Length == 0)
            {
                throw error($"Filter '{whole}' has no operator; only 'eq' is supported.");
            }

            if (!op.Equals("eq", StringComparison.OrdinalIgnoreCase))
            {
                throw error($"Operator '{op}' in '{whole}' is not supported; only 'eq' is.");
            }
        }

        public string ReadQuoted()
        {
            position++; // opening quote
            var value = new StringBuilder();
            while (!AtEnd)
            {
                var c = text[position++];
                if (c == '"')
                {
                    return value.ToString();
                }

                if (c == '\\' && !AtEnd)
                {
                    c = text[position++];
                }

                value.Append(c);
            }

            throw error($"Unterminated quoted value in '{text}'.");
        }

        /// <summary>Reads from '[' to the matching ']' (quotes respected) and returns what is between.</summary>
        public string ReadBracketed()
        {
            var start = ++position;
            var quoted = false;
            while (!AtEnd)
            {
                var c = text[position];
                if (c == '\\' && quoted)
                {
                    position += 2;
                    continue;
                }

                if (c == '"')
                {
                    quoted = !quoted;
                }
                else if (c == ']' && !quoted)
                {
                    return text[start..position++];
                }

                position++;
            }

            throw error($"Missing ']' in '{text}'.");
        }
    }
}
