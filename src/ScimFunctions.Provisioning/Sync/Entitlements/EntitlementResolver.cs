using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Notifications;
using ScimFunctions.Provisioning.State;

namespace ScimFunctions.Provisioning.Sync.Entitlements;

/// <summary>One entitlement a user should have, with the rule groups that give it.</summary>
public sealed record EntitlementGrant(EntitlementKind Kind, string Name, string Value, IReadOnlyList<string> Groups);

/// <summary>A user's desired entitlements: the union over the rules of the groups the user is in. Roles,
/// skills and languages are sets (the highest proficiency wins); the division comes from the rule with the
/// highest priority, else the default.</summary>
public sealed record DesiredEntitlements(IReadOnlyList<string> Groups, IReadOnlyList<EntitlementGrant> Grants);

/// <summary>One line of <c>scimfn explain</c>: an entitlement, who gives it, and what the next convergence does.</summary>
/// <param name="Change">add, replace, remove, or keep.</param>
public sealed record EntitlementLine(EntitlementKind Kind, string Name, string? Value, IReadOnlyList<string> Groups, string Change);

/// <summary>Failure reasons of entitlement work.</summary>
public static class EntitlementFailures
{
    public const string RuleGroupNotFound = "EntitlementRuleGroupNotFound";

    /// <summary>A rule's group displayName matches more than one Entra group.</summary>
    public const string RuleGroupAmbiguous = "EntitlementRuleGroupAmbiguous";
}

/// <summary>Decides entitlements from group membership. Rule group members are read from the directory
/// and cached briefly (like scope groups), so a burst of user work items does not re-read them; a change
/// of a rule group drops its cache entry and names the members whose entitlements change. Rules that name
/// their group by displayName are resolved to its id at start (<see cref="CheckGroupsAsync"/>); if the
/// directory could not be read then, the first work that needs the rules resolves them instead.</summary>
public sealed class EntitlementResolver(EntitlementRules rules, IDirectorySource directory, TimeProvider time, int cacheSeconds) : IDisposable
{
    private readonly Dictionary<string, (DateTimeOffset At, HashSet<string> Members)> _cache = new(StringComparer.OrdinalIgnoreCase);
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly SemaphoreSlim _resolveLock = new(1, 1);

    // Replaced once, when the displayName rules are resolved; every rule works by id from then on.
    private volatile EntitlementRules _rules = rules;

    public EntitlementRules Rules => _rules;

    public void Dispose()
    {
        _lock.Dispose();
        _resolveLock.Dispose();
    }

    public bool Enabled => !_rules.IsEmpty;

    /// <summary>While a rule is unresolved any group may be its group: say yes, and
    /// <see cref="GroupChangedFollowUpsAsync"/> resolves first, so no change of it is missed.</summary>
    public bool IsRuleGroup(string groupId) => _rules.Rules.Any(r => !r.IsResolved || r.GroupId.Equals(groupId, StringComparison.OrdinalIgnoreCase));

    /// <summary>Resolves every displayName rule to exactly one group id. Returns a message naming the setting,
    /// the rule and the name for each that matches none or several (those stay unresolved). A directory failure
    /// throws <see cref="DirectoryUnavailableException"/> and leaves the rules as they were.</summary>
    public async Task<IReadOnlyList<string>> ResolveGroupsAsync(CancellationToken cancellationToken = default) =>
        [.. (await ResolveCoreAsync(cancellationToken)).Select(p => p.Message)];

    private sealed record ResolveProblem(string Reason, string Message);

