using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FunctionsHostDouble.Protocol;

namespace ScimFunctions.IntegrationTests.FunctionsHost;

/// <summary>The worker as the Functions host sees it at start: initialisation, worker indexing, loading.</summary>
[Collection(HostedAppCollection.Name)]
public sealed class WorkerProtocolTests(HostedApp app)
{
    [Fact]
    public void Init_Succeeds_AndReportsTheWorkersHttpUri()
    {
        Assert.Equal(StatusResult.Types.Status.Success, app.Init.Result.Status);
        Assert.True(Uri.TryCreate(app.Init.Capabilities["HttpUri"], UriKind.Absolute, out var uri) && uri.IsLoopback, "HttpUri: " + app.Init.Capabilities["HttpUri"]);
        Assert.Equal(".NET", app.Init.WorkerMetadata.RuntimeName);
    }

    [Fact]
    public void Indexing_ReportsExactlyTheSixFunctions_WithTheBindingsOfFunctionsMetadata()
    {
        Assert.Equal(StatusResult.Types.Status.Success, app.Metadata.Result.Status);
        Assert.False(app.Metadata.UseDefaultMetadataIndexing);

        using var file = JsonDocument.Parse(File.ReadAllText(Path.Combine(app.AppDirectory, "functions.metadata")));
        var expected = file.RootElement.EnumerateArray().ToDictionary(f => f.GetProperty("name").GetString()!, f => f);
        Assert.Equal(
            ["DeltaSweep", "GraphNotifications", "ProvisionObject", "PurgeDisabled", "ReconcileGroups", "RenewSubscriptions"],
            app.Metadata.FunctionMetadataResults.Select(f => f.Name).Order(StringComparer.Ordinal));
        foreach (var function in app.Metadata.FunctionMetadataResults)
        {
            var declared = expected[function.Name];
            Assert.Equal(declared.GetProperty("entryPoint").GetString(), function.EntryPoint);
            Assert.Equal(declared.GetProperty("scriptFile").GetString(), function.ScriptFile);
            Assert.False(string.IsNullOrEmpty(function.FunctionId));
            var reported = function.RawBindings.Select(b => Canonical(JsonNode.Parse(b)!)).Order(StringComparer.Ordinal).ToList();
            var inFile = declared.GetProperty("bindings").EnumerateArray().Select(b => Canonical(JsonNode.Parse(b.GetRawText())!)).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(inFile, reported);
        }
    }

    [Fact]
    public void Load_SucceedsForEveryFunction()
    {
        Assert.Equal(6, app.Loaded.Count);
        foreach (var (name, response) in app.Loaded)
        {
            Assert.True(response.Result.Status == StatusResult.Types.Status.Success, $"{name}: {response.Result.Exception?.Message}");
        }
    }

    [Fact]
    public void StartUp_Figures()
    {
        // Printed for the record (eng/bench.sh prints them too); asserted only for order, never for speed.
        var (connected, initialised, loaded) = app.StartUp;
        Console.WriteLine($"worker start: StartStream {connected.TotalMilliseconds:F0} ms, WorkerInitResponse {initialised.TotalMilliseconds:F0} ms, all loaded {loaded.TotalMilliseconds:F0} ms");
        Assert.True(connected <= initialised && initialised <= loaded);
    }

    /// <summary>A binding's JSON with its properties in a fixed order, so the file and the worker's report compare
    /// (the file also writes an empty <c>properties</c> object that the worker's raw binding leaves out).</summary>
    private static string Canonical(JsonNode node) => node switch
    {
        JsonObject o => "{" + string.Join(",", o.Where(p => !(p.Key == "properties" && p.Value is JsonObject { Count: 0 })).OrderBy(p => p.Key, StringComparer.OrdinalIgnoreCase).Select(p => $"\"{p.Key.ToLowerInvariant()}\":{(p.Value is null ? "null" : Canonical(p.Value))}")) + "}",
        JsonArray a => "[" + string.Join(",", a.Select(v => v is null ? "null" : Canonical(v))) + "]",
        JsonValue v => v.ToJsonString().ToLowerInvariant(),
        _ => node.ToJsonString(),
    };
}
