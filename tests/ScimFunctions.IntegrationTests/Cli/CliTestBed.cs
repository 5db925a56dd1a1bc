using System.Text.Json.Nodes;
using GenesysScimEmulator;
using GenesysScimEmulator.State;
using Microsoft.Extensions.Configuration;
using ScimFunctions.Cli;
using ScimFunctions.IntegrationTests.Build;
using ScimFunctions.IntegrationTests.Engine.Support;

namespace ScimFunctions.IntegrationTests.Cli;

/// <summary>What the CLI tests share: the bundled samples, an emulator seeded with their groups, and scimfn
/// sessions with their own tables in the Azurite of <see cref="AzuriteFixture"/>.</summary>
public sealed class CliTestBed(AzuriteFixture azurite)
{
    public string StateConnection => azurite.ConnectionString;

    public static string Root => StandInPublishTests.RepositoryRoot();

    public static string Day1 => Path.Combine(Root, "samples", "contoso-day1.json");

    public static string Day2 => Path.Combine(Root, "samples", "contoso-day2.json");

    public static string EmulatorSeed => Path.Combine(Root, "samples", "emulator-seed.json");

    /// <summary>A Genesys emulator in-process on 127.0.0.1, seeded with the sample groups, without the
    /// 300 requests/minute limit (a full sample load would otherwise take minutes).</summary>
    public static Task<RunningEmulator> StartEmulatorAsync(Action<EmulatorOptions>? configure = null) =>
        EmulatorHost.StartAsync(options =>
        {
            options.SeedPath = EmulatorSeed;
            options.RateLimitPerMinute = 0;
            configure?.Invoke(options);
        });

    /// <summary>A session of <c>scimfn</c> runs against one emulator and one set of tables.</summary>
    public Scimfn Session(RunningEmulator emulator) => new(this, emulator, "Cli" + Guid.NewGuid().ToString("N")[..12]);

    /// <summary>The first <paramref name="count"/> users of a sample snapshot (managers come before their
    /// reports, so every manager reference stays inside), with group members cut to those users.</summary>
    public static string Slice(string snapshot, int count, Func<JsonNode, bool>? keep = null)
    {
        var document = JsonNode.Parse(File.ReadAllText(snapshot))!.AsObject();
        var users = document["users"]!.AsArray().Take(count).Where(u => keep?.Invoke(u!) ?? true).Select(u => u!.DeepClone()).ToList();
        var ids = users.Select(u => u["id"]!.GetValue<string>()).ToHashSet();
        foreach (var user in users)
        {
            if (user["manager"]?["id"]?.GetValue<string>() is { } manager && !ids.Contains(manager))
            {
                user.AsObject().Remove("manager");
            }
        }

        var groups = document["groups"]!.AsArray().Select(g =>
        {
            var group = g!.DeepClone().AsObject();
            group["members"] = new JsonArray([.. group["members"]!.AsArray().Where(m => ids.Contains(m!["id"]!.GetValue<string>())).Select(m => m!.DeepClone())]);
            return (JsonNode)group;
        });
        var path = Path.Combine(Path.GetTempPath(), $"scimfn-slice-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, new JsonObject { ["users"] = new JsonArray([.. users]), ["groups"] = new JsonArray([.. groups]) }.ToJsonString());
        return path;
    }
}

[CollectionDefinition(Name)]
public sealed class CliCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Cli";
}

/// <summary>Runs <c>scimfn</c> in-process through its real parser and the real engine factory, against the
/// emulator and Azurite; settings arrive as the environment variables an operator would set.</summary>
public sealed class Scimfn(CliTestBed bed, RunningEmulator emulator, string tablePrefix)
{
    public Dictionary<string, string?> Settings { get; } = new()
    {
        ["State__TablePrefix"] = tablePrefix,
        ["Scim__RequestsPerMinute"] = "100000",
    };

    public string ClientSecret { get; set; } = emulator.ClientSecret;

    /// <summary>The options every connected command takes, pointing at the emulator and the test's tables.</summary>
    public string[] Connection(string snapshot) =>
    [
        "--directory", snapshot, "--target", "genesys", "--scim-url", emulator.ScimBaseUrl,
        "--genesys-client-id", emulator.ClientId, "--genesys-client-secret", ClientSecret,
        "--genesys-login-url", emulator.BaseAddress.GetLeftPart(UriPartial.Authority), "--state", bed.StateConnection,
    ];

    public async Task<CliResult> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var settings = new ConfigurationBuilder()
            .AddInMemoryCollection(Settings.Select(s => new KeyValuePair<string, string?>(s.Key.Replace("__", ":", StringComparison.Ordinal), s.Value)))
            .Build();
        var context = new CliContext(settings, output, error, false, new ProvisioningEngineFactory(TimeProvider.System), TimeProvider.System);
        var exitCode = await CliApp.InvokeAsync(args, context);
        return new CliResult(exitCode, output.ToString(), error.ToString());
    }

    public Task<CliResult> SyncAsync(string snapshot, params string[] extra) => RunAsync(["sync", .. Connection(snapshot), .. extra]);
}

public sealed record CliResult(int ExitCode, string Output, string Error)
{
    public string[] OutputLines => Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public JsonObject Json => JsonNode.Parse(OutputLines[^1])!.AsObject();

    public int Field(string name) => Json[name]!.GetValue<int>();

    public override string ToString() => $"exit {ExitCode}\n{Output}\n{Error}";
}
