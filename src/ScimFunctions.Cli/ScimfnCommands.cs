using System.CommandLine;
using Azure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ScimFunctions.Cli.Samples;
using ScimFunctions.Provisioning.Directory;
using ScimFunctions.Provisioning.Sync;

namespace ScimFunctions.Cli;

/// <summary>The command tree of <c>scimfn</c>. Names, options, JSON fields and exit codes are a stable contract
/// (docs/cli.md).</summary>
internal sealed partial class ScimfnCommands
{
    private readonly CliContext _context;
    private readonly CliSettings _settings = new();
    private readonly EngineSettingsResolver _resolver;

    private readonly Option<bool> _dryRun = new("--dry-run") { Description = "Print the plan and write nothing anywhere (target, state)." };
    private readonly Option<bool> _json = new("--json") { Description = "Machine-readable: the last line of standard output is one JSON object; no progress line." };
    private readonly Option<bool> _verbose = new("--verbose") { Description = "Log the engine's decisions and the SCIM and Graph clients' events (information level) to standard error.", Recursive = true };

    public ScimfnCommands(CliContext context)
    {
        _context = context;
        _resolver = new EngineSettingsResolver(_settings, context.Settings);
        Root = new RootCommand(
            "scimfn: keep a SCIM target (Genesys Cloud, or any SCIM 2.0 server) in step with Entra ID, on demand. " +
            "Uses the same engine, settings and Table Storage state as the ScimFunctions app. Every option can also be " +
            "given as the app setting (environment variable) named in its help; give secrets that way, not on the command line. " +
            "Exit codes: 0 converged, 2 some objects failed or were staged (listed), 1 usage or configuration error.");
        Root.Options.Add(_verbose);
        Root.Subcommands.Add(SyncCommand());
        Root.Subcommands.Add(PlanCommand());
        Root.Subcommands.Add(StatusCommand());
        Root.Subcommands.Add(ExplainCommand());
        Root.Subcommands.Add(HistoryCommand());
        Root.Subcommands.Add(StagedCommand());
        Root.Subcommands.Add(ReplayCommand());
        Root.Subcommands.Add(ProvisionCommand());
        Root.Subcommands.Add(GenerateSamplesCommand());
    }

    public RootCommand Root { get; }

    private Command SyncCommand()
    {
        var command = new Command("sync", "Converge the target to the directory for everything in scope (users, then groups), using and updating the functions' Table Storage state.");
        command.Options.Add(_dryRun);
        command.Options.Add(_json);
        AddConnectionOptions(command);
        command.SetAction((parseResult, cancellationToken) => RunAsync(parseResult, connected: true, (engine, ct) =>
            SyncAsync(engine, parseResult.GetValue(_dryRun), showPlan: false, parseResult.GetValue(_json), ct), cancellationToken));
        return command;
    }

    private Command PlanCommand()
    {
        var command = new Command("plan", "The same as 'sync --dry-run', with a table of the operations and the reason for each. Writes nothing.");
        command.Options.Add(_json);
        AddConnectionOptions(command);
        command.SetAction((parseResult, cancellationToken) => RunAsync(parseResult, connected: true, (engine, ct) =>
            SyncAsync(engine, dryRun: true, showPlan: true, parseResult.GetValue(_json), ct), cancellationToken));
        return command;
    }

    private Command StatusCommand()
    {
        var command = new Command("status", "Mapped users and groups by state, the last sweep, subscription expiries, failed objects with their last error, staged actions. Reads Table Storage only; exits 2 when objects failed or actions are staged.");
        command.Options.Add(_json);
        command.Options.Add(_settings.State.Option);
        command.SetAction((parseResult, cancellationToken) => RunAsync(parseResult, connected: false, async (engine, ct) =>
        {
            var status = await engine.GetStatusAsync(ct);
            var groups = await engine.GroupNamesAsync(status.Failures.Where(f => f.ObjectKind == ObjectKind.Group).Select(f => f.ObjectId).ToList(), cancellationToken: ct);
            if (parseResult.GetValue(_json))
            {
                _context.Output.WriteLine(OperatorReports.StatusJson(status, groups));
            }
            else
            {
                OperatorReports.WriteStatus(_context.Output, status, _context.Time.GetUtcNow(), groups);
            }

            return status.Failures.Count > 0 || status.Staged.Count > 0 ? CliExitCodes.NotConverged : CliExitCodes.Converged;
        }, cancellationToken));
        return command;
    }

