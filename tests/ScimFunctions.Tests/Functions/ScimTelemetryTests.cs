using Azure.Identity;

namespace ScimFunctions.Tests.Functions;

public sealed class ScimTelemetryTests
{
    [Fact]
    public void IngestionCredential_UserAssigned_IsAManagedIdentityCredential()
    {
        Assert.IsType<ManagedIdentityCredential>(ScimTelemetry.IngestionCredential("ClientId=6f1c2a9e-0d3b-4a57-9e4f-1b2c3d4e5f60;Authorization=AAD"));
    }

    [Fact]
    public void IngestionCredential_SystemAssigned_IsAManagedIdentityCredential()
    {
        Assert.IsType<ManagedIdentityCredential>(ScimTelemetry.IngestionCredential("Authorization=AAD"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void IngestionCredential_Unset_IsNone(string? value)
    {
        Assert.Null(ScimTelemetry.IngestionCredential(value));
    }

    [Theory]
    [InlineData("ClientId=6f1c2a9e-0d3b-4a57-9e4f-1b2c3d4e5f60", "Authorization=AAD")]
    [InlineData("ClientId=not-a-guid;Authorization=AAD", "GUID")]
    [InlineData("Authorization=AAD;Secret=x", "unknown part 'Secret'")]
    public void IngestionCredential_Malformed_NamesTheSetting(string value, string expected)
    {
        var error = Assert.Throws<InvalidOperationException>(() => ScimTelemetry.IngestionCredential(value));
        Assert.Contains(ScimTelemetry.AuthenticationStringSetting, error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}