    private async Task<IReadOnlyList<ResolveProblem>> ResolveCoreAsync(CancellationToken cancellationToken)
    {
        var problems = new List<ResolveProblem>();
        if (_rules.Rules.All(r => r.IsResolved))
        {
            return problems;
        }

        await _resolveLock.WaitAsync(cancellationToken);
        try
        {
            var current = _rules;
            var resolved = new List<EntitlementRule>(current.Rules.Count);
            foreach (var rule in current.Rules)
            {
                if (rule.IsResolved)
                {
                    resolved.Add(rule);
                    continue;
                }

                var ids = await directory.FindGroupIdsByDisplayNameAsync(rule.GroupName!, cancellationToken);
                if (ids.Count == 1)
                {
                    resolved.Add(rule with { GroupId = ids[0] });
                    continue;
                }

                problems.Add(ids.Count == 0
                    ? new ResolveProblem(EntitlementFailures.RuleGroupNotFound, $"Setting {EntitlementRules.Setting}: {rule.Label}: no Entra group has the displayName '{rule.GroupName}'.")
                    : new ResolveProblem(EntitlementFailures.RuleGroupAmbiguous, $"Setting {EntitlementRules.Setting}: {rule.Label}: {ids.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)} Entra groups have the displayName '{rule.GroupName}'; give the group's object id instead."));
                resolved.Add(rule);
            }

            // A name may resolve to a group another rule already names (by id or by another spelling): refused
            // like two rules for one id, and nothing is kept, so no work runs with the clash.
            var clashes = resolved.Where(r => r.IsResolved).GroupBy(r => r.GroupId, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1).ToList();
            foreach (var twice in clashes)
            {
                problems.Add(new ResolveProblem(EntitlementFailures.RuleGroupAmbiguous, $"Setting {EntitlementRules.Setting}: {string.Join(" and ", twice.Select(r => r.Label))} name the same group; put everything it gives in one rule."));
            }

            if (clashes.Count == 0)
            {
                _rules = current with { Rules = resolved };
            }

            return problems;
        }
        finally
        {
            _resolveLock.Release();
        }
    }

    /// <summary>Work that needs the rules never runs with an unresolved name: resolve now (the directory was
    /// unavailable at start), failing the convergence when that cannot be done (a directory failure stays
    /// transient). Nothing is granted or removed.</summary>
    private async Task EnsureResolvedAsync(CancellationToken cancellationToken)
    {
        if (_rules.Rules.All(r => r.IsResolved))
        {
            return;
        }

        var problems = await ResolveCoreAsync(cancellationToken);
        if (problems.Count > 0)
        {
            throw new ProvisioningException(problems[0].Reason,
                string.Join(" ", problems.Select(p => p.Message)) + " Fix the rule (nothing was granted or removed).", isTransient: false);
        }
    }

    public void Invalidate(string? groupId = null)
    {
        lock (_cache)
        {
            if (groupId is null)
            {
                _cache.Clear();
            }
            else
            {
                _cache.Remove(groupId);
            }
        }
    }

    /// <summary>Resolves the displayName rules, then finds every rule group given by id that does not exist in
    /// Entra; each problem is a message naming the setting and the rule (empty: all resolve). A directory
    /// failure throws <see cref="DirectoryUnavailableException"/>.</summary>
    public async Task<IReadOnlyList<string>> CheckGroupsAsync(CancellationToken cancellationToken = default)
    {
        var problems = new List<string>(await ResolveGroupsAsync(cancellationToken));
        foreach (var rule in _rules.Rules.Where(r => r.IsResolved && r.GroupName is null))
        {
            if (await directory.GetGroupAsync(rule.GroupId, transitive: false, cancellationToken) is null)
            {
                problems.Add($"Setting {EntitlementRules.Setting}: {rule.Label} names a group that does not exist in Entra.");
            }
        }

        return problems;
    }

    /// <summary>The rules whose group the user is in.</summary>
    public async Task<IReadOnlyList<EntitlementRule>> RulesForAsync(string userId, CancellationToken cancellationToken = default)
    {
        await EnsureResolvedAsync(cancellationToken);
        var result = new List<EntitlementRule>();
        foreach (var rule in _rules.Rules)
        {
            if ((await MembersAsync(rule, cancellationToken)).Contains(userId))
            {
                result.Add(rule);
            }
        }

        return result;
    }

    public async Task<DesiredEntitlements> DesiredAsync(string userId, CancellationToken cancellationToken = default)
    {
        var applying = await RulesForAsync(userId, cancellationToken);
        var grants = new List<EntitlementGrant>();
        foreach (var role in applying.SelectMany(r => r.Roles.Select(name => (name, r.GroupId))).GroupBy(x => x.name, StringComparer.OrdinalIgnoreCase))
        {
            grants.Add(new EntitlementGrant(EntitlementKind.Role, role.First().name, EntitlementProjection.Granted, [.. role.Select(x => x.GroupId)]));
        }

        grants.AddRange(Routing(applying, EntitlementKind.Skill, r => r.Skills));
        grants.AddRange(Routing(applying, EntitlementKind.Language, r => r.Languages));

        var division = applying.Where(r => r.Division is not null).OrderByDescending(r => r.Priority).FirstOrDefault();
        if (division is not null)
        {
            grants.Add(new EntitlementGrant(EntitlementKind.Division, division.Division!, division.Division!, [division.GroupId]));
        }
        else if (_rules.DefaultDivision is { } fallback)
        {
            grants.Add(new EntitlementGrant(EntitlementKind.Division, fallback, fallback, []));
        }

        return new DesiredEntitlements([.. applying.Select(r => r.GroupId)], grants);
    }

