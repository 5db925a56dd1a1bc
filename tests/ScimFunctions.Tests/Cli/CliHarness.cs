using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using ScimFunctions.Cli;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.Tests.Cli;

/// <summary>Runs <c>scimfn</c> through its real parser with captured output, environment-like settings and a fake engine.</summary>
internal sealed class CliHarness
{
    public Dictionary<string, string?> Settings { get; } = [];

    public FakeEngineFactory Engines { get; } = new();

    public bool Terminal { get; set; }

    public FakeTimeProvider Time { get; } = new();

    public async Task<CliRun> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var settings = new ConfigurationBuilder().AddInMemoryCollection(Settings.Select(s => new KeyValuePair<string, string?>(s.Key.Replace("__", ":", StringComparison.Ordinal), s.Value))).Build();
        var context = new CliContext(settings, output, error, Terminal, Engines, Time);
        var exitCode = await CliApp.InvokeAsync(args, context);
        return new CliRun(exitCode, output.ToString(), error.ToString());
    }

    /// <summary>Options that satisfy sync's validation, against a Genesys region host.</summary>
    public static string[] SyncArgs(params string[] extra) =>
    [
        "sync", "--directory", SampleFiles.Day1, "--scim-url", "https://api.mypurecloud.ie/api/v2/scim/v2",
        "--genesys-client-id", "id", "--genesys-client-secret", "s3cr3t-value", .. extra,
    ];
}

internal sealed record CliRun(int ExitCode, string Output, string Error)
{
    public string[] OutputLines => Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();

    public string[] ErrorLines => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
}

internal sealed class FakeEngineFactory : IScimfnEngineFactory
{
    public SyncSummary Summary { get; set; } = Summaries.Converged();

    public EngineSettings? Settings { get; private set; }

    public SyncStatus Status { get; set; } = new(
        new Dictionary<string, int> { ["Active"] = 0 }, new Dictionary<string, int> { ["Managed"] = 0 }, null, null, [], [], [], null, []);

    public UserExplanation? Explanation { get; set; }

    public ProvisionReport? Provision { get; set; }

    public List<string> Calls { get; } = [];

    /// <summary>What the state would name groups as (Entra name, target name).</summary>
    public Dictionary<string, (string Entra, string? Target)> GroupNames { get; } = [];

    public UserHistoryReport? History { get; set; }

    /// <summary>What the directory would name users as, for plan tables.</summary>
    public Dictionary<string, string> UserNames { get; } = [];

    public bool? DryRun { get; private set; }

    public bool ProgressGiven { get; private set; }

    public Exception? Throw { get; set; }

    /// <summary>Progress reports the fake engine sends during a sync.</summary>
    public List<SyncProgress> ProgressToReport { get; } = [];

    public Task<IScimfnEngine> CreateAsync(EngineSettings settings, ILoggerFactory loggerFactory, CancellationToken cancellationToken = default)
    {
        Settings = settings;
        return Task.FromResult<IScimfnEngine>(new Engine(this));
    }

    /// <summary>What the target check answers (null: the target is fine).</summary>
    public string? TargetProblem { get; set; }

    private sealed class Engine(FakeEngineFactory factory) : IScimfnEngine
    {
        public Task<string?> CheckTargetAsync(CancellationToken cancellationToken = default) => Task.FromResult(factory.TargetProblem);

        public Task<IReadOnlyDictionary<string, string>> UserNamesAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyDictionary<string, string>>(factory.UserNames.Where(n => ids.Contains(n.Key)).ToDictionary());

        public Task<GroupNameBook> GroupNamesAsync(IReadOnlyCollection<string> ids, IReadOnlyDictionary<string, string>? seen = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(new GroupNameBook(ids.Distinct().ToDictionary(
                id => id,
                id => factory.GroupNames.TryGetValue(id, out var n) ? new GroupName(id, n.Entra, n.Target ?? n.Entra, null)
                    : seen?.GetValueOrDefault(id) is { } name ? new GroupName(id, name, name, null) : new GroupName(id, null, null, null))));

        public Task<UserHistoryReport> HistoryAsync(string idOrUserPrincipalName, CancellationToken cancellationToken = default)
        {
            factory.Calls.Add($"history {idOrUserPrincipalName}");
            return Task.FromResult(factory.History ?? throw new InvalidOperationException("no history set"));
        }

        public Task<SyncSummary> SyncAsync(bool dryRun, IProgress<SyncProgress>? progress, CancellationToken cancellationToken = default)
        {
            factory.Calls.Add("sync");
            factory.DryRun = dryRun;
            factory.ProgressGiven = progress is not null;
            if (factory.Throw is not null)
            {
                throw factory.Throw;
            }

            foreach (var report in factory.ProgressToReport)
            {
                progress?.Report(report);
            }

            return Task.FromResult(factory.Summary);
        }

        public Task<UserExplanation> ExplainAsync(string idOrUserPrincipalName, CancellationToken cancellationToken = default)
        {
            factory.Calls.Add($"explain {idOrUserPrincipalName}");
            return Task.FromResult(factory.Explanation ?? throw new InvalidOperationException("no explanation set"));
        }

        public Task<SyncStatus> GetStatusAsync(CancellationToken cancellationToken = default)
        {
            factory.Calls.Add("status");
            return Task.FromResult(factory.Status);
        }

        public Task<SyncSummary> ReleaseStagedAsync(CancellationToken cancellationToken = default)
        {
            factory.Calls.Add("release");
            return Task.FromResult(factory.Summary);
        }

        public Task<SyncSummary> DiscardStagedAsync(CancellationToken cancellationToken = default)
        {
            factory.Calls.Add("discard");
            return Task.FromResult(factory.Summary);
        }

        public Task<ProvisionReport> ProvisionUserAsync(string idOrUserPrincipalName, CancellationToken cancellationToken = default)
        {
            factory.Calls.Add($"provision {idOrUserPrincipalName}");
            return Task.FromResult(factory.Provision ?? throw new InvalidOperationException("no provision report set"));
        }

        public Task<ProvisionReport> ProvisionGroupAsync(string groupId, CancellationToken cancellationToken = default)
        {
            factory.Calls.Add($"provision --group {groupId}");
            return Task.FromResult(factory.Provision ?? throw new InvalidOperationException("no provision report set"));
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

internal static class Summaries
{
    public static SyncSummary Converged(IReadOnlyList<PlannedOperation>? operations = null) =>
        new(280, 3, 5, 0, 12, 18, 400, 2, 0, 0, 620, 310, [], [], operations ?? []);

    public static SyncSummary WithFailure() =>
        new(1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 4, 2, [], [new ObjectFailure(ObjectKind.User, "u-2", "the target rejects phoneNumbers[work]")], []);

    public static SyncSummary WithStaged() =>
        new(0, 0, 0, 0, 10, 0, 0, 0, 0, 2, 0, 0, [], [],
        [
            new PlannedOperation(ObjectKind.User, "u-7", PlanAction.Stage, "disable held: threshold of 1 per hour reached"),
            new PlannedOperation(ObjectKind.User, "u-8", PlanAction.Stage, "disable held: threshold of 1 per hour reached"),
        ]);
}

internal static class SampleFiles
{
    public static string Root { get; } = FindRoot();

    public static string Day1 => Path.Combine(Root, "samples", "contoso-day1.json");

    public static string Day2 => Path.Combine(Root, "samples", "contoso-day2.json");

    public static string EmulatorSeed => Path.Combine(Root, "samples", "emulator-seed.json");

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "ScimFunctions.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("ScimFunctions.sln not found above " + AppContext.BaseDirectory);
    }
}
