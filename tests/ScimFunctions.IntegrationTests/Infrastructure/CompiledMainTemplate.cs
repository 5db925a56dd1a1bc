using System.Text.Json.Nodes;

namespace ScimFunctions.IntegrationTests.Infrastructure;

/// <summary>Compiles and lints main.bicep once for all Infrastructure tests (about two seconds each),
/// compiles the private variant's parameters (private.bicepparam), and evaluates the template for
/// both variants. The compiled files go to a temporary folder: a main.json must never appear in the
/// repository.</summary>
public sealed class CompiledMainTemplate : IAsyncLifetime
{
    private readonly string outputDirectory = Path.Combine(Path.GetTempPath(), $"scimfn-bicep-{Guid.NewGuid():N}");

    public static string MainBicepPath => Path.Combine(BicepCli.RepositoryRoot, "main.bicep");

    public static string PrivateParametersPath =>
        Path.Combine(BicepCli.RepositoryRoot, "tests", "ScimFunctions.IntegrationTests", "Infrastructure", "private.bicepparam");

    public ArmTemplate Main { get; private set; } = null!;

    public BicepResult Build { get; private set; } = null!;

    public BicepResult Lint { get; private set; } = null!;

    /// <summary><c>bicep build-params</c> of private.bicepparam, checked against main.bicep's parameters.</summary>
    public BicepResult BuildPrivateParameters { get; private set; } = null!;

    /// <summary>The values of the private variant's parameters file.</summary>
    public IReadOnlyDictionary<string, JsonNode?> PrivateParameterValues { get; private set; } = null!;

    /// <summary>main.parameters.json's values (plus the test secrets): the default, public variant.</summary>
    public IReadOnlyDictionary<string, JsonNode?> PublicParameters { get; private set; } = null!;

    /// <summary>main.parameters.json's values with private.bicepparam's on top: vnetEnabled=true.</summary>
    public IReadOnlyDictionary<string, JsonNode?> PrivateParameters { get; private set; } = null!;

    public TemplateVariant Public { get; private set; } = null!;

    public TemplateVariant Private { get; private set; } = null!;

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

        var privateParametersFile = Path.Combine(outputDirectory, "private.parameters.json");
        BuildPrivateParameters = await BicepCli.RunAsync(["build-params", PrivateParametersPath, "--outfile", privateParametersFile]);
        if (BuildPrivateParameters.ExitCode != 0)
        {
            throw new InvalidOperationException($"bicep build-params private.bicepparam failed ({BuildPrivateParameters.ExitCode}):\n{BuildPrivateParameters.StandardError}");
        }

        PrivateParameterValues = await ReadParametersAsync(privateParametersFile);
        var shipped = await ReadParametersAsync(Path.Combine(BicepCli.RepositoryRoot, "main.parameters.json"));
        var secrets = PrivateParameterValues.Where(p => p.Key is "scimCredential" or "graphClientState");
        PublicParameters = Merge(shipped, secrets);
        PrivateParameters = Merge(shipped, PrivateParameterValues);
        Public = TemplateVariant.Evaluate(Main, PublicParameters);
        Private = TemplateVariant.Evaluate(Main, PrivateParameters);
    }

    /// <summary>The private variant with some parameters changed (e.g. the Elastic Premium plan).</summary>
    public TemplateVariant PrivateWith(params (string Name, JsonNode? Value)[] overrides) =>
        TemplateVariant.Evaluate(Main, Merge(PrivateParameters, overrides.Select(o => KeyValuePair.Create(o.Name, o.Value))));

    private static async Task<IReadOnlyDictionary<string, JsonNode?>> ReadParametersAsync(string path)
    {
        var file = JsonNode.Parse(await File.ReadAllTextAsync(path))
            ?? throw new InvalidOperationException($"{path} is empty.");
        return (file["parameters"] as JsonObject ?? [])
            .ToDictionary(p => p.Key, p => p.Value?["value"]?.DeepClone(), StringComparer.OrdinalIgnoreCase);
    }

    private static Dictionary<string, JsonNode?> Merge(IEnumerable<KeyValuePair<string, JsonNode?>> first, IEnumerable<KeyValuePair<string, JsonNode?>> second)
    {
        var merged = new Dictionary<string, JsonNode?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in first.Concat(second))
        {
            merged[name] = value?.DeepClone();
        }

        return merged;
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
