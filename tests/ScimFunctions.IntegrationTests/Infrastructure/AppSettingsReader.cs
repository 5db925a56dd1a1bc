using System.Text.Json;
using System.Text.Json.Nodes;

namespace ScimFunctions.IntegrationTests.Infrastructure;

/// <summary>The Function App's settings as the compiled template applies them: the properties of the
/// <c>sites/config</c> 'appsettings' resource, either an object or an expression choosing among
/// object variables (Flex and Premium lists), which are merged here.</summary>
public static class AppSettingsReader
{
    public static (ArmTemplate Template, IReadOnlyDictionary<string, string> Settings) Read(ArmTemplate main)
    {
        var configs = main.AllResourcesOfType("Microsoft.Web/sites/config")
            .Where(r => ((string?)r.Resource["name"])?.Contains("'appsettings'", StringComparison.Ordinal) == true)
            .ToList();
        Assert.True(configs.Count == 1, $"Expected one sites/config 'appsettings' resource, found {configs.Count}.");
        var (resource, template) = configs[0];

        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        switch (resource["properties"])
        {
            case JsonObject literal:
                Add(settings, literal);
                break;
            case JsonValue expression when expression.GetValueKind() == JsonValueKind.String:
                var variables = ArmTemplate.ReferencedVariables(expression.GetValue<string>());
                Assert.True(variables.Count > 0, $"The appsettings expression refers to no variable: {expression}");
                foreach (var name in variables)
                {
                    var value = template.Variables[name];
                    Assert.True(value is JsonObject, $"Variable '{name}' used for app settings is not a literal object, so its names cannot be checked: {value?.ToJsonString()}");
                    Add(settings, (JsonObject)value!);
                }

                break;
            default:
                Assert.Fail($"Unexpected appsettings properties: {resource["properties"]?.ToJsonString()}");
                break;
        }

        return (template, settings);
    }

    private static void Add(Dictionary<string, string> settings, JsonObject values)
    {
        foreach (var (name, value) in values)
        {
            settings[name] = value is JsonValue v && v.GetValueKind() == JsonValueKind.String
                ? v.GetValue<string>()
                : value?.ToJsonString() ?? "";
        }
    }
}
