using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.Cli;

/// <summary>How <c>status</c> and <c>explain</c> print the engine's answers: aligned lines for people, one JSON
/// line for machines.</summary>
internal static class OperatorReports
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static void WriteStatus(TextWriter output, SyncStatus status, DateTimeOffset now, GroupNameBook? groups = null)
    {
        groups ??= GroupNameBook.Empty;
        output.WriteLine($"Users:         {Counts(status.UsersByState)}");
        output.WriteLine($"Groups:        {Counts(status.GroupsByState)}");
        output.WriteLine($"Last sweep:    users {When(status.LastUserSweep, now)}; groups {When(status.LastGroupSweep, now)}");
        output.WriteLine(status.Subscriptions.Count == 0
            ? "Subscriptions: none"
            : "Subscriptions: " + string.Join("; ", status.Subscriptions.Select(s => $"{s.Resource} expires {When(s.ExpiresAt, now)}")));
        output.WriteLine(status.Hold is { } hold
            ? $"Hold:          destructive actions held since {When(hold.Since, now)}: {hold.Reason}"
            : "Hold:          none");
        if (status.UnmatchedGroups.Count > 0)
        {
            output.WriteLine($"Unmatched groups (no target group of that name; not a failure): {string.Join(", ", status.UnmatchedGroups)}");
        }

        if (status.Staged.Count > 0)
        {
            output.WriteLine();
            output.WriteLine(Invariant($"Staged actions ({status.Staged.Count}); release with 'scimfn staged release' or drop with 'scimfn staged discard':"));
            SyncReport.WriteTable(output, ["OBJECT", "ACTION", "STAGED", "REASON"],
                status.Staged.Select(s => new[] { s.ObjectId, s.Action.ToWireName(), When(s.StagedAt, now), s.Reason }).ToList());
        }

        if (status.Failures.Count > 0)
        {
            output.WriteLine();
            output.WriteLine(Invariant($"Failed objects ({status.Failures.Count}), latest first:"));
            SyncReport.WriteTable(output, ["KIND", "OBJECT", "WHEN", "LAST ERROR"],
                status.Failures.Select(f => new[] { f.ObjectKind.ToWireName(), f.ObjectKind == ObjectKind.Group ? groups.LabelWithId(f.ObjectId) : f.ObjectId, When(f.At, now), f.Error }).ToList());
        }
    }

    public static string StatusJson(SyncStatus status, GroupNameBook? groups = null) => JsonSerializer.Serialize(new
    {
        usersByState = status.UsersByState,
        groupsByState = status.GroupsByState,
        lastUserSweep = status.LastUserSweep,
        lastGroupSweep = status.LastGroupSweep,
        subscriptions = status.Subscriptions.Select(s => new { id = s.Id, resource = s.Resource, expiresAt = s.ExpiresAt }),
        hold = status.Hold is { } hold ? new { since = hold.Since, reason = hold.Reason } : null,
        staged = status.Staged.Select(s => new { id = s.ObjectId, action = s.Action, reason = s.Reason, stagedAt = s.StagedAt, scimId = s.ScimId }),
        failures = status.Failures.Select(f => new { kind = f.ObjectKind, id = f.ObjectId, error = f.Error, at = f.At, name = f.ObjectKind == ObjectKind.Group ? groups?.Find(f.ObjectId)?.EntraName : null }),
        unmatchedGroups = status.UnmatchedGroups,
    }, Json);

    public static void WriteExplanation(TextWriter output, UserExplanation explanation, GroupNameBook? groups = null)
    {
        groups ??= GroupNameBook.Empty;
        output.WriteLine($"User:          {explanation.Query}{(explanation.ObjectId is { } id && id != explanation.Query ? $" (object id {id})" : "")}");
        output.WriteLine($"Directory:     {(explanation.FoundInDirectory ? "found" : "not found")}");
        output.WriteLine($"Scope:         {(explanation.InScope ? "in scope" : $"not in scope: {explanation.OutOfScopeReason}")}");
        if (explanation.Mapping is { } mapping)
        {
            var origin = mapping.Origin is { } o ? $", {o.ToString().ToLowerInvariant()} by this connector" : "";
            output.WriteLine($"Mapping:       SCIM id {mapping.ScimId ?? "(none)"}, {mapping.State.ToString().ToLowerInvariant()}{origin}, version {mapping.TargetVersion ?? "(none)"}");
            if (mapping.LastError is not null)
            {
                output.WriteLine($"Last error:    {mapping.LastError} ({When(mapping.LastErrorAt, null)})");
            }
        }
        else
        {
            output.WriteLine("Mapping:       none (never provisioned by this connector)");
        }

        if (explanation.PendingManagerId is not null)
        {
            output.WriteLine($"Manager:       {explanation.PendingManagerId} is not provisioned yet; the manager is set when it is");
        }

        output.WriteLine();
        output.WriteLine("Would do:");
        SyncReport.WriteTable(output, ["ACTION", "REASON", "DETAIL"],
            explanation.Operations.Select(o => new[] { o.Action.ToWireName(), SyncReport.Cell(o.Reason, 100), SyncReport.Cell(o.Detail, 100) }).ToList());

        if (explanation.Projection is { Count: > 0 } projection)
        {
            var changed = explanation.ChangedPaths.ToHashSet(StringComparer.Ordinal);
            var applied = explanation.LastApplied ?? new Dictionary<string, string>();
            var paths = projection.Keys.Union(applied.Keys).Order(StringComparer.Ordinal);
            output.WriteLine();
            output.WriteLine("Projection (* = differs from what was last applied; enterprise: = " + ScimSchemas.EnterpriseUser + "):");
            SyncReport.WriteTable(output, ["", "SCIM ATTRIBUTE", "DESIRED", "LAST APPLIED"], paths
                .Select(p => new[] { changed.Contains(p) ? "*" : "", SyncReport.Abbreviate(p), projection.GetValueOrDefault(p) ?? "(absent)", applied.GetValueOrDefault(p) ?? (explanation.LastApplied is null ? "" : "(absent)") })
                .ToList());
        }

        if (explanation.Entitlements.Count > 0)
        {
            output.WriteLine();
            output.WriteLine("Entitlements (from Sync__Entitlements rules; values granted by hand are not listed and never removed):");
            SyncReport.WriteTable(output, ["CHANGE", "KIND", "NAME", "VALUE", "GIVEN BY (RULE GROUPS)"], explanation.Entitlements
                .Select(e => new[] { e.Change, e.Kind.ToString().ToLowerInvariant(), e.Name, e.Value ?? "", e.Groups.Count == 0 ? (e.Change == "remove" ? "(no rule any more)" : "(default)") : string.Join(", ", e.Groups.Select(groups.Label)) })
                .ToList());
        }

        if (explanation.Patch.Count > 0)
        {
            output.WriteLine();
            output.WriteLine("PATCH operations:");
            foreach (var operation in explanation.Patch)
            {
                output.WriteLine($"  {operation.Op} {SyncReport.Abbreviate(operation.Path ?? "(no path)")}{(operation.Value is null ? "" : " " + operation.Value.ToJsonString())}");
            }
        }
    }

    public static string ExplanationJson(UserExplanation explanation, GroupNameBook? groups = null) => JsonSerializer.Serialize(new
    {
        query = explanation.Query,
        objectId = explanation.ObjectId,
        foundInDirectory = explanation.FoundInDirectory,
        inScope = explanation.InScope,
        outOfScopeReason = explanation.OutOfScopeReason,
        projection = explanation.Projection,
        lastApplied = explanation.LastApplied,
        changedPaths = explanation.ChangedPaths,
        patch = explanation.Patch.Select(p => new { op = p.Op, path = p.Path, value = p.Value }),
        pendingManagerId = explanation.PendingManagerId,
        entitlements = explanation.Entitlements.Select(e => new { change = e.Change, kind = e.Kind.ToString().ToLowerInvariant(), name = e.Name, value = e.Value, groups = e.Groups, groupNames = e.Groups.Select(g => groups?.Find(g)?.EntraName) }),
        operations = explanation.Operations.Select(o => new { kind = o.ObjectKind, id = o.ObjectId, action = o.Action, reason = o.Reason, detail = o.Detail }),
        mapping = explanation.Mapping is { } m
            ? new { scimId = m.ScimId, state = m.State, origin = m.Origin, targetVersion = m.TargetVersion, disabledSince = m.DisabledSince, lastError = m.LastError, lastErrorAt = m.LastErrorAt, appliedAt = m.AppliedAt }
            : null,
    }, Json);

    private static string Counts(IReadOnlyDictionary<string, int> byState) =>
        byState.Count == 0 ? "none" : string.Join(", ", byState.Select(p => Invariant($"{p.Value} {p.Key.ToLowerInvariant()}")));

    internal static string When(DateTimeOffset? at, DateTimeOffset? now)
    {
        if (at is not { } value)
        {
            return "never";
        }

        var text = value.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        if (now is not { } reference)
        {
            return text;
        }

        var age = reference - value;
        var span = age.Duration();
        var words = span.TotalDays >= 2 ? Invariant($"{span.TotalDays:0} d")
            : span.TotalHours >= 2 ? Invariant($"{span.TotalHours:0} h")
            : Invariant($"{Math.Max(0, span.TotalMinutes):0} min");
        return age >= TimeSpan.Zero ? $"{text} ({words} ago)" : $"{text} (in {words})";
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
