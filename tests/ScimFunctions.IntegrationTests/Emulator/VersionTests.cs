using System.Net;
using System.Text.Json.Nodes;

namespace ScimFunctions.IntegrationTests.Emulator;

public sealed class VersionTests(EmulatorFactory factory) : EmulatorTest(factory)
{
    [Fact]
    public async Task GetUser_EtagHeaderEqualsQuotedMetaVersion()
    {
        var user = await CreateUserAsync("ann@example.com");

        using var response = await Client.GetAsync($"{Base}/users/{Id(user)}");
        var body = await ReadAsync(response);

        Assert.Equal("\"1\"", response.Headers.ETag!.ToString());
        Assert.Equal(response.Headers.ETag!.ToString(), Version(body));
    }

    [Fact]
    public async Task MetaVersion_WithQuoteSettingOff_IsTheBareIntegerWhileEtagStaysQuoted()
    {
        Settings(o => o.QuoteMetaVersion = false);
        var user = await CreateUserAsync("ann@example.com");

        using var response = await Client.GetAsync($"{Base}/users/{Id(user)}");

        Assert.Equal("1", Version(await ReadAsync(response)));
        Assert.Equal("\"1\"", response.Headers.ETag!.ToString());
    }

    [Fact]
    public async Task Version_IncrementsOnEverySuccessfulWrite()
    {
        var user = await CreateUserAsync("ann@example.com");
        using var put = await SendAsync(HttpMethod.Put, $"{Base}/users/{Id(user)}", NewUser("ann@example.com"));
        using var patch = await PatchUserAsync(Id(user), ("replace", "title", "x"));
        using var failed = await PatchUserAsync(Id(user), ("replace", "emails[type eq \"work\"].value", "not-an-email"));

        var current = await ReadAsync(await Client.GetAsync($"{Base}/users/{Id(user)}"));

        Assert.Equal("\"2\"", put.Headers.ETag!.ToString());
        Assert.Equal("\"3\"", patch.Headers.ETag!.ToString());
        Assert.Equal(HttpStatusCode.BadRequest, failed.StatusCode);
        Assert.Equal("\"3\"", Version(current));
    }

