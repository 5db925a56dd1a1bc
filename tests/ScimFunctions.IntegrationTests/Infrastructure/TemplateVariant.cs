using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ScimFunctions.IntegrationTests.Infrastructure;

/// <summary>A compiled template evaluated for one set of parameter values, the way ARM would deploy
/// it as far as that can be known before deployment: conditions decided, copy loops expanded,
/// parameters, variables and module outputs substituted, nested deployments evaluated with the
/// values their parent passes. What only exists at deployment time (a resource's runtime
/// properties through <c>reference()</c>, <c>list*()</c>) stays an <see cref="IsUnknown">unknown</see>
/// marker, so an assertion that needs it fails rather than passes by accident.</summary>
/// <remarks>The deployment context is fixed: subscription <see cref="SubscriptionId"/>, resource group
/// <see cref="ResourceGroupName"/> in <see cref="Location"/>, the public Azure cloud. uniqueString()
/// and guid() are deterministic stand-ins (not ARM's hashes), equal for equal inputs.</remarks>
public sealed class TemplateVariant
{
    public const string SubscriptionId = "00000000-0000-0000-0000-0000000005c1";
    public const string ResourceGroupName = "rg-scimfn-test";
    public const string Location = "westeurope";
    private const string UnknownPrefix = "\u27eaunknown: ";

    private readonly JsonObject root;
    private readonly Dictionary<string, JsonNode?> parameters = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, JsonNode?> variables = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, JsonNode?> pendingVariables = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, Lazy<TemplateVariant>> modules = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, int> copyIndexes = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<JsonObject> resources = [];
    private int? resourceCopyIndex;

    private TemplateVariant(JsonObject root, string? deploymentName, IReadOnlyDictionary<string, JsonNode?> values)
    {
        this.root = root;
        DeploymentName = deploymentName;
        foreach (var (name, definition) in root["parameters"] as JsonObject ?? [])
        {
            parameters[name] = values.TryGetValue(name, out var value)
                ? value?.DeepClone()
                : definition?["defaultValue"] is { } fallback ? Evaluate(fallback) : Unknown($"parameter {name} has no value");
        }

        EvaluateVariables();
        EvaluateResources();
    }

    /// <summary>The module's deployment name (null for the main template).</summary>
    public string? DeploymentName { get; }

    /// <summary>The resources this template deploys (conditions true, loops expanded), evaluated.</summary>
    public IReadOnlyList<JsonObject> Resources => resources;

    /// <summary>The modules this template deploys, evaluated with the parameters it passes them.</summary>
    public IEnumerable<TemplateVariant> Modules => modules.Values.Select(m => m.Value);

    public IEnumerable<TemplateVariant> SelfAndModules => Modules.SelectMany(m => m.SelfAndModules).Prepend(this);

    public static TemplateVariant Evaluate(ArmTemplate template, IReadOnlyDictionary<string, JsonNode?> parameterValues) =>
        new(template.Root, template.DeploymentName, parameterValues);

