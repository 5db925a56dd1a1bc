using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ScimFunctions.IntegrationTests.Infrastructure;

[Collection(BicepCollection.Name)]
public sealed partial class MainTemplateTests(CompiledMainTemplate compiled)
{
    // The only Azure roles the app's identity may hold (reference/graph-and-azure.md §12.2).
    private static readonly Dictionary<string, string> AllowedRoles = new(StringComparer.OrdinalIgnoreCase)
    {
        ["69a216fc-b8fb-44d8-bc22-1f3c2cd27a39"] = "Azure Service Bus Data Sender",
        ["4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0"] = "Azure Service Bus Data Receiver",
        ["0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"] = "Storage Table Data Contributor",
        ["b7e6dc6d-f1e8-4753-8033-0f276bb0955b"] = "Storage Blob Data Owner (Functions host storage)",
        ["974c5e8b-45b9-4653-ba55-5f855dd0fb88"] = "Storage Queue Data Contributor",
        ["4633458b-17de-408a-b874-0445c86b69e6"] = "Key Vault Secrets User",
        ["3913510d-42f4-4e42-8a64-420c390055eb"] = "Monitoring Metrics Publisher",
    };

    private ArmTemplate Main => compiled.Main;

    [Fact]
    public void Build_ReportsNoWarnings()
    {
        Assert.True(
            !compiled.Build.StandardError.Contains("Warning", StringComparison.OrdinalIgnoreCase)
            && !compiled.Build.StandardError.Contains("Error", StringComparison.OrdinalIgnoreCase),
            $"bicep build printed diagnostics:\n{compiled.Build.StandardError}");
    }

    [Fact]
    public void Lint_ReportsNoErrorsAndNoWarnings()
    {
        Assert.True(compiled.Lint.ExitCode == 0, $"bicep lint exited {compiled.Lint.ExitCode}:\n{compiled.Lint.StandardError}\n{compiled.Lint.StandardOutput}");
        var sarif = JsonNode.Parse(compiled.Lint.StandardOutput)!;
        var results = sarif["runs"]!.AsArray().SelectMany(run => run!["results"]!.AsArray()).ToList();
        var described = results.Select(r =>
            $"{r!["level"]} {r["ruleId"]}: {r["message"]?["text"]} at {r["locations"]?[0]?["physicalLocation"]?["artifactLocation"]?["uri"]}:{r["locations"]?[0]?["physicalLocation"]?["region"]?["startLine"]}");
        Assert.True(results.Count == 0, $"bicep lint found {results.Count} problems:\n{string.Join('\n', described)}");
    }

