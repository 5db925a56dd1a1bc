using ScimFunctions.Provisioning;
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
    [InlineData("""{ "group": "Billing Agents", "roles": ["Agent"] }""", "is not an Entra group object id")]
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

        var failures = ProvisioningRegistration.ValidateSyncOptions(options);

        Assert.Contains(failures, f => f.Contains("Sync__Entitlements gives divisions", StringComparison.Ordinal));
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
