using System.Diagnostics;
using GenesysScimEmulator;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using ScimFunctions.IntegrationTests.Engine.Support;
using ScimFunctions.IntegrationTests.Graph;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.IntegrationTests.FunctionsHost;

/// <summary>The app's own registration (<see cref="ScimFunctionsRegistration.AddScimFunctions"/>) with in-memory
/// exporters added to its OpenTelemetry pipeline, standing where Azure Monitor's exporter sits in Azure: a real
/// convergence against the emulator, the Graph double and Azurite must reach them, with ids and no personal data.</summary>
[Collection(TelemetryCollection.Name)]
public sealed class TelemetryTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private RunningEmulator emulator = null!;
    private GraphDouble graph = null!;

    public async Task InitializeAsync()
    {
        emulator = await EmulatorHost.StartAsync(o => o.RateLimitPerMinute = 100_000);
        graph = await GraphDouble.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await graph.DisposeAsync();
        await emulator.DisposeAsync();
    }

    [Fact]
    public async Task Convergence_ExportsTheEngineCounters_HttpSpansAndLogs_WithoutPersonalData()
    {
        string[] personal = ["Zelda Quartermaine", "zelda.q@contoso.com", "Yusuf Oyelaran-Brandt", "yusuf.ob@contoso.com", "Quality Assurance Lead"];
        graph.AddUser("tel-user-1", personal[1], personal[0], properties: p => { p["mail"] = personal[1]; p["jobTitle"] = personal[4]; });
        graph.AddUser("tel-user-2", personal[3], personal[2], properties: p => p["mail"] = personal[3]);
        var metrics = new List<Metric>();
        var spans = new List<Activity>();
        var logs = new List<LogRecord>();

        var builder = FunctionsApplication.CreateBuilder([]);
        // As environment variables would be read: "__" is the section separator.
        builder.Configuration.AddInMemoryCollection(Settings().Select(kv => KeyValuePair.Create(kv.Key.Replace("__", ":", StringComparison.Ordinal), kv.Value)));
        builder.AddScimFunctions();
        builder.Services.ConfigureOpenTelemetryMeterProvider(m => m.AddInMemoryExporter(metrics));
        builder.Services.ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(spans));
        builder.Services.ConfigureOpenTelemetryLoggerProvider(l => l.AddInMemoryExporter(logs));
        using var host = builder.Build();
        var meterProvider = host.Services.GetRequiredService<MeterProvider>();
        var tracerProvider = host.Services.GetRequiredService<TracerProvider>();
        var loggerProvider = host.Services.GetRequiredService<LoggerProvider>();

        var summary = await host.Services.GetRequiredService<FullSync>().SyncAsync(dryRun: false);
        Assert.Equal(2, summary.Created);
        meterProvider.ForceFlush();
        tracerProvider.ForceFlush();
        loggerProvider.ForceFlush();

        var creates = metrics.Single(m => m.Name == "scimfn.creates");
        long created = 0;
        foreach (ref readonly var point in creates.GetMetricPoints())
        {
            created += point.GetSumLong();
        }

        Assert.Equal(2, created);
        Assert.Contains(metrics, m => m.Name == "http.client.request.duration");
        var scimSpans = spans.Where(s => s.Kind == ActivityKind.Client && ((string?)s.GetTagItem("url.full"))?.StartsWith(emulator.ScimBaseUrl, StringComparison.Ordinal) == true).ToList();
        Assert.NotEmpty(scimSpans);
        Assert.Contains(spans, s => s.Source.Name.StartsWith("Azure.Data.Tables", StringComparison.Ordinal));
        Assert.NotEmpty(logs);

        // Everything exported, as text: span names and tags, metric names and tags, log messages and attributes.
        var exported = new List<string>();
        exported.AddRange(spans.SelectMany(s => s.TagObjects.Select(t => $"{s.DisplayName} {t.Key}={t.Value}")));
        foreach (var metric in metrics)
        {
            foreach (ref readonly var point in metric.GetMetricPoints())
            {
                foreach (var tag in point.Tags)
                {
                    exported.Add($"{metric.Name} {tag.Key}={tag.Value}");
                }
            }
        }

        exported.AddRange(logs.Select(l => $"{l.CategoryName} {l.FormattedMessage} {l.Body} {string.Join(",", l.Attributes?.Select(a => $"{a.Key}={a.Value}") ?? [])}"));
        foreach (var value in personal)
        {
            Assert.DoesNotContain(exported, line => line.Contains(value, StringComparison.OrdinalIgnoreCase));
        }

        Assert.DoesNotContain(exported, line => line.Contains("filter=", StringComparison.OrdinalIgnoreCase));
    }

    private Dictionary<string, string?> Settings() =>
        AppUnderTest.LocalSettings(emulator, graph, azurite.ConnectionString, "O" + Guid.NewGuid().ToString("N")[..12]);
}

/// <summary>Alone, after the parallel collections: OpenTelemetry's MeterProvider listens to every meter of the
/// engine's name in the process, so a CLI test converging users at the same time (another collection) adds its
/// creates to these counts (seen in CI: 22 creates counted for this test's 2).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Telemetry";
}
