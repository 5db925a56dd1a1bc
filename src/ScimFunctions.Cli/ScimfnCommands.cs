using System.CommandLine;
using Azure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ScimFunctions.Cli.Samples;
using ScimFunctions.Provisioning.Directory;

namespace ScimFunctions.Cli;

/// <summary>The command tree of <c>scimfn</c>. Names, options, JSON fields and exit codes are a stable contract
/// (docs/cli.md).</summary>
internal sealed class ScimfnCommands
{
    private readonly CliContext _context;
    private readonly CliSettings _settings = new();
    private readonly EngineSettingsResolver _resolver;

    private readonly Option<bool> _dryRun = new("--dry-run") { Description = "Print the plan and write nothing anywhere (target, state)." };
    private readonly Option<bool> _json = new("--json") { Description = "Machine-readable: the last line of standard output is one JSON object; no progress line." };
    private readonly Option<bool> _verbose = new("--verbose") { Description = "Log the engine's decisions (information level) to standard error.", Recursive = true };

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
        Root.Subcommands.Add(GenerateSamplesCommand());
    }

    public RootCommand Root { get; }

    private Command SyncCommand()
    {
        var command = new Command("sync", "Converge the target to the directory for everything in scope (users, then groups), using and updating the functions' Table Storage state.");
        AddConnectionOptions(command);
        command.Options.Add(_dryRun);
        command.Options.Add(_json);
        command.SetAction((parseResult, cancellationToken) => RunAsync(parseResult, () =>
            SyncAsync(parseResult, parseResult.GetValue(_dryRun), showPlan: false, cancellationToken), cancellationToken));
        return command;
    }

    private Command PlanCommand()
    {
        var command = new Command("plan", "The same as 'sync --dry-run', with a table of the operations and the reason for each. Writes nothing.");
        AddConnectionOptions(command);
        command.Options.Add(_json);
        command.SetAction((parseResult, cancellationToken) => RunAsync(parseResult, () =>
            SyncAsync(parseResult, dryRun: true, showPlan: true, cancellationToken), cancellationToken));
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
        foreach (var option in _settings.DirectoryOptions.Concat(_settings.TargetOptions).Append(_settings.State))
        {
            command.Options.Add(option.Option);
        }
    }

    private async Task<int> SyncAsync(ParseResult parseResult, bool dryRun, bool showPlan, CancellationToken cancellationToken)
    {
        var json = parseResult.GetValue(_json);
        var settings = _resolver.Resolve(parseResult, needsDirectory: true, needsTarget: true);
        using var loggerFactory = CreateLoggerFactory(parseResult);
        await using var engine = await _context.Engines.CreateAsync(settings, loggerFactory, cancellationToken);

        var progress = _context.ProgressOnTerminal && !json ? new TerminalProgress(_context.Error, _context.Time) : null;
        var started = _context.Time.GetTimestamp();
        var summary = await engine.SyncAsync(dryRun, progress, cancellationToken);
        var elapsed = _context.Time.GetElapsedTime(started);
        progress?.Clear();

        if (json)
        {
            _context.Output.WriteLine(SyncReport.ToJson(summary, dryRun, elapsed));
        }
        else
        {
            if (showPlan)
            {
                SyncReport.WritePlanTable(_context.Output, summary);
                _context.Output.WriteLine();
            }

            SyncReport.WriteHuman(_context.Output, summary, dryRun, elapsed);
        }

        return SyncReport.ExitCode(summary);
    }

    private ILoggerFactory CreateLoggerFactory(ParseResult parseResult)
    {
        var level = parseResult.GetValue(_verbose) ? LogLevel.Information : LogLevel.Warning;
        return LoggerFactory.Create(logging => logging
            .SetMinimumLevel(level)
            .AddProvider(new TextWriterLoggerProvider(_context.Error)));
    }

    /// <summary>Runs a command body, turning the errors an operator can act on into one line and exit code 1.</summary>
    private async Task<int> RunAsync(ParseResult parseResult, Func<Task<int>> body, CancellationToken cancellationToken = default)
    {
        try
        {
            return await body();
        }
        catch (CliUsageException ex)
        {
            return Fail(ex.Message);
        }
        catch (OptionsValidationException ex)
        {
            return Fail(ex.Failures.FirstOrDefault() ?? ex.Message);
        }
        catch (DirectoryUnavailableException ex)
        {
            return Fail($"directory: {ex.Message}", ex, parseResult);
        }
        catch (RequestFailedException ex)
        {
            return Fail($"state (Table Storage, --state / State__ConnectionString): {FirstLine(ex.Message)}", ex, parseResult);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Fail("cancelled.");
        }
    }

    private int Fail(string message, Exception? exception = null, ParseResult? parseResult = null)
    {
        _context.Error.WriteLine($"scimfn: {message}");
        if (exception is not null && parseResult?.GetValue(_verbose) == true)
        {
            _context.Error.WriteLine(exception);
        }

        return CliExitCodes.UsageOrConfiguration;
    }

    private static string FirstLine(string text)
    {
        var end = text.IndexOfAny(['\r', '\n']);
        return end < 0 ? text : text[..end];
    }
}
