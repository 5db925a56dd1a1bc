using System.Text.RegularExpressions;

namespace ScimFunctions.IntegrationTests.Infrastructure;

/// <summary>The operators' workbook: main.bicep deploys it, and every metric name and log event id its queries
/// name is one the code emits (a renamed counter or event would otherwise leave an empty chart).</summary>
[Collection(BicepCollection.Name)]
public sealed partial class WorkbookTests(CompiledMainTemplate compiled)
{
    private static string WorkbookBicep => File.ReadAllText(Path.Combine(BicepCli.RepositoryRoot, "infra", "workbook.bicep"));

    [Fact]
    public void Main_DeploysTheWorkbook_OnTheAppInsightsComponent()
    {
        var (workbook, _) = Assert.Single(compiled.Main.AllResourcesOfType("Microsoft.Insights/workbooks"));

        Assert.Equal("shared", (string?)workbook["kind"]);
        Assert.Contains("Microsoft.Insights/components", ArmTemplate.Text(workbook["properties"]!["sourceId"]), StringComparison.Ordinal);
        Assert.Contains("serializedData", ArmTemplate.Text(workbook["properties"]), StringComparison.Ordinal);
    }

    [Fact]
    public void EveryMetricTheWorkbookNames_IsOneTheEngineEmits()
    {
        var emitted = InstrumentName().Matches(Source("src/ScimFunctions.Provisioning/Sync/ProvisioningMetrics.cs"))
            .Select(m => m.Groups["name"].Value).ToHashSet(StringComparer.Ordinal);
        var named = MetricName().Matches(WorkbookBicep).Select(m => m.Value).Distinct().ToList();

        Assert.True(named.Count >= 6, $"The workbook names only {named.Count} metrics: the scan is broken.");
        Assert.Contains("scimfn.lag", named);
        var unknown = named.Where(n => !emitted.Contains(n)).ToList();
        Assert.True(unknown.Count == 0, $"The workbook names metrics the engine does not emit: {string.Join(", ", unknown)}");
    }

    [Fact]
    public void EveryEventIdTheWorkbookNames_IsALogEventInTheCode()
    {
        var declared = Directory.EnumerateFiles(Path.Combine(BicepCli.RepositoryRoot, "src"), "*.cs", SearchOption.AllDirectories)
            .SelectMany(file => DeclaredEventId().Matches(File.ReadAllText(file)).Select(m => m.Groups["id"].Value))
            .ToHashSet(StringComparer.Ordinal);
        var named = QueriedEventIds().Matches(WorkbookBicep)
            .SelectMany(m => QuotedNumber().Matches(m.Value).Select(n => n.Groups["id"].Value))
            .Distinct().ToList();

        Assert.True(named.Count >= 5, $"The workbook names only {named.Count} event ids: the scan is broken.");
        var unknown = named.Where(id => !declared.Contains(id)).ToList();
        Assert.True(unknown.Count == 0, $"The workbook queries event ids no [LoggerMessage] declares: {string.Join(", ", unknown)}");
    }

    private static string Source(string relative) => File.ReadAllText(Path.Combine(BicepCli.RepositoryRoot, relative));

    [GeneratedRegex(@"Create(?:Counter|Histogram|UpDownCounter|Gauge)<\w+>\(""(?<name>scimfn\.[a-z_.]+)""")]
    private static partial Regex InstrumentName();

    [GeneratedRegex(@"scimfn\.[a-z_]+(?:\.[a-z_]+)*")]
    private static partial Regex MetricName();

    [GeneratedRegex(@"EventId = (?<id>\d+)")]
    private static partial Regex DeclaredEventId();

    // customDimensions.EventId) == "3100" or customDimensions.EventId) in ("3200", "3201")
    [GeneratedRegex(@"customDimensions\.EventId\)\s*(?:==\s*""\d+""|in\s*\([^)]*\))")]
    private static partial Regex QueriedEventIds();

    [GeneratedRegex(@"""(?<id>\d+)""")]
    private static partial Regex QuotedNumber();
}
