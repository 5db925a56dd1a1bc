using ScimFunctions.Provisioning;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.Sync;
using ScimFunctions.Provisioning.Sync.Entitlements;

namespace ScimFunctions.Tests.Sync;

public sealed class EntitlementRulesTests
{
    private const string G1 = "0b5a7c2e-1111-4c3e-9a51-000000000001";
    private const string G2 = "0b5a7c2e-2222-4c3e-9a51-000000000002";

    private static string One(string rule) => $$"""{ "rules": [ {{rule}} ] }""";

    [Theory]
    [InlineData("""{ "group": "" , "roles": ["Agent"] }""", "rule 0 has no 'group'")]
    [InlineData("""{ "group": "Billing Agents", "skills": [ { "name": "Billing", "proficiency": 9 } ] }""", "rule 0 (group 'Billing Agents'): skill 'Billing' needs a proficiency")]
    [InlineData($$"""{ "group": "{{G1}}", "roles": [" "] }""", "empty role name")]
    [InlineData($$"""{ "group": "{{G1}}", "skills": [ { "name": "", "proficiency": 1 } ] }""", "skill 0 has no name")]
    [InlineData($$"""{ "group": "{{G1}}", "skills": [ { "name": "Billing", "proficiency": 5.5 } ] }""", "skill 'Billing' needs a proficiency from 0.0 to 5.0 (got 5.5)")]
    [InlineData($$"""{ "group": "{{G1}}", "languages": [ { "name": "English", "proficiency": -1 } ] }""", "language 'English' needs a proficiency")]
    [InlineData($$"""{ "group": "{{G1}}", "languages": [ { "name": "English" } ] }""", "(got none)")]
    [InlineData($$"""{ "group": "{{G1}}", "division": "Billing" }""", "no 'priority'")]
    [InlineData($$"""{ "group": "{{G1}}", "division": "" , "priority": 1 }""", "empty division name")]
    [InlineData($$"""{ "group": "{{G1}}" }""", "gives nothing")]
    [InlineData($$"""{ "group": "{{G1}}", "roles": ["Agent"], "colour": "red" }""", "not valid JSON")]
    public void BadRule_IsRejected_NamingTheSettingAndTheProblem(string rule, string expected)
    {
        var ex = Assert.Throws<FormatException>(() => EntitlementRules.Parse(One(rule)));

        Assert.Contains("Sync__Entitlements", ex.Message, StringComparison.Ordinal);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MoreThan50SkillsReachable_IsRejected_50IsFine()
    {
        static string Rule(string group, int from, int count) =>
            $$"""{ "group": "{{group}}", "skills": [ {{string.Join(",", Enumerable.Range(from, count).Select(i => $$"""{ "name": "S{{i}}", "proficiency": 1 }"""))}} ] }""";

        var fifty = EntitlementRules.Parse($$"""{ "rules": [ {{Rule(G1, 0, 30)}}, {{Rule(G2, 10, 40)}} ] }""");
        var ex = Assert.Throws<FormatException>(() => EntitlementRules.Parse($$"""{ "rules": [ {{Rule(G1, 0, 30)}}, {{Rule(G2, 30, 21)}} ] }"""));

        Assert.Equal(2, fifty.Rules.Count);
        Assert.Contains("51 different routing skills", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TwoDivisionsAtTheSamePriority_AreRejected()
    {
        var ex = Assert.Throws<FormatException>(() => EntitlementRules.Parse($$"""
            { "rules": [ { "group": "{{G1}}", "division": "A", "priority": 1 }, { "group": "{{G2}}", "division": "B", "priority": 1 } ] }
            """));

        Assert.Contains("same priority 1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DivisionFromRulesAndFromSyncDivision_IsRejectedAtStart()
    {
        var options = new SyncOptions { Division = "Home", Entitlements = $$"""{ "defaultDivision": "Home", "rules": [ { "group": "{{G1}}", "roles": ["Agent"] } ] }""" };

        var failures = new SyncOptionsValidator().Failures(options);

        Assert.Contains(failures, f => f.Contains("Sync__Entitlements gives divisions", StringComparison.Ordinal));
    }

    [Fact]
    public void GroupByDisplayName_ParsesUnresolved_ById_ParsesResolved()
    {
        var rules = EntitlementRules.Parse($$"""{ "rules": [ { "group": " Billing Agents ", "roles": ["Agent"] }, { "group": "{{G1}}", "roles": ["Lead"] } ] }""");

        Assert.Equal("", rules.Rules[0].GroupId);
        Assert.Equal("Billing Agents", rules.Rules[0].GroupName);
        Assert.False(rules.Rules[0].IsResolved);
        Assert.Equal("rule 0 (group 'Billing Agents')", rules.Rules[0].Label);
        Assert.Equal(G1, rules.Rules[1].GroupId);
        Assert.Null(rules.Rules[1].GroupName);
        Assert.True(rules.Rules[1].IsResolved);
    }

    [Fact]
    public void SameDisplayNameInTwoRules_IsRejected()
    {
        var ex = Assert.Throws<FormatException>(() => EntitlementRules.Parse("""
            { "rules": [ { "group": "Billing Agents", "roles": ["Agent"] }, { "group": "billing agents", "roles": ["Lead"] } ] }
            """));

        Assert.Contains("Sync__Entitlements: rule 1 (group 'billing agents'): the group has another rule already", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AbsentSetting_IsNoRules()
    {
        Assert.True(EntitlementRules.Parse(null).IsEmpty);
        Assert.True(EntitlementRules.Parse(" ").IsEmpty);
    }
}

public sealed class EntitlementProjectionTests
{
    private static readonly AttributeMapper Mapper = new(AttributeMapper.DefaultRules(), "1");
    private static readonly string Skill = EntitlementProjection.SkillKey("Billing");
    private static readonly string Language = EntitlementProjection.LanguageKey("English");
    private static readonly string Agent = EntitlementProjection.RoleKey("Agent");

    private static SortedDictionary<string, string> P(params (string Key, string Value)[] pairs) =>
        new(pairs.ToDictionary(p => p.Key, p => p.Value), StringComparer.Ordinal);

    private static List<string> Ops(IReadOnlyDictionary<string, string>? current, IReadOnlyDictionary<string, string> desired) =>
        [.. ScimProjection.Diff(current, desired, Mapper).Select(o => $"{o.Op} {o.Path} {o.Value?.ToJsonString()}".TrimEnd())];

    [Fact]
    public void NewGrants_AreOneAddPerAttribute_WithIndividualValues()
    {
        var ops = Ops(P(("userName", "a@x")), P(("userName", "a@x"), (Agent, "granted"), (EntitlementProjection.RoleKey("Lead"), "granted"), (Skill, "3"), (Language, "5")));

        Assert.Equal(
        [
            "add roles [{\"value\":\"Agent\"},{\"value\":\"Lead\"}]",
            $"add {ScimSchemas.GenesysUser}:routingSkills [{{\"name\":\"Billing\",\"proficiency\":3}}]",
            $"add {ScimSchemas.GenesysUser}:routingLanguages [{{\"name\":\"English\",\"proficiency\":5}}]",
        ], ops);
    }

    [Fact]
    public void ProficiencyChange_IsOneReplace_AndEqualNumbersInAnotherSpellingAreNoChange()
    {
        Assert.Equal([$"replace {Skill} 4.5"], Ops(P((Skill, "3")), P((Skill, "4.5"))));
        Assert.Empty(Ops(P((Skill, "3.0")), P((Skill, "3"))));
    }

    [Fact]
    public void Revoked_IsRemovedByValuePath_OnlyWhenHeld_AndUnlistedValuesAreNeverTouched()
    {
        var current = P((Agent, "granted"), (EntitlementProjection.RoleKey("Supervisor"), "granted"), (Skill, "3"));
        var desired = P((Agent, EntitlementProjection.Revoked), (Skill, EntitlementProjection.Revoked), (Language, EntitlementProjection.Revoked));

        Assert.Equal(
        [
            "remove roles[value eq \"Agent\"]",
            $"remove {ScimSchemas.GenesysUser}:routingSkills[name eq \"Billing\"]",
        ], Ops(current, desired));
    }

    [Fact]
    public void RevokeMarkers_DoNotChangeTheHash()
    {
        Assert.Equal(ScimProjection.Hash(P(("userName", "a@x"))), ScimProjection.Hash(P(("userName", "a@x"), (Agent, EntitlementProjection.Revoked))));
        Assert.NotEqual(ScimProjection.Hash(P(("userName", "a@x"))), ScimProjection.Hash(P(("userName", "a@x"), (Agent, "granted"))));
    }

    [Fact]
    public void Keys_RoundTrip_NamesWithQuotesAndCase()
    {
        var key = EntitlementProjection.SkillKey("Say \"hi\"");

        Assert.Equal(new EntitlementKey(EntitlementKind.Skill, "Say \"hi\""), EntitlementProjection.Parse(key));
        Assert.NotEqual(EntitlementProjection.SkillKey("billing"), Skill);
        Assert.Null(EntitlementProjection.Parse("title"));
    }

    [Fact]
    public void ReadCurrent_ReadsEveryRoleSkillAndLanguage_OnTheTarget()
    {
        var resource = System.Text.Json.Nodes.JsonNode.Parse($$"""
            { "userName": "a@x", "roles": [ { "value": "Agent" }, { "value": "employee" } ],
              "{{ScimSchemas.GenesysUser}}": { "routingSkills": [ { "name": "Billing", "proficiency": 3.0 } ], "routingLanguages": [ { "name": "English", "proficiency": 5 } ] } }
            """)!.AsObject();

        var current = ScimProjection.ReadCurrent(resource, Mapper);

        Assert.Equal("granted", current[Agent]);
        Assert.Equal("granted", current[EntitlementProjection.RoleKey("employee")]);
        Assert.Equal("3", current[Skill]);
        Assert.Equal("5", current[Language]);
    }
}

/// <summary>Resolution of rules that name their group by displayName (unit level, against a small directory).</summary>
public sealed class EntitlementGroupNameTests
{
    private const string Billing = "0b5a7c2e-1111-4c3e-9a51-000000000001";
    private const string Billing2 = "0b5a7c2e-2222-4c3e-9a51-000000000002";
    private const string Sales = "0b5a7c2e-3333-4c3e-9a51-000000000003";
    private const string User = "0b5a7c2e-9999-4c3e-9a51-000000000009";

    private static EntitlementResolver Resolver(NamedDirectory directory, string json) =>
        new(EntitlementRules.Parse(json), directory, TimeProvider.System, cacheSeconds: 0);

    [Fact]
    public async Task NameMatchingOneGroup_ResolvesToItsId_AndGrantsByIt()
    {
        var directory = new NamedDirectory();
        directory.Add(Billing, "Billing Agents", User);
        directory.Add(Sales, "Sales", User);
        using var resolver = Resolver(directory, """{ "rules": [ { "group": "billing agents", "skills": [ { "name": "Billing", "proficiency": 3 } ] } ] }""");

        var problems = await resolver.CheckGroupsAsync();
        var desired = await resolver.DesiredAsync(User);

        Assert.Empty(problems);
        Assert.Equal(Billing, resolver.Rules.Rules[0].GroupId);
        Assert.Equal("rule 0 (group 'billing agents' = " + Billing + ")", resolver.Rules.Rules[0].Label);
        Assert.True(resolver.IsRuleGroup(Billing));
        Assert.False(resolver.IsRuleGroup(Sales));
        Assert.Equal([Billing], desired.Groups);
        Assert.Contains(desired.Grants, g => g is { Kind: EntitlementKind.Skill, Name: "Billing" });
        Assert.Equal(1, directory.Lookups); // resolved once, at start
    }

    [Fact]
    public async Task NameMatchingNoGroup_IsAProblemNamingTheSettingTheRuleAndTheName()
    {
        var directory = new NamedDirectory();
        directory.Add(Billing, "Billing Agents");
        using var resolver = Resolver(directory, """{ "rules": [ { "group": "Billing Agent", "roles": ["Agent"] } ] }""");

        var problems = await resolver.CheckGroupsAsync();

        var problem = Assert.Single(problems);
        Assert.Contains("Setting Sync__Entitlements: rule 0 (group 'Billing Agent'): no Entra group has the displayName 'Billing Agent'", problem, StringComparison.Ordinal);
        Assert.False(resolver.Rules.Rules[0].IsResolved);
    }

    [Fact]
    public async Task NameMatchingTwoGroups_IsAmbiguous_SayingHowManyAndToGiveTheId()
    {
        var directory = new NamedDirectory();
        directory.Add(Billing, "Billing Agents");
        directory.Add(Billing2, "BILLING AGENTS");
        using var resolver = Resolver(directory, """{ "rules": [ { "group": "Billing Agents", "roles": ["Agent"] } ] }""");

        var problem = Assert.Single(await resolver.CheckGroupsAsync());

        Assert.Contains("Sync__Entitlements: rule 0 (group 'Billing Agents'): 2 Entra groups have the displayName 'Billing Agents'; give the group's object id instead.", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NameResolvingToAGroupAnotherRuleGivesById_IsRejected_AndNotKept()
    {
        var directory = new NamedDirectory();
        directory.Add(Billing, "Billing Agents", User);
        using var resolver = Resolver(directory, $$"""{ "rules": [ { "group": "{{Billing}}", "roles": ["Agent"] }, { "group": "Billing Agents", "roles": ["Lead"] } ] }""");

        var problem = Assert.Single(await resolver.CheckGroupsAsync());
        var ex = await Assert.ThrowsAsync<ProvisioningException>(() => resolver.DesiredAsync(User));

        Assert.Contains("name the same group", problem, StringComparison.Ordinal);
        Assert.False(resolver.Rules.Rules[1].IsResolved);
        Assert.False(ex.IsTransient);
    }

    [Fact]
    public async Task DirectoryDownAtStart_RuleStaysUnresolved_ConvergenceFailsTransient_ThenResolves()
    {
        var directory = new NamedDirectory { Down = true };
        directory.Add(Billing, "Billing Agents", User);
        using var resolver = Resolver(directory, """{ "rules": [ { "group": "Billing Agents", "roles": ["Agent"] } ] }""");

        await Assert.ThrowsAsync<DirectoryUnavailableException>(() => resolver.CheckGroupsAsync());
        Assert.False(resolver.Rules.Rules[0].IsResolved);
        Assert.True(resolver.IsRuleGroup(Sales)); // unresolved: any group change may concern it
        await Assert.ThrowsAsync<DirectoryUnavailableException>(() => resolver.DesiredAsync(User));
        Assert.Equal(0, directory.MemberReads); // no member read with an unresolved name

        directory.Down = false;
        var desired = await resolver.DesiredAsync(User);

        Assert.Equal([Billing], desired.Groups);
        Assert.False(resolver.IsRuleGroup(Sales));
    }

    [Fact]
    public async Task NameThatStopsResolvingAfterADownStart_FailsTheConvergencePermanently_NamingTheRule()
    {
        var directory = new NamedDirectory { Down = true };
        using var resolver = Resolver(directory, """{ "rules": [ { "group": "Billing Agents", "roles": ["Agent"] } ] }""");
        await Assert.ThrowsAsync<DirectoryUnavailableException>(() => resolver.CheckGroupsAsync());

        directory.Down = false;
        var ex = await Assert.ThrowsAsync<ProvisioningException>(() => resolver.DesiredAsync(User));

        Assert.Equal(EntitlementFailures.RuleGroupNotFound, ex.Reason);
        Assert.False(ex.IsTransient);
        Assert.Contains("rule 0 (group 'Billing Agents')", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, directory.MemberReads);
    }

    /// <summary>Groups by id and displayName; lookups compare names case-insensitively like Graph.</summary>
    private sealed class NamedDirectory : IDirectorySource
    {
        private readonly List<DirectoryGroup> _groups = [];

        public bool Down { get; set; }

        public int Lookups { get; private set; }

        public int MemberReads { get; private set; }

        public void Add(string id, string displayName, params string[] members) => _groups.Add(new(id, displayName, members));

        public Task<IReadOnlyList<string>> FindGroupIdsByDisplayNameAsync(string displayName, CancellationToken cancellationToken = default)
        {
            Lookups++;
            ThrowIfDown();
            return Task.FromResult<IReadOnlyList<string>>([.. _groups.Where(g => string.Equals(g.DisplayName, displayName, StringComparison.OrdinalIgnoreCase)).Select(g => g.Id)]);
        }

        public Task<DirectoryGroup?> GetGroupAsync(string id, bool transitive = false, CancellationToken cancellationToken = default)
        {
            MemberReads++;
            ThrowIfDown();
            return Task.FromResult(_groups.FirstOrDefault(g => g.Id == id));
        }

        public Task<DirectoryUser?> GetUserAsync(string idOrUserPrincipalName, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public Task<DeltaResult<DirectoryUser>> GetUserChangesAsync(string? cursor, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public Task<DeltaResult<GroupChange>> GetGroupChangesAsync(string? cursor, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        private void ThrowIfDown()
        {
            if (Down)
            {
                throw new DirectoryUnavailableException("directory down (test)");
            }
        }
    }
}
