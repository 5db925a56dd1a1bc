using System.Text.Json.Nodes;

namespace ScimFunctions.Tests.Functions;

/// <summary>Reads the functions.metadata the Functions SDK generated when this test project built the
/// app: it is what the Functions host indexes, so bindings are checked as the host will see them.</summary>
public sealed class FunctionMetadataTests
{
    private static readonly Lazy<JsonArray> Metadata = new(Load);

    [Fact]
    public void GraphNotifications_IsAnHttpTrigger_WithFunctionKeyAuth_OnTheNotificationsRoute()
    {
        var trigger = Trigger("GraphNotifications");

        Assert.Equal("httpTrigger", (string?)trigger["type"]);
        Assert.Equal("Function", (string?)trigger["authLevel"]);
        Assert.Equal("notifications", (string?)trigger["route"]);
        // No methods listed: every method reaches the function, which answers 405 itself.
        Assert.Null(trigger["methods"]);
    }

    [Fact]
    public void ServiceBusTriggers_ReadTheQueueFromSettings_WithSessions_AndManualSettlement()
    {
        var triggers = Triggers("serviceBusTrigger").ToList();

        Assert.NotEmpty(triggers);
        foreach (var trigger in triggers)
        {
            Assert.Equal("%ProvisioningQueueName%", (string?)trigger["queueName"]);
            Assert.Equal("ServiceBusConnection", (string?)trigger["connection"]);
            Assert.True((bool?)trigger["isSessionsEnabled"], "Sessions keep one object's changes in order.");
            Assert.False((bool?)trigger["autoCompleteMessages"] ?? true, "Messages are settled explicitly.");
        }
    }

    [Fact]
    public void TimerTriggers_TakeTheirScheduleFromASetting()
    {
        foreach (var trigger in Triggers("timerTrigger"))
        {
            Assert.Matches("^%[A-Za-z]+Schedule%$", (string?)trigger["schedule"]);
        }
    }

    [Fact]
    public void NoFunctionRunsOnStartup()
    {
        Assert.DoesNotContain(Triggers("timerTrigger"), t => (bool?)t["runOnStartup"] == true);
    }

    private static JsonObject Trigger(string functionName)
    {
        var function = Metadata.Value.Single(f => (string?)f!["name"] == functionName)!;
        return function["bindings"]!.AsArray().Single(b => ((string?)b!["type"])!.EndsWith("Trigger", StringComparison.Ordinal))!.AsObject();
    }

    private static IEnumerable<JsonObject> Triggers(string type) =>
        Metadata.Value.SelectMany(f => f!["bindings"]!.AsArray()).Where(b => (string?)b!["type"] == type).Select(b => b!.AsObject());

    private static JsonArray Load()
    {
        // tests/ScimFunctions.Tests/bin/<Configuration>/net10.0 → src/ScimFunctions/bin/<Configuration>/net10.0
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory);
        var configuration = testOutput.Parent!.Name;
        var root = testOutput;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "ScimFunctions.sln")))
        {
            root = root.Parent;
        }

        Assert.NotNull(root);
        var path = Path.Combine(root.FullName, "src", "ScimFunctions", "bin", configuration, testOutput.Name, "functions.metadata");
        Assert.True(File.Exists(path), $"The Functions SDK did not generate {path}.");
        return JsonNode.Parse(File.ReadAllText(path))!.AsArray();
    }
}
