using System.Diagnostics;
using System.Reflection;

namespace ScimFunctions.IntegrationTests.Infrastructure;

/// <summary>The Bicep compiler from the NuGet package <c>Azure.Bicep.CommandLine.linux-x64</c>, whose
/// path the build writes into this assembly's metadata, so the tests run offline.</summary>
public static class BicepCli
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    public static string RepositoryRoot { get; } = Metadata("Infrastructure.RepositoryRoot");

    public static string ExecutablePath { get; } = Metadata("Infrastructure.BicepPath");

    public static async Task<BicepResult> RunAsync(IEnumerable<string> arguments, CancellationToken cancellationToken = default)
    {
        EnsureExecutable();
        var start = new ProcessStartInfo(ExecutablePath)
        {
            WorkingDirectory = RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {ExecutablePath}.");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"bicep {string.Join(' ', start.ArgumentList)} did not finish within {Timeout}.");
        }

        return new BicepResult(process.ExitCode, await stdout, await stderr);
    }

    private static void EnsureExecutable()
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new FileNotFoundException(
                $"The Bicep compiler is missing at {ExecutablePath}; restore tests/ScimFunctions.IntegrationTests (package Azure.Bicep.CommandLine.linux-x64).",
                ExecutablePath);
        }

        if (OperatingSystem.IsWindows())
        {
            return;
        }

        // NuGet extracts package files without guaranteeing the execute bit.
        var mode = File.GetUnixFileMode(ExecutablePath);
        const UnixFileMode execute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        if ((mode & UnixFileMode.UserExecute) == 0)
        {
            File.SetUnixFileMode(ExecutablePath, mode | execute);
        }
    }

    private static string Metadata(string key) =>
        typeof(BicepCli).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .SingleOrDefault(a => a.Key == key)?.Value
        ?? throw new InvalidOperationException($"Assembly metadata {key} is missing; see ScimFunctions.IntegrationTests.csproj.");
}

public sealed record BicepResult(int ExitCode, string StandardOutput, string StandardError);
