using System.Net;
using System.Text.Json.Nodes;

namespace ScimFunctions.IntegrationTests.Emulator;

public sealed class PatchTests(EmulatorFactory factory) : EmulatorTest(factory)
{
    [Theory]
    [InlineData("replace")]
    [InlineData("Replace")]
    [InlineData("REPLACE")]
    public async Task PatchUser_OpIsMatchedCaseInsensitively(string op)
    {
        var user = await CreateUserAsync("ann@example.com");

        using var response = await PatchUserAsync(Id(user), (op, "title", "Lead"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Lead", (await ReadAsync(response))["title"]!.GetValue<string>());
    }

    [Fact]
    public async Task PatchUser_OpCase_WithCaseSensitiveSetting_RejectsCapitalisedOp()
    {
        Settings(o => o.CaseInsensitivePatchOp = false);
        var user = await CreateUserAsync("ann@example.com");

        using var response = await PatchUserAsync(Id(user), ("Replace", "title", "Lead"));

        await AssertScimErrorAsync(response, 400, "invalidSyntax");
    }

    [Fact]
    public async Task PatchUser_RemoveWithoutPath_Answers400NoTarget()
    {
        var user = await CreateUserAsync("ann@example.com");

        using var response = await PatchUserAsync(Id(user), ("remove", null, null));

        await AssertScimErrorAsync(response, 400, "noTarget");
    }

    [Fact]
    public async Task PatchUser_WithoutPatchOpSchema_Answers400InvalidSyntax()
    {
        var user = await CreateUserAsync("ann@example.com");
        var body = PatchBody(("replace", "title", "x"));
        body.Remove("schemas");

        using var response = await SendAsync(HttpMethod.Patch, $"{Base}/users/{Id(user)}", body);

        await AssertScimErrorAsync(response, 400, "invalidSyntax");
    }

    [Fact]
    public async Task PatchUser_WithLowerCaseOperationsKey_Answers400InvalidSyntax()
    {
        var user = await CreateUserAsync("ann@example.com");
        var body = PatchBody(("replace", "title", "x"));
        body["operations"] = body["Operations"]!.DeepClone();
        body.Remove("Operations");

        using var response = await SendAsync(HttpMethod.Patch, $"{Base}/users/{Id(user)}", body);

        await AssertScimErrorAsync(response, 400, "invalidSyntax");
    }

    [Fact]
    public async Task PatchUser_EntraStyleWorkEmailReplace_CreatesOrUpdatesTheWorkEmail()
    {
        var user = await CreateUserAsync("ann@example.com");

        using var first = await PatchUserAsync(Id(user), ("Replace", "emails[type eq \"work\"].value", "ann.work@example.com"));
        using var second = await PatchUserAsync(Id(user), ("Replace", "emails[type eq \"work\"].value", "ann.new@example.com"));
        var emails = (await ReadAsync(second))["emails"]!.AsArray();

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("ann.new@example.com", emails.Single(e => e!["type"]!.GetValue<string>() == "work")!["value"]!.GetValue<string>());
        Assert.Equal(2, emails.Count);
    }

    [Fact]
    public async Task PatchUser_PhoneByTypePath_SetsAndRemovesThatNumber()
    {
        var user = await CreateUserAsync("ann@example.com");

        using var add = await PatchUserAsync(Id(user), ("add", "phoneNumbers[type eq \"mobile\"].value", "+14155550100"));
        using var remove = await PatchUserAsync(Id(user), ("remove", "phoneNumbers[type eq \"mobile\"]", null));

        Assert.Equal("+14155550100", (await ReadAsync(add))["phoneNumbers"]![0]!["value"]!.GetValue<string>());
        Assert.False((await ReadAsync(remove)).ContainsKey("phoneNumbers"));
    }

    [Fact]
    public async Task PatchUser_WithoutPath_MergesCoreAndExtensionAttributes()
    {
        var user = await CreateUserAsync("ann@example.com");
        var value = new JsonObject
        {
            ["displayName"] = "Ann Smith",
            ["active"] = false,
            [Enterprise] = new JsonObject { ["department"] = "Support" },
        };

        using var response = await PatchUserAsync(Id(user), ("replace", null, value));
        var patched = await ReadAsync(response);

        Assert.Equal("Ann Smith", patched["displayName"]!.GetValue<string>());
        Assert.False(patched["active"]!.GetValue<bool>());
        Assert.Equal("Support", patched[Enterprise]!["department"]!.GetValue<string>());
        Assert.Equal("Home", patched[Enterprise]!["division"]!.GetValue<string>());
    }

    [Fact]
    public async Task PatchUser_ActiveAsEntraStringFalse_DeactivatesTheUser()
    {
        var user = await CreateUserAsync("ann@example.com");

        using var response = await PatchUserAsync(Id(user), ("Replace", "active", "False"));

        Assert.False((await ReadAsync(response))["active"]!.GetValue<bool>());
        Assert.Empty(await ListAsync($"{Base}/users"));
    }

    [Fact]
    public async Task PatchUser_ManagerAsEntraString_SetsAndRemoveClearsIt()
    {
        var boss = await CreateUserAsync("boss@example.com");
        var user = await CreateUserAsync("ann@example.com");

        using var set = await PatchUserAsync(Id(user), ("Add", $"{Enterprise}:manager", Id(boss)));
        using var clear = await PatchUserAsync(Id(user), ("Remove", $"{Enterprise}:manager", null));

        Assert.Equal(Id(boss), (await ReadAsync(set))[Enterprise]!["manager"]!["value"]!.GetValue<string>());
        Assert.False((await ReadAsync(clear))[Enterprise]!.AsObject().ContainsKey("manager"));
    }

    [Fact]
    public async Task PatchUser_AddRoutingSkill_MergesByName()
    {
        var user = await CreateUserAsync("ann@example.com", u => u[Genesys] = new JsonObject
        {
            ["routingSkills"] = new JsonArray(new JsonObject { ["name"] = "Billing", ["proficiency"] = 1 }),
        });

        using var response = await PatchUserAsync(Id(user), ("add", $"{Genesys}:routingSkills",
            new JsonArray(new JsonObject { ["name"] = "Billing", ["proficiency"] = 4 }, new JsonObject { ["name"] = "Sales", ["proficiency"] = 2 })));
        var skills = (await ReadAsync(response))[Genesys]!["routingSkills"]!.AsArray();

        Assert.Equal(2, skills.Count);
        Assert.Equal(4, skills.Single(s => s!["name"]!.GetValue<string>() == "Billing")!["proficiency"]!.GetValue<double>());
    }

    [Fact]
    public async Task PatchUser_RemoveRoleByValueFilter_RemovesOnlyThatRole()
    {
        var user = await CreateUserAsync("ann@example.com", u => u["roles"] = new JsonArray(new JsonObject { ["value"] = "Agent" }, new JsonObject { ["value"] = "Supervisor" }));

        using var response = await PatchUserAsync(Id(user), ("remove", "roles[value eq \"Agent\"]", null));

        Assert.Equal("Supervisor", Assert.Single((await ReadAsync(response))["roles"]!.AsArray())!["value"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("nickName")]
    [InlineData("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter")]
    [InlineData("urn:example:unknown:schema:attr")]
    public async Task PatchUser_UnknownAttributePath_Answers400InvalidPath(string path)
    {
        var user = await CreateUserAsync("ann@example.com");

        using var response = await PatchUserAsync(Id(user), ("replace", path, "x"));

        await AssertScimErrorAsync(response, 400, "invalidPath");
    }

    [Fact]
    public async Task PatchUser_RemovingUserName_Answers400AndChangesNothing()
    {
        var user = await CreateUserAsync("ann@example.com");

        using var response = await PatchUserAsync(Id(user), ("remove", "userName", null));

        await AssertScimErrorAsync(response, 400, "invalidValue");
        Assert.Equal("\"1\"", Version(await ReadAsync(await Client.GetAsync($"{Base}/users/{Id(user)}"))));
    }

    [Fact]
    public async Task PatchUser_ChangingUserNameToATakenOne_Answers409()
    {
        await CreateUserAsync("bob@example.com");
        var user = await CreateUserAsync("ann@example.com");

        using var response = await PatchUserAsync(Id(user), ("replace", "userName", "bob@example.com"));

        await AssertScimErrorAsync(response, 409, "uniqueness");
    }
}
