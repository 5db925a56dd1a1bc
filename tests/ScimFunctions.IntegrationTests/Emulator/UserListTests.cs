using System.Net;
using System.Text.Json.Nodes;

namespace ScimFunctions.IntegrationTests.Emulator;

public sealed class UserListTests(EmulatorFactory factory) : EmulatorTest(factory)
{
    private async Task<(string Ann, string Bob)> SeedPairAsync()
    {
        var bob = await CreateUserAsync("bob@example.com", u =>
        {
            u["externalId"] = "ext-bob";
            u["emails"] = new JsonArray(new JsonObject { ["value"] = "bob.work@example.com", ["type"] = "work" });
        });
        var ann = await CreateUserAsync("ann@example.com", u =>
        {
            u["externalId"] = "ext-ann";
            u[Enterprise] = new JsonObject { ["division"] = "Sales Division", ["employeeNumber"] = "9876543210", ["manager"] = new JsonObject { ["value"] = Id(bob) } };
            u[Genesys] = new JsonObject { ["externalIds"] = new JsonArray(new JsonObject { ["authority"] = "microsoftteams", ["value"] = "teams-ann" }) };
        });
        return (Id(ann), Id(bob));
    }

    [Fact]
    public async Task ListUsers_WithoutFilter_ReturnsOnlyActiveUsers()
    {
        await CreateUserAsync("ann@example.com");
        await CreateUserAsync("off@example.com", u => u["active"] = false);

        var users = await ListAsync($"{Base}/users");

        Assert.Equal("ann@example.com", Assert.Single(users)!["userName"]!.GetValue<string>());
    }

