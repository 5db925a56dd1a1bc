using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.Cli;

/// <summary>How <c>sync</c> and <c>plan</c> print a <see cref="SyncSummary"/>: lines for people, one JSON line for machines.</summary>
internal static class SyncReport
{
    /// <summary>Human output lists at most this many failed or staged objects; --json lists them all.</summary>
    private const int ListLimit = 25;

    /// <summary>Exit code 2 when some objects failed or destructive actions were held; 0 when converged.</summary>
    public static int ExitCode(SyncSummary summary) => summary.Failed > 0 || summary.Staged > 0 ? CliExitCodes.NotConverged : CliExitCodes.Converged;

    public static IEnumerable<PlannedOperation> StagedOperations(SyncSummary summary) =>
        summary.Operations.Where(o => o.Action == PlanAction.Stage);

    public static void WriteHuman(TextWriter output, SyncSummary summary, string heading, TimeSpan elapsed, GroupNameBook? groups = null)
    {
        groups ??= GroupNameBook.Empty;
        output.WriteLine(elapsed > TimeSpan.Zero ? Invariant($"{heading} in {elapsed.TotalSeconds:0.0} s") : heading);
        output.WriteLine(Invariant($"  users:  {summary.Created} created, {summary.Updated} updated, {summary.Disabled} disabled, {summary.Deleted} deleted, {summary.Unchanged} unchanged"));
        output.WriteLine(Invariant($"  groups: {summary.GroupsUpdated} updated, {summary.MembersAdded} members added, {summary.MembersRemoved} members removed"));
        output.WriteLine(Invariant($"  SCIM:   {summary.ScimRequests} requests, {summary.ScimWrites} writes"));
        if (summary.UnmatchedGroups.Count > 0)
        {
            output.WriteLine(Invariant($"  unmatched groups ({summary.UnmatchedGroups.Count}, no target group of that name; not a failure): {string.Join(", ", summary.UnmatchedGroups)}"));
        }

        if (summary.Failures.Count > 0 || summary.Failed > 0)
        {
            output.WriteLine(Invariant($"  failed ({summary.Failed}):"));
            foreach (var failure in summary.Failures.Take(ListLimit))
            {
                output.WriteLine($"    {failure.ObjectKind.ToWireName()} {(failure.ObjectKind == ObjectKind.Group ? groups.LabelWithId(failure.ObjectId) : failure.ObjectId)}: {failure.Reason}");
            }

            WriteMore(output, summary.Failures.Count);
        }

        if (summary.Staged > 0)
        {
            output.WriteLine(Invariant($"  staged ({summary.Staged} destructive actions held by the safety threshold; review with 'scimfn status', then 'scimfn staged release' or 'scimfn staged discard'):"));
            var staged = StagedOperations(summary).ToList();
            foreach (var operation in staged.Take(ListLimit))
            {
                output.WriteLine($"    {operation.ObjectKind.ToWireName()} {operation.ObjectId}: {operation.Reason}{(operation.Detail is null ? "" : $" ({operation.Detail})")}");
            }

            WriteMore(output, staged.Count);
        }
    }

    private static void WriteMore(TextWriter output, int count)
    {
        if (count > ListLimit)
        {
            output.WriteLine(Invariant($"    ... and {count - ListLimit} more (--json lists them all)"));
        }
    }

    /// <summary>The plan as a table: one row per operation that changes something, sorted for reading.</summary>
    /// <param name="userNames">userPrincipalName by object id, shown instead of the id where known.</param>
    /// <param name="groups">Group names, shown instead of the id where known.</param>
    public static void WritePlanTable(TextWriter output, SyncSummary summary, IReadOnlyDictionary<string, string> userNames, GroupNameBook? groups = null)
    {
        groups ??= GroupNameBook.Empty;
        string Name(PlannedOperation o) => o.ObjectKind == ObjectKind.User ? userNames.GetValueOrDefault(o.ObjectId, o.ObjectId) : o.ObjectKind == ObjectKind.Group ? groups.Label(o.ObjectId) : o.ObjectId;
        var rows = summary.Operations
            .Where(o => o.Action != PlanAction.None)
            .OrderBy(o => o.ObjectKind == ObjectKind.User ? 0 : 1)
            .ThenBy(o => o.Action.ToWireName(), StringComparer.Ordinal)
            .ThenBy(Name, StringComparer.Ordinal)
            .Select(o => new[] { o.ObjectKind.ToWireName(), Name(o), o.Action.ToWireName(), Cell(o.Reason), Cell(DetailBeyondReason(o)) })
            .ToList();
        if (rows.Count == 0)
        {
            output.WriteLine("Nothing to do: the target matches the directory.");
            return;
        }

        WriteTable(output, ["KIND", "OBJECT", "ACTION", "REASON", "DETAIL"], rows);
        var unchanged = summary.Operations.Count(o => o.Action == PlanAction.None);
        output.WriteLine(Invariant($"{rows.Count} operations; {unchanged} objects unchanged."));
    }

