using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ScimFunctions.IntegrationTests.Infrastructure;

/// <summary>Reading a compiled ARM template: resources come as an array (languageVersion 1.0) or an
/// object keyed by symbolic name (2.0), and every Bicep module is a nested deployment.</summary>
public sealed partial class ArmTemplate(JsonObject root, string? deploymentName = null)
{
    // Keeps ' and + readable so expressions can be searched as written (the default encoder escapes them).
    private static readonly JsonSerializerOptions Readable = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public JsonObject Root { get; } = root;

    /// <summary>The module's deployment name (null for main.bicep itself).</summary>
    public string? DeploymentName { get; } = deploymentName;

    public JsonObject Variables => Root["variables"] as JsonObject ?? [];

    public JsonObject Parameters => Root["parameters"] as JsonObject ?? [];

    public IEnumerable<JsonObject> Resources => Root["resources"] switch
    {
        JsonArray array => array.OfType<JsonObject>(),
        JsonObject map => map.Select(pair => pair.Value).OfType<JsonObject>(),
        _ => [],
    };

    /// <summary>The templates of the modules this template deploys, by deployment name.</summary>
    public IEnumerable<ArmTemplate> Modules =>
        Resources
            .Where(r => Type(r) == "Microsoft.Resources/deployments")
            .Select(r => new ArmTemplate(
                r["properties"]?["template"] as JsonObject ?? throw new InvalidOperationException($"Deployment {r["name"]} has no inline template."),
                r["name"]?.GetValue<string>()));

    /// <summary>This template and every module below it.</summary>
    public IEnumerable<ArmTemplate> SelfAndModules => Modules.SelectMany(m => m.SelfAndModules).Prepend(this);

    public ArmTemplate Module(string deploymentName) =>
        Modules.SingleOrDefault(m => m.DeploymentName == deploymentName)
        ?? throw new InvalidOperationException($"main.bicep deploys no module named '{deploymentName}'.");

    /// <summary>The module deployment resource itself (its parameters and condition).</summary>
    public JsonObject ModuleDeployment(string deploymentName) =>
        Resources.Single(r => Type(r) == "Microsoft.Resources/deployments" && (string?)r["name"] == deploymentName);

    public IEnumerable<JsonObject> ResourcesOfType(string type) =>
        Resources.Where(r => string.Equals(Type(r), type, StringComparison.OrdinalIgnoreCase) && r["existing"] is null);

    /// <summary>Every resource of a type anywhere in the deployment, with the template declaring it.</summary>
    public IEnumerable<(JsonObject Resource, ArmTemplate Template)> AllResourcesOfType(string type) =>
        SelfAndModules.SelectMany(t => t.ResourcesOfType(type).Select(r => (r, t)));

    /// <summary>The names of the variables an ARM expression refers to, e.g. <c>[if(x, variables('a'), variables('b'))]</c>.</summary>
    public static IReadOnlyList<string> ReferencedVariables(string expression) =>
        [.. VariableReference().Matches(expression).Select(m => m.Groups[1].Value).Distinct()];

    /// <summary>The expression with each <c>variables('x')</c> replaced by the variable's JSON, so a
    /// value chosen through a variable can be checked for what it finally holds.</summary>
    public string ExpandVariables(string expression, int depth = 4)
    {
        var expanded = expression;
        for (var i = 0; i < depth && VariableReference().IsMatch(expanded); i++)
        {
            expanded = VariableReference().Replace(expanded, m => Variables[m.Groups[1].Value] is { } value ? Text(value) : m.Value);
        }

        return expanded;
    }

    /// <summary>JSON text of a node with expressions left as written.</summary>
    public static string Text(JsonNode? node) => node?.ToJsonString(Readable) ?? "";

    public static string Type(JsonObject resource) => resource["type"]?.GetValue<string>() ?? "";

    [GeneratedRegex(@"variables\('([^']+)'\)")]
    private static partial Regex VariableReference();
}