    public static bool IsUnknown(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<string>(out var text) && text.StartsWith(UnknownPrefix, StringComparison.Ordinal);

    /// <summary>The id ARM gives a resource of this type and name(s) in the test resource group.</summary>
    public static string ResourceGroupResourceId(string type, params string[] names) =>
        $"/subscriptions/{SubscriptionId}/resourceGroups/{ResourceGroupName}/providers/{Interleave(type, names)}";

    public TemplateVariant Module(string deploymentName) =>
        modules.TryGetValue(deploymentName, out var module)
            ? module.Value
            : throw new InvalidOperationException($"{DeploymentName ?? "main"} deploys no module '{deploymentName}' in this variant.");

    public bool DeploysModule(string deploymentName) => modules.ContainsKey(deploymentName);

    public IEnumerable<JsonObject> ResourcesOfType(string type) =>
        resources.Where(r => string.Equals((string?)r["type"], type, StringComparison.OrdinalIgnoreCase));

    /// <summary>Every resource of a type in this deployment and its modules, with the module declaring it.</summary>
    public IEnumerable<(JsonObject Resource, TemplateVariant Template)> AllResourcesOfType(string type) =>
        SelfAndModules.SelectMany(t => t.ResourcesOfType(type).Select(r => (r, t)));

    /// <summary>The evaluated value of an output.</summary>
    public JsonNode? Output(string name) =>
        root["outputs"]?[name] is JsonObject output
            ? Evaluate(output["value"])
            : throw new InvalidOperationException($"{DeploymentName ?? "main"} has no output '{name}'.");

    /// <summary>The id of a resource this template deploys (type and its evaluated name).</summary>
    public static string IdOf(JsonObject resource) =>
        ResourceGroupResourceId((string)resource["type"]!, ((string)resource["name"]!).Split('/'));

    // Variables may refer to one another in any order (loops first, as Bicep emits them): each is
    // evaluated on first use.
    private void EvaluateVariables()
    {
        foreach (var (name, value) in root["variables"] as JsonObject ?? [])
        {
            if (name == "copy" && value is JsonArray loops)
            {
                foreach (var loop in loops.OfType<JsonObject>())
                {
                    pendingVariables[(string)loop["name"]!] = new JsonObject { ["$loop"] = loop.DeepClone() };
                }
            }
            else
            {
                pendingVariables[name] = value;
            }
        }
    }

    private JsonNode? Variable(string name)
    {
        if (variables.TryGetValue(name, out var known))
        {
            return known?.DeepClone();
        }

        if (!pendingVariables.Remove(name, out var definition))
        {
            return Unknown($"variables('{name}') is not declared");
        }

        var value = definition is JsonObject { Count: 1 } wrapper && wrapper["$loop"] is JsonObject loop
            ? ExpandLoop(loop)
            : Evaluate(definition);
        variables[name] = value;
        return value?.DeepClone();
    }

    private void EvaluateResources()
    {
        var declared = root["resources"] switch
        {
            JsonArray array => array.OfType<JsonObject>().ToList(),
            JsonObject map => map.Select(p => p.Value).OfType<JsonObject>().ToList(),
            _ => [],
        };

        foreach (var resource in declared.Where(r => r["existing"] is null || !(bool)r["existing"]!))
        {
            if (resource["copy"] is JsonObject copy)
            {
                var count = Evaluate(copy["count"]);
                if (IsUnknown(count))
                {
                    throw new InvalidOperationException($"The copy count of {resource["name"]} cannot be known before deployment: {count}");
                }

                for (var i = 0; i < (int)count!; i++)
                {
                    resourceCopyIndex = i;
                    copyIndexes[(string)copy["name"]!] = i;
                    AddIfDeployed(resource);
                }

                resourceCopyIndex = null;
                copyIndexes.Remove((string)copy["name"]!);
            }
            else
            {
                AddIfDeployed(resource);
            }
        }
    }

    private void AddIfDeployed(JsonObject resource)
    {
        if (resource["condition"] is { } condition)
        {
            var deployed = Evaluate(condition);
            if (deployed is not JsonValue flag || flag.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
            {
                throw new InvalidOperationException($"The condition of {resource["name"]} cannot be decided: {deployed?.ToJsonString()}");
            }

            if (!(bool)flag)
            {
                return;
            }
        }

        var evaluated = new JsonObject();
        foreach (var (name, value) in resource)
        {
            if (name is "copy" or "condition" or "dependsOn")
            {
                continue;
            }

            if (name == "properties" && (string?)resource["type"] == "Microsoft.Resources/deployments")
            {
                // The inner template is evaluated as a module with the values passed to it.
                evaluated[name] = new JsonObject { ["parameters"] = Evaluate(value?["parameters"]) };
                continue;
            }

            evaluated[name] = Evaluate(value);
        }

        resources.Add(evaluated);
        if ((string?)resource["type"] == "Microsoft.Resources/deployments")
        {
            var deploymentName = (string)evaluated["name"]!;
            var template = resource["properties"]!["template"] as JsonObject
                ?? throw new InvalidOperationException($"Deployment {deploymentName} has no inline template.");
            var values = (evaluated["properties"]!["parameters"] as JsonObject ?? [])
                .ToDictionary(p => p.Key, p => p.Value?["value"]?.DeepClone(), StringComparer.OrdinalIgnoreCase);
            modules[deploymentName] = new Lazy<TemplateVariant>(() => new TemplateVariant(template, deploymentName, values));
        }
    }

    private JsonNode? ExpandLoop(JsonObject loop)
    {
        var name = (string)loop["name"]!;
        var count = Evaluate(loop["count"]);
        if (IsUnknown(count))
        {
            return Unknown($"copy count of {name}");
        }

        var items = new JsonArray();
        for (var i = 0; i < (int)count!; i++)
        {
            copyIndexes[name] = i;
            items.Add(Evaluate(loop["input"]));
        }

        copyIndexes.Remove(name);
        return items;
    }

    private JsonNode? Evaluate(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                var result = new JsonObject();
                foreach (var (key, value) in obj)
                {
                    if (key == "copy" && value is JsonArray propertyLoops)
                    {
                        foreach (var loop in propertyLoops.OfType<JsonObject>())
                        {
                            result[(string)loop["name"]!] = ExpandLoop(loop);
                        }

                        continue;
                    }

                    var evaluatedKey = Evaluate(JsonValue.Create(key));
                    result[evaluatedKey is JsonValue k && k.TryGetValue<string>(out var text) ? text : key] = Evaluate(value);
                }

                return result;
            case JsonArray array:
                return new JsonArray([.. array.Select(Evaluate)]);
            case JsonValue value when value.TryGetValue<string>(out var text):
                if (text.StartsWith("[[", StringComparison.Ordinal))
                {
                    return JsonValue.Create(text[1..]);
                }

                if (text.StartsWith('[') && text.EndsWith(']'))
                {
                    var expression = text[1..^1];
                    try
                    {
                        return Eval(new Parser(expression).ParseAll());
                    }
                    catch (FormatException problem)
                    {
                        return Unknown($"{expression} ({problem.Message})");
                    }
                }

                return value.DeepClone();
            default:
                return node?.DeepClone();
        }
    }

    private JsonNode? Eval(Expr expression) => expression switch
    {
        Literal literal => literal.Value?.DeepClone(),
        Member member => Access(Eval(member.Target), JsonValue.Create(member.Name)),
        Index index => Access(Eval(index.Target), Eval(index.Key)),
        Call call => Invoke(call),
        _ => Unknown(expression.ToString() ?? "?"),
    };

    private static JsonNode? Access(JsonNode? target, JsonNode? key)
    {
        if (IsUnknown(target) || IsUnknown(key))
        {
            return IsUnknown(target) ? target : key;
        }

        return (target, key) switch
        {
            (JsonObject obj, JsonValue name) when name.TryGetValue<string>(out var text) =>
                obj.FirstOrDefault(p => string.Equals(p.Key, text, StringComparison.OrdinalIgnoreCase)) is { Key: not null } found
                    ? found.Value?.DeepClone()
                    : Unknown($"property '{text}' missing from {obj.ToJsonString()}"),
            (JsonArray array, JsonValue position) when position.TryGetValue<int>(out var i) && i >= 0 && i < array.Count => array[i]?.DeepClone(),
            _ => Unknown($"cannot index {target?.ToJsonString() ?? "null"} with {key?.ToJsonString()}"),
        };
    }

    private JsonNode? Invoke(Call call)
    {
        var name = call.Name.ToLowerInvariant();
        switch (name)
        {
            case "if":
                var condition = Eval(call.Arguments[0]);
                return condition is JsonValue flag && flag.GetValueKind() is JsonValueKind.True or JsonValueKind.False
                    ? Eval(call.Arguments[(bool)flag! ? 1 : 2])
                    : Unknown($"if() on {condition?.ToJsonString()}");
            case "coalesce":
                foreach (var argument in call.Arguments)
                {
                    var value = Eval(argument);
                    if (IsUnknown(value) || value is not null)
                    {
                        return value;
                    }
                }

                return null;
            case "and" or "or":
                var stop = name == "or";
                foreach (var argument in call.Arguments)
                {
                    var value = Eval(argument);
                    if (value is not JsonValue b || b.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
                    {
                        return Unknown($"{name}() on {value?.ToJsonString()}");
                    }

                    if ((bool)b == stop)
                    {
                        return JsonValue.Create(stop);
                    }
                }

                return JsonValue.Create(!stop);
        }

        var args = call.Arguments.Select(Eval).ToList();
        if (name is not ("tryget" or "reference") && args.FirstOrDefault(IsUnknown) is { } unknownArgument)
        {
            return unknownArgument;
        }

        return name switch
        {
            "parameters" => parameters.TryGetValue(Str(args[0]), out var p) ? p?.DeepClone() : Unknown($"parameters('{Str(args[0])}') is not declared"),
            "variables" => Variable(Str(args[0])),
            "copyindex" => CopyIndex(args),
            "true" => JsonValue.Create(true),
            "false" => JsonValue.Create(false),
            "null" => null,
            "not" => JsonValue.Create(!(bool)args[0]!),
            "equals" => JsonValue.Create(JsonNode.DeepEquals(args[0], args[1])),
            "empty" => JsonValue.Create(args[0] switch
            {
                null => true,
                JsonArray a => a.Count == 0,
                JsonObject o => o.Count == 0,
                JsonValue v when v.TryGetValue<string>(out var s) => s.Length == 0,
                _ => false,
            }),
            "length" => JsonValue.Create(args[0] switch
            {
                JsonArray a => a.Count,
                JsonObject o => o.Count,
                _ => Str(args[0]).Length,
            }),
            "contains" => JsonValue.Create(args[0] switch
            {
                JsonArray a => a.Any(item => JsonNode.DeepEquals(item, args[1])),
                JsonObject o => o.Any(pair => string.Equals(pair.Key, Str(args[1]), StringComparison.OrdinalIgnoreCase)),
                _ => Str(args[0]).Contains(Str(args[1]), StringComparison.Ordinal),
            }),
            "items" => new JsonArray([.. ((JsonObject)args[0]!).OrderBy(p => p.Key, StringComparer.OrdinalIgnoreCase)
                .Select(p => (JsonNode)new JsonObject { ["key"] = p.Key, ["value"] = p.Value?.DeepClone() })]),
            "createobject" => CreateObject(args),
            "createarray" => new JsonArray([.. args.Select(a => a?.DeepClone())]),
            "union" => Union(args),
            "concat" => args.All(a => a is JsonArray)
                ? new JsonArray([.. args.SelectMany(a => ((JsonArray)a!).Select(i => i?.DeepClone()))])
                : JsonValue.Create(string.Concat(args.Select(Str))),
            "format" => JsonValue.Create(string.Format(CultureInfo.InvariantCulture, Str(args[0]), [.. args.Skip(1).Select(a => (object)Str(a))])),
            "string" => JsonValue.Create(Str(args[0])),
            "tolower" => JsonValue.Create(Str(args[0]).ToLowerInvariant()),
            "toupper" => JsonValue.Create(Str(args[0]).ToUpperInvariant()),
            "take" => JsonValue.Create(new string([.. Str(args[0]).Take((int)args[1]!)])),
            "replace" => JsonValue.Create(Str(args[0]).Replace(Str(args[1]), Str(args[2]), StringComparison.Ordinal)),
            "max" => JsonValue.Create(args.Max(a => (int)a!)),
            "min" => JsonValue.Create(args.Min(a => (int)a!)),
            "tryget" => TryGet(args),
            "uniquestring" => JsonValue.Create(Hash(args, 13)),
            "guid" => JsonValue.Create(new Guid(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('|', args.Select(Str))))[..16]).ToString()),
            "resourceid" => JsonValue.Create(ResourceId(args, subscriptionScope: false)),
            "subscriptionresourceid" => JsonValue.Create(ResourceId(args, subscriptionScope: true)),
            "subscription" => new JsonObject { ["id"] = $"/subscriptions/{SubscriptionId}", ["subscriptionId"] = SubscriptionId },
            "resourcegroup" => new JsonObject
            {
                ["id"] = $"/subscriptions/{SubscriptionId}/resourceGroups/{ResourceGroupName}",
                ["name"] = ResourceGroupName,
                ["location"] = Location,
            },
            "tenant" => new JsonObject { ["tenantId"] = "00000000-0000-0000-0000-00000000e417" },
            "environment" => new JsonObject
            {
                ["name"] = "AzureCloud",
                ["graph"] = "https://graph.microsoft.com/",
                ["suffixes"] = new JsonObject { ["storage"] = "core.windows.net", ["keyvaultDns"] = ".vault.azure.net" },
            },
            "reference" => Reference(args),
            _ => Unknown($"{call.Name}() is known only at deployment"),
        };
    }

