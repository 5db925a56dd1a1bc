using System.Net;
using System.Text.Json.Nodes;

namespace ScimFunctions.IntegrationTests.Emulator;

/// <summary>Roles, division, routing skills and languages (reference §3.2, §11 items 7 and 21), the other
/// Genesys fields an admin maps (externalIds of other authorities, phone types, dateHire), each read back
/// through GET and changed one value at a time through PATCH value paths.</summary>
public sealed class EntitlementTests(EmulatorFactory factory) : EmulatorTest(factory)
{
    private static JsonObject Skill(string name, double proficiency) => new() { ["name"] = name, ["proficiency"] = proficiency };

    private async Task<JsonObject> GetUserAsync(string id)
    {
        using var response = await SendAsync(HttpMethod.Get, $"{Base}/users/{id}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await ReadAsync(response);
    }

    private static Dictionary<string, double> Routing(JsonObject user, string attribute) =>
        (user[Genesys]?[attribute] as JsonArray ?? []).ToDictionary(s => s!["name"]!.GetValue<string>(), s => s!["proficiency"]!.GetValue<double>());

    private static List<string> Roles(JsonObject user) => [.. (user["roles"] as JsonArray ?? []).Select(r => r!["value"]!.GetValue<string>())];

    [Fact]
    public async Task PatchUser_RemoveSkillByNameFilter_RemovesOnlyThatSkill_AndGetShowsIt()
    {
        var user = await CreateUserAsync("ann@example.com", u => u[Genesys] = new JsonObject { ["routingSkills"] = new JsonArray(Skill("Billing", 3), Skill("Sales", 2)) });

        using var response = await PatchUserAsync(Id(user), ("remove", $"{Genesys}:routingSkills[name eq \"Billing\"]", null));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(new Dictionary<string, double> { ["Sales"] = 2 }, Routing(await GetUserAsync(Id(user)), "routingSkills"));
    }

    [Fact]
    public async Task PatchUser_SkillNameFilter_IsCaseSensitive()
    {
        var user = await CreateUserAsync("ann@example.com", u => u[Genesys] = new JsonObject { ["routingSkills"] = new JsonArray(Skill("Billing", 3)) });

        using var response = await PatchUserAsync(Id(user), ("remove", $"{Genesys}:routingSkills[name eq \"billing\"]", null));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(new Dictionary<string, double> { ["Billing"] = 3 }, Routing(await GetUserAsync(Id(user)), "routingSkills"));
    }

    [Fact]
    public async Task PatchUser_AddSkillDifferingOnlyInCase_IsAnotherSkill()
    {
        var user = await CreateUserAsync("ann@example.com", u => u[Genesys] = new JsonObject { ["routingSkills"] = new JsonArray(Skill("Billing", 3)) });

        using var response = await PatchUserAsync(Id(user), ("add", $"{Genesys}:routingSkills", new JsonArray(Skill("billing", 1))));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(new Dictionary<string, double> { ["Billing"] = 3, ["billing"] = 1 }, Routing(await GetUserAsync(Id(user)), "routingSkills"));
    }

    [Fact]
    public async Task PatchUser_ReplaceProficiencyByNameFilter_ChangesOneSkill()
    {
        var user = await CreateUserAsync("ann@example.com", u => u[Genesys] = new JsonObject { ["routingLanguages"] = new JsonArray(Skill("English", 3), Skill("French", 1)) });

        using var response = await PatchUserAsync(Id(user), ("replace", $"{Genesys}:routingLanguages[name eq \"English\"].proficiency", 5));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(new Dictionary<string, double> { ["English"] = 5, ["French"] = 1 }, Routing(await GetUserAsync(Id(user)), "routingLanguages"));
    }

    [Fact]
    public async Task PatchUser_ReplaceProficiencyOutsideRange_Answers400AndChangesNothing()
    {
        var user = await CreateUserAsync("ann@example.com", u => u[Genesys] = new JsonObject { ["routingSkills"] = new JsonArray(Skill("Billing", 3)) });

        using var response = await PatchUserAsync(Id(user), ("replace", $"{Genesys}:routingSkills[name eq \"Billing\"].proficiency", 5.5));

        await AssertScimErrorAsync(response, 400, "invalidValue");
        Assert.Equal(3, Routing(await GetUserAsync(Id(user)), "routingSkills")["Billing"]);
    }

    [Fact]
    public async Task PatchUser_AddingThe51stSkill_Answers400()
    {
        var fifty = new JsonArray([.. Enumerable.Range(0, 50).Select(i => (JsonNode)Skill($"Skill {i}", 1))]);
        var user = await CreateUserAsync("ann@example.com", u => u[Genesys] = new JsonObject { ["routingSkills"] = fifty });

        using var response = await PatchUserAsync(Id(user), ("add", $"{Genesys}:routingSkills", new JsonArray(Skill("One more", 1))));

        await AssertScimErrorAsync(response, 400, "invalidValue");
    }

    [Fact]
    public async Task PatchUser_UnknownSkillOrLanguageName_Answers400NamingIt()
    {
        Settings(o => (o.RoutingSkills, o.RoutingLanguages) = (["Billing"], ["English"]));
        var user = await CreateUserAsync("ann@example.com");

        using var skill = await PatchUserAsync(Id(user), ("add", $"{Genesys}:routingSkills", new JsonArray(Skill("Biling", 3))));
        using var language = await PatchUserAsync(Id(user), ("add", $"{Genesys}:routingLanguages", new JsonArray(Skill("Klingon", 3))));

        Assert.Equal(HttpStatusCode.BadRequest, skill.StatusCode);
        Assert.Contains("'Biling'", (await ReadAsync(skill))["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, language.StatusCode);
        Assert.Contains("'Klingon'", (await ReadAsync(language))["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PatchUser_UnknownDivision_Answers400_KnownOneIsSetAndReadBack()
    {
        Settings(o => o.Divisions = ["Home", "Billing"]);
        var user = await CreateUserAsync("ann@example.com");

        using var unknown = await PatchUserAsync(Id(user), ("replace", $"{Enterprise}:division", "Nowhere"));
        using var known = await PatchUserAsync(Id(user), ("replace", $"{Enterprise}:division", "Billing"));

        await AssertScimErrorAsync(unknown, 400, "invalidValue");
        Assert.Equal(HttpStatusCode.OK, known.StatusCode);
        Assert.Equal("Billing", (await GetUserAsync(Id(user)))[Enterprise]!["division"]!.GetValue<string>());
    }

    [Fact]
    public async Task PatchUser_AddAndRemoveOneRole_LeavesTheOthers()
    {
        Settings(o => o.Roles = ["employee", "Agent", "Supervisor"]);
        var user = await CreateUserAsync("ann@example.com", u => u["roles"] = new JsonArray(new JsonObject { ["value"] = "Supervisor" }));

        using var added = await PatchUserAsync(Id(user), ("add", "roles", new JsonArray(new JsonObject { ["value"] = "Agent" })));
        Assert.Equal(["Supervisor", "Agent"], Roles(await GetUserAsync(Id(user))));
        using var removed = await PatchUserAsync(Id(user), ("remove", "roles[value eq \"Agent\"]", null));
        using var unknown = await PatchUserAsync(Id(user), ("add", "roles", new JsonArray(new JsonObject { ["value"] = "Pilot" })));

        Assert.Equal(HttpStatusCode.OK, added.StatusCode);
        Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
        Assert.Equal(["Supervisor"], Roles(await GetUserAsync(Id(user))));
        await AssertScimErrorAsync(unknown, 400, "invalidValue");
    }

    [Fact]
    public async Task ExternalIds_OtherAuthoritiesAreAddedAndRemovedNextToTheScimOne()
    {
        var user = await CreateUserAsync("ann@example.com", u => u["externalId"] = "entra-1");

        using var added = await PatchUserAsync(Id(user), ("add", $"{Genesys}:externalIds",
            new JsonArray(new JsonObject { ["authority"] = "microsoftteams", ["value"] = "t-1" }, new JsonObject { ["authority"] = "zoomphone", ["value"] = "z-1" })));
        using var removed = await PatchUserAsync(Id(user), ("remove", $"{Genesys}:externalIds[authority eq \"zoomphone\"]", null));
        var entries = (await GetUserAsync(Id(user)))[Genesys]!["externalIds"]!.AsArray()
            .Select(e => $"{e!["authority"]!.GetValue<string>()}={e["value"]!.GetValue<string>()}").ToList();

        Assert.Equal(HttpStatusCode.OK, added.StatusCode);
        Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
        Assert.Equal(["x-pc:scimv2:v1=entra-1", "microsoftteams=t-1"], entries);
    }

    [Fact]
    public async Task ExternalIds_RemovingTheScimAuthorityEntry_Answers400Mutability()
    {
        var user = await CreateUserAsync("ann@example.com", u => u["externalId"] = "entra-1");

        using var response = await PatchUserAsync(Id(user), ("replace", $"{Genesys}:externalIds", new JsonArray(new JsonObject { ["authority"] = "x-pc:scimv2:v1", ["value"] = "other" })));

        await AssertScimErrorAsync(response, 400, "mutability");
    }

    [Theory]
    [InlineData("work2")]
    [InlineData("work3")]
    [InlineData("work4")]
    [InlineData("home")]
    [InlineData("other")]
    public async Task PatchUser_OtherPhoneTypes_AreSetByTypePathAndReadBack(string type)
    {
        var user = await CreateUserAsync("ann@example.com");

        using var response = await PatchUserAsync(Id(user), ("replace", $"phoneNumbers[type eq \"{type}\"].value", "tel:+14155550100;ext=42"));
        var phones = (await GetUserAsync(Id(user)))["phoneNumbers"]!.AsArray();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("tel:+14155550100;ext=42", Assert.Single(phones, p => p!["type"]!.GetValue<string>() == type)!["value"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("tel:+14155550100;ext=")]
    [InlineData("tel:14155550100;ext=1")]
    [InlineData("+14155550100;ext=1")]
    public async Task PatchUser_MalformedTelUri_Answers400(string value)
    {
        var user = await CreateUserAsync("ann@example.com");

        using var response = await PatchUserAsync(Id(user), ("replace", "phoneNumbers[type eq \"work2\"].value", value));

        await AssertScimErrorAsync(response, 400, "invalidValue");
    }

    [Fact]
    public async Task PatchUser_DateHire_AcceptsIsoAndReturnsTheDateOnly_RejectsNonDates()
    {
        var user = await CreateUserAsync("ann@example.com");

        using var iso = await PatchUserAsync(Id(user), ("replace", $"{Enterprise}:dateHire", "2025-02-03T08:00:00Z"));
        using var bad = await PatchUserAsync(Id(user), ("replace", $"{Enterprise}:dateHire", "03/02/2025"));

        Assert.Equal(HttpStatusCode.OK, iso.StatusCode);
        Assert.Equal("2025-02-03", (await GetUserAsync(Id(user)))[Enterprise]!["dateHire"]!.GetValue<string>());
        await AssertScimErrorAsync(bad, 400, "invalidValue");
    }
}
