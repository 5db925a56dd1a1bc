using System.Net;
using System.Text.Json.Nodes;

namespace ScimFunctions.IntegrationTests.Emulator;

public sealed class UserModelTests(EmulatorFactory factory) : EmulatorTest(factory)
{
    private Task<HttpResponseMessage> CreateAsync(Action<JsonObject> customize)
    {
        var user = NewUser("ann@example.com");
        customize(user);
        return SendAsync(HttpMethod.Post, $"{Base}/users", user);
    }

    private static JsonArray Routing(int count, double proficiency = 3) =>
        new([.. Enumerable.Range(0, count).Select(i => (JsonNode)new JsonObject { ["name"] = $"Skill {i}", ["proficiency"] = proficiency })]);

    [Fact]
    public async Task User_OtherEmailIsTheUserNameAndWorkEmailIsKept()
    {
        var user = await CreateUserAsync("ann@example.com", u =>
            u["emails"] = new JsonArray(new JsonObject { ["value"] = "ann.work@example.com", ["type"] = "work", ["primary"] = true }));

        var emails = user["emails"]!.AsArray();
        Assert.Equal("ann@example.com", emails.Single(e => e!["type"]!.GetValue<string>() == "other")!["value"]!.GetValue<string>());
        Assert.Equal("ann.work@example.com", emails.Single(e => e!["type"]!.GetValue<string>() == "work")!["value"]!.GetValue<string>());
    }

    [Fact]
    public async Task ReplaceUser_ChangingTheOtherEmail_Answers400Mutability()
    {
        var user = await CreateUserAsync("ann@example.com");
        var replacement = NewUser("ann@example.com");
        replacement["emails"] = new JsonArray(new JsonObject { ["value"] = "someone.else@example.com", ["type"] = "other" });

        using var response = await SendAsync(HttpMethod.Put, $"{Base}/users/{Id(user)}", replacement);

        await AssertScimErrorAsync(response, 400, "mutability");
    }