    private JsonValue CopyIndex(List<JsonNode?> args)
    {
        var offset = args.Count > 0 && args[^1] is JsonValue last && last.TryGetValue<int>(out var o) ? o : 0;
        if (args.Count > 0 && args[0] is JsonValue loop && loop.TryGetValue<string>(out var loopName))
        {
            return copyIndexes.TryGetValue(loopName, out var named) ? JsonValue.Create(named + offset) : Unknown($"copyIndex('{loopName}') outside its loop");
        }

        return resourceCopyIndex is { } index ? JsonValue.Create(index + offset) : Unknown("copyIndex() outside a loop");
    }

    // A module's outputs, when the reference names a deployment this template makes; anything else
    // (a resource's runtime state) is known only at deployment.
    private JsonNode? Reference(List<JsonNode?> args)
    {
        var id = args.Count > 0 ? args[0] : null;
        var deploymentsPrefix = ResourceGroupResourceId("Microsoft.Resources/deployments") + "/";
        if (id is JsonValue v && v.TryGetValue<string>(out var text) && text.StartsWith(deploymentsPrefix, StringComparison.Ordinal)
            && modules.TryGetValue(text[deploymentsPrefix.Length..], out var module))
        {
            var outputs = new JsonObject();
            foreach (var (name, _) in module.Value.root["outputs"] as JsonObject ?? [])
            {
                outputs[name] = new JsonObject { ["value"] = module.Value.Output(name) };
            }

            return new JsonObject { ["outputs"] = outputs };
        }

        return Unknown($"reference({id?.ToJsonString()}) is known only at deployment");
    }

