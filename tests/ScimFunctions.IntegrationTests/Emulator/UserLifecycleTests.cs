using System.Net;
using System.Text.Json.Nodes;

namespace ScimFunctions.IntegrationTests.Emulator;

public sealed class UserLifecycleTests(EmulatorFactory factory) : EmulatorTest(factory)
{
    [Fact]
    public async Task CreateUser_Answers201WithIdLocationAndMetaWithoutCreated()
    {
        using var response = await SendAsync(HttpMethod.Post, $"{Base}/users", NewUser("ann@example.com"));
        var user = await ReadAsync(response);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.True(Guid.TryParse(Id(user), out _));
        var meta = user["meta"]!.AsObject();
        Assert.Equal("User", meta["resourceType"]!.GetValue<string>());
        Assert.Equal($"http://localhost{Base}/users/{Id(user)}", meta["location"]!.GetValue<string>());
        Assert.Equal(response.Headers.Location!.ToString(), meta["location"]!.GetValue<string>());
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", meta["lastModified"]!.GetValue<string>());
        Assert.Equal("\"1\"", meta["version"]!.GetValue<string>());
        Assert.False(meta.ContainsKey("created"));
    }

    [Theory]
    [InlineData("userName")]
    [InlineData("displayName")]
    public async Task CreateUser_WithoutRequiredAttribute_Answers400(string missing)
    {
        var user = NewUser("ann@example.com");
        user.Remove(missing);

        using var response = await SendAsync(HttpMethod.Post, $"{Base}/users", user);

        await AssertScimErrorAsync(response, 400, "invalidValue");
    }

    [Fact]
    public async Task CreateUser_WithDuplicateUserName_Answers409ScimErrorWithStatusAsString()
    {
        await CreateUserAsync("ann@example.com");

        using var response = await SendAsync(HttpMethod.Post, $"{Base}/users", NewUser("ANN@example.com"));

        await AssertScimErrorAsync(response, 409, "uniqueness");
    }