    [Fact]
    public async Task ReplaceUser_EchoingAGetWithNewUserName_ChangesUserNameAndOtherEmail()
    {
        var user = await CreateUserAsync("ann@example.com");
        user["userName"] = "ann.smith@example.com";

        using var response = await SendAsync(HttpMethod.Put, $"{Base}/users/{Id(user)}", user);
        var replaced = await ReadAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ann.smith@example.com", replaced["emails"]![0]!["value"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("home")]
    [InlineData("personal")]
    public async Task CreateUser_WithEmailTypeOtherThanWorkOrOther_Answers400(string type)
    {
        using var response = await CreateAsync(u => u["emails"] = new JsonArray(new JsonObject { ["value"] = "x@example.com", ["type"] = type }));

        await AssertScimErrorAsync(response, 400, "invalidValue");
    }

    [Theory]
    [InlineData("work", "+14155550100", HttpStatusCode.Created)]
    [InlineData("mobile", "tel:+14155550100;ext=123", HttpStatusCode.Created)]
    [InlineData("microsoftteams", "tel:+14155550100; ext=123", HttpStatusCode.Created)]
    [InlineData("eightbyeight", "+442071234567", HttpStatusCode.Created)]
    [InlineData("pager", "+14155550100", HttpStatusCode.BadRequest)]
    [InlineData("work", "(415) 555-0100", HttpStatusCode.BadRequest)]
    public async Task CreateUser_PhoneNumbers_AcceptDocumentedTypesAndFormatsOnly(string type, string value, HttpStatusCode expected)
    {
        using var response = await CreateAsync(u => u["phoneNumbers"] = new JsonArray(new JsonObject { ["value"] = value, ["type"] = type }));

        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task CreateUser_WithMoreThan50RoutingSkills_Answers400()
    {
        using var ok = await CreateAsync(u => u[Genesys] = new JsonObject { ["routingSkills"] = Routing(50) });
        var user = NewUser("bob@example.com");
        user[Genesys] = new JsonObject { ["routingLanguages"] = Routing(51) };
        using var tooMany = await SendAsync(HttpMethod.Post, $"{Base}/users", user);

        Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        await AssertScimErrorAsync(tooMany, 400, "invalidValue");
    }

    [Theory]
    [InlineData(-0.5)]
    [InlineData(5.5)]
    public async Task CreateUser_WithProficiencyOutside0To5_Answers400(double proficiency)
    {
        using var response = await CreateAsync(u => u[Genesys] = new JsonObject { ["routingSkills"] = Routing(1, proficiency) });

        await AssertScimErrorAsync(response, 400, "invalidValue");
    }

    [Fact]
    public async Task RoutingSkillNames_AreCaseSensitiveAgainstConfiguredSkills()
    {
        Settings(o => o.RoutingSkills = ["Billing"]);

        using var exact = await CreateAsync(u => u[Genesys] = new JsonObject { ["routingSkills"] = new JsonArray(new JsonObject { ["name"] = "Billing", ["proficiency"] = 2 }) });
        var other = NewUser("bob@example.com");
        other[Genesys] = new JsonObject { ["routingSkills"] = new JsonArray(new JsonObject { ["name"] = "billing" }) };
        using var wrongCase = await SendAsync(HttpMethod.Post, $"{Base}/users", other);

        Assert.Equal(HttpStatusCode.Created, exact.StatusCode);
        await AssertScimErrorAsync(wrongCase, 400, "invalidValue");
    }

    [Fact]
    public async Task ExternalIds_AlwaysIncludeTheImmutableScimAuthorityEntryMirroringExternalId()
    {
        var user = await CreateUserAsync("ann@example.com", u => u["externalId"] = "entra-1");

        var entries = user[Genesys]!["externalIds"]!.AsArray();
        Assert.Contains(entries, e => e!["authority"]!.GetValue<string>() == "x-pc:scimv2:v1" && e["value"]!.GetValue<string>() == "entra-1");

        using var response = await PatchUserAsync(Id(user),
            ("replace", $"{Genesys}:externalIds[authority eq \"x-pc:scimv2:v1\"].value", "changed"));
        await AssertScimErrorAsync(response, 400, "mutability");
    }

    [Fact]
    public async Task ExternalIds_AreUniquePerAuthority()
    {
        await CreateUserAsync("ann@example.com", u => u[Genesys] = new JsonObject { ["externalIds"] = new JsonArray(new JsonObject { ["authority"] = "zoomphone", ["value"] = "z-1" }) });

        using var sameExternalIds = await CreateAsync(u =>
        {
            u["userName"] = "bob@example.com";
            u[Genesys] = new JsonObject { ["externalIds"] = new JsonArray(new JsonObject { ["authority"] = "zoomphone", ["value"] = "z-1" }) };
        });

        await AssertScimErrorAsync(sameExternalIds, 409, "uniqueness");
    }

    [Fact]
    public async Task ExternalId_IsUniqueAmongLiveUsers()
    {
        await CreateUserAsync("ann@example.com", u => u["externalId"] = "entra-1");

        using var response = await CreateAsync(u => (u["userName"], u["externalId"]) = ("bob@example.com", "entra-1"));

        await AssertScimErrorAsync(response, 409, "uniqueness");
    }

    [Fact]
    public async Task DateHire_IsReturnedAsDateOnly()
    {
        var user = await CreateUserAsync("ann@example.com", u => u[Enterprise] = new JsonObject { ["dateHire"] = "2024-05-06T10:20:30Z" });

        Assert.Equal("2024-05-06", user[Enterprise]!["dateHire"]!.GetValue<string>());
    }

    [Fact]
    public async Task Division_IsANameAndDefaultsToHome()
    {
        var defaulted = await CreateUserAsync("ann@example.com");
        var named = await CreateUserAsync("bob@example.com", u => u[Enterprise] = new JsonObject { ["division"] = "Support" });

        Assert.Equal("Home", defaulted[Enterprise]!["division"]!.GetValue<string>());
        Assert.Equal("Support", named[Enterprise]!["division"]!.GetValue<string>());
    }

    [Fact]
    public async Task Manager_MustBeAnExistingUserIdAndIsReturnedWithRef()
    {
        var boss = await CreateUserAsync("boss@example.com");
        var user = await CreateUserAsync("ann@example.com", u => u[Enterprise] = new JsonObject { ["manager"] = new JsonObject { ["value"] = Id(boss) } });
        using var unknown = await CreateAsync(u => (u["userName"], u[Enterprise]) = ("bob@example.com", new JsonObject { ["manager"] = new JsonObject { ["value"] = "nobody" } }));

        var manager = user[Enterprise]!["manager"]!;
        Assert.Equal(Id(boss), manager["value"]!.GetValue<string>());
        Assert.EndsWith($"/users/{Id(boss)}", manager["$ref"]!.GetValue<string>(), StringComparison.Ordinal);
        await AssertScimErrorAsync(unknown, 400, "invalidValue");
    }

    [Fact]
    public async Task Roles_AreMatchedByNameAgainstConfiguredRoles()
    {
        Settings(o => o.Roles = ["Agent", "Supervisor"]);

        var known = await CreateUserAsync("ann@example.com", u => u["roles"] = new JsonArray(new JsonObject { ["value"] = "agent" }));
        using var unknown = await CreateAsync(u => (u["userName"], u["roles"]) = ("bob@example.com", new JsonArray(new JsonObject { ["value"] = "Wizard" })));

        Assert.Equal("agent", known["roles"]![0]!["value"]!.GetValue<string>());
        await AssertScimErrorAsync(unknown, 400, "invalidValue");
    }

    [Fact]
    public async Task UnknownNames_WithIgnoreSetting_AreDropped()
    {
        Settings(o => (o.Roles, o.UnknownNames) = (["Agent"], GenesysScimEmulator.WritePolicy.Ignore));

        var user = await CreateUserAsync("ann@example.com", u => u["roles"] = new JsonArray(new JsonObject { ["value"] = "Agent" }, new JsonObject { ["value"] = "Wizard" }));

        Assert.Equal("Agent", Assert.Single(user["roles"]!.AsArray())!["value"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("id", "other-id")]
    [InlineData("meta", null)]
    [InlineData("schemas", null)]
    [InlineData("groups", null)]
    public async Task PatchUser_WritingAReadOnlyAttribute_Answers400Mutability(string attribute, string? value)
    {
        var user = await CreateUserAsync("ann@example.com");

        using var response = await PatchUserAsync(Id(user), ("replace", attribute, value is null ? new JsonArray() : JsonValue.Create(value)));

        await AssertScimErrorAsync(response, 400, "mutability");
    }

    [Fact]
    public async Task ReplaceUser_WithGroups_Answers400Mutability_OrIgnoresThemBySetting()
    {
        var user = await CreateUserAsync("ann@example.com");
        var group = AddGroup("Sales");
        var body = NewUser("ann@example.com");
        body["groups"] = Members(group);

        using var rejected = await SendAsync(HttpMethod.Put, $"{Base}/users/{Id(user)}", body);
        Settings(o => o.UserGroupsWrite = GenesysScimEmulator.WritePolicy.Ignore);
        using var ignored = await SendAsync(HttpMethod.Put, $"{Base}/users/{Id(user)}", body);

        await AssertScimErrorAsync(rejected, 400, "mutability");
        Assert.Equal(HttpStatusCode.OK, ignored.StatusCode);
        Assert.False((await ReadAsync(ignored)).ContainsKey("groups"));
    }

    [Fact]
    public async Task ReplaceUser_IdAndMetaInTheBodyAreIgnored()
    {
        var user = await CreateUserAsync("ann@example.com");
        var body = NewUser("ann@example.com", "Ann Smith");
        body["id"] = "something-else";
        body["meta"] = new JsonObject { ["version"] = "\"99\"" };

        using var response = await SendAsync(HttpMethod.Put, $"{Base}/users/{Id(user)}", body);
        var replaced = await ReadAsync(response);

        Assert.Equal(Id(user), Id(replaced));
        Assert.Equal("\"2\"", Version(replaced));
    }

    [Fact]
    public async Task NameAttribute_IsNotPartOfTheModelAndIsDropped()
    {
        var user = await CreateUserAsync("ann@example.com", u => u["name"] = new JsonObject { ["givenName"] = "Ann", ["familyName"] = "Smith" });

        Assert.False(user.ContainsKey("name"));
    }

    [Fact]
    public async Task User_ShowsItsGroupMembershipsReadOnly()
    {
        var user = await CreateUserAsync("ann@example.com");
        var group = AddGroup("Sales", Id(user));

        var fetched = await ReadAsync(await Client.GetAsync($"{Base}/users/{Id(user)}"));

        Assert.Equal(group, fetched["groups"]![0]!["value"]!.GetValue<string>());
    }
}