    private Command ExplainCommand()
    {
        var user = new Argument<string>("USER") { Description = "The user's Entra object id or userPrincipalName." };
        var command = new Command("explain", "What the engine would do for one user and why: in scope or not, the projection, the difference from what was last applied, the operations. Writes nothing.");
        command.Arguments.Add(user);
        command.Options.Add(_json);
        AddConnectionOptions(command);
        command.SetAction((parseResult, cancellationToken) => RunAsync(parseResult, connected: true, async (engine, ct) =>
        {
            var explanation = await engine.ExplainAsync(parseResult.GetRequiredValue(user), ct);
            var groups = await engine.GroupNamesAsync(explanation.Entitlements.SelectMany(e => e.Groups).Distinct(StringComparer.Ordinal).ToList(), cancellationToken: ct);
            if (parseResult.GetValue(_json))
            {
                _context.Output.WriteLine(OperatorReports.ExplanationJson(explanation, groups));
            }
            else
            {
                OperatorReports.WriteExplanation(_context.Output, explanation, groups);
            }

            return explanation.Operations.Any(o => o.Action == PlanAction.Fail) ? CliExitCodes.NotConverged : CliExitCodes.Converged;
        }, cancellationToken));
        return command;
    }

    private Command StagedCommand()
    {
        var release = new Command("release", "Run the held actions: each is decided again against the directory (someone who came back is not disabled) and runs past the threshold; the hold is lifted.");
        release.Options.Add(_json);
        AddConnectionOptions(release);
        release.SetAction((parseResult, cancellationToken) => RunAsync(parseResult, connected: true, async (engine, ct) =>
        {
            var summary = await engine.ReleaseStagedAsync(ct);
            return WriteSummary(summary, dryRun: false, parseResult.GetValue(_json), TimeSpan.Zero, "Staged actions released", await GroupNamesAsync(engine, summary, plan: false, ct));
        }, cancellationToken));

        var discard = new Command("discard", "Drop the held actions and lift the hold; objects are decided afresh the next time they converge. Uses Table Storage only.");
        discard.Options.Add(_json);
        discard.Options.Add(_settings.State.Option);
        discard.SetAction((parseResult, cancellationToken) => RunAsync(parseResult, connected: false, async (engine, ct) =>
        {
            var summary = await engine.DiscardStagedAsync(ct);
            if (parseResult.GetValue(_json))
            {
                return WriteSummary(summary, dryRun: false, json: true, TimeSpan.Zero, "", GroupNameBook.Empty);
            }

            _context.Output.WriteLine($"Discarded {summary.Operations.Count} staged action(s); the hold is lifted.");
            foreach (var operation in summary.Operations)
            {
                _context.Output.WriteLine($"  {operation.ObjectKind.ToWireName()} {operation.ObjectId}: {operation.Reason}");
            }

            return CliExitCodes.Converged;
        }, cancellationToken));

        var command = new Command("staged", "The operator's answer to destructive actions held by the safety threshold (see 'scimfn status').");
        command.Subcommands.Add(release);
        command.Subcommands.Add(discard);
        return command;
    }

    private Command GenerateSamplesCommand()
    {
        var output = new Argument<string>("DIRECTORY") { Description = "Where to write the sample files.", DefaultValueFactory = _ => "samples" };
        var command = new Command("generate-samples", "Regenerates the bundled sample directory snapshots and emulator seed (deterministic).") { Hidden = true };
        command.Arguments.Add(output);
        command.SetAction(parseResult =>
        {
            foreach (var path in SampleCompany.WriteAll(parseResult.GetRequiredValue(output)))
            {
                _context.Output.WriteLine(path);
            }

            return CliExitCodes.Converged;
        });
        return command;
    }

    private void AddConnectionOptions(Command command)
    {
        foreach (var option in _settings.All)
        {
            command.Options.Add(option.Option);
        }
    }

    private async Task<int> SyncAsync(IScimfnEngine engine, bool dryRun, bool showPlan, bool json, CancellationToken cancellationToken)
    {
        var progress = _context.ProgressOnTerminal && !json ? new TerminalProgress(_context.Error, _context.Time) : null;
        var started = _context.Time.GetTimestamp();
        SyncSummary summary;
        try
        {
            summary = await engine.SyncAsync(dryRun, progress, cancellationToken);
        }
        finally
        {
            progress?.Clear();
        }

        var groups = await GroupNamesAsync(engine, summary, plan: showPlan || dryRun, cancellationToken);
        if (showPlan && !json)
        {
            var userIds = summary.Operations.Where(o => o.ObjectKind == ObjectKind.User && o.Action != PlanAction.None).Select(o => o.ObjectId).ToHashSet(StringComparer.Ordinal);
            SyncReport.WritePlanTable(_context.Output, summary, await engine.UserNamesAsync(userIds, cancellationToken), groups);
            _context.Output.WriteLine();
        }

        var heading = dryRun ? "Plan (dry run: nothing was written)" : "Sync finished";
        return WriteSummary(summary, dryRun, json, _context.Time.GetElapsedTime(started), heading, groups);
    }

