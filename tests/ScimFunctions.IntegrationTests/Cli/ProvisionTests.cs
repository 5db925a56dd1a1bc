using System.Text.Json.Nodes;
using ScimFunctions.IntegrationTests.Engine.Support;

namespace ScimFunctions.IntegrationTests.Cli;

/// <summary><c>scimfn provision</c> against the Genesys emulator and Azurite: one user (or a small group) now,
/// through the function's own path and its threshold, with every SCIM request listed.</summary>
[Collection(CliCollection.Name)]
public sealed class ProvisionTests(AzuriteFixture azurite)
{
    private readonly CliTestBed bed = new(azurite);

    [Fact]
    public async Task ProvisionUser_ByUpn_CreatesOnlyThatUser_ListsTheRequests_AndAgainWritesNothing()
    {
        await using var emulator = await CliTestBed.StartEmulatorAsync();
        var scimfn = bed.Session(emulator);
        var slice = CliTestBed.Slice(CliTestBed.Day1, 8);
        var first = Users(slice)[0];

        var run = await scimfn.RunAsync(["provision", Upn(first), .. scimfn.Connection(slice)]);
        var json = await scimfn.RunAsync(["provision", Upn(first), "--json", .. scimfn.Connection(slice)]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains($"Provisioned user {Id(first)} ({Upn(first)}):", run.Output, StringComparison.Ordinal);
        Assert.Contains("create", run.Output, StringComparison.Ordinal);
        Assert.True(run.Output.Contains("POST /users 201", StringComparison.Ordinal), run.Output);
        Assert.Equal(1, emulator.State.Store.Counts().Users);
        // The second run converges to nothing: it reads, and writes nothing.
        Assert.True(json.ExitCode == 0, json.ToString());
        var requests = json.Json["requests"]!.AsArray().Select(r => (string)r!).ToList();
        Assert.Equal(requests.Count, json.Field("scimRequests"));
        Assert.DoesNotContain(requests, r => !r.StartsWith("GET ", StringComparison.Ordinal));
        var step = json.Json["steps"]!.AsArray().Single()!;
        Assert.Equal("Done", (string?)step["status"]);
        Assert.Equal("none", (string?)step["operations"]![0]!["action"]);
    }

    [Fact]
    public async Task ProvisionUser_Leavers_AreHeldByTheThreshold_AsInTheFunction()
    {
        await using var emulator = await CliTestBed.StartEmulatorAsync();
        var scimfn = bed.Session(emulator);
        var before = CliTestBed.Slice(CliTestBed.Day1, 12);
        Assert.Equal(0, (await scimfn.SyncAsync(before)).ExitCode);
        var users = Users(before);
        var (gone1, gone2) = (Id(users[^1]), Id(users[^2]));
        var after = CliTestBed.Slice(CliTestBed.Day1, 10);
        scimfn.Settings["Sync__Threshold__MaxActionsPerHour"] = "1";

        var first = await scimfn.RunAsync(["provision", gone1, "--json", .. scimfn.Connection(after)]);
        var second = await scimfn.RunAsync(["provision", gone2, "--json", .. scimfn.Connection(after)]);

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal("disable", (string?)first.Json["steps"]![0]!["operations"]![0]!["action"]);
        Assert.True(second.ExitCode == 2, second.ToString());
        Assert.Equal("stage", (string?)second.Json["steps"]![0]!["operations"]![0]!["action"]);
        Assert.DoesNotContain(second.Json["requests"]!.AsArray(), r => ((string)r!).StartsWith("PATCH", StringComparison.Ordinal) || ((string)r!).StartsWith("PUT", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ProvisionGroup_ConvergesItsMembersThenTheGroup_AndRefusesAGroupOverTheBound()
    {
        await using var emulator = await CliTestBed.StartEmulatorAsync();
        var scimfn = bed.Session(emulator);
        var slice = CliTestBed.Slice(CliTestBed.Day1, 20);
        var groups = JsonNode.Parse(File.ReadAllText(slice))!["groups"]!.AsArray();
        var small = groups.First(g => g!["members"]!.AsArray().Count is > 0 and <= 5)!;
        var large = groups.First(g => g!["members"]!.AsArray().Count > 5)!;
        var members = small["members"]!.AsArray().Select(m => (string)m!["id"]!).ToList();

        var run = await scimfn.RunAsync(["provision", "--group", (string)small["id"]!, "--json", .. scimfn.Connection(slice)]);
        var refused = await scimfn.RunAsync(["provision", "--group", (string)large["id"]!, .. scimfn.Connection(slice)]);

        Assert.True(run.ExitCode == 0, run.ToString());
        var steps = run.Json["steps"]!.AsArray();
        Assert.Equal([.. members.Select(_ => "user"), "group"], steps.Select(s => (string)s!["kind"]!));
        Assert.Equal(members.Count, emulator.State.Store.Counts().Users);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("converges at most 5", refused.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Provision_UnknownUser_ExitsTwo_AndNeitherUserNorGroup_ExitsOne()
    {
        await using var emulator = await CliTestBed.StartEmulatorAsync();
        var scimfn = bed.Session(emulator);
        var slice = CliTestBed.Slice(CliTestBed.Day1, 4);

        var unknown = await scimfn.RunAsync(["provision", "nobody@contoso.com", .. scimfn.Connection(slice)]);
        var neither = await scimfn.RunAsync(["provision", .. scimfn.Connection(slice)]);

        Assert.True(unknown.ExitCode == 2, unknown.ToString());
        Assert.Contains("not found in the directory; nothing was done", unknown.Output, StringComparison.Ordinal);
        Assert.Equal(1, neither.ExitCode);
        Assert.Contains("give either USER", neither.Error, StringComparison.Ordinal);
    }

    private static List<JsonNode> Users(string snapshot) => [.. JsonNode.Parse(File.ReadAllText(snapshot))!["users"]!.AsArray().Select(u => u!)];

    private static string Id(JsonNode user) => (string)user["id"]!;

    private static string Upn(JsonNode user) => (string)user["userPrincipalName"]!;
}
