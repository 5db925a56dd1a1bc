using System.Text.Json.Nodes;

namespace ScimFunctions.IntegrationTests.Infrastructure;

/// <summary>The evaluator behind the variant tests, on small hand-written templates: it must decide
/// what ARM would decide, and leave unknown (never guess) what only a deployment knows.</summary>
public sealed class TemplateVariantTests
{
    [Fact]
    public void ConditionsAndCopyLoopsFollowTheParameters()
    {
        var template = Template("""
            {
              "parameters": { "flag": { "type": "bool" }, "count": { "type": "int", "defaultValue": 3 } },
              "variables": { "prefix": "[format('r-{0}', if(parameters('flag'), 'on', 'off'))]" },
              "resources": [
                {
                  "type": "Microsoft.Test/things", "name": "[format('{0}-{1}', variables('prefix'), copyIndex())]",
                  "condition": "[parameters('flag')]", "copy": { "name": "things", "count": "[parameters('count')]" },
                  "properties": { "index": "[copyIndex()]", "literal": "[[not an expression]" }
                }
              ]
            }
            """);

        var on = TemplateVariant.Evaluate(template, Values(("flag", true)));
        Assert.Equal(["r-on-0", "r-on-1", "r-on-2"], on.Resources.Select(r => (string?)r["name"]));
        Assert.Equal(2, (int)on.Resources[2]["properties"]!["index"]!);
        Assert.Equal("[not an expression]", (string?)on.Resources[0]["properties"]!["literal"]);
        Assert.Empty(TemplateVariant.Evaluate(template, Values(("flag", false))).Resources);
    }

    [Fact]
    public void RuntimeValuesStayUnknownAndSoDoComparisonsWithThem()
    {
        var template = Template("""
            {
              "resources": [
                {
                  "type": "Microsoft.Test/things", "name": "a",
                  "properties": {
                    "runtime": "[reference(resourceId('Microsoft.Test/others', 'b'), '2024-01-01').state]",
                    "compared": "[equals(reference(resourceId('Microsoft.Test/others', 'b'), '2024-01-01').state, 'Disabled')]",
                    "id": "[resourceId('Microsoft.Test/others/children', 'b', 'c')]"
                  }
                }
              ]
            }
            """);

        var properties = Assert.Single(TemplateVariant.Evaluate(template, Values()).Resources)["properties"]!;
        Assert.True(TemplateVariant.IsUnknown(properties["runtime"]));
        Assert.True(TemplateVariant.IsUnknown(properties["compared"]));
        Assert.Equal(TemplateVariant.ResourceGroupResourceId("Microsoft.Test/others/children", "b", "c"), (string?)properties["id"]);
        Assert.EndsWith("/providers/Microsoft.Test/others/b/children/c", (string?)properties["id"], StringComparison.Ordinal);
    }

    [Fact]
    public void AConditionThatOnlyADeploymentCouldDecideIsAnError()
    {
        var template = Template("""
            {
              "resources": [
                { "type": "Microsoft.Test/things", "name": "a", "condition": "[equals(reference('x').state, 'On')]" }
              ]
            }
            """);

        var error = Assert.Throws<InvalidOperationException>(() => TemplateVariant.Evaluate(template, Values()));
        Assert.Contains("cannot be decided", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ModulesGetTheirParentsValuesAndReturnTheirOutputs()
    {
        var template = Template("""
            {
              "parameters": { "on": { "type": "bool" } },
              "resources": [
                {
                  "type": "Microsoft.Resources/deployments", "name": "child", "condition": "[parameters('on')]",
                  "properties": {
                    "parameters": { "name": { "value": "[toLower('NET')]" } },
                    "template": {
                      "parameters": { "name": { "type": "string" } },
                      "resources": [ { "type": "Microsoft.Test/networks", "name": "[parameters('name')]" } ],
                      "outputs": { "id": { "type": "string", "value": "[resourceId('Microsoft.Test/networks', parameters('name'))]" } }
                    }
                  }
                },
                {
                  "type": "Microsoft.Test/apps", "name": "app",
                  "properties": {
                    "subnet": "[coalesce(tryGet(if(parameters('on'), reference(resourceId('Microsoft.Resources/deployments', 'child'), '2025-04-01'), null()), 'outputs', 'id', 'value'), '')]"
                  }
                }
              ]
            }
            """);

        var on = TemplateVariant.Evaluate(template, Values(("on", true)));
        Assert.Equal("net", (string?)Assert.Single(on.Module("child").Resources)["name"]);
        var app = Assert.Single(on.ResourcesOfType("Microsoft.Test/apps"));
        Assert.Equal(TemplateVariant.ResourceGroupResourceId("Microsoft.Test/networks", "net"), (string?)app["properties"]!["subnet"]);

        var off = TemplateVariant.Evaluate(template, Values(("on", false)));
        Assert.False(off.DeploysModule("child"));
        Assert.Equal("", (string?)Assert.Single(off.ResourcesOfType("Microsoft.Test/apps"))["properties"]!["subnet"]);
    }

    private static ArmTemplate Template(string json) => new(JsonNode.Parse(json)!.AsObject());

    private static Dictionary<string, JsonNode?> Values(params (string Name, bool Value)[] values) =>
        values.ToDictionary(v => v.Name, v => (JsonNode?)JsonValue.Create(v.Value), StringComparer.OrdinalIgnoreCase);
}
