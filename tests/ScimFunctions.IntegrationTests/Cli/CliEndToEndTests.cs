using System.Text.Json.Nodes;
using GenesysScimEmulator;
using GenesysScimEmulator.State;
using ScimFunctions.IntegrationTests.Engine.Support;

namespace ScimFunctions.IntegrationTests.Cli;

/// <summary>scimfn against the Genesys emulator and Azurite, with the bundled Contoso samples.</summary>
[Collection(CliCollection.Name)]
public sealed class CliEndToEndTests(AzuriteFixture azurite)
{
    private readonly CliTestBed bed = new(azurite);

    private static readonly string[] ContractFields =
    [
        "created", "updated", "disabled", "deleted", "unchanged", "groupsUpdated", "membersAdded", "membersRemoved",
        "failed", "staged", "scimRequests", "scimWrites",
    ];

    [Fact]
    public async Task Sync_Day1ThenDay2ThenDay2Again_ConvergesTheTarget_AndTheLastRunWritesNothing()
    {
        await using var emulator = await CliTestBed.StartEmulatorAsync();
        var scimfn = bed.Session(emulator);

        var day1 = await scimfn.SyncAsync(CliTestBed.Day1, "--json");

        Assert.True(day1.ExitCode == 0, day1.ToString());
        foreach (var field in ContractFields)
        {
            Assert.True(day1.Json[field] is JsonValue value && value.TryGetValue<long>(out _), $"{field} missing from {day1.OutputLines[^1]}");
        }

        var enabledDay1 = Users(CliTestBed.Day1).Count(u => u["accountEnabled"]!.GetValue<bool>());
        Assert.Equal(enabledDay1, day1.Field("created"));
        Assert.Equal(0, day1.Field("failed"));
        Assert.Equal(enabledDay1, Target(emulator).Users.Count);
        Assert.Equal(Members(CliTestBed.Day1, "Queue - Billing"), Target(emulator).Members("Queue - Billing"));

        var plan2 = await scimfn.SyncAsync(CliTestBed.Day2, "--dry-run", "--json");
        var day2 = await scimfn.SyncAsync(CliTestBed.Day2, "--json");

        Assert.True(day2.ExitCode == 0, day2.ToString());
        // The plan promises what the run then does, group removals of its leavers included.
        foreach (var field in (string[])["created", "updated", "disabled", "groupsUpdated", "membersAdded", "membersRemoved"])
        {
            Assert.True(plan2.Field(field) == day2.Field(field), $"{field}: plan {plan2.Field(field)}, run {day2.Field(field)}");
        }

        Assert.Equal(10, day2.Field("created")); // nine joiners and the re-hire
        Assert.Equal(6, day2.Field("disabled")); // three removed, three disabled
        Assert.True(day2.Field("updated") >= 10, day2.OutputLines[^1]);
        Assert.True(day2.Field("membersRemoved") > 0 && day2.Field("membersAdded") > 0, day2.OutputLines[^1]);
        var target = Target(emulator);
        var renamed = target.User(Id(CliTestBed.Day2, "nadia.carter@contoso.com"));
        Assert.Equal("nadia.carter@contoso.com", renamed["userName"]!.GetValue<string>());
        Assert.False(target.User(Id(CliTestBed.Day1, "kenji.thomas@contoso.com"))["active"]!.GetValue<bool>());
        Assert.Equal(Members(CliTestBed.Day2, "Queue - Returns"), target.Members("Queue - Returns"));

        var writesBefore = Writes(emulator);
        var again = await scimfn.SyncAsync(CliTestBed.Day2, "--json");

        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal(0, again.Field("scimWrites"));
        Assert.Equal(0, again.Field("created") + again.Field("updated") + again.Field("disabled") + again.Field("deleted") + again.Field("groupsUpdated"));
        Assert.Equal(writesBefore, Writes(emulator));

        // What the operator sees afterwards.
        var status = await scimfn.RunAsync("status", "--state", bed.StateConnection);
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Contains($"{Users(CliTestBed.Day2).Count(u => u["accountEnabled"]!.GetValue<bool>())} active, 6 disabled", status.Output, StringComparison.Ordinal);

        var unchanged = await scimfn.RunAsync(["explain", "nadia.carter@contoso.com", .. scimfn.Connection(CliTestBed.Day2)]);
        Assert.True(unchanged.ExitCode == 0, unchanged.ToString());
        Assert.Matches("(?m)^none +", unchanged.Output);

        var rename = await scimfn.RunAsync(["explain", "nadia.singh@contoso.com", "--json", .. scimfn.Connection(CliTestBed.Day1)]);
        Assert.True(rename.ExitCode == 0, rename.ToString());
        Assert.Contains("userName", rename.Json["changedPaths"]!.AsArray().Select(p => p!.GetValue<string>()));
        Assert.Equal("update", rename.Json["operations"]![0]!["action"]!.GetValue<string>());
    }

