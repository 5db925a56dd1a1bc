using System.Text.Json.Nodes;

namespace ScimFunctions.IntegrationTests.Infrastructure;

/// <summary>Compiles and lints main.bicep once for all Infrastructure tests (about two seconds each).
/// The compiled template goes to a temporary folder: a main.json must never appear in the repository.</summary>
public sealed class CompiledMainTemplate : IAsyncLifetime
{
    private readonly string outputDirectory = Path.Combine(Path.GetTempPath(), $"scimfn-bicep-{Guid.NewGuid():N}");

    public static string MainBicepPath => Path.Combine(BicepCli.RepositoryRoot, "main.bicep");

    public ArmTemplate Main { get; private set; } = null!;

    public BicepResult Build { get; private set; } = null!;

    public BicepResult Lint { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(outputDirectory);
        var outputFile = Path.Combine(outputDirectory, "main.json");
        Build = await BicepCli.RunAsync(["build", MainBicepPath, "--outfile", outputFile]);
        if (Build.ExitCode != 0)
        {
            throw new InvalidOperationException($"bicep build main.bicep failed ({Build.ExitCode}):\n{Build.StandardError}");
        }

        var root = JsonNode.Parse(await File.ReadAllTextAsync(outputFile))?.AsObject()
            ?? throw new InvalidOperationException("bicep build produced an empty template.");
        Main = new ArmTemplate(root);
        Lint = await BicepCli.RunAsync(["lint", MainBicepPath, "--diagnostics-format", "sarif"]);
    }

    public Task DisposeAsync()
    {
        Directory.Delete(outputDirectory, recursive: true);
        return Task.CompletedTask;
    }
}

[CollectionDefinition(Name)]
public sealed class BicepCollection : ICollectionFixture<CompiledMainTemplate>
{
    public const string Name = "Bicep";
}
