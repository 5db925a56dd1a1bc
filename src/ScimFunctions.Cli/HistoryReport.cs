using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using ScimFunctions.Provisioning.State;

namespace ScimFunctions.Cli;

/// <summary>How <c>scimfn history</c> prints a user's history: a table for people, one JSON line for machines.</summary>
internal static class HistoryReport
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>2 when the user is not found, or its latest action failed or was staged (not converged); 0 otherwise.</summary>
    public static int ExitCode(UserHistoryReport report) =>
        report.ObjectId is null || report.Entries is [{ Action: HistoryAction.Failed or HistoryAction.Staged }, ..] ? CliExitCodes.NotConverged : CliExitCodes.Converged;

    /// <summary>The action as a word: <c>created</c>, <c>added-to-group</c>, ….</summary>
    public static string Word(HistoryAction action) => action switch
    {
        HistoryAction.AddedToGroup => "added-to-group",
        HistoryAction.RemovedFromGroup => "removed-from-group",
        _ => action.ToString().ToLowerInvariant(),
    };

    public static string Word(HistoryTrigger trigger) => trigger == HistoryTrigger.FollowUp ? "follow-up" : trigger.ToString().ToLowerInvariant();

    public static void Write(TextWriter output, UserHistoryReport report, DateTimeOffset now)
    {
        if (report.ObjectId is null)
        {
            output.WriteLine($"User '{report.Query}' is not found in the directory; its history is kept by object id (give the id if it has left).");
            return;
        }

        output.WriteLine($"User:     {report.ObjectId}{(report.Query == report.ObjectId ? "" : $" ({report.Query})")}");
        output.WriteLine(report.Mapping is { } mapping
            ? $"Mapping:  SCIM id {mapping.ScimId ?? "(none)"}, {mapping.State.ToString().ToLowerInvariant()}{(mapping.Origin is { } o ? $", {o.ToString().ToLowerInvariant()} by this connector" : "")}"
            : "Mapping:  none");
        if (report.Entries.Count == 0)
        {
            output.WriteLine(Invariant($"History:  no actions in the last {report.HistoryDays} days (Sync__HistoryDays)."));
            return;
        }

        output.WriteLine(Invariant($"History:  {report.Entries.Count} action(s) in the last {report.HistoryDays} days, newest first"));
        output.WriteLine();
        SyncReport.WriteTable(output, ["WHEN", "ACTION", "TRIGGER", "DETAIL", "CORRELATION ID"], report.Entries
            .Select(e => new[] { OperatorReports.When(e.At, now), Word(e.Action), Word(e.Trigger), SyncReport.Cell(Detail(e, report.Groups), 90), Correlation(e) })
            .ToList());
    }

    /// <summary>What a person wants to read in one cell: the group, the attributes written, or the reason.</summary>
    internal static string Detail(HistoryEntry entry, GroupNameBook groups)
    {
        if (entry.GroupId is { } groupId)
        {
            var name = groups.Find(groupId);
            var label = name?.Label ?? groupId;
            var target = name?.TargetName is null && entry.TargetGroupId is { } targetId ? $" (target group {targetId})" : "";
            return entry.Action == HistoryAction.RemovedFromGroup && entry.Reason is { } why && why != "membership differs" ? $"{label}{target}: {why}" : label + target;
        }

        return entry.Attributes is { Count: > 0 } attributes ? string.Join(", ", attributes) : entry.Reason ?? "";
    }

    /// <summary>The last write's id (the one that made the change, or the one refused); all are in --json.</summary>
    private static string Correlation(HistoryEntry entry) => entry.CorrelationIds is { Count: > 0 } ids
        ? ids[^1] + (ids.Count > 1 ? Invariant($" (+{ids.Count - 1})") : "")
        : "";

    public static string ToJson(UserHistoryReport report) => JsonSerializer.Serialize(new
    {
        query = report.Query,
        objectId = report.ObjectId,
        found = report.ObjectId is not null,
        historyDays = report.HistoryDays,
        mapping = report.Mapping is { } m ? new { scimId = m.ScimId, state = m.State.ToString(), origin = m.Origin?.ToString(), lastError = m.LastError } : null,
        entries = report.Entries.Select(e => new
        {
            at = e.At,
            action = Word(e.Action),
            trigger = Word(e.Trigger),
            reason = e.Reason,
            attributes = e.Attributes ?? [],
            groupId = e.GroupId,
            groupName = report.Groups.Find(e.GroupId)?.EntraName,
            targetGroupId = e.TargetGroupId,
            targetGroupName = report.Groups.Find(e.GroupId)?.TargetName,
            correlationIds = e.CorrelationIds ?? [],
        }),
    }, Json);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
