using System.Net;
using System.Text.Json.Nodes;

namespace ScimFunctions.IntegrationTests.Emulator;

public sealed class GroupTests(EmulatorFactory factory) : EmulatorTest(factory)
{
    private async Task<(string Group, string Ann, string Bob)> SalesWithUsersAsync()
    {
        var ann = Id(await CreateUserAsync("ann@example.com"));
        var bob = Id(await CreateUserAsync("bob@example.com"));
        return (AddGroup("Sales"), ann, bob);
    }

    private Task<HttpResponseMessage> PatchGroupAsync(string id, params (string Op, string? Path, JsonNode? Value)[] operations) =>
        SendAsync(HttpMethod.Patch, $"{Base}/groups/{id}", PatchBody(operations));

    private static List<string> MemberIds(JsonObject group) =>
        group["members"]?.AsArray().Select(m => m!["value"]!.GetValue<string>()).ToList() ?? [];

    [Theory]
    [InlineData("displayName eq \"Sales\"")]
    [InlineData("displayname eq Sales")]
    [InlineData("DISPLAYNAME eq sales")]
    public async Task ListGroups_ByDisplayName_FindsTheGroupIgnoringCase(string filter)
    {
        AddGroup("Sales");
        AddGroup("Support");

        var groups = await ListAsync($"{Base}/groups?filter={Uri.EscapeDataString(filter)}");

        Assert.Equal("Sales", Assert.Single(groups)!["displayName"]!.GetValue<string>());
    }

    [Fact]
    public async Task ListGroups_ById_FindsTheGroup()
    {
        var id = AddGroup("Sales");
        AddGroup("Support");

        var groups = await ListAsync($"{Base}/groups?filter=id eq \"{id}\"");

        Assert.Equal(id, Id(Assert.Single(groups)!.AsObject()));
    }

    [Fact]
    public async Task ListGroups_WithoutFilterOnV2_Answers400_WhileLegacyListsAll()
    {
        AddGroup("Sales");
        AddGroup("Support");

        using var v2 = await Client.GetAsync($"{Base}/groups");
        var legacy = await ListAsync($"{Legacy}/groups");

        await AssertScimErrorAsync(v2, 400, "invalidFilter");
        Assert.Equal(2, legacy.Count);
    }

    [Fact]
    public async Task ListGroups_WithoutFilterOnV2_WithFilterNotRequired_ListsAll()
    {
        Settings(o => o.RequireGroupFilterOnV2 = false);
        AddGroup("Sales");

        Assert.Single(await ListAsync($"{Base}/groups"));
    }

    [Theory]
    [InlineData("externalId eq \"x\"")]
    [InlineData("displayName co \"Sal\"")]
    public async Task ListGroups_WithUnsupportedFilter_Answers400InvalidFilter(string filter)
    {
        using var response = await Client.GetAsync($"{Base}/groups?filter={Uri.EscapeDataString(filter)}");

        await AssertScimErrorAsync(response, 400, "invalidFilter");
    }

    [Fact]
    public async Task Groups_PostAndDelete_Answer405ErrorBody()
    {
        var id = AddGroup("Sales");

        using var post = await SendAsync(HttpMethod.Post, $"{Base}/groups", new JsonObject { ["displayName"] = "New" });
        using var delete = await SendAsync(HttpMethod.Delete, $"{Base}/groups/{id}");

        await AssertPlatformErrorAsync(post, 405, "method.not.allowed");
        await AssertPlatformErrorAsync(delete, 405, "method.not.allowed");
        Assert.Single(await ListAsync($"{Legacy}/groups"));
    }

    [Fact]
    public async Task Groups_PostAndDelete_WithStatusSetting404_Answer404()
    {
        Settings(o => o.RemovedGroupOperationStatus = 404);

        using var post = await SendAsync(HttpMethod.Post, $"{Base}/groups", new JsonObject { ["displayName"] = "New" });

        await AssertPlatformErrorAsync(post, 404, "not.found");
    }

