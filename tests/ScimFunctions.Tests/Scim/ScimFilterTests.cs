using ScimFunctions.Provisioning.Scim;

namespace ScimFunctions.Tests.Scim;

public sealed class ScimFilterTests
{
    [Theory]
    [InlineData("ada@example.org", "userName eq \"ada@example.org\"")]
    [InlineData("say \"hi\"", "userName eq \"say \\\"hi\\\"\"")]
    [InlineData(@"back\slash", "userName eq \"back\\\\slash\"")]
    [InlineData("\" or userName pr or \"", "userName eq \"\\\" or userName pr or \\\"\"")]
    [InlineData("line\nbreak\u0001", "userName eq \"line\\nbreak\\u0001\"")]
    public void Equal_QuotesAndEscapesTheValue(string value, string expected) =>
        Assert.Equal(expected, ScimFilter.Equal("userName", value));

    [Fact]
    public void Equal_AcceptsExtensionAttributePaths() =>
        Assert.Equal(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq \"42\"",
            ScimFilter.Equal("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "42"));

    [Theory]
    [InlineData("userName eq \"x\" or id")]
    [InlineData("")]
    [InlineData("1abc")]
    [InlineData("user name")]
    public void Equal_RejectsAnAttributeThatIsNotAPath(string attribute) =>
        Assert.Throws<ArgumentException>(() => ScimFilter.Equal(attribute, "x"));

    [Fact]
    public void Equal_WithBoolean_IsUnquoted() => Assert.Equal("active eq false", ScimFilter.Equal("active", false));
}
