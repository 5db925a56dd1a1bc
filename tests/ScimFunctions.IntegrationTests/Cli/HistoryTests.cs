using System.Text.Json.Nodes;
using ScimFunctions.IntegrationTests.Engine.Support;

namespace ScimFunctions.IntegrationTests.Cli;

/// <summary><c>scimfn history</c> against the Genesys emulator and Azurite, after real <c>scimfn sync</c> runs: what
/// the connector did for one user, newest first, with the trigger, the groups by name and the emulator's correlation
/// ids; and groups by name in <c>plan</c>.</summary>
[Collection(CliCollection.Name)]
public sealed class HistoryTests(AzuriteFixture azurite)
{
    private readonly CliTestBed bed = new(azurite);

    [Fact]
    public async Task History_AfterSyncs_ListsCreateGroupsAndUpdate_NewestFirst_AndAnUnchangedRunAddsNothing()
    {
        await using var emulator = await CliTestBed.StartEmulatorAsync();
        var scimfn = bed.Session(emulator);
        var slice = CliTestBed.Slice(CliTestBed.Day1, 30);
        var (user, groupName) = MemberOfAGroup(slice);
        var (id, upn) = ((string)user["id"]!, (string)user["userPrincipalName"]!);
        Assert.Equal(0, (await scimfn.SyncAsync(slice)).ExitCode);

        // A mover: the title changes in the snapshot.
        var moved = JsonNode.Parse(File.ReadAllText(slice))!;
        moved["users"]!.AsArray().Single(u => (string)u!["id"]! == id)!["jobTitle"] = "Principal Paralegal";
        File.WriteAllText(slice, moved.ToJsonString());
        Assert.Equal(0, (await scimfn.SyncAsync(slice)).ExitCode);
        var before = await scimfn.RunAsync(["history", id, "--json", "--state", bed.StateConnection]);
        Assert.Equal(0, (await scimfn.SyncAsync(slice)).ExitCode); // unchanged: no new row

        var json = await scimfn.RunAsync(["history", upn, "--json", .. scimfn.Connection(slice)]);
        var text = await scimfn.RunAsync(["history", id, "--state", bed.StateConnection]);

        Assert.True(json.ExitCode == 0, json.ToString());
        Assert.Equal(id, (string?)json.Json["objectId"]);
        var entries = json.Json["entries"]!.AsArray();
        Assert.Equal(before.Json["entries"]!.AsArray().Count, entries.Count);
        var actions = entries.Select(e => (string)e!["action"]!).ToList();
        Assert.Equal("updated", actions[0]);
        Assert.Equal("created", actions[^1]);
        Assert.Contains("added-to-group", actions);
        Assert.All(entries, e => Assert.Equal("operator", (string?)e!["trigger"]));
        Assert.Equal(["title"], entries[0]!["attributes"]!.AsArray().Select(a => (string?)a));
        var groupId = GroupId(slice, groupName);
        var joined = entries.Single(e => (string?)e!["action"] == "added-to-group" && (string?)e!["groupId"] == groupId)!;
        Assert.Equal(groupName, (string?)joined["groupName"]);
        Assert.Equal(groupName, (string?)joined["targetGroupName"]);
        Assert.All(entries, e => Assert.NotEmpty(e!["correlationIds"]!.AsArray()));

        // Newest first by time, and the text table says the same with the group's name.
        var times = entries.Select(e => DateTimeOffset.Parse((string)e!["at"]!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(times.OrderDescending(), times);
        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Matches("(?m)^.+ +updated +operator +title +\\S+", text.Output);
        Assert.Matches($"(?m)^.+ +added-to-group +operator +{System.Text.RegularExpressions.Regex.Escape(groupName)} +\\S+", text.Output);
        Assert.DoesNotContain(upn, text.Output, StringComparison.OrdinalIgnoreCase); // queried by id: the rows hold no UPN
    }

    [Fact]
    public async Task History_UnknownUser_ExitsTwo_AndAnIdNeedsOnlyTheState()
    {
        await using var emulator = await CliTestBed.StartEmulatorAsync();
        var scimfn = bed.Session(emulator);
        var slice = CliTestBed.Slice(CliTestBed.Day1, 3);

        var unknown = await scimfn.RunAsync(["history", "nobody@contoso.com", .. scimfn.Connection(slice)]);
        var never = await scimfn.RunAsync(["history", "00000000-0000-0000-0000-000000000001", "--state", bed.StateConnection]);

        Assert.True(unknown.ExitCode == 2, unknown.ToString());
        Assert.Contains("not found in the directory", unknown.Output, StringComparison.Ordinal);
        Assert.True(never.ExitCode == 0, never.ToString());
        Assert.Contains("no actions in the last 30 days", never.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plan_ShowsGroupsByDisplayName_NotOnlyById()
    {
        await using var emulator = await CliTestBed.StartEmulatorAsync();
        var scimfn = bed.Session(emulator);
        var slice = CliTestBed.Slice(CliTestBed.Day1, 30);
        var (_, groupName) = MemberOfAGroup(slice);
        var groupId = GroupId(slice, groupName);

        var plan = await scimfn.RunAsync(["plan", .. scimfn.Connection(slice)]);
        var json = await scimfn.RunAsync(["plan", "--json", .. scimfn.Connection(slice)]);

        Assert.True(plan.ExitCode == 0, plan.ToString());
        Assert.Matches($"(?m)^group +{System.Text.RegularExpressions.Regex.Escape(groupName)} +add-members", plan.Output);
        Assert.DoesNotContain(groupId, plan.Output, StringComparison.Ordinal);
        var operation = json.Json["operations"]!.AsArray().First(o => (string?)o!["kind"] == "group" && (string?)o!["id"] == groupId)!;
        Assert.Equal(groupName, (string?)operation["name"]);
    }

    private static string GroupId(string slice, string groupName) =>
        (string)JsonNode.Parse(File.ReadAllText(slice))!["groups"]!.AsArray().First(g => (string)g!["displayName"]! == groupName)!["id"]!;

    /// <summary>A user of the slice who is a member of a group the emulator holds (the seed has the sample's groups).</summary>
    private static (JsonNode User, string GroupName) MemberOfAGroup(string slice)
    {
        var document = JsonNode.Parse(File.ReadAllText(slice))!;
        var group = document["groups"]!.AsArray().First(g => g!["members"]!.AsArray().Count > 0)!;
        var memberId = (string)group["members"]![0]!["id"]!;
        var user = document["users"]!.AsArray().Single(u => (string)u!["id"]! == memberId)!;
        return (user, (string)group["displayName"]!);
    }
}
