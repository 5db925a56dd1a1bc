using System.Text.Json.Nodes;
using ScimFunctions.Cli;
using ScimFunctions.Provisioning.State;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.Tests.Cli;

/// <summary><c>scimfn history</c> and groups shown by name in plan, status and explain (fake engine).</summary>
public sealed class CliHistoryTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static UserHistoryReport Report(params HistoryEntry[] entries) => new(
        "ann@contoso.com", "u-ann",
        new UserMapping("u-ann", "scim-ann", "\"3\"", null, null, LifecycleState.Active, null, MappingOrigin.Created),
        entries, 30,
        new GroupNameBook(new Dictionary<string, GroupName> { ["g-sales"] = new("g-sales", "Sales Team", "Sales EMEA", "tg-1") }));

    private static HistoryEntry[] Entries() =>
    [
        new("u-ann", Now.AddMinutes(-5), HistoryAction.AddedToGroup, HistoryTrigger.FollowUp, "membership differs", GroupId: "g-sales", TargetGroupId: "tg-1", CorrelationIds: ["c-3"]),
        new("u-ann", Now.AddMinutes(-10), HistoryAction.Updated, HistoryTrigger.Sweep, "changed: title", ["title", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"], CorrelationIds: ["c-1", "c-2"]),
        new("u-ann", Now.AddHours(-3), HistoryAction.Created, HistoryTrigger.Notification, "new in scope", CorrelationIds: ["c-0"]),
    ];

    [Fact]
    public async Task History_PrintsEveryActionNewestFirst_WithTriggerGroupNamesAndCorrelationIds()
    {
        var harness = new CliHarness();
        harness.Time.SetUtcNow(Now);
        harness.Engines.History = Report(Entries());

        var run = await harness.RunAsync("history", "u-ann");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(["history u-ann"], harness.Engines.Calls);
        Assert.False(harness.Engines.Settings!.Connected); // an object id needs Table Storage only
        var lines = run.OutputLines;
        Assert.Contains("User:     u-ann (ann@contoso.com)", lines);
        Assert.Contains("Mapping:  SCIM id scim-ann, active, created by this connector", lines);
        Assert.Contains("History:  3 action(s) in the last 30 days, newest first", lines);
        var table = lines.SkipWhile(l => !l.StartsWith("WHEN", StringComparison.Ordinal)).ToList();
        Assert.Matches("^WHEN +ACTION +TRIGGER +DETAIL +CORRELATION ID$", table[0]);
        Assert.Matches("^2026-12-01 11:55:00Z \\(5 min ago\\) +added-to-group +follow-up +Sales Team \\(target \"Sales EMEA\"\\) +c-3$", table[1]);
        Assert.Matches("^2026-12-01 11:50:00Z \\(10 min ago\\) +updated +sweep +title, enterprise:department +c-2 \\(\\+1\\)$", table[2]);
        Assert.Matches("^2026-12-01 09:00:00Z \\(3 h ago\\) +created +notification +new in scope +c-0$", table[3]);
    }

    [Fact]
    public async Task History_Json_HasIdsNamesAndEveryCorrelationId()
    {
        var harness = new CliHarness();
        harness.Engines.History = Report(Entries());

        var run = await harness.RunAsync("history", "u-ann", "--json");

        Assert.Equal(0, run.ExitCode);
        var json = JsonNode.Parse(run.OutputLines[^1])!;
        Assert.Equal("u-ann", (string?)json["objectId"]);
        Assert.True((bool)json["found"]!);
        Assert.Equal(30, (int)json["historyDays"]!);
        var entries = json["entries"]!.AsArray();
        Assert.Equal(["added-to-group", "updated", "created"], entries.Select(e => (string?)e!["action"]));
        Assert.Equal(["follow-up", "sweep", "notification"], entries.Select(e => (string?)e!["trigger"]));
        Assert.Equal(("g-sales", "Sales Team", "tg-1", "Sales EMEA"), ((string?)entries[0]!["groupId"], (string?)entries[0]!["groupName"], (string?)entries[0]!["targetGroupId"], (string?)entries[0]!["targetGroupName"]));
        Assert.Equal(["c-1", "c-2"], entries[1]!["correlationIds"]!.AsArray().Select(c => (string?)c));
        Assert.Equal(2, entries[1]!["attributes"]!.AsArray().Count);
    }

    [Theory]
    [InlineData(HistoryAction.Failed)]
    [InlineData(HistoryAction.Staged)]
    public async Task History_LatestActionFailedOrStaged_ExitsTwo(HistoryAction latest)
    {
        var harness = new CliHarness();
        harness.Engines.History = Report([new("u-ann", Now, latest, HistoryTrigger.Notification, "TargetRejectedValue: division"), .. Entries()]);

        var run = await harness.RunAsync("history", "u-ann");

        Assert.Equal(2, run.ExitCode);
    }

    [Fact]
    public async Task History_UnknownUser_ExitsTwo_AndSaysSo()
    {
        var harness = new CliHarness();
        harness.Engines.History = new UserHistoryReport("nobody@contoso.com", null, null, [], 30, GroupNameBook.Empty);

        var run = await harness.RunAsync(CliHarness.SyncArgs().Skip(1).Prepend("nobody@contoso.com").Prepend("history").ToArray());

        Assert.Equal(2, run.ExitCode);
        Assert.True(harness.Engines.Settings!.Connected); // a userPrincipalName is looked up in the directory
        Assert.Contains("'nobody@contoso.com' is not found in the directory", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task History_NoRows_SaysSo_AndExitsZero()
    {
        var harness = new CliHarness();
        harness.Engines.History = Report();

        var run = await harness.RunAsync("history", "u-ann");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("History:  no actions in the last 30 days (Sync__HistoryDays).", run.OutputLines);
    }

    [Fact]
    public async Task Plan_ShowsGroupsByName_AndItsJsonAddsTheNameNextToTheId()
    {
        var harness = new CliHarness();
        harness.Engines.Summary = Summaries.Converged([new PlannedOperation(ObjectKind.Group, "g-1", PlanAction.AddMembers, "membership differs", "3 member(s) to target group tg-1")]) with
        {
            GroupNames = new Dictionary<string, string> { ["g-1"] = "Sales Team" },
        };
        harness.Engines.GroupNames["g-1"] = ("Sales Team", "Sales EMEA");
        var args = CliHarness.SyncArgs();
        args[0] = "plan";

        var text = await harness.RunAsync(args);
        var json = await harness.RunAsync([.. args, "--json"]);

        Assert.Matches("(?m)^group +Sales Team \\(target \"Sales EMEA\"\\) +add-members +membership differs", text.Output);
        var operation = JsonNode.Parse(json.OutputLines[^1])!["operations"]!.AsArray().Single()!;
        Assert.Equal(("g-1", "Sales Team", "Sales EMEA"), ((string?)operation["id"], (string?)operation["name"], (string?)operation["targetName"]));
    }

    [Fact]
    public async Task Status_ShowsAFailedGroupByNameWithItsId()
    {
        var harness = new CliHarness();
        harness.Engines.Status = new SyncStatus(
            new Dictionary<string, int> { ["Active"] = 1 }, new Dictionary<string, int> { ["Managed"] = 1 }, null, null, [],
            [new StatusFailure(ObjectKind.Group, "g-1", "TargetRejectedValue: members", Now)], [], null, []);
        harness.Engines.GroupNames["g-1"] = ("Sales Team", null);

        var text = await harness.RunAsync("status");
        var json = await harness.RunAsync("status", "--json");

        Assert.Equal(2, text.ExitCode);
        Assert.Matches("(?m)^group +Sales Team \\(g-1\\) +.+TargetRejectedValue: members$", text.Output);
        var failure = JsonNode.Parse(json.OutputLines[^1])!["failures"]!.AsArray().Single()!;
        Assert.Equal(("g-1", "Sales Team"), ((string?)failure["id"], (string?)failure["name"]));
    }

    [Theory]
    [InlineData("g-1", "Sales Team", null, "Sales Team")]
    [InlineData("g-1", "Sales Team", "Sales EMEA", "Sales Team (target \"Sales EMEA\")")]
    [InlineData("g-1", null, null, "g-1")]
    public void GroupLabel_ReadsAsAPersonWould(string id, string? entra, string? target, string expected) =>
        Assert.Equal(expected, new GroupName(id, entra, target ?? entra, null).Label);

    [Fact]
    public void TargetName_FollowsTheGroupMap_ByIdThenByName_AndNotAnIdEntry()
    {
        var map = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["g-1"] = "Sales EMEA", ["Support"] = "Support Tier 1", ["g-3"] = "id:abc" };

        Assert.Equal("Sales EMEA", GroupName.TargetNameOf(map, "g-1", "Sales Team"));
        Assert.Equal("Support Tier 1", GroupName.TargetNameOf(map, "g-2", "Support"));
        Assert.Null(GroupName.TargetNameOf(map, "g-3", "Legal"));
        Assert.Equal("Finance", GroupName.TargetNameOf(map, "g-4", "Finance"));
    }
}