    /// <summary>Schema URNs make attribute paths unreadable in a table; JSON keeps them whole.</summary>
    public static string Abbreviate(string text) => text
        .Replace(ScimSchemas.EnterpriseUser + ":", "enterprise:", StringComparison.Ordinal)
        .Replace(ScimSchemas.GenesysUser + ":", "genesys:", StringComparison.Ordinal);

    /// <summary>A table cell: URNs abbreviated, long text cut (the JSON output has it all).</summary>
    public static string Cell(string? text, int maxLength = 70)
    {
        var value = Abbreviate(text ?? "");
        return value.Length <= maxLength ? value : value[..(maxLength - 1)] + "…";
    }

    private static string? DetailBeyondReason(PlannedOperation operation) =>
        operation.Detail is { } detail && operation.Reason.Contains(detail, StringComparison.Ordinal) ? null : operation.Detail;

    public static void WriteTable(TextWriter output, IReadOnlyList<string> headers, IReadOnlyList<string[]> rows)
    {
        var widths = headers.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        var line = new StringBuilder();
        void Write(IReadOnlyList<string> cells)
        {
            line.Clear();
            for (var i = 0; i < cells.Count; i++)
            {
                // The last column is not padded: no trailing blanks.
                line.Append(i == cells.Count - 1 ? cells[i] : cells[i].PadRight(widths[i] + 2));
            }

            output.WriteLine(line.ToString().TrimEnd());
        }

        Write(headers);
        foreach (var row in rows)
        {
            Write(row);
        }
    }

    /// <summary>One line of JSON; the integer fields are a stable contract (see docs/cli.md).</summary>
    public static string ToJson(SyncSummary summary, bool dryRun, TimeSpan elapsed, GroupNameBook? groups = null)
    {
        groups ??= GroupNameBook.Empty;
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteBoolean("dryRun", dryRun);
            json.WriteNumber("created", summary.Created);
            json.WriteNumber("updated", summary.Updated);
            json.WriteNumber("disabled", summary.Disabled);
            json.WriteNumber("deleted", summary.Deleted);
            json.WriteNumber("unchanged", summary.Unchanged);
            json.WriteNumber("groupsUpdated", summary.GroupsUpdated);
            json.WriteNumber("membersAdded", summary.MembersAdded);
            json.WriteNumber("membersRemoved", summary.MembersRemoved);
            json.WriteNumber("failed", summary.Failed);
            json.WriteNumber("staged", summary.Staged);
            json.WriteNumber("scimRequests", summary.ScimRequests);
            json.WriteNumber("scimWrites", summary.ScimWrites);
            json.WriteNumber("elapsedMs", (long)elapsed.TotalMilliseconds);
            json.WriteStartArray("unmatchedGroups");
            foreach (var group in summary.UnmatchedGroups)
            {
                json.WriteStringValue(group);
            }

            json.WriteEndArray();
            json.WriteStartArray("failures");
            foreach (var failure in summary.Failures)
            {
                json.WriteStartObject();
                json.WriteString("kind", failure.ObjectKind.ToWireName());
                json.WriteString("id", failure.ObjectId);
                json.WriteString("reason", failure.Reason);
                WriteGroupName(json, failure.ObjectKind, failure.ObjectId, groups);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            WriteOperations(json, "stagedActions", StagedOperations(summary), groups);
            if (dryRun)
            {
                WriteOperations(json, "operations", summary.Operations.Where(o => o.Action != PlanAction.None), groups);
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Next to a group's id: <c>name</c> (Entra) and <c>targetName</c> where known; nothing is dropped.</summary>
    private static void WriteGroupName(Utf8JsonWriter json, ObjectKind kind, string id, GroupNameBook groups)
    {
        if (kind == ObjectKind.Group && groups.Find(id) is { } name)
        {
            if (name.EntraName is not null)
            {
                json.WriteString("name", name.EntraName);
            }

            if (name.TargetName is not null)
            {
                json.WriteString("targetName", name.TargetName);
            }
        }
    }

    private static void WriteOperations(Utf8JsonWriter json, string name, IEnumerable<PlannedOperation> operations, GroupNameBook groups)
    {
        json.WriteStartArray(name);
        foreach (var operation in operations)
        {
            json.WriteStartObject();
            json.WriteString("kind", operation.ObjectKind.ToWireName());
            json.WriteString("id", operation.ObjectId);
            json.WriteString("action", operation.Action.ToWireName());
            json.WriteString("reason", operation.Reason);
            if (operation.Detail is not null)
            {
                json.WriteString("detail", operation.Detail);
            }

            WriteGroupName(json, operation.ObjectKind, operation.ObjectId, groups);

            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

internal static class CliExitCodes
{
    public const int Converged = 0;
    public const int UsageOrConfiguration = 1;
    public const int NotConverged = 2;
}