    private static JsonNode? TryGet(List<JsonNode?> args)
    {
        var current = args[0];
        foreach (var key in args.Skip(1))
        {
            if (IsUnknown(current) || IsUnknown(key))
            {
                return IsUnknown(current) ? current : key;
            }

            current = (current, key) switch
            {
                (JsonObject obj, JsonValue name) => obj.FirstOrDefault(p => string.Equals(p.Key, Str(name), StringComparison.OrdinalIgnoreCase)).Value?.DeepClone(),
                (JsonArray array, JsonValue position) when position.TryGetValue<int>(out var i) && i >= 0 && i < array.Count => array[i]?.DeepClone(),
                _ => null,
            };
        }

        return current;
    }

    private static JsonObject CreateObject(List<JsonNode?> args)
    {
        var result = new JsonObject();
        for (var i = 0; i + 1 < args.Count; i += 2)
        {
            result[Str(args[i])] = args[i + 1]?.DeepClone();
        }

        return result;
    }

    private static JsonNode? Union(List<JsonNode?> args)
    {
        if (args.All(a => a is JsonArray))
        {
            var merged = new JsonArray();
            foreach (var item in args.SelectMany(a => (JsonArray)a!))
            {
                if (!merged.Any(existing => JsonNode.DeepEquals(existing, item)))
                {
                    merged.Add(item?.DeepClone());
                }
            }

            return merged;
        }

        var result = new JsonObject();
        foreach (var obj in args.OfType<JsonObject>())
        {
            foreach (var (key, value) in obj)
            {
                result[key] = result[key] is JsonObject left && value is JsonObject right
                    ? Union([left, right])
                    : value?.DeepClone();
            }
        }

        return result;
    }