    [Fact]
    public async Task ListUsers_WithActiveEqFalse_ReturnsOnlyInactiveUsers()
    {
        await CreateUserAsync("ann@example.com");
        await CreateUserAsync("off@example.com", u => u["active"] = false);

        var users = await ListAsync($"{Base}/users?filter=active eq false");

        Assert.Equal("off@example.com", Assert.Single(users)!["userName"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("userName eq ann@example.com")]
    [InlineData("userName eq \"ANN@example.com\"")]
    [InlineData("urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"ann@example.com\"")]
    [InlineData("externalId eq ext-ann")]
    [InlineData("externalId eq \"ext-ann\"")]
    [InlineData("email eq ann@example.com")]
    [InlineData("division eq \"Sales Division\"")]
    [InlineData("division eq Sales Division")]
    [InlineData("employeeNumber eq 9876543210")]
    [InlineData("urn:ietf:params:scim:schemas:extension:genesys:purecloud:2.0:User:externalIds[authority eq \"microsoftteams\" and value eq \"teams-ann\"]")]
    [InlineData("urn:ietf:params:scim:schemas:extension:genesys:purecloud:2.0:User:externalIds[authority eq \"x-pc:scimv2:v1\" and value eq \"ext-ann\"]")]
    public async Task ListUsers_WithDocumentedFilter_QuotedOrNot_FindsTheUser(string filter)
    {
        await SeedPairAsync();

        var users = await ListAsync($"{Base}/users?filter={Uri.EscapeDataString(filter)}");

        Assert.Equal("ann@example.com", Assert.Single(users)!["userName"]!.GetValue<string>());
    }

    [Fact]
    public async Task ListUsers_ByIdAndManager_FindTheUser()
    {
        var (ann, bob) = await SeedPairAsync();

        var byId = await ListAsync($"{Base}/users?filter=id eq {ann}");
        var byManager = await ListAsync($"{Base}/users?filter=manager eq \"{bob}\"");
        var byWorkEmail = await ListAsync($"{Base}/users?filter=email eq bob.work@example.com");

        Assert.Equal(ann, Id(Assert.Single(byId)!.AsObject()));
        Assert.Equal(ann, Id(Assert.Single(byManager)!.AsObject()));
        Assert.Equal(bob, Id(Assert.Single(byWorkEmail)!.AsObject()));
    }

    [Theory]
    [InlineData("userName co \"ann\"")]
    [InlineData("userName sw \"ann\"")]
    [InlineData("title pr")]
    [InlineData("userName eq \"ann@example.com\" or userName eq \"bob@example.com\"")]
    [InlineData("userName eq \"ann@example.com\" and active eq true")]
    [InlineData("userName eq ann@example.com or userName eq bob@example.com")]
    [InlineData("title eq \"Agent\"")]
    [InlineData("not (userName eq \"ann@example.com\")")]
    [InlineData("emails[type eq \"work\"]")]
    public async Task ListUsers_WithUnsupportedFilter_Answers400InvalidFilter(string filter)
    {
        using var response = await Client.GetAsync($"{Base}/users?filter={Uri.EscapeDataString(filter)}");

        await AssertScimErrorAsync(response, 400, "invalidFilter");
    }

    [Fact]
    public async Task ListUsers_FilteredByUserName_LeavesInactiveUsersOutByDefault()
    {
        await CreateUserAsync("off@example.com", u => u["active"] = false);

        Assert.Empty(await ListAsync($"{Base}/users?filter=userName eq \"off@example.com\""));
    }

    [Fact]
    public async Task ListUsers_FilteredByUserName_WithIncludeInactiveSetting_FindsInactiveUsers()
    {
        Settings(o => o.FilteredListsIncludeInactive = true);
        await CreateUserAsync("off@example.com", u => u["active"] = false);

        Assert.Single(await ListAsync($"{Base}/users?filter=userName eq \"off@example.com\""));
    }

    [Fact]
    public async Task ListUsers_Paging_DefaultsTo25PerPageFromIndexOne()
    {
        for (var i = 0; i < 30; i++)
        {
            State.Store.CreateUser(NewUser($"user{i:00}@example.com"), GenesysScimEmulator.State.EmulatorState.DefaultUrls);
        }

        var first = await ReadAsync(await Client.GetAsync($"{Base}/users"));
        var second = await ReadAsync(await Client.GetAsync($"{Base}/users?startIndex=26&count=25"));

        Assert.Equal(30, first["totalResults"]!.GetValue<int>());
        Assert.Equal(1, first["startIndex"]!.GetValue<int>());
        Assert.Equal(25, first["itemsPerPage"]!.GetValue<int>());
        Assert.Equal("user00@example.com", first["Resources"]![0]!["userName"]!.GetValue<string>());
        Assert.Equal(26, second["startIndex"]!.GetValue<int>());
        Assert.Equal(5, second["itemsPerPage"]!.GetValue<int>());
        Assert.Equal("user25@example.com", second["Resources"]![0]!["userName"]!.GetValue<string>());
    }

    [Fact]
    public async Task ListUsers_WithCountZero_ReturnsOnlyTotalResults()
    {
        await CreateUserAsync("ann@example.com");
        await CreateUserAsync("bob@example.com");

        var list = await ReadAsync(await Client.GetAsync($"{Base}/users?count=0"));

        Assert.Equal(2, list["totalResults"]!.GetValue<int>());
        Assert.Equal(0, list["itemsPerPage"]!.GetValue<int>());
        Assert.Empty(list["Resources"]!.AsArray());
    }

    [Fact]
    public async Task ListResponse_HasExactlyTheGenesysKeys()
    {
        await CreateUserAsync("ann@example.com");

        var list = await ReadAsync(await Client.GetAsync($"{Base}/users"));

        Assert.Equal(["schemas", "totalResults", "startIndex", "itemsPerPage", "Resources"], list.Select(p => p.Key).ToArray());
        Assert.Equal("urn:ietf:params:scim:api:messages:2.0:ListResponse", list["schemas"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task ListUsers_PageOver25WithFullAttributes_Answers429WithRetryAfter()
    {
        using var response = await Client.GetAsync($"{Base}/users?count=100");

        await AssertPlatformErrorAsync(response, 429, "too.many.requests");
        Assert.NotNull(response.Headers.RetryAfter?.Delta);
    }

    [Theory]
    [InlineData("attributes=id,userName,displayName")]
    [InlineData("excludedAttributes=externalId,roles,urn:ietf:params:scim:schemas:extension:genesys:purecloud:2.0:User")]
    [InlineData("excludedAttributes=externalId,roles,urn:ietf:params:scim:schemas:extension:genesys:purecloud:2.0:User:routingSkills,urn:ietf:params:scim:schemas:extension:genesys:purecloud:2.0:User:routingLanguages")]
    public async Task ListUsers_PageOver25WithoutSecondaryLookups_Succeeds(string selection)
    {
        await CreateUserAsync("ann@example.com");

        using var response = await Client.GetAsync($"{Base}/users?count=100&{selection}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task ListUsers_PageOver25_WithLargePageThrottlingOff_Succeeds()
    {
        Settings(o => o.LargePageThrottling = false);

        using var response = await Client.GetAsync($"{Base}/users?count=100");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task ListUsers_SortByIsIgnored_AndShuffleSettingGivesAStableNonCreationOrder()
    {
        for (var i = 0; i < 20; i++)
        {
            State.Store.CreateUser(NewUser($"user{i:00}@example.com"), GenesysScimEmulator.State.EmulatorState.DefaultUrls);
        }

        var sorted = await ListAsync($"{Base}/users?sortBy=userName&sortOrder=descending");
        Settings(o => o.ShuffleListOrder = true);
        var shuffled = (await ListAsync($"{Base}/users")).Select(u => u!["userName"]!.GetValue<string>()).ToList();
        var again = (await ListAsync($"{Base}/users")).Select(u => u!["userName"]!.GetValue<string>()).ToList();

        Assert.Equal("user00@example.com", sorted[0]!["userName"]!.GetValue<string>());
        Assert.NotEqual(shuffled.Order().ToList(), shuffled);
        Assert.Equal(shuffled, again);
    }

    [Fact]
    public async Task GetUser_WithAttributes_ReturnsThoseAndTheAlwaysReturnedOnes()
    {
        var (ann, _) = await SeedPairAsync();

        var user = await ReadAsync(await Client.GetAsync($"{Base}/users/{ann}?attributes=displayName"));

        Assert.Equal(["schemas", "id", "userName", "displayName", "active", "meta"], user.Select(p => p.Key).ToArray());
    }

    [Fact]
    public async Task GetUser_WithExtensionSubAttribute_ReturnsOnlyThatPartOfTheExtension()
    {
        var (ann, bob) = await SeedPairAsync();

        var user = await ReadAsync(await Client.GetAsync($"{Base}/users/{ann}?attributes={Enterprise}:manager.value,meta.version"));

        var enterprise = user[Enterprise]!.AsObject();
        Assert.Equal(["manager"], enterprise.Select(p => p.Key).ToArray());
        Assert.Equal(bob, enterprise["manager"]!["value"]!.GetValue<string>());
        Assert.False(enterprise["manager"]!.AsObject().ContainsKey("$ref"));
        Assert.False(user.ContainsKey(Genesys));
    }

    [Fact]
    public async Task ListUsers_WithExcludedAttributes_DropsThemButKeepsAlwaysReturnedOnes()
    {
        await SeedPairAsync();

        var users = await ListAsync($"{Base}/users?excludedAttributes=externalId,emails,{Enterprise},id,userName");

        Assert.All(users, u =>
        {
            var user = u!.AsObject();
            Assert.False(user.ContainsKey("externalId"));
            Assert.False(user.ContainsKey("emails"));
            Assert.False(user.ContainsKey(Enterprise));
            Assert.True(user.ContainsKey("id"));
            Assert.True(user.ContainsKey("userName"));
            Assert.True(user.ContainsKey("displayName"));
        });
    }

    [Fact]
    public async Task GetUser_WithUnknownAttributeName_Answers400()
    {
        var user = await CreateUserAsync("ann@example.com");

        using var response = await Client.GetAsync($"{Base}/users/{Id(user)}?attributes=nickName");

        await AssertScimErrorAsync(response, 400, "invalidValue");
    }
}
