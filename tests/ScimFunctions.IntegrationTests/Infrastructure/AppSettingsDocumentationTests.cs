using System.Text.Json.Nodes;

namespace ScimFunctions.IntegrationTests.Infrastructure;

/// <summary>Every setting main.bicep gives the Function App is one the app reads, under the same name
/// as in local.settings.sample.json, unless it exists only in Azure (listed below with the reason).</summary>
[Collection(BicepCollection.Name)]
public sealed class AppSettingsDocumentationTests(CompiledMainTemplate compiled)
{
    // Set in Azure only. Locally the same connections are the connection strings AzureWebJobsStorage
    // and ServiceBusConnection (Azurite, the emulator); the platform settings have no local meaning.
    private static readonly HashSet<string> AzureOnlySettings = new(StringComparer.Ordinal)
    {
        "AzureWebJobsStorage__credential",
        "AzureWebJobsStorage__clientId",
        "AzureWebJobsStorage__blobServiceUri",
        "AzureWebJobsStorage__queueServiceUri",
        "AzureWebJobsStorage__tableServiceUri",
        "ServiceBusConnection__fullyQualifiedNamespace",
        "ServiceBusConnection__credential",
        "ServiceBusConnection__clientId",
        "APPLICATIONINSIGHTS_CONNECTION_STRING",
        "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
        "FUNCTIONS_EXTENSION_VERSION",
        "WEBSITE_RUN_FROM_PACKAGE",
        "WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID",
    };

    [Fact]
    public void EveryAzureSetting_IsInTheSampleOrAnExplicitList()
    {
        var sample = SampleSettingNames();
        var (_, settings) = AppSettingsReader.Read(compiled.Main);
        var undocumented = settings.Keys
            .Where(name => !sample.Contains(name) && !AzureOnlySettings.Contains(name))
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.True(
            undocumented.Count == 0,
            $"Settings main.bicep sets that local.settings.sample.json does not document (add them there, or to AzureOnlySettings with a reason): {string.Join(", ", undocumented)}");
    }

    [Fact]
    public void ExplicitLists_NameOnlySettingsTheTemplateSets()
    {
        var (_, settings) = AppSettingsReader.Read(compiled.Main);
        var stale = AzureOnlySettings.Where(name => !settings.ContainsKey(name)).Order(StringComparer.Ordinal).ToList();
        Assert.True(stale.Count == 0, $"Listed as Azure-only but not set by main.bicep (remove them from the list): {string.Join(", ", stale)}");
    }

    [Fact]
    public void AzureOnlySettings_AreNotAlsoInTheSample()
    {
        var sample = SampleSettingNames();
        var both = AzureOnlySettings.Where(sample.Contains).Order(StringComparer.Ordinal).ToList();
        Assert.True(both.Count == 0, $"These are in local.settings.sample.json, so they are not Azure-only; remove them from AzureOnlySettings: {string.Join(", ", both)}");
    }

    private static HashSet<string> SampleSettingNames()
    {
        var path = Path.Combine(BicepCli.RepositoryRoot, "local.settings.sample.json");
        var values = JsonNode.Parse(File.ReadAllText(path))?["Values"] as JsonObject
            ?? throw new InvalidOperationException($"{path} has no Values object.");
        return [.. values.Select(pair => pair.Key)];
    }
}
