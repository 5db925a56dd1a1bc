using System.Text.Json;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.Tests.Cli;

public sealed class CliSyncOutputTests
{
    private static readonly string[] ContractFields =
    [
        "created", "updated", "disabled", "deleted", "unchanged", "groupsUpdated", "membersAdded", "membersRemoved",
        "failed", "staged", "scimRequests", "scimWrites",
    ];

    [Fact]
    public async Task Sync_Converged_ExitsZero_AndPrintsTheCounts()
    {
        var harness = new CliHarness();

        var run = await harness.RunAsync(CliHarness.SyncArgs());

        Assert.Equal(0, run.ExitCode);
        Assert.False(harness.Engines.DryRun);
        Assert.Contains("280 created, 3 updated, 5 disabled, 0 deleted, 12 unchanged", run.Output, StringComparison.Ordinal);
        Assert.Contains("18 updated, 400 members added, 2 members removed", run.Output, StringComparison.Ordinal);
        Assert.Contains("620 requests, 310 writes", run.Output, StringComparison.Ordinal);
        Assert.Equal("", run.Error);
    }

    [Fact]
    public async Task Sync_WithAFailedObject_ExitsTwo_AndListsIt()
    {
        var harness = new CliHarness();
        harness.Engines.Summary = Summaries.WithFailure();

        var run = await harness.RunAsync(CliHarness.SyncArgs());

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("failed (1):", run.Output, StringComparison.Ordinal);
        Assert.Contains("user u-2: the target rejects phoneNumbers[work]", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sync_WithStagedActions_ExitsTwo_AndListsThemWithWhatToDoNext()
    {
        var harness = new CliHarness();
        harness.Engines.Summary = Summaries.WithStaged();

        var run = await harness.RunAsync(CliHarness.SyncArgs());

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("staged (2 destructive actions held", run.Output, StringComparison.Ordinal);
        Assert.Contains("scimfn staged release", run.Output, StringComparison.Ordinal);
        Assert.Contains("user u-7: disable held", run.Output, StringComparison.Ordinal);
        Assert.Contains("user u-8: disable held", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sync_Json_LastLineIsOneObjectWithEveryContractField()
    {
        var harness = new CliHarness();
        harness.Engines.Summary = Summaries.WithStaged();

        var run = await harness.RunAsync(CliHarness.SyncArgs("--json"));

        Assert.Equal(2, run.ExitCode);
        using var document = JsonDocument.Parse(run.OutputLines[^1]);
        var root = document.RootElement;
        foreach (var field in ContractFields)
        {
            Assert.Equal(JsonValueKind.Number, root.GetProperty(field).ValueKind);
        }

        Assert.Equal(2, root.GetProperty("staged").GetInt32());
        Assert.Equal(10, root.GetProperty("unchanged").GetInt32());
        Assert.Equal(2, root.GetProperty("stagedActions").GetArrayLength());
        Assert.False(root.GetProperty("dryRun").GetBoolean());
    }

    [Fact]
    public async Task Sync_Json_ListsFailures_AndOmitsTheOperationsOfARealRun()
    {
        var harness = new CliHarness();
        harness.Engines.Summary = Summaries.WithFailure();

        var run = await harness.RunAsync(CliHarness.SyncArgs("--json"));

        Assert.Equal(2, run.ExitCode);
        var root = JsonDocument.Parse(Assert.Single(run.OutputLines)).RootElement;
        var failure = Assert.Single(root.GetProperty("failures").EnumerateArray().ToList());
        Assert.Equal("u-2", failure.GetProperty("id").GetString());
        Assert.False(root.TryGetProperty("operations", out _));
    }

    [Fact]
    public async Task Sync_OnATerminal_ShowsProgressOnStandardError_WithCountsAndRate()
    {
        var harness = new CliHarness { Terminal = true };
        harness.Engines.ProgressToReport.Add(new SyncProgress("users", 0, 300));
        harness.Engines.ProgressToReport.Add(new SyncProgress("users", 300, 300));

        var run = await harness.RunAsync(CliHarness.SyncArgs());

        Assert.Equal(0, run.ExitCode);
        Assert.True(harness.Engines.ProgressGiven);
        Assert.Contains("users: 300/300 (100 %)", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("users: 300/300", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sync_Json_StaysQuiet_EvenOnATerminal()
    {
        var harness = new CliHarness { Terminal = true };
        harness.Engines.ProgressToReport.Add(new SyncProgress("users", 1, 2));

        var run = await harness.RunAsync(CliHarness.SyncArgs("--json"));

        Assert.Equal(0, run.ExitCode);
        Assert.False(harness.Engines.ProgressGiven);
        Assert.Equal("", run.Error);
        Assert.Single(run.OutputLines);
    }

    [Fact]
    public async Task Sync_NotATerminal_GivesNoProgress()
    {
        var harness = new CliHarness { Terminal = false };

        await harness.RunAsync(CliHarness.SyncArgs());

        Assert.False(harness.Engines.ProgressGiven);
    }

    [Fact]
    public async Task Sync_DryRun_AsksTheEngineForADryRun_AndSaysNothingWasWritten()
    {
        var harness = new CliHarness();

        var run = await harness.RunAsync(CliHarness.SyncArgs("--dry-run"));

        Assert.Equal(0, run.ExitCode);
        Assert.True(harness.Engines.DryRun);
        Assert.Contains("dry run: nothing was written", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plan_IsADryRun_PrintingATableOfOperationsAndReasons()
    {
        var harness = new CliHarness();
        harness.Engines.Summary = Summaries.Converged(
        [
            new PlannedOperation(ObjectKind.Group, "g-1", PlanAction.AddMembers, "members joined in Entra", "+3"),
            new PlannedOperation(ObjectKind.User, "u-1", PlanAction.Create, "new in scope"),
            new PlannedOperation(ObjectKind.User, "u-2", PlanAction.Update, "department changed", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"),
            new PlannedOperation(ObjectKind.User, "u-3", PlanAction.None, "unchanged"),
        ]);
        harness.Engines.UserNames["u-1"] = "alex.new@contoso.com";
        var args = CliHarness.SyncArgs();
        args[0] = "plan";

        var run = await harness.RunAsync(args);

        Assert.Equal(0, run.ExitCode);
        Assert.True(harness.Engines.DryRun);
        var lines = run.OutputLines;
        Assert.Matches("^KIND +OBJECT +ACTION +REASON +DETAIL$", lines[0]);
        Assert.Matches("^user +alex.new@contoso.com +create +new in scope$", lines[1]);
        Assert.Matches("^user +u-2 +update +department changed +enterprise:department$", lines[2]);
        Assert.Matches("^group +g-1 +add-members +members joined in Entra +\\+3$", lines[3]);
        Assert.DoesNotContain(lines, l => l.Contains("u-3", StringComparison.Ordinal));
        Assert.Contains("3 operations; 1 objects unchanged.", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plan_Json_CarriesTheOperations()
    {
        var harness = new CliHarness();
        harness.Engines.Summary = Summaries.Converged([new PlannedOperation(ObjectKind.User, "u-1", PlanAction.Create, "new in scope")]);
        var args = CliHarness.SyncArgs("--json");
        args[0] = "plan";

        var run = await harness.RunAsync(args);

        var root = JsonDocument.Parse(run.OutputLines[^1]).RootElement;
        Assert.True(root.GetProperty("dryRun").GetBoolean());
        Assert.Equal("create", root.GetProperty("operations")[0].GetProperty("action").GetString());
    }

    [Fact]
    public async Task Sync_DirectoryUnavailable_ExitsOne_WithOneLine()
    {
        var harness = new CliHarness();
        harness.Engines.Throw = new DirectoryUnavailableException("snapshot contoso-day1.json: line 3: unexpected end of data", isTransient: false);

        var run = await harness.RunAsync(CliHarness.SyncArgs());

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("scimfn: directory: snapshot contoso-day1.json: line 3: unexpected end of data", Assert.Single(run.ErrorLines));
    }

    [Fact]
    public async Task Sync_TargetRefusesTheCredentials_ExitsOneBeforeTouchingAnyone()
    {
        var harness = new CliHarness();
        harness.Engines.TargetProblem = "the target refused the credentials (--genesys-client-id/--genesys-client-secret or --scim-token): 401";

        var run = await harness.RunAsync(CliHarness.SyncArgs("--json"));

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("scimfn: the target refused the credentials", Assert.Single(run.ErrorLines), StringComparison.Ordinal);
        Assert.Empty(harness.Engines.Calls);
        Assert.Equal("", run.Output);
    }
}
