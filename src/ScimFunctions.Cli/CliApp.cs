using System.CommandLine;
using System.CommandLine.Invocation;
using Microsoft.Extensions.Configuration;

namespace ScimFunctions.Cli;

/// <summary>Where a run of <c>scimfn</c> reads settings and writes output; tests pass their own.</summary>
/// <param name="Settings">The app settings (environment variables in production).</param>
/// <param name="ProgressOnTerminal">Standard error is a terminal: show a live progress line.</param>
internal sealed record CliContext(
    IConfiguration Settings,
    TextWriter Output,
    TextWriter Error,
    bool ProgressOnTerminal,
    IScimfnEngineFactory Engines,
    TimeProvider Time);

/// <summary>Entry point of <c>scimfn</c>.</summary>
public static class CliApp
{
    public static Task<int> RunAsync(string[] args)
    {
        var context = new CliContext(
            new ConfigurationBuilder().AddEnvironmentVariables().Build(),
            Console.Out,
            Console.Error,
            !Console.IsErrorRedirected,
            new ProvisioningEngineFactory(TimeProvider.System),
            TimeProvider.System);
        return InvokeAsync(args, context);
    }

    internal static async Task<int> InvokeAsync(string[] args, CliContext context, CancellationToken cancellationToken = default)
    {
        var root = new ScimfnCommands(context).Root;
        var parseResult = root.Parse(args);
        var command = parseResult.CommandResult.Command;
        // A mistyped option deserves its one-line error and a pointer, not three screens of help.
        if (parseResult.Action is ParseErrorAction parseError && command != root)
        {
            parseError.ShowHelp = false;
        }

        var configuration = new InvocationConfiguration { Output = context.Output, Error = context.Error };
        var exitCode = await parseResult.InvokeAsync(configuration, cancellationToken);
        if (parseResult.Errors.Count > 0 && command != root)
        {
            context.Error.WriteLine($"Run '{CommandPath(command)} --help' for the options.");
        }

        return exitCode;
    }

    private static string CommandPath(Command command)
    {
        var names = new List<string>();
        for (Symbol? symbol = command; symbol is Command c; symbol = symbol.Parents.FirstOrDefault())
        {
            names.Add(c is RootCommand ? "scimfn" : c.Name);
        }

        names.Reverse();
        return string.Join(' ', names);
    }
}
