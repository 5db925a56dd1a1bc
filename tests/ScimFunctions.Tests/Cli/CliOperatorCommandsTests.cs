using System.Text.Json;
using System.Text.Json.Nodes;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.State;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.Tests.Cli;

public sealed class CliOperatorCommandsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    private static SyncStatus TroubledStatus() => new(
        new Dictionary<string, int> { ["Active"] = 280, ["Disabled"] = 5, ["Deleted"] = 1, ["Failed"] = 1 },
        new Dictionary<string, int> { ["Managed"] = 18, ["Unmatched"] = 2, ["Removed"] = 0 },
        Now.AddMinutes(-5),
        null,
        [new GraphSubscription("sub-1", "/users", Now.AddDays(2))],
        [new StatusFailure(ObjectKind.User, "u-9", "InvalidValue: the target rejects title", Now.AddHours(-1))],
        [new StagedAction("u-7", PlanAction.Disable, "threshold reached", Now.AddMinutes(-30), "scim-7")],
        new DestructiveHold(Now.AddMinutes(-30), "501 destructive actions in the last hour"),
        ["Finance Approvers", "Legal Hold"]);

    [Fact]
    public async Task Status_ShowsStatesSweepsSubscriptionsFailuresAndStaged_AndExitsTwo()
    {
        var harness = new CliHarness();
        harness.Time.SetUtcNow(Now);
        harness.Engines.Status = TroubledStatus();

        var run = await harness.RunAsync("status");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("280 active, 5 disabled, 1 deleted, 1 failed", run.Output, StringComparison.Ordinal);
        Assert.Contains("18 managed, 2 unmatched", run.Output, StringComparison.Ordinal);
        Assert.Contains("users 2026-11-27 11:55:00Z (5 min ago); groups never", run.Output, StringComparison.Ordinal);
        Assert.Contains("/users expires 2026-11-29 12:00:00Z (in 2 d)", run.Output, StringComparison.Ordinal);
        Assert.Contains("held since 2026-11-27 11:30:00Z (30 min ago): 501 destructive actions", run.Output, StringComparison.Ordinal);
        Assert.Matches("(?m)^u-7 +disable +2026-11-27 11:30:00Z \\(30 min ago\\) +threshold reached$", run.Output);
        Assert.Matches("(?m)^user +u-9 +.+ +InvalidValue: the target rejects title$", run.Output);
        Assert.Contains("Finance Approvers, Legal Hold", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_NeedsOnlyTheState_AndBuildsAnOfflineEngine()
    {
        var harness = new CliHarness();

        var run = await harness.RunAsync("status", "--state", "UseDevelopmentStorage=true");

        Assert.Equal(0, run.ExitCode);
        Assert.False(harness.Engines.Settings!.Connected);
        Assert.Equal(["status"], harness.Engines.Calls);
    }

    [Fact]
    public async Task Status_RejectsTargetOptions()
    {
        var run = await new CliHarness().RunAsync("status", "--scim-url", "https://api.mypurecloud.com/api/v2/scim/v2");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("--scim-url", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_Json_IsOneObject()
    {
        var harness = new CliHarness();
        harness.Engines.Status = TroubledStatus();

        var run = await harness.RunAsync("status", "--json");

        var root = JsonDocument.Parse(Assert.Single(run.OutputLines)).RootElement;
        Assert.Equal(280, root.GetProperty("usersByState").GetProperty("Active").GetInt32());
        Assert.Equal("u-7", root.GetProperty("staged")[0].GetProperty("id").GetString());
        Assert.Equal("InvalidValue: the target rejects title", root.GetProperty("failures")[0].GetProperty("error").GetString());
        Assert.Equal("501 destructive actions in the last hour", root.GetProperty("hold").GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Explain_ShowsScopeMappingDecisionDiffAndPatch()
    {
        var harness = new CliHarness();
        harness.Engines.Explanation = new UserExplanation(
            "nadia.singh@contoso.com", "u-1", true, true, null,
            new Dictionary<string, string> { ["userName"] = "nadia.singh@contoso.com", [ScimSchemas.EnterpriseUser + ":department"] = "Sales" },
            new Dictionary<string, string> { ["userName"] = "nadia.carter@contoso.com", [ScimSchemas.EnterpriseUser + ":department"] = "Sales" },
            ["userName"],
            [ScimPatchOperation.Replace("userName", JsonValue.Create("nadia.singh@contoso.com"))],
            null,
            [new PlannedOperation(ObjectKind.User, "u-1", PlanAction.Update, "changed: userName", "userName")],
            new UserMapping("u-1", "scim-1", "\"3\"", "hash", null, LifecycleState.Active, null, MappingOrigin.Adopted));

        var run = await harness.RunAsync(CliHarness.SyncArgs() is var args ? ["explain", "nadia.singh@contoso.com", .. args[1..]] : []);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(["explain nadia.singh@contoso.com"], harness.Engines.Calls);
        Assert.Contains("(object id u-1)", run.Output, StringComparison.Ordinal);
        Assert.Contains("in scope", run.Output, StringComparison.Ordinal);
        Assert.Contains("SCIM id scim-1, active, adopted by this connector, version \"3\"", run.Output, StringComparison.Ordinal);
        Assert.Matches("(?m)^update +changed: userName +userName$", run.Output);
        Assert.Matches("(?m)^\\* +userName +nadia.singh@contoso.com +nadia.carter@contoso.com$", run.Output);
        Assert.Matches("(?m)^ +enterprise:department +Sales +Sales$", run.Output);
        Assert.Contains("replace userName \"nadia.singh@contoso.com\"", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Explain_WithoutAUser_ExitsOne()
    {
        var run = await new CliHarness().RunAsync(["explain", .. CliHarness.SyncArgs()[1..]]);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("USER", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Explain_Json_CarriesTheProjectionAndOperations()
    {
        var harness = new CliHarness();
        harness.Engines.Explanation = new UserExplanation("ghost@contoso.com", null, false, false, "not found in the directory", null, null, [], [], null,
            [new PlannedOperation(ObjectKind.User, "ghost@contoso.com", PlanAction.Skip, "not found in the directory")], null);

        var run = await harness.RunAsync(["explain", "ghost@contoso.com", "--json", .. CliHarness.SyncArgs()[1..]]);

        Assert.Equal(0, run.ExitCode);
        var root = JsonDocument.Parse(run.OutputLines[^1]).RootElement;
        Assert.False(root.GetProperty("foundInDirectory").GetBoolean());
        Assert.Equal("skip", root.GetProperty("operations")[0].GetProperty("action").GetString());
    }

    [Fact]
    public async Task StagedRelease_RunsTheEngine_AndExitsTwoWhenSomethingFailed()
    {
        var harness = new CliHarness();
        harness.Engines.Summary = Summaries.WithFailure();

        var run = await harness.RunAsync(["staged", "release", .. CliHarness.SyncArgs()[1..]]);

        Assert.Equal(2, run.ExitCode);
        Assert.Equal(["release"], harness.Engines.Calls);
        Assert.Contains("Staged actions released", run.Output, StringComparison.Ordinal);
        Assert.Contains("user u-2: the target rejects phoneNumbers[work]", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StagedDiscard_NeedsOnlyTheState_AndListsWhatWasDropped()
    {
        var harness = new CliHarness();
        harness.Engines.Summary = Summaries.Converged([new PlannedOperation(ObjectKind.User, "u-7", PlanAction.Skip, "staged disable discarded by the operator")]);

        var run = await harness.RunAsync("staged", "discard");

        Assert.Equal(0, run.ExitCode);
        Assert.False(harness.Engines.Settings!.Connected);
        Assert.Equal(["discard"], harness.Engines.Calls);
        Assert.Contains("Discarded 1 staged action(s); the hold is lifted.", run.Output, StringComparison.Ordinal);
        Assert.Contains("user u-7: staged disable discarded by the operator", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Staged_WithoutReleaseOrDiscard_ExitsOne()
    {
        var run = await new CliHarness().RunAsync("staged");

        Assert.Equal(1, run.ExitCode);
    }
}