    [Fact]
    public void BicepConfig_RaisesTheRulesThatMatterToErrors()
    {
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(BicepCli.RepositoryRoot, "bicepconfig.json")))!;
        var rules = config["analyzers"]!["core"]!["rules"]!.AsObject();
        string[] mustBeErrors =
        [
            "no-hardcoded-env-urls", "no-unused-params", "no-unused-vars", "outputs-should-not-contain-secrets",
            "secure-parameter-default", "secure-secrets-in-params", "use-secure-value-for-secure-inputs",
            "protect-commandtoexecute-secrets", "use-resource-symbol-reference", "what-if-short-circuiting",
            "no-hardcoded-location", "use-stable-resource-identifiers",
        ];
        var notErrors = mustBeErrors.Where(rule => (string?)rules[rule]?["level"] != "error").ToList();
        Assert.True(notErrors.Count == 0, $"bicepconfig.json must set these rules to error: {string.Join(", ", notErrors)}");
    }

    [Fact]
    public void ProvisioningQueue_RequiresSessionsAndDuplicateDetection()
    {
        var (queue, _) = Single("Microsoft.ServiceBus/namespaces/queues");
        var properties = queue["properties"]!;
        Assert.True((bool)properties["requiresSession"]!);
        Assert.True((bool)properties["requiresDuplicateDetection"]!);
        Assert.True((bool)properties["deadLetteringOnMessageExpiration"]!);
        Assert.Equal("[parameters('duplicateDetectionHistoryTimeWindow')]", (string?)properties["duplicateDetectionHistoryTimeWindow"]);
        Assert.Equal("[parameters('maxDeliveryCount')]", (string?)properties["maxDeliveryCount"]);
        Assert.Equal("[parameters('lockDuration')]", (string?)properties["lockDuration"]);
        Assert.Equal("PT4H", (string?)Main.Parameters["duplicateDetectionWindow"]!["defaultValue"]);
        Assert.Equal(10, (int)Main.Parameters["maxDeliveryCount"]!["defaultValue"]!);
    }

    [Fact]
    public void ServiceBus_DisablesSasAuthAndOffersNoBasicTier()
    {
        var (ns, module) = Single("Microsoft.ServiceBus/namespaces");
        Assert.True((bool)ns["properties"]!["disableLocalAuth"]!);
        var tiers = Main.Parameters["serviceBusSku"]!["allowedValues"]!.AsArray().Select(v => (string?)v).ToList();
        Assert.Equal(["Standard", "Premium"], tiers);
        Assert.Equal("Standard", (string?)Main.Parameters["serviceBusSku"]!["defaultValue"]);
        Assert.DoesNotContain("Basic", module.Parameters["skuName"]!["allowedValues"]!.AsArray().Select(v => (string?)v));
    }

    [Fact]
    public void Storage_DisablesSharedKeyAndRequiresHttpsWithTls12()
    {
        var (storage, _) = Single("Microsoft.Storage/storageAccounts");
        var properties = storage["properties"]!;
        Assert.False((bool)properties["allowSharedKeyAccess"]!);
        Assert.False((bool)properties["allowBlobPublicAccess"]!);
        Assert.True((bool)properties["supportsHttpsTrafficOnly"]!);
        Assert.Equal("TLS1_2", (string?)properties["minimumTlsVersion"]);
    }

    [Fact]
    public void Storage_CreatesEveryEngineTableAndTheDeploymentContainer()
    {
        var tables = Main.Variables["engineTableNames"]!.AsArray().Select(v => (string?)v).ToList();
        // The same names the engine uses, so the identity never needs rights to create tables.
        var engine = new ScimFunctions.Provisioning.State.StateStore(new Azure.Data.Tables.TableServiceClient("UseDevelopmentStorage=true"), ScimFunctions.Provisioning.State.StateStore.DefaultPrefix);
        // Every table the store names (each a "…Table" property), so a table added to the engine cannot be missed here.
        var engineTables = typeof(ScimFunctions.Provisioning.State.StateStore).GetProperties()
            .Where(p => p.PropertyType == typeof(string) && p.Name.EndsWith("Table", StringComparison.Ordinal))
            .Select(p => (string?)p.GetValue(engine))
            .Order(StringComparer.Ordinal);
        Assert.Equal(engineTables, tables.Order(StringComparer.Ordinal));
        Assert.Equal("[variables('engineTableNames')]", (string?)Main.ModuleDeployment("storage")["properties"]!["parameters"]!["tableNames"]!["value"]);

        var (table, _) = Single("Microsoft.Storage/storageAccounts/tableServices/tables");
        Assert.Contains("parameters('tableNames')[copyIndex()]", (string?)table["name"], StringComparison.Ordinal);
        Assert.Equal("[length(parameters('tableNames'))]", (string?)table["copy"]!["count"]);
        Single("Microsoft.Storage/storageAccounts/blobServices/containers");
    }

    [Fact]
    public void KeyVault_UsesRbacAndPurgeProtection()
    {
        var (vault, _) = Single("Microsoft.KeyVault/vaults");
        Assert.True((bool)vault["properties"]!["enableRbacAuthorization"]!);
        Assert.True((bool)vault["properties"]!["enablePurgeProtection"]!);
        Assert.Null(vault["properties"]!["accessPolicies"]);
    }

    [Fact]
    public void Monitoring_AcceptsOnlyEntraAuthenticatedIngestion()
    {
        var (appInsights, _) = Single("Microsoft.Insights/components");
        Assert.True((bool)appInsights["properties"]!["DisableLocalAuth"]!);
        var (workspace, _) = Single("Microsoft.OperationalInsights/workspaces");
        Assert.True((bool)workspace["properties"]!["features"]!["disableLocalAuth"]!);
    }

    [Fact]
    public void FunctionApp_IsHttpsOnlyWithTls12NoFtpAndTheManagedIdentity()
    {
        var (site, module) = Single("Microsoft.Web/sites");
        var properties = site["properties"]!;
        Assert.True((bool)properties["httpsOnly"]!);
        Assert.Equal("UserAssigned", (string?)site["identity"]!["type"]);
        Assert.Equal("[parameters('identityId')]", (string?)properties["keyVaultReferenceIdentity"]);

        // siteConfig may be chosen per plan; every candidate must keep TLS 1.2 and FTP off.
        var siteConfigs = properties["siteConfig"] is JsonObject literal
            ? [literal]
            : ArmTemplate.ReferencedVariables((string)properties["siteConfig"]!).Select(v => module.Variables[v]).OfType<JsonObject>().ToList();
        Assert.NotEmpty(siteConfigs);
        Assert.Contains(siteConfigs, c => (string?)c["minTlsVersion"] == "1.2" && (string?)c["ftpsState"] == "Disabled");
        foreach (var config in siteConfigs)
        {
            Assert.True(config["minTlsVersion"] is null || (string?)config["minTlsVersion"] == "1.2", $"siteConfig lowers minTlsVersion: {config.ToJsonString()}");
            Assert.True(config["ftpsState"] is null || (string?)config["ftpsState"] == "Disabled", $"siteConfig enables FTP: {config.ToJsonString()}");
        }

        var policies = module.ResourcesOfType("Microsoft.Web/sites/basicPublishingCredentialsPolicies").ToList();
        Assert.Equal(2, policies.Count);
        Assert.All(policies, p => Assert.False((bool)p["properties"]!["allow"]!));
    }

    [Fact]
    public void FunctionApp_DefaultsToFlexWithAnAlwaysReadyHttpInstance()
    {
        Assert.Equal("FlexConsumption", (string?)Main.Parameters["hostingPlan"]!["defaultValue"]);
        Assert.Equal(["FlexConsumption", "ElasticPremium"], Main.Parameters["hostingPlan"]!["allowedValues"]!.AsArray().Select(v => (string?)v));
        Assert.Equal(1, (int)Main.Parameters["alwaysReadyHttpInstances"]!["defaultValue"]!);
        Assert.Equal("10.0", (string?)Main.Parameters["dotnetVersion"]!["defaultValue"]);

        var module = Main.Module("functionapp");
        var flex = module.Variables["flexAppConfig"]!;
        Assert.Equal("dotnet-isolated", (string?)flex["runtime"]!["name"]);
        Assert.Contains("createObject('name', 'http'", (string?)flex["scaleAndConcurrency"]!["alwaysReady"], StringComparison.Ordinal);
        Assert.Equal("UserAssignedIdentity", (string?)flex["deployment"]!["storage"]!["authentication"]!["type"]);
    }

    [Fact]
    public void RoleAssignments_GrantOnlyLeastPrivilegeRolesNamedWithGuid()
    {
        var assignments = Main.AllResourcesOfType("Microsoft.Authorization/roleAssignments").Select(a => a.Resource).ToList();
        var granted = new List<string>();
        foreach (var assignment in assignments)
        {
            var roleDefinitionId = (string?)assignment["properties"]!["roleDefinitionId"] ?? "";
            var guids = Guid().Matches(roleDefinitionId).Select(m => m.Value).ToList();
            Assert.True(guids.Count == 1, $"Role assignment {assignment["name"]} must name its role by a literal GUID: {roleDefinitionId}");
            Assert.True(AllowedRoles.ContainsKey(guids[0]), $"Role {guids[0]} is not in the least-privilege allow-list (no Owner, Contributor or Service Bus Data Owner): {assignment["name"]}");
            Assert.StartsWith("[guid(", (string?)assignment["name"], StringComparison.Ordinal);
            Assert.Equal("ServicePrincipal", (string?)assignment["properties"]!["principalType"]);
            granted.Add(guids[0].ToLowerInvariant());
        }

        var missing = AllowedRoles.Keys.Except(granted, StringComparer.OrdinalIgnoreCase).Select(id => AllowedRoles[id]).ToList();
        Assert.True(missing.Count == 0, $"The identity lacks roles it needs: {string.Join(", ", missing)}");
        Assert.Equal(granted.Count, granted.Distinct().Count());
    }

    [Fact]
    public void RoleAssignments_ScopeServiceBusRolesToTheQueue()
    {
        var serviceBusRoles = Main.AllResourcesOfType("Microsoft.Authorization/roleAssignments")
            .Select(a => a.Resource)
            .Where(a => ((string?)a["properties"]!["roleDefinitionId"])!.Contains("69a216fc", StringComparison.Ordinal)
                || ((string?)a["properties"]!["roleDefinitionId"])!.Contains("4f6d3b9b", StringComparison.Ordinal))
            .ToList();
        Assert.Equal(2, serviceBusRoles.Count);
        Assert.All(serviceBusRoles, a => Assert.Contains("Microsoft.ServiceBus/namespaces/queues", (string?)a["scope"], StringComparison.Ordinal));
    }

    [Fact]
    public void AppSettings_HoldNoKeyConnectionStringOrLiteralSecret()
    {
        var (template, settings) = AppSettingsReader.Read(Main);
        Assert.NotEmpty(settings);

        // Nothing secret can reach the settings: the module takes no secure parameter.
        var secureParameters = template.Parameters
            .Where(p => ((string?)p.Value!["type"])?.StartsWith("secure", StringComparison.OrdinalIgnoreCase) == true)
            .Select(p => p.Key)
            .ToList();
        Assert.True(secureParameters.Count == 0, $"The app settings module takes secure parameters: {string.Join(", ", secureParameters)}");

        var problems = new List<string>();
        foreach (var (name, value) in settings)
        {
            var expanded = template.ExpandVariables(value);
            if (ForbiddenInSettings().Match(expanded) is { Success: true } match)
            {
                problems.Add($"{name} contains '{match.Value}'");
            }

            if (SecretSettingName().IsMatch(name) && !expanded.Contains("@Microsoft.KeyVault(", StringComparison.Ordinal))
            {
                problems.Add($"{name} is a secret but not a Key Vault reference: {value}");
            }

            if (expanded.Contains("@Microsoft.KeyVault(", StringComparison.Ordinal) && !KeyVaultReference().IsMatch(expanded))
            {
                problems.Add($"{name} has a malformed Key Vault reference: {expanded}");
            }
        }

        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public void AppSettings_ConnectEverythingWithTheManagedIdentity()
    {
        var (_, settings) = AppSettingsReader.Read(Main);
        Assert.Equal("managedidentity", settings["AzureWebJobsStorage__credential"]);
        Assert.Equal("managedidentity", settings["ServiceBusConnection__credential"]);
        Assert.Equal("managedidentity", settings["Graph__Credential"]);
        foreach (var name in new[] { "AzureWebJobsStorage__clientId", "ServiceBusConnection__clientId", "State__ClientId", "Graph__ClientId" })
        {
            Assert.Equal("[parameters('identityClientId')]", settings[name]);
        }

        foreach (var name in new[] { "AzureWebJobsStorage__blobServiceUri", "AzureWebJobsStorage__queueServiceUri", "AzureWebJobsStorage__tableServiceUri", "State__TableServiceUri" })
        {
            Assert.StartsWith("[format('https://", settings[name], StringComparison.Ordinal);
        }

        Assert.Equal("[parameters('serviceBusFullyQualifiedNamespace')]", settings["ServiceBusConnection__fullyQualifiedNamespace"]);
        Assert.Contains("Authorization=AAD", settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"], StringComparison.Ordinal);
        Assert.DoesNotContain("AzureWebJobsStorage", settings.Keys);
        Assert.DoesNotContain("ServiceBusConnection", settings.Keys);
    }

    [Fact]
    public void SecureParameters_FlowOnlyIntoKeyVault()
    {
        var secure = Main.Parameters
            .Where(p => ((string?)p.Value!["type"])?.StartsWith("secure", StringComparison.OrdinalIgnoreCase) == true)
            .Select(p => p.Key)
            .ToList();
        Assert.Equal(["scimCredential", "graphClientState"], secure);

        foreach (var deployment in Main.ResourcesOfType("Microsoft.Resources/deployments"))
        {
            var parameters = ArmTemplate.Text(deployment["properties"]!["parameters"]);
            foreach (var name in secure)
            {
                var used = parameters.Contains($"parameters('{name}')", StringComparison.Ordinal);
                Assert.True(!used || (string?)deployment["name"] == "keyvault", $"Secure parameter {name} reaches module {deployment["name"]}.");
            }
        }

        var keyVaultModule = Main.Module("keyvault");
        Assert.Equal("securestring", (string?)keyVaultModule.Parameters["scimCredential"]!["type"]);
        Assert.Equal("securestring", (string?)keyVaultModule.Parameters["clientState"]!["type"]);
    }

    [Fact]
    public void Parameters_AllHaveDescriptionsAndSecureOnesNoDefault()
    {
        foreach (var template in Main.SelfAndModules)
        {
            foreach (var (name, parameter) in template.Parameters)
            {
                Assert.False(string.IsNullOrWhiteSpace((string?)parameter!["metadata"]?["description"]), $"Parameter {name} of {template.DeploymentName ?? "main"} has no @description.");
                if (((string?)parameter["type"])!.StartsWith("secure", StringComparison.OrdinalIgnoreCase))
                {
                    Assert.Null(parameter["defaultValue"]);
                }
            }
        }
    }

    [Fact]
    public void ParametersFile_NamesOnlyKnownParametersAndNoSecret()
    {
        var file = JsonNode.Parse(File.ReadAllText(Path.Combine(BicepCli.RepositoryRoot, "main.parameters.json")))!;
        var names = file["parameters"]!.AsObject().Select(p => p.Key).ToList();
        Assert.NotEmpty(names);
        var unknown = names.Where(n => Main.Parameters[n] is null).ToList();
        Assert.True(unknown.Count == 0, $"main.parameters.json sets parameters main.bicep does not declare: {string.Join(", ", unknown)}");
        var secrets = names.Where(n => ((string?)Main.Parameters[n]!["type"])!.StartsWith("secure", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.True(secrets.Count == 0, $"main.parameters.json must not hold secure parameters: {string.Join(", ", secrets)}");
    }

    [Fact]
    public void Alerts_WatchDeadLettersStagedActionsQuietPeriodsAndSpikes()
    {
        var alerts = Main.Module("alerts");
        var metric = Assert.Single(alerts.ResourcesOfType("Microsoft.Insights/metricAlerts"));
        var criterion = metric["properties"]!["criteria"]!["allOf"]![0]!;
        Assert.Equal("DeadletteredMessages", (string?)criterion["metricName"]);
        Assert.Equal("Microsoft.ServiceBus/namespaces", (string?)criterion["metricNamespace"]);

        var queries = alerts.ResourcesOfType("Microsoft.Insights/scheduledQueryRules")
            .Select(r => (string?)r["properties"]!["criteria"]!["allOf"]![0]!["query"])
            .ToList();
        Assert.Equal(3, queries.Count);
        Assert.All(queries, q => Assert.Contains("__bicep.eventFilter(parameters('engineEvents')", q, StringComparison.Ordinal));

        var events = Main.Variables["engineEvents"]!.AsObject();
        Assert.Equal(3000, (int)events["provisionedUser"]!["id"]!);
        Assert.Equal(3010, (int)events["disabledUser"]!["id"]!);
        Assert.Equal(3011, (int)events["deletedUser"]!["id"]!);
        Assert.Equal(3100, (int)events["stagedDestructiveAction"]!["id"]!);
        Assert.Equal("Staged destructive action", (string?)events["stagedDestructiveAction"]!["message"]);
        Assert.Equal("[variables('engineEvents')]", (string?)Main.ModuleDeployment("alerts")["properties"]!["parameters"]!["engineEvents"]!["value"]);
    }

    [Fact]
    public void Outputs_GiveTheWebhookUrlAndResourceNames()
    {
        var outputs = Main.Root["outputs"]!.AsObject();
        Assert.StartsWith("[format('https://{0}/api/notifications',", (string?)outputs["webhookUrl"]!["value"], StringComparison.Ordinal);
        foreach (var name in new[] { "functionAppName", "storageAccountName", "serviceBusNamespaceName", "provisioningQueueName", "keyVaultName", "appInsightsName", "identityPrincipalId", "identityClientId" })
        {
            Assert.True(outputs[name] is not null, $"main.bicep has no output {name}.");
        }

        var leaked = outputs.Where(o => ListFunction().IsMatch(ArmTemplate.Text(o.Value))).Select(o => o.Key).ToList();
        Assert.True(leaked.Count == 0, $"Outputs computed with list*() may expose keys: {string.Join(", ", leaked)}");
    }

    [Fact]
    public void GraphPermissions_AreAnOptionalFileMainDoesNotDeploy()
    {
        Assert.DoesNotContain("graph-permissions", File.ReadAllText(CompiledMainTemplate.MainBicepPath), StringComparison.Ordinal);
        var optional = File.ReadAllText(Path.Combine(BicepCli.RepositoryRoot, "infra", "graph-permissions.bicep"));
        Assert.Contains("Microsoft.Graph/appRoleAssignedTo@v1.0", optional, StringComparison.Ordinal);
        Assert.Contains("df021288-bdef-4463-88db-98f22de89214", optional, StringComparison.Ordinal); // User.Read.All
        Assert.Contains("98830695-27a2-44f7-8c18-0c3ebc9698f6", optional, StringComparison.Ordinal); // GroupMember.Read.All
        Assert.Contains("5b567255-7703-4780-807c-7be8301ae99b", optional, StringComparison.Ordinal); // Group.Read.All
    }

    [Fact]
    public void CompiledTemplates_AreNotCommitted()
    {
        var problems = CompiledTemplateProblems(BicepCli.RepositoryRoot);
        Assert.True(problems.Count == 0, string.Join(" ", problems));
    }

    [Fact]
    public void CompiledTemplateCheck_OutsideAGitCheckout_ReadsTheIgnoreRules()
    {
        // A source archive or a copied tree has no .git: the check falls back to the rules that keep the
        // compiled templates out of commits, and still fails when they are missing.
        var tree = Directory.CreateTempSubdirectory("scimfn-nogit-");
        try
        {
            File.Copy(Path.Combine(BicepCli.RepositoryRoot, ".gitignore"), Path.Combine(tree.FullName, ".gitignore"));
            Assert.Empty(CompiledTemplateProblems(tree.FullName));

            File.WriteAllText(Path.Combine(tree.FullName, ".gitignore"), "bin/\nobj/\n");
            var problems = CompiledTemplateProblems(tree.FullName);
            Assert.Contains(problems, p => p.Contains("/main.json", StringComparison.Ordinal));
            Assert.Contains(problems, p => p.Contains("/infra/**/*.json", StringComparison.Ordinal));
        }
        finally
        {
            tree.Delete(recursive: true);
        }
    }

    /// <summary>In a git checkout: compiled ARM templates (main.json, infra/*.json) that git tracks. Outside one
    /// (no .git, e.g. a source archive), nothing is tracked, so what matters is that .gitignore keeps them out.</summary>
    internal static List<string> CompiledTemplateProblems(string root)
    {
        if (!Path.Exists(Path.Combine(root, ".git")))
        {
            var ignorePath = Path.Combine(root, ".gitignore");
            var rules = File.Exists(ignorePath) ? File.ReadAllLines(ignorePath).Select(l => l.Trim()).ToHashSet(StringComparer.Ordinal) : [];
            return [.. new[] { "/main.json", "/infra/**/*.json" }
                .Where(rule => !rules.Contains(rule))
                .Select(rule => $"Not a git checkout, and .gitignore lacks '{rule}', the rule that keeps compiled templates out of commits.")];
        }

        var start = new ProcessStartInfo("git")
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { "ls-files", "--", "main.json", "infra/*.json" })
        {
            start.ArgumentList.Add(argument);
        }

        using var git = Process.Start(start)!;
        var listed = git.StandardOutput.ReadToEnd();
        var error = git.StandardError.ReadToEnd();
        git.WaitForExit();
        if (git.ExitCode != 0)
        {
            return [$"git ls-files failed: {error}"];
        }

        var compiled = listed.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(f => !f.EndsWith(".parameters.json", StringComparison.Ordinal))
            .ToList();
        return compiled.Count == 0 ? [] : [$"Compiled ARM templates are committed: {string.Join(", ", compiled)}"];
    }

    [Fact]
    public void DeployGuide_DocumentsEveryParameter()
    {
        var guide = File.ReadAllText(Path.Combine(BicepCli.RepositoryRoot, "docs", "deploy.md"));
        var missing = Main.Parameters.Select(p => p.Key).Where(name => !guide.Contains($"| `{name}` |", StringComparison.Ordinal)).ToList();
        Assert.True(missing.Count == 0, $"docs/deploy.md's parameters table lacks: {string.Join(", ", missing)}");
    }

    private (JsonObject Resource, ArmTemplate Template) Single(string type)
    {
        var found = Main.AllResourcesOfType(type).ToList();
        Assert.True(found.Count == 1, $"Expected exactly one {type}, found {found.Count}.");
        return found[0];
    }

    [GeneratedRegex("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")]
    private static partial Regex Guid();

    // Keys, SAS, connection strings and development shortcuts have no place in Azure settings.
    [GeneratedRegex("AccountKey=|SharedAccessKey|SharedAccessSignature|DefaultEndpointsProtocol|UseDevelopmentStorage|Endpoint=sb://|[?&]sig=|Password=|InstrumentationKey=[0-9a-f]|listKeys|listSecrets", RegexOptions.IgnoreCase)]
    private static partial Regex ForbiddenInSettings();

    // Settings whose values are secrets (the notification URL carries the function key).
    [GeneratedRegex("(Secret|Token|ClientState|Password|NotificationUrl)$")]
    private static partial Regex SecretSettingName();

    [GeneratedRegex(@"\blist[A-Za-z]*\(")]
    private static partial Regex ListFunction();

    [GeneratedRegex(@"@Microsoft\.KeyVault\((VaultName=[^;)]+;SecretName=[^;)]+|SecretUri=https://[^)]+)\)")]
    private static partial Regex KeyVaultReference();
}
