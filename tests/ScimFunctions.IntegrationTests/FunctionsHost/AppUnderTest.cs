using System.Text.Json;
using ScimFunctions.IntegrationTests.Build;

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
}
