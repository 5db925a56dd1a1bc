using System.Net;

namespace ScimFunctions.IntegrationTests.Emulator;

public sealed class DiscoveryTests(EmulatorFactory factory) : EmulatorTest(factory)
{
    [Fact]
    public async Task ServiceProviderConfig_AdvertisesPatchEtagsAndFilterWithoutBulkOrSort()
    {
        using var response = await Client.GetAsync($"{Base}/serviceproviderconfig");
        var config = await ReadAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(config["patch"]!["supported"]!.GetValue<bool>());
        Assert.True(config["etag"]!["supported"]!.GetValue<bool>());
        Assert.True(config["filter"]!["supported"]!.GetValue<bool>());
        Assert.False(config["bulk"]!["supported"]!.GetValue<bool>());
        Assert.False(config["sort"]!["supported"]!.GetValue<bool>());
        Assert.Equal("oauthbearertoken", config["authenticationSchemes"]![0]!["type"]!.GetValue<string>());
        Assert.Equal(response.Headers.ETag!.ToString(), config["meta"]!["version"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("User")]
    [InlineData("Group")]
    [InlineData("ServiceProviderConfig")]
    [InlineData("ResourceType")]
    [InlineData("Schema")]
    public async Task ResourceTypes_ServeEachTypeWithoutVersion(string name)
    {
        var list = await ListAsync($"{Base}/resourcetypes");
        var type = await ReadAsync(await Client.GetAsync($"{Base}/resourcetypes/{name}"));

        Assert.Contains(list, t => t!["name"]!.GetValue<string>() == name);
        Assert.Equal(name, type["name"]!.GetValue<string>());
        Assert.False(type["meta"]!.AsObject().ContainsKey("version"));
        Assert.False(type["meta"]!.AsObject().ContainsKey("lastModified"));
    }

    [Fact]
    public async Task Schemas_ListAndGetById_ReturnDefinitionsWithoutVersion()
    {
        var list = await ListAsync($"{Base}/schemas");
        var user = await ReadAsync(await Client.GetAsync($"{Base}/schemas/{Genesys}"));

        Assert.Equal(7, list.Count);
        Assert.Contains(user["attributes"]!.AsArray(), a => a!["name"]!.GetValue<string>() == "routingSkills");
        Assert.False(user["meta"]!.AsObject().ContainsKey("version"));
    }

    [Fact]
    public async Task Schemas_WithAnyFilter_Answers403()
    {
        using var response = await Client.GetAsync($"{Base}/schemas?filter=id eq \"x\"");

        await AssertPlatformErrorAsync(response, 403, "not.authorized");
    }

    [Fact]
    public async Task Discovery_IsServedUnderTheLegacyBaseToo()
    {
        using var config = await Client.GetAsync($"{Legacy}/serviceproviderconfig");
        using var types = await Client.GetAsync($"{Legacy}/resourcetypes/User");

        Assert.Equal(HttpStatusCode.OK, config.StatusCode);
        Assert.Equal(HttpStatusCode.OK, types.StatusCode);
    }
}