    [Fact]
    public async Task GetUser_WithCurrentIfNoneMatch_Answers304WithoutBody()
    {
        var user = await CreateUserAsync("ann@example.com");

        using var response = await SendAsync(HttpMethod.Get, $"{Base}/users/{Id(user)}", ifNoneMatch: "\"1\"");

        Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task GetUser_WithStaleIfNoneMatch_Answers200WithTheUser()
    {
        var user = await CreateUserAsync("ann@example.com");
        using var _ = await PatchUserAsync(Id(user), ("replace", "title", "x"));

        using var response = await SendAsync(HttpMethod.Get, $"{Base}/users/{Id(user)}", ifNoneMatch: "\"1\"");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("\"2\"", Version(await ReadAsync(response)));
    }

    [Fact]
    public async Task GetGroup_WithCurrentIfNoneMatch_Answers304()
    {
        var id = AddGroup("Sales");

        using var response = await SendAsync(HttpMethod.Get, $"{Base}/groups/{id}", ifNoneMatch: "\"1\"");

        Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
    }

    [Fact]
    public async Task ServiceProviderConfig_WithCurrentIfNoneMatch_Answers304()
    {
        using var first = await Client.GetAsync($"{Base}/serviceproviderconfig");

        using var second = await SendAsync(HttpMethod.Get, $"{Base}/serviceproviderconfig", ifNoneMatch: first.Headers.ETag!.ToString());

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
    }

    [Fact]
    public async Task PatchUser_WithStaleIfMatch_Answers400InvalidVers()
    {
        var user = await CreateUserAsync("ann@example.com");
        using var _ = await PatchUserAsync(Id(user), ("replace", "title", "x"));

        using var response = await SendAsync(HttpMethod.Patch, $"{Base}/users/{Id(user)}", PatchBody(("replace", "title", "y")), ifMatch: "\"1\"");

        await AssertScimErrorAsync(response, 400, "invalidVers");
    }

    [Fact]
    public async Task PatchUser_WithStaleIfMatch_AndConflictStatus409_Answers409VersionMismatch()
    {
        Settings(o => o.ConflictStatus = 409);
        var user = await CreateUserAsync("ann@example.com");

        using var response = await SendAsync(HttpMethod.Patch, $"{Base}/users/{Id(user)}", PatchBody(("replace", "title", "y")), ifMatch: "\"7\"");
        var body = await ReadAsync(response);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("409", body["status"]!.GetValue<string>());
        Assert.StartsWith("Version does not match current version.", body["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReplaceUser_WithStaleIfMatch_Answers400InvalidVers()
    {
        var user = await CreateUserAsync("ann@example.com");

        using var response = await SendAsync(HttpMethod.Put, $"{Base}/users/{Id(user)}", NewUser("ann@example.com"), ifMatch: "\"2\"");

        await AssertScimErrorAsync(response, 400, "invalidVers");
    }

    [Fact]
    public async Task DeleteUser_WithStaleIfMatch_Answers400InvalidVersAndKeepsTheUser()
    {
        var user = await CreateUserAsync("ann@example.com");

        using var response = await SendAsync(HttpMethod.Delete, $"{Base}/users/{Id(user)}", ifMatch: "\"2\"");

        await AssertScimErrorAsync(response, 400, "invalidVers");
        Assert.Single(await ListAsync($"{Base}/users"));
    }

    [Fact]
    public async Task PatchGroup_WithStaleIfMatch_Answers400InvalidVers()
    {
        var id = AddGroup("Sales");

        using var response = await SendAsync(HttpMethod.Patch, $"{Base}/groups/{id}", PatchBody(("replace", "externalId", "x")), ifMatch: "\"5\"");

        await AssertScimErrorAsync(response, 400, "invalidVers");
    }

    [Fact]
    public async Task IfMatch_WithoutQuotes_IsNotTheVersionAndAnswersInvalidVers()
    {
        var user = await CreateUserAsync("ann@example.com");

        using var response = await SendAsync(HttpMethod.Patch, $"{Base}/users/{Id(user)}", PatchBody(("replace", "title", "y")), ifMatch: "1");

        await AssertScimErrorAsync(response, 400, "invalidVers");
    }

    [Fact]
    public async Task Writes_WithCurrentIfMatch_Succeed()
    {
        var user = await CreateUserAsync("ann@example.com");

        using var patch = await SendAsync(HttpMethod.Patch, $"{Base}/users/{Id(user)}", PatchBody(("replace", "title", "y")), ifMatch: "\"1\"");
        using var put = await SendAsync(HttpMethod.Put, $"{Base}/users/{Id(user)}", NewUser("ann@example.com"), ifMatch: "\"2\"");
        using var delete = await SendAsync(HttpMethod.Delete, $"{Base}/users/{Id(user)}", ifMatch: "\"3\"");

        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
    }

    [Fact]
    public async Task Writes_WithoutIfMatch_AreUnconditional()
    {
        var user = await CreateUserAsync("ann@example.com");
        State.Store.EditUserConcurrently(Id(user));

        using var patch = await PatchUserAsync(Id(user), ("replace", "title", "y"));

        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        Assert.Equal("\"3\"", patch.Headers.ETag!.ToString());
    }

    [Fact]
    public async Task AdminConcurrentEdit_BumpsTheVersionSoTheClientsIfMatchIsStale()
    {
        var user = await CreateUserAsync("ann@example.com");

        using var edit = await Client.PostAsync($"/_emulator/users/{Id(user)}/concurrent-edit", JsonBody(new JsonObject { ["title"] = "Edited by admin" }, "application/json"));
        using var patch = await SendAsync(HttpMethod.Patch, $"{Base}/users/{Id(user)}", PatchBody(("replace", "displayName", "Ann")), ifMatch: "\"1\"");
        var current = await ReadAsync(await Client.GetAsync($"{Base}/users/{Id(user)}"));

        Assert.Equal("\"2\"", (await ReadAsync(edit))["version"]!.GetValue<string>());
        await AssertScimErrorAsync(patch, 400, "invalidVers");
        Assert.Equal("Edited by admin", current["title"]!.GetValue<string>());
    }
}