    private static IEnumerable<EntitlementGrant> Routing(IReadOnlyList<EntitlementRule> applying, EntitlementKind kind, Func<EntitlementRule, IReadOnlyList<RoutingGrant>> select)
    {
        // Names are case-sensitive: Billing and billing are two skills.
        foreach (var same in applying.SelectMany(r => select(r).Select(g => (Grant: g, r.GroupId))).GroupBy(x => x.Grant.Name, StringComparer.Ordinal))
        {
            var best = same.Max(x => x.Grant.Proficiency);
            yield return new EntitlementGrant(kind, same.Key, EntitlementProjection.FormatProficiency(best), [.. same.Select(x => x.GroupId)]);
        }
    }

    /// <summary>The projection with the user's entitlements added, and with every value the rules granted
    /// before (per <paramref name="stored"/>, the last applied projection) and no longer give marked
    /// <see cref="EntitlementProjection.Revoked"/>, so the diff removes exactly those.</summary>
    public async Task<ProjectionResult> ProjectAsync(string userId, ProjectionResult projection, IReadOnlyDictionary<string, string>? stored, CancellationToken cancellationToken = default)
    {
        var desired = await DesiredAsync(userId, cancellationToken);
        var values = new SortedDictionary<string, string>(projection.Values.ToDictionary(p => p.Key, p => p.Value), StringComparer.Ordinal);
        foreach (var grant in desired.Grants)
        {
            var key = EntitlementProjection.Key(grant.Kind, grant.Name);
            if (grant.Kind == EntitlementKind.Division && projection.Values.ContainsKey(key))
            {
                continue; // a mapped division stays the mapping's (start validation forbids both)
            }

            values[key] = grant.Value;
        }

        foreach (var (key, value) in stored ?? new Dictionary<string, string>())
        {
            // A division is never removed: the last one stays when no rule gives one.
            if (EntitlementProjection.Parse(key) is { Kind: not EntitlementKind.Division } && EntitlementProjection.IsGranted(value) && !values.ContainsKey(key))
            {
                values[key] = EntitlementProjection.Revoked;
            }
        }

        values.Remove(EntitlementProjection.GroupsKey);
        if (desired.Groups.Count > 0)
        {
            values[EntitlementProjection.GroupsKey] = string.Join(',', desired.Groups.Order(StringComparer.OrdinalIgnoreCase));
        }

        return new ProjectionResult(values, projection.PendingManagerId);
    }

