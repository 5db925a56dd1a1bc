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

public sealed class MetricsDocumentationTests
{
    [Fact]
    public void EngineDoc_ListsExactlyTheInstrumentsTheMeterCreates()
    {
        var created = new List<string>();
        using var listener = new System.Diagnostics.Metrics.MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == ScimFunctions.Provisioning.Sync.ProvisioningMetrics.MeterName)
                {
                    created.Add(instrument.Name);
                }
            },
        };
        listener.Start();
        using var metrics = new ScimFunctions.Provisioning.Sync.ProvisioningMetrics();

        var doc = File.ReadAllText(Path.Combine(Root(), "docs", "engine.md"));
        var section = doc[doc.IndexOf("## Observability", StringComparison.Ordinal)..];
        section = section[..section.IndexOf("\n## ", 5, StringComparison.Ordinal)];
        var documented = System.Text.RegularExpressions.Regex.Matches(section, @"`(scimfn\.[a-z_.]+)`").Select(m => m.Groups[1].Value).Distinct();

        Assert.Equal(created.Order(StringComparer.Ordinal), documented.Order(StringComparer.Ordinal));
    }

    private static string Root()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "ScimFunctions.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("ScimFunctions.sln not found");
    }
}
