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
    public void TheAppHasExactlyTheSixFunctions_EachWithOneTrigger()
    {
        var names = Metadata.Value.Select(f => (string?)f!["name"]).Order(StringComparer.Ordinal);

        Assert.Equal(["DeltaSweep", "GraphNotifications", "ProvisionObject", "PurgeDisabled", "ReconcileGroups", "RenewSubscriptions"], names);
        Assert.All(Metadata.Value, f => Assert.Single(f!["bindings"]!.AsArray(), b => ((string?)b!["type"])!.EndsWith("Trigger", StringComparison.Ordinal)));
    }

    [Fact]
    public void ProvisionObject_IsTheSessionfulServiceBusTrigger_WithExplicitSettlement()
    {
        var trigger = Trigger("ProvisionObject");

        Assert.Equal("serviceBusTrigger", (string?)trigger["type"]);
        Assert.Equal("%ProvisioningQueueName%", (string?)trigger["queueName"]);
        Assert.Equal("ServiceBusConnection", (string?)trigger["connection"]);
        Assert.True((bool?)trigger["isSessionsEnabled"]);
        Assert.False((bool?)trigger["autoCompleteMessages"]);
    }

    [Theory]
    [InlineData("DeltaSweep", "%DeltaSweepSchedule%")]
    [InlineData("ReconcileGroups", "%ReconcileGroupsSchedule%")]
    [InlineData("RenewSubscriptions", "%RenewSubscriptionsSchedule%")]
    [InlineData("PurgeDisabled", "%PurgeDisabledSchedule%")]
    public void EngineTimers_AreTimerTriggers_WithTheirScheduleSetting(string functionName, string schedule)
    {
        var trigger = Trigger(functionName);

        Assert.Equal("timerTrigger", (string?)trigger["type"]);
        Assert.Equal(schedule, (string?)trigger["schedule"]);
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