    /// <summary>Names for the groups a summary lists: every group of a plan, the failed ones of a run (Table Storage
    /// point reads for those the run did not name itself).</summary>
    private static Task<GroupNameBook> GroupNamesAsync(IScimfnEngine engine, SyncSummary summary, bool plan, CancellationToken cancellationToken)
    {
        var ids = (plan ? summary.Operations.Where(o => o.ObjectKind == ObjectKind.Group).Select(o => o.ObjectId) : summary.Failures.Where(f => f.ObjectKind == ObjectKind.Group).Select(f => f.ObjectId))
            .Distinct(StringComparer.Ordinal).ToList();
        return ids.Count == 0 ? Task.FromResult(GroupNameBook.Empty) : engine.GroupNamesAsync(ids, summary.GroupNames, cancellationToken);
    }

    private int WriteSummary(SyncSummary summary, bool dryRun, bool json, TimeSpan elapsed, string heading, GroupNameBook groups)
    {
        if (json)
        {
            _context.Output.WriteLine(SyncReport.ToJson(summary, dryRun, elapsed, groups));
        }
        else
        {
            SyncReport.WriteHuman(_context.Output, summary, heading, elapsed, groups);
        }

        return SyncReport.ExitCode(summary);
    }

    /// <summary>Resolves the settings, builds the engine, runs the command body, and turns the errors an operator
    /// can act on into one line and exit code 1.</summary>
    private async Task<int> RunAsync(ParseResult parseResult, bool connected, Func<IScimfnEngine, CancellationToken, Task<int>> body, CancellationToken cancellationToken = default)
    {
        var verbose = parseResult.GetValue(_verbose);
        try
        {
            var settings = _resolver.Resolve(parseResult, connected);
            using var loggerFactory = LoggerFactory.Create(logging => logging
                // The summary lists every failed or staged object; the engine's own events are for --verbose.
                .SetMinimumLevel(verbose ? LogLevel.Information : LogLevel.Critical)
                .AddProvider(new TextWriterLoggerProvider(_context.Error)));
            await using var engine = await _context.Engines.CreateAsync(settings, loggerFactory, cancellationToken);
            if (connected && await engine.CheckTargetAsync(cancellationToken) is { } problem)
            {
                return Fail(problem);
            }

            return await body(engine, cancellationToken);
        }
        catch (CliUsageException ex)
        {
            return Fail(ex.Message);
        }
        catch (OptionsValidationException ex)
        {
            return Fail(_resolver.NameOptions(ex.Failures.FirstOrDefault() ?? ex.Message));
        }
        catch (DirectoryUnavailableException ex)
        {
            return Fail($"directory: {ex.Message}", verbose ? ex : null);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Fail("cancelled.");
        }
        catch (Exception ex) when (StorageFailure(ex) is { } storage)
        {
            return Fail($"Table Storage ({_settings.State.Option.Name} / {_settings.State.Setting}): {FirstLine(storage.Message)}", verbose ? ex : null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return Fail($"unexpected {ex.GetType().Name}: {FirstLine(ex.Message)}{(verbose ? "" : " (--verbose shows the details)")}", verbose ? ex : null);
        }
    }

    /// <summary>The Table Storage failure inside what the engine threw (the SDK wraps retries in an AggregateException).</summary>
    private static RequestFailedException? StorageFailure(Exception exception) => exception switch
    {
        RequestFailedException failure => failure,
        AggregateException aggregate => aggregate.InnerExceptions.Select(StorageFailure).FirstOrDefault(f => f is not null),
        { InnerException: { } inner } => StorageFailure(inner),
        _ => null,
    };

    private int Fail(string message, Exception? detail = null)
    {
        _context.Error.WriteLine($"scimfn: {message}");
        if (detail is not null)
        {
            _context.Error.WriteLine(detail);
        }

        return CliExitCodes.UsageOrConfiguration;
    }

    private static string FirstLine(string text)
    {
        var end = text.IndexOfAny(['\r', '\n']);
        return end < 0 ? text : text[..end];
    }
}
