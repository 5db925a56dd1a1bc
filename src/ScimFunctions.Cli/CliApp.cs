using System.CommandLine;
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
            new ProvisioningEngineFactory(),
            TimeProvider.System);
        return InvokeAsync(args, context);
    }

    internal static Task<int> InvokeAsync(string[] args, CliContext context, CancellationToken cancellationToken = default)
    {
        var root = new ScimfnCommands(context).Root;
        var parseResult = root.Parse(args);
        var configuration = new InvocationConfiguration { Output = context.Output, Error = context.Error };
        return parseResult.InvokeAsync(configuration, cancellationToken);
    }
}
