using System.Text.Json.Nodes;
using ScimFunctions.Provisioning.Scim;

namespace ScimFunctions.Tests.Scim;

public sealed class ScimVersionTests
{
    [Theory]
    [InlineData("\"42\"", "\"42\"")]
    [InlineData("W/\"abc\"", "W/\"abc\"")]
    [InlineData("42", "42")]
    public void FromResponse_KeepsTheETagHeaderVerbatim(string header, string expected) =>
        Assert.Equal(expected, ScimVersion.FromResponse(header, Meta("\"7\"")));

    [Theory]
    [InlineData("42", "\"42\"")]
    [InlineData("\"42\"", "\"42\"")]
    [InlineData("W/\"42\"", "W/\"42\"")]
    public void FromResponse_WithoutHeader_QuotesMetaVersion(string metaVersion, string expected) =>
        Assert.Equal(expected, ScimVersion.FromResponse(null, Meta(metaVersion)));

    [Fact]
    public void FromMeta_WithNumericVersion_Quotes() =>
        Assert.Equal("\"5\"", ScimVersion.FromMeta(new JsonObject { ["meta"] = new JsonObject { ["version"] = 5 } }));

    [Fact]
    public void FromResponse_WithNeither_IsNull() => Assert.Null(ScimVersion.FromResponse(null, new JsonObject()));

    [Theory]
    [InlineData("42", "\"42\"")]
    [InlineData("\"42\"", "\"42\"")]
    [InlineData("W/\"42\"", "W/\"42\"")]
    public void Quote_OnlyQuotesBareValues(string stored, string sent) => Assert.Equal(sent, ScimVersion.Quote(stored));

    private static JsonObject Meta(string version) => new() { ["meta"] = new JsonObject { ["version"] = version } };
}