    [Fact]
    public async Task PatchGroup_AddMembers_Answers200WithTheWholeGroup()
    {
        var (group, ann, bob) = await SalesWithUsersAsync();

        using var response = await PatchGroupAsync(group, ("Add", "members", Members(ann, bob)));
        var body = await ReadAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Sales", body["displayName"]!.GetValue<string>());
        Assert.Equal([ann, bob], MemberIds(body));
        var member = body["members"]![0]!;
        Assert.Equal("User", member["type"]!.GetValue<string>());
        Assert.EndsWith($"/users/{ann}", member["$ref"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("\"2\"", response.Headers.ETag!.ToString());
    }

    [Fact]
    public async Task PatchGroup_RemoveMembersWithValueList_RemovesThem()
    {
        var (group, ann, bob) = await SalesWithUsersAsync();
        using var _ = await PatchGroupAsync(group, ("add", "members", Members(ann, bob)));

        using var response = await PatchGroupAsync(group, ("Remove", "members", Members(ann)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([bob], MemberIds(await ReadAsync(response)));
    }

    [Fact]
    public async Task PatchGroup_RemoveMemberByValueFilterPath_RemovesIt()
    {
        var (group, ann, bob) = await SalesWithUsersAsync();
        using var _ = await PatchGroupAsync(group, ("add", "members", Members(ann, bob)));

        using var response = await PatchGroupAsync(group, ("remove", $"members[value eq \"{bob}\"]", null));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([ann], MemberIds(await ReadAsync(response)));
    }

    [Fact]
    public async Task PatchGroup_AddingAnExistingMember_KeepsOneEntry()
    {
        var (group, ann, _) = await SalesWithUsersAsync();

        using var first = await PatchGroupAsync(group, ("add", "members", Members(ann)));
        using var second = await PatchGroupAsync(group, ("add", "members", Members(ann)));

        Assert.Equal([ann], MemberIds(await ReadAsync(second)));
    }

    [Fact]
    public async Task ReplaceGroup_Answers200WithTheWholeGroupAndReplacesMembers()
    {
        var (group, ann, bob) = await SalesWithUsersAsync();
        using var _ = await PatchGroupAsync(group, ("add", "members", Members(ann)));
        var body = new JsonObject { ["schemas"] = new JsonArray("urn:ietf:params:scim:schemas:core:2.0:Group"), ["displayName"] = "Sales", ["externalId"] = "g-1", ["members"] = Members(bob) };

        using var response = await SendAsync(HttpMethod.Put, $"{Base}/groups/{group}", body);
        var replaced = await ReadAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([bob], MemberIds(replaced));
        Assert.Equal("g-1", replaced["externalId"]!.GetValue<string>());
        Assert.Equal("Group", replaced["meta"]!["resourceType"]!.GetValue<string>());
    }

    [Fact]
    public async Task ReplaceGroup_WithADifferentDisplayName_Answers400Mutability()
    {
        var (group, _, _) = await SalesWithUsersAsync();

        using var response = await SendAsync(HttpMethod.Put, $"{Base}/groups/{group}", new JsonObject { ["displayName"] = "Renamed" });

        await AssertScimErrorAsync(response, 400, "mutability");
    }

    [Fact]
    public async Task PatchGroup_Rename_WithIgnoreSetting_KeepsTheName()
    {
        Settings(o => o.GroupRename = GenesysScimEmulator.RenamePolicy.Ignore);
        var (group, _, _) = await SalesWithUsersAsync();

        using var response = await PatchGroupAsync(group, ("replace", "displayName", "Renamed"));

        Assert.Equal("Sales", (await ReadAsync(response))["displayName"]!.GetValue<string>());
    }

    [Fact]
    public async Task PatchGroup_WithUnknownMemberId_Answers400_OrIgnoresItBySetting()
    {
        var (group, ann, _) = await SalesWithUsersAsync();

        using var rejected = await PatchGroupAsync(group, ("add", "members", Members(ann, "no-such-user")));
        Settings(o => o.UnknownMemberIds = GenesysScimEmulator.WritePolicy.Ignore);
        using var ignored = await PatchGroupAsync(group, ("add", "members", Members(ann, "no-such-user")));

        await AssertScimErrorAsync(rejected, 400, "invalidValue");
        Assert.Equal([ann], MemberIds(await ReadAsync(ignored)));
    }

    [Fact]
    public async Task PatchGroup_OverTheMemberCap_Answers400()
    {
        Settings(o => o.MaxMembersPerPatch = 2);
        var (group, ann, bob) = await SalesWithUsersAsync();
        var carl = Id(await CreateUserAsync("carl@example.com"));

        using var response = await PatchGroupAsync(group, ("add", "members", Members(ann, bob, carl)));

        await AssertScimErrorAsync(response, 400, "invalidValue");
    }

    [Fact]
    public async Task DeleteUser_RemovesItFromGroupsAndMovesTheGroupVersion()
    {
        var (group, ann, bob) = await SalesWithUsersAsync();
        using var _ = await PatchGroupAsync(group, ("add", "members", Members(ann, bob)));

        using var delete = await SendAsync(HttpMethod.Delete, $"{Base}/users/{ann}");
        using var response = await Client.GetAsync($"{Base}/groups/{group}");

        Assert.Equal([bob], MemberIds(await ReadAsync(response)));
        Assert.Equal("\"3\"", response.Headers.ETag!.ToString());
    }

    [Fact]
    public async Task GetGroup_WithAttributesDisplayName_LeavesMembersOut()
    {
        var (group, ann, _) = await SalesWithUsersAsync();
        using var _ = await PatchGroupAsync(group, ("add", "members", Members(ann)));

        var body = await ReadAsync(await Client.GetAsync($"{Base}/groups/{group}?attributes=displayName"));

        Assert.Equal(["schemas", "id", "displayName", "meta"], body.Select(p => p.Key).ToArray());
    }

    [Fact]
    public async Task GetGroup_Unknown_Answers404()
    {
        using var response = await Client.GetAsync($"{Base}/groups/no-such-group");

        await AssertScimErrorAsync(response, 404, null);
    }
}
