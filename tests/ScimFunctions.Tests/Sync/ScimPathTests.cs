using ScimFunctions.Provisioning.Scim;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.Tests.Sync;

public sealed class ScimPathTests
{
    [Fact]
    public void Parse_FilteredMultiValuedPath_ReadsAttributeFilterAndSubAttribute()
    {
        var path = ScimPath.Parse("emails[type eq \"work\"].value");

        Assert.Null(path.Schema);
        Assert.Equal("emails", path.Attribute);
        Assert.Equal("type", path.FilterAttribute);
        Assert.Equal("work", path.FilterValue);
        Assert.Equal("value", path.SubAttribute);
        Assert.Equal("emails[type eq \"work\"]", path.EntryPath);
    }

    [Fact]
    public void Parse_ExtensionAttribute_SplitsTheSchemaUrn()
    {
        var path = ScimPath.Parse(ScimSchemas.EnterpriseUser + ":department");

        Assert.Equal(ScimSchemas.EnterpriseUser, path.Schema);
        Assert.Equal("department", path.Attribute);
        Assert.False(path.IsManager);
        Assert.True(ScimPath.Parse(ScimSchemas.EnterpriseUser + ":manager").IsManager);
    }

    [Fact]
    public void Parse_CoreSchemaPrefix_IsTheDefaultSchema()
    {
        var path = ScimPath.Parse(ScimSchemas.User + ":title");

        Assert.Null(path.Schema);
        Assert.Equal("title", path.Text);
    }

    [Theory]
    [InlineData("")]
    [InlineData("emails[type eq work].value")]
    [InlineData("urn:foo:bar:")]
    [InlineData("a b")]
    public void Parse_Nonsense_FailsWithTheOffendingPath(string text)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(() => ParseOrWrap(text));
        Assert.Contains(text.Length == 0 ? "" : text, ex.Message, StringComparison.Ordinal);
    }

    private static ScimPath ParseOrWrap(string text)
    {
        try
        {
            return ScimPath.Parse(text);
        }
        catch (FormatException ex)
        {
            throw new ArgumentException(ex.Message, ex);
        }
    }
}
