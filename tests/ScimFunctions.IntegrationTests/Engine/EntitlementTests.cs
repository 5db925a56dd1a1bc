using System.Text.Json.Nodes;
using ScimFunctions.IntegrationTests.Engine.Support;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.IntegrationTests.Engine;

/// <summary>Entitlements from Entra groups, end to end: Graph double → webhook → queue → ProvisionObject →
/// the Genesys emulator, with the PATCHes counted.</summary>
[Collection(EngineCollection.Name)]
public sealed class EntitlementTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private const string Genesys = "urn:ietf:params:scim:schemas:extension:genesys:purecloud:2.0:User";
    private const string Enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    private const string Billing = "0b5a7c2e-1111-4c3e-9a51-000000000001";
    private const string Senior = "0b5a7c2e-2222-4c3e-9a51-000000000002";

    private const string Rules = $$"""
        { "defaultDivision": "Home",
          "rules": [
            { "group": "{{Billing}}", "roles": ["Agent"], "division": "Billing", "priority": 10,
              "skills": [ { "name": "Billing", "proficiency": 3 } ], "languages": [ { "name": "English", "proficiency": 5 } ] },
            { "group": "{{Senior}}", "roles": ["Agent", "Quality Evaluator"],
              "skills": [ { "name": "Billing", "proficiency": 5 }, { "name": "Disputes", "proficiency": 2 } ] } ] }
        """;

    private EngineHarness h = null!;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (h is not null)
        {
            await h.DisposeAsync();
        }
    }

    private async Task StartAsync(string rules = Rules, Action<GenesysScimEmulator.EmulatorOptions>? emulator = null)
    {
        h = await EngineHarness.StartAsync(azurite, sync: o => o.Entitlements = rules, emulator: emulator);
        h.Graph.AddGroup(Billing, "Billing Agents");
        h.Graph.AddGroup(Senior, "Senior Billing");
    }

    private async Task<string> ProvisionAsync(string id, string upn)
    {
        h.AddUser(id, upn, id);
        await h.NotifyAsync(id);
        await h.DrainAsync();
        var scimId = (await h.MappingAsync(id)).ScimId!;
        h.ResetCounters();
        return scimId;
    }

    private async Task<IReadOnlyList<RecordingMessageActions>> GroupChangedAsync(string groupId)
    {
        // Follow-ups share a MessageId per delay window (a burst collapses into one delivery at the window's
        // end); the harness delivers scheduled messages at once, so each step starts in a new window.
        h.Time.Advance(TimeSpan.FromSeconds(h.Options.FollowUpDelaySeconds + 1));
        await h.NotifyAsync(groupId, kind: "Groups");
        return await h.DrainAsync();
    }

    private List<string> Roles(string scimId) =>
        [.. (h.TargetUser(scimId)!["roles"] as JsonArray ?? []).Select(r => (string)r!["value"]!).Order(StringComparer.Ordinal)];

    private Dictionary<string, double> Routing(string scimId, string attribute) =>
        (h.TargetUser(scimId)![Genesys]?[attribute] as JsonArray ?? []).ToDictionary(s => (string)s!["name"]!, s => (double)s!["proficiency"]!);

    private string? Division(string scimId) => (string?)h.TargetUser(scimId)![Enterprise]?["division"];

    [Fact]
    public async Task JoiningARuleGroup_GrantsRolesDivisionSkillAndLanguage_InOnePatch()
    {
        await StartAsync();
        var scimId = await ProvisionAsync("u-ann", "ann@contoso.com");

        h.Graph.AddMember(Billing, "u-ann");
        var settled = await GroupChangedAsync(Billing);

        Assert.All(settled, s => Assert.Equal("complete", s.Settlement));
        Assert.Equal(1, h.ScimCount("PATCH"));
        Assert.Equal(["Agent", "employee"], Roles(scimId));
        Assert.Equal("Billing", Division(scimId));
        Assert.Equal(new Dictionary<string, double> { ["Billing"] = 3 }, Routing(scimId, "routingSkills"));
        Assert.Equal(new Dictionary<string, double> { ["English"] = 5 }, Routing(scimId, "routingLanguages"));
    }

    [Fact]
    public async Task ANewUserAlreadyInARuleGroup_IsCreatedWithItsEntitlements_NoPatch()
    {
        await StartAsync();
        h.AddUser("u-bob", "bob@contoso.com", "Bob");
        h.Graph.AddMember(Billing, "u-bob");

        await h.NotifyAsync("u-bob");
        await h.DrainAsync();
        var scimId = (await h.MappingAsync("u-bob")).ScimId!;

        Assert.Equal(1, h.ScimCount("POST"));
        Assert.Equal(0, h.ScimCount("PATCH"));
        Assert.Equal(["Agent"], Roles(scimId));
        Assert.Equal("Billing", Division(scimId));
        Assert.Equal(new Dictionary<string, double> { ["Billing"] = 3 }, Routing(scimId, "routingSkills"));
    }

    [Fact]
    public async Task LeavingARuleGroup_RemovesWhatItGave_AndAHandGrantedRoleSurvives()
    {
        await StartAsync();
        var scimId = await ProvisionAsync("u-cat", "cat@contoso.com");
        h.Graph.AddMember(Billing, "u-cat");
        await GroupChangedAsync(Billing);

        // An admin grants a role by hand in Genesys (the connector's stored version is now stale).
        var hand = await h.Scim.PatchUserAsync(scimId, [ScimPatchOperation.Add("roles", new JsonArray(new JsonObject { ["value"] = "Supervisor" }))], null);
        Assert.True(hand.IsSuccess);
        h.ResetCounters();

        h.Graph.RemoveMember(Billing, "u-cat");
        var settled = await GroupChangedAsync(Billing);

        Assert.All(settled, s => Assert.Equal("complete", s.Settlement));
        Assert.Equal(["Supervisor", "employee"], Roles(scimId));
        Assert.Equal("Home", Division(scimId));
        Assert.Empty(Routing(scimId, "routingSkills"));
        Assert.Empty(Routing(scimId, "routingLanguages"));
        // The stale version costs one re-read and a second PATCH attempt; the users that did not change cost none.
        Assert.Equal(2, h.ScimCount("PATCH"));
        Assert.Equal(1, h.ScimCount("GET"));
    }

    [Fact]
    public async Task TwoGroupsWithOverlappingSkills_HighestProficiencyWins_LeavingOneReplacesItAndRemovesTheRest()
    {
        await StartAsync();
        var scimId = await ProvisionAsync("u-dan", "dan@contoso.com");
        h.Graph.AddMember(Billing, "u-dan");
        h.Graph.AddMember(Senior, "u-dan");
        await GroupChangedAsync(Billing);
        await GroupChangedAsync(Senior);
        Assert.Equal(new Dictionary<string, double> { ["Billing"] = 5, ["Disputes"] = 2 }, Routing(scimId, "routingSkills"));
        Assert.Equal(["Agent", "Quality Evaluator", "employee"], Roles(scimId));
        h.ResetCounters();

        h.Graph.RemoveMember(Senior, "u-dan");
        await GroupChangedAsync(Senior);

        Assert.Equal(1, h.ScimCount("PATCH"));
        Assert.Equal(new Dictionary<string, double> { ["Billing"] = 3 }, Routing(scimId, "routingSkills"));
        Assert.Equal(["Agent", "employee"], Roles(scimId));
        Assert.Equal("Billing", Division(scimId));
    }

    [Fact]
    public async Task Explain_ShowsEachEntitlementWithTheRuleGroupsThatGiveIt_AndWhatWouldBeAddedOrRemoved()
    {
        await StartAsync();
        await ProvisionAsync("u-ivy", "ivy@contoso.com");
        h.Graph.AddMember(Billing, "u-ivy");
        h.Graph.AddMember(Senior, "u-ivy");
        await GroupChangedAsync(Billing);
        await GroupChangedAsync(Senior);
        h.Graph.RemoveMember(Senior, "u-ivy");
        h.Time.Advance(TimeSpan.FromSeconds(h.Options.Scope.GroupCacheSeconds + 1)); // past the rule-group cache
        h.ResetCounters();

        var explanation = await h.Engine.ExplainAsync("u-ivy");
        var lines = explanation.Entitlements.Select(e => $"{e.Change} {e.Kind} {e.Name} {e.Value} [{string.Join(",", e.Groups)}]").ToList();
        var text = new StringWriter();
        ScimFunctions.Cli.OperatorReports.WriteExplanation(text, explanation);

        Assert.Equal(0, h.ScimWrites);
        Assert.Contains($"keep Role Agent  [{Billing}]", lines);
        Assert.Contains("remove Role Quality Evaluator  []", lines);
        Assert.Contains($"replace Skill Billing 3 [{Billing}]", lines);
        Assert.Contains("remove Skill Disputes  []", lines);
        Assert.Contains($"keep Division Billing Billing [{Billing}]", lines);
        Assert.Contains("Entitlements (from Sync__Entitlements rules", text.ToString(), StringComparison.Ordinal);
        Assert.Matches(@"replace\s+skill\s+Billing\s+3\s+" + Billing, text.ToString());
        Assert.Contains("remove roles[value eq \"Quality Evaluator\"]", text.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AGroupChange_CostsOnePatchPerAffectedMember_AndNothingForTheOthers()
    {
        await StartAsync();
        var ids = Enumerable.Range(0, 6).Select(i => $"u-{i:00}").ToList();
        foreach (var id in ids)
        {
            await ProvisionAsync(id, $"{id}@contoso.com");
        }

        foreach (var id in ids.Take(4))
        {
            h.Graph.AddMember(Billing, id);
        }

        await GroupChangedAsync(Billing);
        Assert.Equal(4, h.ScimCount("PATCH"));
        h.ResetCounters();

        h.Graph.RemoveMember(Billing, "u-00");
        h.Graph.AddMember(Billing, "u-05");
        await GroupChangedAsync(Billing);

        Assert.Equal(2, h.ScimCount("PATCH"));
    }

    [Fact]
    public async Task ADeltaRound_SeeingAMemberJoinAndLeave_ReconvergesThatMember()
    {
        await StartAsync();
        h.AddUser("u-hal", "hal@contoso.com", "Hal");
        await h.Sweep.RunAsync(new Microsoft.Azure.Functions.Worker.TimerInfo());
        await h.DrainAsync();
        var scimId = (await h.MappingAsync("u-hal")).ScimId!;
        h.ResetCounters();

        h.Graph.AddMember(Billing, "u-hal");
        h.Time.Advance(TimeSpan.FromSeconds(5));
        await h.Sweep.RunAsync(new Microsoft.Azure.Functions.Worker.TimerInfo());
        await h.DrainAsync();
        Assert.Equal(1, h.ScimCount("PATCH"));
        Assert.Equal(["Agent", "employee"], Roles(scimId));

        h.Graph.RemoveMember(Billing, "u-hal");
        h.Time.Advance(TimeSpan.FromSeconds(5));
        await h.Sweep.RunAsync(new Microsoft.Azure.Functions.Worker.TimerInfo());
        await h.DrainAsync();
        Assert.Equal(2, h.ScimCount("PATCH"));
        Assert.Equal(["employee"], Roles(scimId));
    }

    [Fact]
    public async Task ReconcileGroups_ConvergesMembershipChangesNoNotificationReported()
    {
        await StartAsync();
        var scimId = await ProvisionAsync("u-eve", "eve@contoso.com");
        await ProvisionAsync("u-fay", "fay@contoso.com");
        h.Graph.AddMember(Billing, "u-eve");

        var summary = await h.Engine.ReconcileGroupsAsync();

        Assert.Equal(0, summary.Failed);
        Assert.Equal(1, h.ScimCount("PATCH"));
        Assert.Equal(["Agent", "employee"], Roles(scimId));
        var granted = (await h.HistoryAsync("u-eve"))[0];
        Assert.Equal((HistoryAction.Updated, HistoryTrigger.Reconcile), (granted.Action, granted.Trigger));
    }

    [Fact]
    public async Task ATransitiveRule_CountsMembersOfNestedGroups_ADirectRuleDoesNot()
    {
        const string Nested = "0b5a7c2e-3333-4c3e-9a51-000000000003";
        await StartAsync(rules: $$"""
            { "rules": [ { "group": "{{Billing}}", "transitive": true, "roles": ["Agent"] },
                         { "group": "{{Senior}}", "roles": ["Quality Evaluator"] } ] }
            """);
        h.Graph.AddGroup(Nested, "Billing Night Shift");
        h.Graph.AddMember(Nested, "u-jo");
        h.Graph.AddMember(Billing, Nested);
        h.Graph.AddMember(Senior, Nested);

        h.AddUser("u-jo", "jo@contoso.com", "Jo");
        await h.NotifyAsync("u-jo");
        await h.DrainAsync();

        Assert.Equal(["Agent"], Roles((await h.MappingAsync("u-jo")).ScimId!));
    }

    [Fact]
    public async Task AtStart_ARuleGroupMissingFromEntra_StopsTheHostNamingTheSettingAndRule_AnUnreadableDirectoryDoesNot()
    {
        const string Missing = "0b5a7c2e-9999-4c3e-9a51-000000000009";
        await StartAsync();
        var rules = ScimFunctions.Provisioning.Sync.Entitlements.EntitlementRules.Parse($$"""
            { "rules": [ { "group": "{{Billing}}", "roles": ["Agent"] }, { "group": "{{Missing}}", "roles": ["Agent"] } ] }
            """);
        using var resolver = new ScimFunctions.Provisioning.Sync.Entitlements.EntitlementResolver(rules, h.Directory, h.Time, 60);
        var check = new ScimFunctions.Provisioning.Sync.Entitlements.EntitlementGroupCheck(resolver, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => check.StartAsync(CancellationToken.None));
        h.Graph.FailNext(503, count: 20, pathContains: "/groups/");
        await check.StartAsync(CancellationToken.None);

        Assert.Equal($"Setting Sync__Entitlements: rule 1 (group {Missing}) names a group that does not exist in Entra.", ex.Message);
    }

    [Fact]
    public async Task ARuleNamingItsGroupByDisplayName_IsResolvedOnce_AndGrantsTheSkillOnJoin()
    {
        // The harness runs no start check (the host's EntitlementGroupCheck), so this is also the "directory
        // was unavailable at start" path: the first convergence resolves the name, and it stays resolved.
        await StartAsync(rules: """{ "rules": [ { "group": "billing agents", "skills": [ { "name": "Billing", "proficiency": 3 } ] } ] }""");
        h.AddUser("u-nia", "nia@contoso.com", "Nia");
        await h.NotifyAsync("u-nia");
        await h.DrainAsync();
        var scimId = (await h.MappingAsync("u-nia")).ScimId!;
        Assert.Equal(1, h.Graph.Requests.Count(r => r.Path == "/v1.0/groups")); // the displayName lookup
        h.ResetCounters();

        h.Graph.AddMember(Billing, "u-nia");
        var settled = await GroupChangedAsync(Billing);

        Assert.Equal(0, h.Graph.Requests.Count(r => r.Path == "/v1.0/groups"));
        Assert.All(settled, s => Assert.Equal("complete", s.Settlement));
        Assert.Equal(1, h.ScimCount("PATCH"));
        Assert.Equal(new Dictionary<string, double> { ["Billing"] = 3 }, Routing(scimId, "routingSkills"));
    }

    [Fact]
    public async Task AtStart_ARuleGroupDisplayName_MatchingNoneOrTwoGroups_StopsTheHostNamingTheRuleAndName()
    {
        await StartAsync();
        h.Graph.AddGroup("0b5a7c2e-3333-4c3e-9a51-000000000003", "Billing Agents"); // a second group of the same name
        async Task<string> StartFailure(string json)
        {
            var rules = ScimFunctions.Provisioning.Sync.Entitlements.EntitlementRules.Parse(json);
            using var resolver = new ScimFunctions.Provisioning.Sync.Entitlements.EntitlementResolver(rules, h.Directory, h.Time, 60);
            var check = new ScimFunctions.Provisioning.Sync.Entitlements.EntitlementGroupCheck(resolver, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
            return (await Assert.ThrowsAsync<InvalidOperationException>(() => check.StartAsync(CancellationToken.None))).Message;
        }

        var none = await StartFailure("""{ "rules": [ { "group": "Billing Agent", "roles": ["Agent"] } ] }""");
        var two = await StartFailure("""{ "rules": [ { "group": "Senior Billing", "roles": ["Agent"] }, { "group": "BILLING AGENTS", "roles": ["Agent"] } ] }""");

        Assert.Equal("Setting Sync__Entitlements: rule 0 (group 'Billing Agent'): no Entra group has the displayName 'Billing Agent'.", none);
        Assert.Equal("Setting Sync__Entitlements: rule 1 (group 'BILLING AGENTS'): 2 Entra groups have the displayName 'BILLING AGENTS'; give the group's object id instead.", two);
    }

    [Fact]
    public async Task AnUnknownSkillName_IsAPermanentFailure_DeadLetteredWithTheName_AndShownInStatus()
    {
        await StartAsync(
            rules: $$"""{ "rules": [ { "group": "{{Billing}}", "skills": [ { "name": "Biling", "proficiency": 3 } ] } ] }""",
            emulator: o => o.RoutingSkills = ["Billing"]);
        var scimId = await ProvisionAsync("u-gus", "gus@contoso.com");

        h.Graph.AddMember(Billing, "u-gus");
        var settled = await GroupChangedAsync(Billing);

        var dead = Assert.Single(settled, s => s.Settlement == "deadletter");
        Assert.Equal(FailureReasons.TargetRejectedValue, dead.DeadLetterReason);
        Assert.Contains("'Biling'", dead.DeadLetterDescription, StringComparison.Ordinal);
        Assert.Equal(1, h.ScimCount("PATCH"));
        Assert.Empty(Routing(scimId, "routingSkills"));
        var status = await h.Engine.GetStatusAsync();
        Assert.Contains(status.Failures, f => f.ObjectId == "u-gus" && f.Error.Contains("'Biling'", StringComparison.Ordinal));
    }
}
