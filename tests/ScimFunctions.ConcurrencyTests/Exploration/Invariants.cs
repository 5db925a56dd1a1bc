using System.Text.Json.Nodes;
using ScimFunctions.Provisioning.State;

namespace ScimFunctions.ConcurrencyTests.Exploration;

/// <summary>What must hold once everything has settled (the product's promises, from the issue): the target
/// equals the desired state for every managed user and group; no duplicate target users; the unmanaged target
/// user untouched; nobody disabled or deleted who is enabled and in scope in Entra; every work item applied,
/// retried or dead-lettered with a reason; every mapping row agrees with the target.</summary>
public static class Invariants
{
    public static async Task<IReadOnlyList<string>> CheckAsync(World world, IReadOnlyDictionary<string, string>? groups = null, bool expectDeadLetters = false)
    {
        var problems = new List<string>();
        var store = world.NewStore();
        var rows = new Dictionary<string, UserMapping>(StringComparer.Ordinal);
        await foreach (var row in store.ListUsersAsync())
        {
            rows[row.ObjectId] = row;
        }

        var target = world.TargetUsers().ToDictionary(u => u["id"]!.GetValue<string>(), StringComparer.Ordinal);
        string? ExternalId(JsonObject u) => u["externalId"]?.GetValue<string>();
        bool Active(JsonObject u) => u["active"]?.GetValue<bool>() ?? true;

        // Nobody who is enabled in Entra (scope: all) is missing, disabled or deleted; the target holds their data.
        foreach (var user in world.Directory.Users().Where(u => u.AccountEnabled))
        {
            if (!rows.TryGetValue(user.Id, out var row) || row.State != LifecycleState.Active || row.ScimId is null)
            {
                problems.Add($"user {user.Id} is enabled in Entra but its row is {(rows.TryGetValue(user.Id, out var r) ? r.State.ToString() : "missing")}");
                continue;
            }

            if (!target.TryGetValue(row.ScimId, out var t))
            {
                problems.Add($"user {user.Id} is enabled in Entra but target user {row.ScimId} does not exist");
                continue;
            }

            if (!Active(t))
            {
                problems.Add($"user {user.Id} is enabled in Entra but disabled on the target");
            }

            if (t["title"]?.GetValue<string>() != user.JobTitle)
            {
                problems.Add($"user {user.Id}: target title '{t["title"]}' but Entra says '{user.JobTitle}'");
            }
        }

        // Leavers are applied: a provisioned user deleted or disabled in Entra is not active on the target.
        foreach (var row in rows.Values.Where(r => r.ScimId is not null && r.State is LifecycleState.Active or LifecycleState.Disabled))
        {
            var entra = world.Directory.User(row.ObjectId);
            if ((entra is null || !entra.AccountEnabled) && target.TryGetValue(row.ScimId!, out var t) && Active(t))
            {
                problems.Add($"user {row.ObjectId} is {(entra is null ? "deleted" : "disabled")} in Entra but still active on the target");
            }
        }

        // Rows agree with the target.
        foreach (var row in rows.Values.Where(r => r.ScimId is not null))
        {
            var exists = target.TryGetValue(row.ScimId!, out var t);
            var ok = row.State switch
            {
                LifecycleState.Active => exists && Active(t!),
                LifecycleState.Disabled => exists && !Active(t!),
                LifecycleState.Deleted => !exists,
                _ => true,
            };
            if (!ok)
            {
                problems.Add($"row of {row.ObjectId} says {row.State} but target user {row.ScimId} {(exists ? (Active(t!) ? "is active" : "is disabled") : "does not exist")}");
            }
        }

        // No duplicates: one live target user per externalId, one row per target id.
        foreach (var dup in target.Values.Where(u => ExternalId(u) is not null).GroupBy(u => ExternalId(u)!).Where(g => g.Count() > 1))
        {
            problems.Add($"{dup.Count()} target users carry externalId {dup.Key}");
        }

        foreach (var dup in rows.Values.Where(r => r.ScimId is not null && r.State is LifecycleState.Active or LifecycleState.Disabled).GroupBy(r => r.ScimId!).Where(g => g.Count() > 1))
        {
            problems.Add($"rows {string.Join(", ", dup.Select(r => r.ObjectId))} all point at target user {dup.Key}");
        }

        // The unmanaged target user is untouched.
        if (!target.TryGetValue(world.Unmanaged, out var unmanaged) || unmanaged["title"]?.GetValue<string>() != "Keep me" || !Active(unmanaged))
        {
            problems.Add("the unmanaged target user was changed or removed");
        }

        // Groups: the managed members of each target group are exactly the active mapped members of the Entra group.
        foreach (var (groupId, targetGroupId) in groups ?? new Dictionary<string, string>())
        {
            var entra = world.Directory.Groups().FirstOrDefault(g => g.Id == groupId);
            var managed = rows.Values.Where(r => r.ScimId is not null && r.State is LifecycleState.Active or LifecycleState.Disabled).Select(r => r.ScimId!).ToHashSet(StringComparer.Ordinal);
            var desired = (entra?.MemberIds ?? []).Select(m => rows.GetValueOrDefault(m)).Where(r => r is { State: LifecycleState.Active, ScimId: not null }).Select(r => r!.ScimId!).ToHashSet(StringComparer.Ordinal);
            var actual = world.TargetGroupMembers(targetGroupId).Where(managed.Contains).ToHashSet(StringComparer.Ordinal);
            foreach (var missing in desired.Except(actual))
            {
                problems.Add($"group {groupId}: member {Who(rows, missing)} is missing on the target");
            }

            foreach (var extra in actual.Except(desired))
            {
                problems.Add($"group {groupId}: {Who(rows, extra)} is a member on the target but should not be");
            }
        }

        // Every work item settled: nothing left, nothing unhandled, dead-letters only with a reason.
        if (!world.Bus.IsEmpty)
        {
            problems.Add($"{world.Bus.Pending().Count} message(s) never settled");
        }

        problems.AddRange(world.Unhandled.Select(u => "unhandled: " + u));
        foreach (var dead in world.Bus.DeadLetters)
        {
            if (string.IsNullOrWhiteSpace(dead.Reason) || string.IsNullOrWhiteSpace(dead.Description))
            {
                problems.Add($"message {dead.Message.MessageId} dead-lettered without a reason and description");
            }
            else if (!expectDeadLetters)
            {
                problems.Add($"message {dead.Message.MessageId} ({dead.Message.Subject} {dead.Message.SessionId}) dead-lettered: {dead.Reason}: {dead.Description}");
            }
        }

        return problems;
    }

    private static string Who(Dictionary<string, UserMapping> rows, string scimId) =>
        rows.Values.FirstOrDefault(r => r.ScimId == scimId)?.ObjectId ?? scimId;
}