    private static string ResourceId(List<JsonNode?> args, bool subscriptionScope)
    {
        var strings = args.Select(Str).ToList();
        var typeAt = strings.FindIndex(s => s.Contains('/', StringComparison.Ordinal));
        var type = strings[typeAt];
        var names = strings.Skip(typeAt + 1).ToArray();
        return subscriptionScope
            ? $"/subscriptions/{SubscriptionId}/providers/{Interleave(type, names)}"
            : ResourceGroupResourceId(type, names);
    }

    // Microsoft.Network/virtualNetworks/subnets + (vnet, snet) → Microsoft.Network/virtualNetworks/vnet/subnets/snet
    private static string Interleave(string type, string[] names)
    {
        var segments = type.Split('/');
        var builder = new StringBuilder(segments[0]);
        for (var i = 1; i < segments.Length; i++)
        {
            builder.Append('/').Append(segments[i]);
            if (i - 1 < names.Length)
            {
                builder.Append('/').Append(names[i - 1]);
            }
        }

        return builder.ToString();
    }

    private static string Hash(List<JsonNode?> args, int length)
    {
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('|', args.Select(Str))));
        return Convert.ToHexStringLower(bytes)[..length];
    }

    private static string Str(JsonNode? node) => node switch
    {
        null => "",
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => (bool)v ? "True" : "False",
        _ => node.ToJsonString(),
    };

    private static JsonValue Unknown(string what) => JsonValue.Create($"{UnknownPrefix}{what}\u27eb");

    private abstract record Expr;

    private sealed record Literal(JsonNode? Value) : Expr;

    private sealed record Call(string Name, IReadOnlyList<Expr> Arguments) : Expr;

    private sealed record Member(Expr Target, string Name) : Expr;

    private sealed record Index(Expr Target, Expr Key) : Expr;

    /// <summary>ARM's expression language: function calls, 'strings' ('' escapes a quote), integers,
    /// and .property / [index] access.</summary>
    private sealed class Parser(string text)
    {
        private int position;

        public Expr ParseAll()
        {
            var expression = ParseExpression();
            SkipSpace();
            return position == text.Length ? expression : throw new FormatException($"unexpected '{text[position..]}'");
        }

        private Expr ParseExpression()
        {
            var expression = ParsePrimary();
            while (true)
            {
                SkipSpace();
                if (Peek('.'))
                {
                    position++;
                    expression = new Member(expression, ReadName());
                }
                else if (Peek('['))
                {
                    position++;
                    var key = ParseExpression();
                    Expect(']');
                    expression = new Index(expression, key);
                }
                else
                {
                    return expression;
                }
            }
        }

        private Expr ParsePrimary()
        {
            SkipSpace();
            if (Peek('\''))
            {
                position++;
                var builder = new StringBuilder();
                while (true)
                {
                    if (position >= text.Length)
                    {
                        throw new FormatException("unterminated string");
                    }

                    if (text[position] == '\'')
                    {
                        if (position + 1 < text.Length && text[position + 1] == '\'')
                        {
                            builder.Append('\'');
                            position += 2;
                            continue;
                        }

                        position++;
                        return new Literal(JsonValue.Create(builder.ToString()));
                    }

                    builder.Append(text[position++]);
                }
            }

            if (position < text.Length && (char.IsDigit(text[position]) || text[position] == '-'))
            {
                var start = position++;
                while (position < text.Length && char.IsDigit(text[position]))
                {
                    position++;
                }

                return new Literal(JsonValue.Create(int.Parse(text[start..position], CultureInfo.InvariantCulture)));
            }

            var name = ReadName();
            SkipSpace();
            Expect('(');
            var arguments = new List<Expr>();
            SkipSpace();
            if (!Peek(')'))
            {
                do
                {
                    arguments.Add(ParseExpression());
                    SkipSpace();
                }
                while (TryConsume(','));
            }

            Expect(')');
            return new Call(name, arguments);
        }

        private string ReadName()
        {
            var start = position;
            while (position < text.Length && (char.IsLetterOrDigit(text[position]) || text[position] is '_' or '.' or '$'))
            {
                // A dot belongs to the name only inside a namespaced function (__bicep.f(...)).
                if (text[position] == '.' && !IsNamespacedFunction(start))
                {
                    break;
                }

                position++;
            }

            return position > start ? text[start..position] : throw new FormatException($"expected a name at {position}");
        }

        private bool IsNamespacedFunction(int start)
        {
            var end = position + 1;
            while (end < text.Length && (char.IsLetterOrDigit(text[end]) || text[end] == '_'))
            {
                end++;
            }

            return end < text.Length && text[end] == '(' && start < position && (start == 0 || text[start - 1] != '.');
        }

        private bool Peek(char c) => position < text.Length && text[position] == c;

        private bool TryConsume(char c)
        {
            if (!Peek(c))
            {
                return false;
            }

            position++;
            return true;
        }

        private void Expect(char c)
        {
            SkipSpace();
            if (!TryConsume(c))
            {
                throw new FormatException($"expected '{c}' at {position} in {text}");
            }
        }

        private void SkipSpace()
        {
            while (position < text.Length && char.IsWhiteSpace(text[position]))
            {
                position++;
            }
        }
    }
}