    [Fact]
    public async Task CreateUser_WithStatusSetting200_Answers200()
    {
        Settings(o => o.CreatedStatus = 200);

        using var response = await SendAsync(HttpMethod.Post, $"{Base}/users", NewUser("ann@example.com"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task CreateUser_WithoutRoles_GetsTheDefaultEmployeeRole()
    {
        var user = await CreateUserAsync("ann@example.com");

        Assert.Equal("employee", user["roles"]![0]!["value"]!.GetValue<string>());
    }

    [Fact]
    public async Task ReplaceUser_ReplacesWritableAttributesAndIncrementsVersion()
    {
        var user = await CreateUserAsync("ann@example.com", u => u["title"] = "Agent");
        var replacement = NewUser("ann@example.com", "Ann Smith");

        using var response = await SendAsync(HttpMethod.Put, $"{Base}/users/{Id(user)}", replacement);
        var replaced = await ReadAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Ann Smith", replaced["displayName"]!.GetValue<string>());
        Assert.False(replaced.ContainsKey("title"));
        Assert.Equal("\"2\"", Version(replaced));
    }

    [Fact]
    public async Task PatchUser_Answers200WithUserAndIncrementedVersion()
    {
        var user = await CreateUserAsync("ann@example.com");

        using var response = await PatchUserAsync(Id(user), ("replace", "title", "Lead"));
        var patched = await ReadAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Lead", patched["title"]!.GetValue<string>());
        Assert.Equal("\"2\"", Version(patched));
        Assert.Equal("\"2\"", response.Headers.ETag!.ToString());
    }

    [Fact]
    public async Task DeleteUser_Answers204AndTheUserIsGoneFromGetAndLists()
    {
        var user = await CreateUserAsync("ann@example.com");

        using var delete = await SendAsync(HttpMethod.Delete, $"{Base}/users/{Id(user)}");
        using var get = await Client.GetAsync($"{Base}/users/{Id(user)}");

        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        Assert.Equal(0, delete.Content.Headers.ContentLength ?? 0);
        await AssertScimErrorAsync(get, 404, null);
        Assert.Empty(await ListAsync($"{Base}/users"));
        Assert.Empty(await ListAsync($"{Base}/users?filter=active eq false"));
        Assert.Empty(await ListAsync($"{Base}/users?filter=userName eq \"ann@example.com\""));
    }

    [Fact]
    public async Task DeletedUser_PatchReplaceAndDeleteAnswer404()
    {
        var user = await CreateUserAsync("ann@example.com");
        using var _ = await SendAsync(HttpMethod.Delete, $"{Base}/users/{Id(user)}");

        using var patch = await PatchUserAsync(Id(user), ("replace", "title", "x"));
        using var put = await SendAsync(HttpMethod.Put, $"{Base}/users/{Id(user)}", NewUser("ann@example.com"));
        using var delete = await SendAsync(HttpMethod.Delete, $"{Base}/users/{Id(user)}");

        await AssertScimErrorAsync(patch, 404, null);
        await AssertScimErrorAsync(put, 404, null);
        await AssertScimErrorAsync(delete, 404, null);
    }

    [Fact]
    public async Task NotFound_WithPlatformBodySetting_AnswersErrorBody()
    {
        Settings(o => o.NotFoundBody = GenesysScimEmulator.ErrorShape.Platform);

        using var response = await Client.GetAsync($"{Base}/users/missing");

        await AssertPlatformErrorAsync(response, 404, "not.found");
    }

    [Fact]
    public async Task CreateUser_ReusingDeletedUserName_SucceedsWithNewIdAndWithoutDefaultRole()
    {
        var first = await CreateUserAsync("ann@example.com");
        using var _ = await SendAsync(HttpMethod.Delete, $"{Base}/users/{Id(first)}");

        var second = await CreateUserAsync("ann@example.com");

        Assert.NotEqual(Id(first), Id(second));
        Assert.False(second.ContainsKey("roles"));
    }

    [Fact]
    public async Task CreateUser_ReusingDeletedUserName_WithReuseSetting_RevivesTheOldId()
    {
        Settings(o => o.ReuseDeletedUserId = true);
        var first = await CreateUserAsync("ann@example.com", u => u["title"] = "Agent");
        using var _ = await SendAsync(HttpMethod.Delete, $"{Base}/users/{Id(first)}");

        var second = await CreateUserAsync("ann@example.com");

        Assert.Equal(Id(first), Id(second));
        Assert.False(second.ContainsKey("title"));
        Assert.False(second.ContainsKey("roles"));
        Assert.True(int.Parse(Version(second).Trim('"'), System.Globalization.CultureInfo.InvariantCulture) > 1);
    }

    [Fact]
    public async Task CreateUser_WithReuseSetting_RevivesTheNewestDeletedUserOfThatName_WhateverItsCase()
    {
        var older = await CreateUserAsync("Ann@Example.com");
        using var _ = await SendAsync(HttpMethod.Delete, $"{Base}/users/{Id(older)}");
        var newer = await CreateUserAsync("ANN@example.com");
        using var __ = await SendAsync(HttpMethod.Delete, $"{Base}/users/{Id(newer)}");
        Settings(o => o.ReuseDeletedUserId = true);

        var revived = await CreateUserAsync("ann@example.com");
        using var ___ = await SendAsync(HttpMethod.Delete, $"{Base}/users/{Id(revived)}");
        var again = await CreateUserAsync("ann@EXAMPLE.com");
        var other = await CreateUserAsync("bob@example.com");

        Assert.NotEqual(Id(older), Id(newer));
        Assert.Equal(Id(newer), Id(revived));
        Assert.Equal(Id(newer), Id(again));
        Assert.NotEqual(Id(older), Id(other));
        Assert.Equal("ann@EXAMPLE.com", again["userName"]!.GetValue<string>());
    }

    [Fact]
    public async Task DeleteUser_WithStatusSetting200_Answers200()
    {
        Settings(o => o.DeletedStatus = 200);
        var user = await CreateUserAsync("ann@example.com");

        using var response = await SendAsync(HttpMethod.Delete, $"{Base}/users/{Id(user)}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Password_IsAcceptedButNeverReturned()
    {
        var created = await CreateUserAsync("ann@example.com", u => u["password"] = "S3cret-Passw0rd!");
        using var patch = await PatchUserAsync(Id(created), ("replace", "password", "An0ther-Passw0rd!"));
        var fetched = await ReadAsync(await Client.GetAsync($"{Base}/users/{Id(created)}"));
        var listed = await ListAsync($"{Base}/users");

        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        Assert.DoesNotContain("assw0rd", created.ToJsonString(), StringComparison.Ordinal);
        Assert.DoesNotContain("assw0rd", (await ReadAsync(patch)).ToJsonString(), StringComparison.Ordinal);
        Assert.False(fetched.ContainsKey("password"));
        Assert.DoesNotContain("assw0rd", listed.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Users_AreServedUnderV2AndLegacyBasePathsWithTheSameModel()
    {
        var created = await CreateUserAsync("ann@example.com");

        var legacy = await ReadAsync(await Client.GetAsync($"{Legacy}/users/{Id(created)}"));
        using var legacyCreate = await SendAsync(HttpMethod.Post, $"{Legacy}/users", NewUser("bob@example.com"));

        Assert.Equal(Id(created), Id(legacy));
        Assert.Equal($"http://localhost{Legacy}/users/{Id(created)}", legacy["meta"]!["location"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Created, legacyCreate.StatusCode);
        Assert.Equal(2, (await ListAsync($"{Base}/users")).Count);
    }

    [Theory]
    [InlineData("/api/v2/scim/v2/Users")]
    [InlineData("/API/V2/SCIM/V2/USERS")]
    [InlineData("/api/v2/scim/Users")]
    public async Task Paths_AreMatchedCaseInsensitively(string path)
    {
        await CreateUserAsync("ann@example.com");

        Assert.Single(await ListAsync(path));
    }
}