    /// <summary>The rule groups a stored projection says the user was in.</summary>
    public static IReadOnlySet<string> RecordedGroups(IReadOnlyDictionary<string, string>? projection) =>
        projection is not null && projection.TryGetValue(EntitlementProjection.GroupsKey, out var list)
            ? list.Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.OrdinalIgnoreCase)
            : new HashSet<string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>A rule group changed (notification or delta round): the users who joined it or left it since
    /// they were last converged. Everyone else keeps their entitlements and gets no work.</summary>
    public async Task<IReadOnlyList<FollowUp>> GroupChangedFollowUpsAsync(string groupId, StateStore store, CancellationToken cancellationToken = default)
    {
        await EnsureResolvedAsync(cancellationToken);
        Invalidate(groupId);
        var recorded = await RecordedAsync(store, cancellationToken);
        var affected = new HashSet<string>(StringComparer.Ordinal);
        foreach (var rule in _rules.Rules.Where(r => r.GroupId.Equals(groupId, StringComparison.OrdinalIgnoreCase)))
        {
            affected.UnionWith(await AffectedAsync(rule, recorded, cancellationToken));
        }

        return [.. affected.Order(StringComparer.Ordinal).Select(id => new FollowUp(WorkItemKind.User, id, "entitlement rule group changed"))];
    }

    /// <summary>For ReconcileGroups: every user whose rule-group membership differs from what was applied.</summary>
    public async Task<IReadOnlyList<string>> AffectedUsersAsync(StateStore store, CancellationToken cancellationToken = default)
    {
        await EnsureResolvedAsync(cancellationToken);
        Invalidate();
        var recorded = await RecordedAsync(store, cancellationToken);
        var affected = new HashSet<string>(StringComparer.Ordinal);
        foreach (var rule in _rules.Rules)
        {
            affected.UnionWith(await AffectedAsync(rule, recorded, cancellationToken));
        }

        return [.. affected.Order(StringComparer.Ordinal)];
    }

    /// <summary>Active mapped users and the rule groups each was in when last converged (one Table scan).</summary>
    private static async Task<Dictionary<string, IReadOnlySet<string>>> RecordedAsync(StateStore store, CancellationToken cancellationToken)
    {
        var recorded = new Dictionary<string, IReadOnlySet<string>>(StringComparer.Ordinal);
        await foreach (var mapping in store.ListUsersAsync(LifecycleState.Active, cancellationToken))
        {
            recorded[mapping.ObjectId] = RecordedGroups(mapping.Projection);
        }

        return recorded;
    }

    private async Task<IEnumerable<string>> AffectedAsync(EntitlementRule rule, Dictionary<string, IReadOnlySet<string>> recorded, CancellationToken cancellationToken)
    {
        var members = await MembersAsync(rule, cancellationToken);
        var inRule = recorded.Where(r => r.Value.Contains(rule.GroupId)).Select(r => r.Key).ToHashSet(StringComparer.Ordinal);
        var joined = members.Where(m => !inRule.Contains(m) && GraphNotificationParser.IsSafeId(m));
        var left = inRule.Where(r => !members.Contains(r));
        return joined.Concat(left);
    }

    /// <summary>What <c>explain</c> shows: each entitlement the rules give or revoke, its groups and its change.</summary>
    public static IReadOnlyList<EntitlementLine> Explain(DesiredEntitlements desired, IReadOnlyDictionary<string, string>? stored, IReadOnlyDictionary<string, string> projection)
    {
        var lines = new List<EntitlementLine>();
        foreach (var grant in desired.Grants)
        {
            var key = EntitlementProjection.Key(grant.Kind, grant.Name);
            string? before = null;
            stored?.TryGetValue(key, out before);
            var held = before is not null && EntitlementProjection.IsGranted(before);
            var change = !held ? "add"
                : grant.Kind == EntitlementKind.Role ? "keep"
                : string.Equals(before, grant.Value, StringComparison.Ordinal) ? "keep" : "replace";
            lines.Add(new EntitlementLine(grant.Kind, grant.Name, grant.Kind == EntitlementKind.Role ? null : grant.Value, grant.Groups, change));
        }

        foreach (var (key, value) in projection)
        {
            if (value == EntitlementProjection.Revoked && EntitlementProjection.Parse(key) is { } revoked)
            {
                lines.Add(new EntitlementLine(revoked.Kind, revoked.Name, null, [], "remove"));
            }
        }

        return lines;
    }

    private async Task<HashSet<string>> MembersAsync(EntitlementRule rule, CancellationToken cancellationToken)
    {
        if (!rule.IsResolved)
        {
            throw new InvalidOperationException($"{rule.Label} is not resolved; EnsureResolvedAsync runs before any member read.");
        }

        var now = time.GetUtcNow();
        lock (_cache)
        {
            if (_cache.TryGetValue(rule.GroupId, out var hit) && now - hit.At < TimeSpan.FromSeconds(cacheSeconds))
            {
                return hit.Members;
            }
        }

        await _lock.WaitAsync(cancellationToken);
        try
        {
            lock (_cache)
            {
                if (_cache.TryGetValue(rule.GroupId, out var again) && now - again.At < TimeSpan.FromSeconds(cacheSeconds))
                {
                    return again.Members;
                }
            }

            // A rule group that cannot be read fails the convergence (DirectoryUnavailableException): nobody
            // loses an entitlement on a failed read. One that does not exist is a configuration error.
            var group = await directory.GetGroupAsync(rule.GroupId, rule.Transitive, cancellationToken)
                ?? throw new ProvisioningException(EntitlementFailures.RuleGroupNotFound,
                    $"Setting {EntitlementRules.Setting}: {rule.Label} names a group that does not exist in Entra; fix the rule (nothing was granted or removed).", isTransient: false);
            var members = new HashSet<string>(group.MemberIds, StringComparer.OrdinalIgnoreCase);
            lock (_cache)
            {
                _cache[rule.GroupId] = (now, members);
            }

            return members;
        }
        finally
        {
            _lock.Release();
        }
    }
}
