using System.Diagnostics;

namespace ScimFunctions.IntegrationTests.Build;

public sealed class StandInPublishTests
{
    [Fact]
    public async Task Publish_WithTheStandIn_IsRefusedWithAReason()
    {
        var root = RepositoryRoot();
        var output = Path.Combine(Path.GetTempPath(), "scimfn-publish-" + Guid.NewGuid().ToString("N"));
        var start = new ProcessStartInfo("dotnet", ["publish", Path.Combine(root, "src", "ScimFunctions", "ScimFunctions.csproj"), "--no-restore", "-p:ServiceBusBinding=standin", "-o", output, "-nologo"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var text = await stdout + await stderr;

        Assert.NotEqual(0, process.ExitCode);
        Assert.Contains("Refusing to publish a build made with ServiceBusBinding=standin", text, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output) && Directory.EnumerateFiles(output).Any(), "Nothing may be published.");
    }

    internal static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "ScimFunctions.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("ScimFunctions.sln not found above " + AppContext.BaseDirectory);
    }
}
