using System.Text.Json;
using GenesysScimEmulator;
using ScimFunctions.IntegrationTests.Build;
using ScimFunctions.IntegrationTests.Graph;

namespace ScimFunctions.IntegrationTests.FunctionsHost;

/// <summary>Where the built Functions app is, and the settings a new user starts from.</summary>
public static class AppUnderTest
{
    /// <summary>The app's build output: <c>src/ScimFunctions/bin/{configuration}/net10.0</c>, in the configuration
    /// this test assembly was built in (eng/test.sh builds the solution once, in Release).</summary>
    public static string Directory()
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var directory = Path.Combine(StandInPublishTests.RepositoryRoot(), "src", "ScimFunctions", "bin", configuration, "net10.0");
        if (!File.Exists(Path.Combine(directory, "ScimFunctions.dll")))
        {
            throw new InvalidOperationException($"The Functions app is not built at {directory}: build ScimFunctions.sln in {configuration} first.");
        }

        return directory;
    }

    /// <summary>The committed sample settings (<c>local.settings.sample.json</c> Values).</summary>
    public static Dictionary<string, string?> SampleSettings()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(StandInPublishTests.RepositoryRoot(), "local.settings.sample.json")));
        return document.RootElement.GetProperty("Values").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString(), StringComparer.Ordinal);
    }

    /// <summary>The sample settings pointed at this machine's components: the Graph double (static token), the
    /// emulator (rate limit out of the way), and Azurite tables under a prefix of the test's own.</summary>
    public static Dictionary<string, string?> LocalSettings(RunningEmulator emulator, GraphDouble graph, string tableConnectionString, string tablePrefix)
    {
        var settings = SampleSettings();
        settings["Graph__BaseUrl"] = graph.BaseUrl;
        settings["Graph__Credential"] = "token";
        settings["Graph__StaticToken"] = GraphDouble.DefaultToken;
        settings["Scim__BaseUrl"] = emulator.ScimBaseUrl;
        settings["Scim__ClientId"] = emulator.ClientId;
        settings["Scim__ClientSecret"] = emulator.ClientSecret;
        settings["Scim__RequestsPerMinute"] = "60000";
        settings["Scim__RequestBurst"] = "1000";
        settings["State__ConnectionString"] = tableConnectionString;
        settings["State__TablePrefix"] = tablePrefix;
        return settings;
    }
}