    [Fact]
    public async Task SyncDryRun_And_Plan_WriteNothingAnywhere()
    {
        await using var emulator = await CliTestBed.StartEmulatorAsync();
        var scimfn = bed.Session(emulator);
        var slice = CliTestBed.Slice(CliTestBed.Day1, 40);

        var dryRun = await scimfn.SyncAsync(slice, "--dry-run", "--json");
        var plan = await scimfn.RunAsync(["plan", .. scimfn.Connection(slice)]);

        Assert.True(dryRun.ExitCode == 0, dryRun.ToString());
        Assert.True(dryRun.Field("created") >= 35, dryRun.OutputLines[^1]);
        Assert.Equal(0, dryRun.Field("scimWrites"));
        Assert.True(plan.ExitCode == 0, plan.ToString());
        Assert.Matches("^KIND +OBJECT +ACTION +REASON", plan.OutputLines[0]);
        Assert.Contains("dry run: nothing was written", plan.Output, StringComparison.Ordinal);
        Assert.Empty(Target(emulator).Users);
        Assert.Equal(0, Writes(emulator));
        var status = await scimfn.RunAsync("status", "--state", bed.StateConnection);
        Assert.Contains("Users:         0 active, 0 disabled, 0 deleted, 0 failed", status.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sync_WhenTheTargetRejectsAUser_ExitsTwo_ListsIt_AndStatusShowsItsError()
    {
        await using var emulator = await CliTestBed.StartEmulatorAsync();
        var scimfn = bed.Session(emulator);
        var slice = CliTestBed.Slice(CliTestBed.Day1, 8);
        emulator.State.Faults.Set(new FaultSettings { ErrorCount = 1, ErrorStatuses = [400], Methods = ["POST"], Kinds = ["users"] });

        var run = await scimfn.SyncAsync(slice);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("failed (1):", run.Output, StringComparison.Ordinal);
        Assert.Equal(7, Target(emulator).Users.Count);

        var status = await scimfn.RunAsync("status", "--state", bed.StateConnection, "--json");
        Assert.Equal(2, status.ExitCode);
        Assert.Single(status.Json["failures"]!.AsArray());
    }

    [Fact]
    public async Task Sync_BeyondTheThreshold_StagesLeavers_UntilTheOperatorReleasesThem()
    {
        await using var emulator = await CliTestBed.StartEmulatorAsync();
        var scimfn = bed.Session(emulator);
        scimfn.Settings["Sync__Threshold__MaxActionsPerHour"] = "5";
        var before = CliTestBed.Slice(CliTestBed.Day1, 40, u => u["accountEnabled"]!.GetValue<bool>());
        var after = CliTestBed.Slice(before, 27);
        Assert.True((await scimfn.SyncAsync(before)).ExitCode == 0);

        var leavers = await scimfn.SyncAsync(after, "--json");

        Assert.True(leavers.ExitCode == 2, leavers.ToString());
        Assert.Equal(5, leavers.Field("disabled"));
        Assert.Equal(7, leavers.Field("staged"));
        Assert.Equal(7, leavers.Json["stagedActions"]!.AsArray().Count);
        var held = await scimfn.RunAsync("status", "--state", bed.StateConnection);
        Assert.Equal(2, held.ExitCode);
        Assert.Contains("Staged actions (7)", held.Output, StringComparison.Ordinal);

        var release = await scimfn.RunAsync(["staged", "release", .. scimfn.Connection(after)]);

        Assert.True(release.ExitCode == 0, release.ToString());
        Assert.Contains("7 disabled", release.Output, StringComparison.Ordinal);
        Assert.Equal(12, Target(emulator).Users.Count(u => !u["active"]!.GetValue<bool>()));
        var clear = await scimfn.RunAsync("status", "--state", bed.StateConnection);
        Assert.True(clear.ExitCode == 0, clear.ToString());
        Assert.Contains("Hold:          none", clear.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StagedDiscard_DropsTheHeldActions_WithoutTouchingTheTarget()
    {
        await using var emulator = await CliTestBed.StartEmulatorAsync();
        var scimfn = bed.Session(emulator);
        scimfn.Settings["Sync__Threshold__MaxActionsPerHour"] = "1";
        var before = CliTestBed.Slice(CliTestBed.Day1, 20, u => u["accountEnabled"]!.GetValue<bool>());
        Assert.True((await scimfn.SyncAsync(before)).ExitCode == 0);
        Assert.Equal(2, (await scimfn.SyncAsync(CliTestBed.Slice(before, 16))).ExitCode);
        var requests = emulator.State.Counters.Total;

        var discard = await scimfn.RunAsync("staged", "discard", "--state", bed.StateConnection);

        Assert.True(discard.ExitCode == 0, discard.ToString());
        Assert.Contains("Discarded 3 staged action(s)", discard.Output, StringComparison.Ordinal);
        Assert.Equal(requests, emulator.State.Counters.Total);
        Assert.Equal(0, (await scimfn.RunAsync("status", "--state", bed.StateConnection)).ExitCode);
    }

    [Fact]
    public async Task Sync_WithTheSampleEntitlementRules_GrantsThem_AndExplainShowsWhichGroupGivesEach()
    {
        await using var emulator = await CliTestBed.StartEmulatorAsync();
        var scimfn = bed.Session(emulator);
        scimfn.Settings["Sync__Entitlements"] = File.ReadAllText(Path.Combine(CliTestBed.Root, "samples", "entitlements.json"));
        var slice = CliTestBed.Slice(CliTestBed.Day1, 40);

        var sync = await scimfn.SyncAsync(slice, "--json");
        var explain = await scimfn.RunAsync(["explain", Users(slice).First(u => Members(slice, "Queue - Billing").Contains((string)u["id"]!) && !Members(slice, "Queue - VIP Customers").Contains((string)u["id"]!))["userPrincipalName"]!.GetValue<string>(), .. scimfn.Connection(slice)]);

        Assert.True(sync.ExitCode == 0, sync.ToString());
        var genesys = "urn:ietf:params:scim:schemas:extension:genesys:purecloud:2.0:User";
        var billingAgents = Target(emulator).Users.Where(u => (u[genesys]?["routingSkills"] as JsonArray ?? []).Any(sk => (string?)sk!["name"] == "Billing")).ToList();
        Assert.NotEmpty(billingAgents);
        Assert.True(explain.ExitCode == 0, explain.ToString());
        Assert.Contains("Entitlements (from Sync__Entitlements rules", explain.Output, StringComparison.Ordinal);
        // The rule group by its name (the sync stored the group row), not only by its id 7024414b-5433-45e7-a325-5988cf2a9f1e.
        Assert.Matches(@"keep\s+skill\s+Billing\s+3\s+Queue - Billing", explain.Output);
    }

    [Fact]
    public async Task Sync_WithARuleGroupMissingFromTheDirectory_ExitsOne_NamingTheSetting_AndWritesNothing()
    {
        await using var emulator = await CliTestBed.StartEmulatorAsync();
        var scimfn = bed.Session(emulator);
        scimfn.Settings["Sync__Entitlements"] = """{ "rules": [ { "group": "0b5a7c2e-9999-4c3e-9a51-000000000009", "roles": ["Agent"] } ] }""";

        var run = await scimfn.SyncAsync(CliTestBed.Slice(CliTestBed.Day1, 5));

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("Setting Sync__Entitlements: rule 0 (group 0b5a7c2e-9999-4c3e-9a51-000000000009) names a group that does not exist in Entra.", run.Error, StringComparison.Ordinal);
        Assert.Equal(0, Writes(emulator));
    }

    [Fact]
    public async Task Sync_WithAWrongClientSecret_ExitsOne_WithOneLine_AndTouchesNoUser()
    {
        await using var emulator = await CliTestBed.StartEmulatorAsync();
        var scimfn = bed.Session(emulator);
        scimfn.ClientSecret = "not-the-secret";

        var run = await scimfn.SyncAsync(CliTestBed.Day1);

        Assert.Equal(1, run.ExitCode);
        var line = Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("scimfn: the target refused the credentials", line, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-secret", run.Error, StringComparison.Ordinal);
        Assert.Equal(0, emulator.State.Counters.Count("GET", "users") + emulator.State.Counters.Count("POST", "users"));
    }

    /// <summary>Writes the emulator received: every user or group request but a GET.</summary>
    private static long Writes(RunningEmulator emulator) => emulator.State.Counters.Snapshot().ByRoute
        .Where(r => !r.Key.StartsWith("GET ", StringComparison.Ordinal) && (r.Key.EndsWith(" users", StringComparison.Ordinal) || r.Key.EndsWith(" groups", StringComparison.Ordinal)))
        .Sum(r => r.Value);

    private static List<JsonNode> Users(string snapshot) =>
        [.. JsonNode.Parse(File.ReadAllText(snapshot))!["users"]!.AsArray().Select(u => u!)];

    private static string Id(string snapshot, string userPrincipalName) =>
        Users(snapshot).Single(u => u["userPrincipalName"]!.GetValue<string>() == userPrincipalName)["id"]!.GetValue<string>();

    /// <summary>The Entra ids of a group's members that are enabled users in the snapshot.</summary>
    private static List<string> Members(string snapshot, string group)
    {
        var document = JsonNode.Parse(File.ReadAllText(snapshot))!;
        var enabled = document["users"]!.AsArray().Where(u => u!["accountEnabled"]!.GetValue<bool>()).Select(u => u!["id"]!.GetValue<string>()).ToHashSet();
        return [.. document["groups"]!.AsArray().Single(g => g!["displayName"]!.GetValue<string>() == group)!["members"]!.AsArray()
            .Select(m => m!["id"]!.GetValue<string>()).Where(enabled.Contains).Order(StringComparer.Ordinal)];
    }

    private static TargetView Target(RunningEmulator emulator) =>
        new(emulator.State.Store.Snapshot(new ResourceUrls(emulator.ScimBaseUrl)));

    /// <summary>The emulator's users and groups, with group members translated back to Entra ids (externalId).</summary>
    private sealed class TargetView(JsonObject snapshot)
    {
        public List<JsonNode> Users { get; } = [.. snapshot["users"]!.AsArray().Select(u => u!)];

        public JsonNode User(string entraId) => Users.Single(u => u["externalId"]?.GetValue<string>() == entraId);

        public List<string> Members(string group)
        {
            var entraIds = Users.ToDictionary(u => u["id"]!.GetValue<string>(), u => u["externalId"]?.GetValue<string>() ?? "");
            return [.. snapshot["groups"]!.AsArray().Single(g => g!["displayName"]!.GetValue<string>() == group)!["members"]!.AsArray()
                .Select(m => entraIds.GetValueOrDefault(m!["value"]!.GetValue<string>(), "?")).Order(StringComparer.Ordinal)];
        }
    }
}
