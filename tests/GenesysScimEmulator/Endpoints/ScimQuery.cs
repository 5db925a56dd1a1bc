using System.Globalization;
using System.Text.Json.Nodes;
using GenesysScimEmulator.Scim;

namespace GenesysScimEmulator.Endpoints;

/// <summary>List parameters and the ListResponse shape shared by the list endpoints.</summary>
public static class ScimQuery
{
    public const int DefaultCount = 25;

    /// <summary>startIndex (1-based, default 1) and count (default 25; 0 returns only totalResults).</summary>
    public static (int StartIndex, int Count) Paging(IQueryCollection query)
    {
        var startIndex = Integer(query, "startIndex") ?? 1;
        var count = Integer(query, "count") ?? DefaultCount;
        return (Math.Max(startIndex, 1), Math.Max(count, 0));
    }

    public static JsonObject ListResponse(int totalResults, int startIndex, IEnumerable<JsonObject> resources)
    {
        var items = new JsonArray();
        foreach (var resource in resources)
        {
            items.Add(resource);
        }

        return new JsonObject
        {
            ["schemas"] = new JsonArray(ScimUrns.ListResponse),
            ["totalResults"] = totalResults,
            ["startIndex"] = startIndex,
            ["itemsPerPage"] = items.Count,
            ["Resources"] = items,
        };
    }

    private static int? Integer(IQueryCollection query, string name)
    {
        var text = query[name].ToString();
        if (text.Length == 0)
        {
            return null;
        }

        return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw ScimException.InvalidValue($"Query parameter '{name}' must be an integer; got '{text}'.");
    }
}
