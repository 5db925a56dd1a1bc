using System.Text.Json.Nodes;

namespace ScimFunctions.IntegrationTests.Infrastructure;

/// <summary>main.bicep's two variants, evaluated from the compiled template: the default (public
/// endpoints, Entra-only auth) and the private one (vnetEnabled=true, private.bicepparam).</summary>
[Collection(BicepCollection.Name)]
public sealed class PrivateNetworkTests(CompiledMainTemplate compiled)
{
    // The data-plane services the app talks to, and the private link group ids each one needs.
    private static readonly (string Type, string[] GroupIds)[] DataPlane =
    [
        ("Microsoft.Storage/storageAccounts", ["blob", "queue", "table"]),
        ("Microsoft.ServiceBus/namespaces", ["namespace"]),
        ("Microsoft.KeyVault/vaults", ["vault"]),
    ];

    private static readonly Dictionary<string, string> ZoneByGroupId = new(StringComparer.Ordinal)
    {
        ["blob"] = "privatelink.blob.core.windows.net",
        ["queue"] = "privatelink.queue.core.windows.net",
        ["table"] = "privatelink.table.core.windows.net",
        ["namespace"] = "privatelink.servicebus.windows.net",
        ["vault"] = "privatelink.vaultcore.azure.net",
    };

    private TemplateVariant Public => compiled.Public;

    private TemplateVariant Private => compiled.Private;

    [Fact]
    public void PrivateParametersFile_CompilesAgainstMainWithoutDiagnosticsAndTurnsTheSwitchOn()
    {
        Assert.True(
            compiled.BuildPrivateParameters.StandardError.Trim().Length == 0,
            $"bicep build-params private.bicepparam printed diagnostics:\n{compiled.BuildPrivateParameters.StandardError}");
        Assert.True((bool)compiled.PrivateParameterValues["vnetEnabled"]!);
        Assert.False((bool)compiled.Main.Parameters["vnetEnabled"]!["defaultValue"]!);
        Assert.False(compiled.PublicParameters.ContainsKey("vnetEnabled"), "main.parameters.json should leave vnetEnabled at its default.");
    }

    [Fact]
    public void PrivateVariant_NoDataPlaneResourceAcceptsPublicNetworkTraffic()
    {
        foreach (var (type, _) in DataPlane)
        {
            var (resource, _) = Single(Private, type);
            var properties = resource["properties"]!;
            Assert.True((string?)properties["publicNetworkAccess"] == "Disabled", $"{type} has publicNetworkAccess {properties["publicNetworkAccess"]?.ToJsonString()} in the private variant.");
            if (properties["networkAcls"] is { } acls)
            {
                Assert.True((string?)acls["defaultAction"] == "Deny", $"{type} network ACLs allow by default: {acls.ToJsonString()}");
            }

            if (type == "Microsoft.Storage/storageAccounts")
            {
                Assert.True((string?)properties["networkAcls"]?["bypass"] == "None", $"Storage lets trusted services past its ACLs: {properties["networkAcls"]?.ToJsonString()}");
            }
        }

        // Nothing else in the deployment opens a data plane either: the only resource that keeps
        // public network access is the Function App, whose webhook Microsoft Graph must reach.
        var open = Private.SelfAndModules
            .SelectMany(t => t.Resources)
            .Where(r => (string?)r["type"] != "Microsoft.Web/sites" && (string?)r["type"] != "Microsoft.Resources/deployments")
            .Where(r => r["properties"]?["publicNetworkAccess"] is { } access && (string?)access != "Disabled")
            .Select(r => $"{r["type"]} {r["name"]}")
            .ToList();
        Assert.True(open.Count == 0, $"Resources with public network access in the private variant: {string.Join(", ", open)}");
        Assert.Equal("Enabled", (string?)Single(Private, "Microsoft.Web/sites").Resource["properties"]!["publicNetworkAccess"]);
    }

    [Fact]
    public void PublicVariant_KeepsPublicEndpointsAndDeploysNoNetwork()
    {
        foreach (var (type, _) in DataPlane)
        {
            Assert.Equal("Enabled", (string?)Single(Public, type).Resource["properties"]!["publicNetworkAccess"]);
        }

        var network = Public.SelfAndModules.SelectMany(t => t.Resources)
            .Where(r => ((string?)r["type"])!.StartsWith("Microsoft.Network/", StringComparison.OrdinalIgnoreCase))
            .Select(r => $"{r["type"]} {r["name"]}")
            .ToList();
        Assert.True(network.Count == 0, $"The default variant deploys network resources: {string.Join(", ", network)}");
        Assert.Null(Single(Public, "Microsoft.Web/sites").Resource["properties"]!["virtualNetworkSubnetId"]);
        Assert.Equal("Standard", (string?)Single(Public, "Microsoft.ServiceBus/namespaces").Resource["sku"]!["name"]);
    }

    [Fact]
    public void PrivateVariant_HasAPrivateEndpointAndDnsZoneGroupPerDataPlaneService()
    {
        var network = Private.Module("network");
        var endpointSubnetId = (string?)network.Output("privateEndpointSubnetId");
        var vnetId = TemplateVariant.IdOf(Assert.Single(network.ResourcesOfType("Microsoft.Network/virtualNetworks")));
        Assert.Equal(vnetId, (string?)network.Output("vnetId"));

        var endpoints = Private.AllResourcesOfType("Microsoft.Network/privateEndpoints").Select(e => e.Resource).ToList();
        var zoneGroups = Private.AllResourcesOfType("Microsoft.Network/privateEndpoints/privateDnsZoneGroups").Select(e => e.Resource).ToList();
        var zones = Private.AllResourcesOfType("Microsoft.Network/privateDnsZones").Select(e => e.Resource).ToList();
        var links = Private.AllResourcesOfType("Microsoft.Network/privateDnsZones/virtualNetworkLinks").Select(e => e.Resource).ToList();
        Assert.Equal(5, endpoints.Count);

        foreach (var (type, groupIds) in DataPlane)
        {
            var serviceId = TemplateVariant.IdOf(Single(Private, type).Resource);
            foreach (var groupId in groupIds)
            {
                var matching = endpoints.Where(e => e["properties"]!["privateLinkServiceConnections"]!.AsArray()
                    .Any(c => (string?)c!["properties"]!["privateLinkServiceId"] == serviceId
                        && c["properties"]!["groupIds"]!.AsArray().Select(g => (string?)g).SequenceEqual([groupId]))).ToList();
                Assert.True(matching.Count == 1, $"Expected one private endpoint for {groupId} of {serviceId}, found {matching.Count}.");
                var endpoint = matching[0];
                Assert.Equal(endpointSubnetId, (string?)endpoint["properties"]!["subnet"]!["id"]);

                var zoneName = ZoneByGroupId[groupId];
                var zoneId = TemplateVariant.ResourceGroupResourceId("Microsoft.Network/privateDnsZones", zoneName);
                var group = zoneGroups.SingleOrDefault(g => ((string)g["name"]!).StartsWith($"{endpoint["name"]}/", StringComparison.Ordinal));
                Assert.True(group is not null, $"Private endpoint {endpoint["name"]} has no DNS zone group.");
                var zoneIds = group["properties"]!["privateDnsZoneConfigs"]!.AsArray().Select(c => (string?)c!["properties"]!["privateDnsZoneId"]).ToList();
                Assert.True(zoneIds.SequenceEqual([zoneId]), $"{endpoint["name"]}'s zone group points at {string.Join(", ", zoneIds)}, not {zoneId}.");

                Assert.Contains(zones, z => (string?)z["name"] == zoneName && (string?)z["location"] == "global");
                Assert.True(
                    links.Any(l => ((string)l["name"]!).StartsWith($"{zoneName}/", StringComparison.Ordinal)
                        && (string?)l["properties"]!["virtualNetwork"]!["id"] == vnetId
                        && !(bool)l["properties"]!["registrationEnabled"]!),
                    $"Private DNS zone {zoneName} is not linked to the virtual network {vnetId}.");
            }
        }
    }

    [Fact]
    public void PrivateVariant_FlexAppJoinsItsDelegatedSubnetAndGoesOutThroughANatGateway()
    {
        var network = Private.Module("network");
        var (site, _) = Single(Private, "Microsoft.Web/sites");
        var appSubnetId = (string?)network.Output("appSubnetId");
        Assert.StartsWith(TemplateVariant.ResourceGroupResourceId("Microsoft.Network/virtualNetworks"), appSubnetId, StringComparison.Ordinal);
        Assert.Equal(appSubnetId, (string?)site["properties"]!["virtualNetworkSubnetId"]);

        var subnet = Subnet(network, appSubnetId!);
        Assert.Equal(["Microsoft.App/environments"], Delegations(subnet));

        // New virtual networks lose default outbound access: the subnet says so, and its way out to
        // Graph and the SCIM target is the NAT gateway with a static public IP.
        Assert.False((bool)subnet["properties"]!["defaultOutboundAccess"]!);
        var nat = Assert.Single(network.ResourcesOfType("Microsoft.Network/natGateways"));
        Assert.Equal(TemplateVariant.IdOf(nat), (string?)subnet["properties"]!["natGateway"]?["id"]);
        var ip = Assert.Single(network.ResourcesOfType("Microsoft.Network/publicIPAddresses"));
        Assert.Equal(TemplateVariant.IdOf(ip), (string?)nat["properties"]!["publicIpAddresses"]![0]!["id"]);
        Assert.Equal("Static", (string?)ip["properties"]!["publicIPAllocationMethod"]);
        Assert.Equal("Standard", (string?)ip["sku"]!["name"]);

        var endpointSubnet = Subnet(network, (string)network.Output("privateEndpointSubnetId")!);
        Assert.Equal("Disabled", (string?)endpointSubnet["properties"]!["privateEndpointNetworkPolicies"]);
        Assert.False((bool)endpointSubnet["properties"]!["defaultOutboundAccess"]!);
    }

    [Fact]
    public void PrivateVariant_CreatesTheAppOnlyOnceItsPrivateEndpointsExist()
    {
        // Storage is closed from its creation on, so the platform reaches the deployment container
        // only through the private endpoint.
        var dependsOn = (compiled.Main.ModuleDeployment("functionapp")["dependsOn"] as JsonArray ?? []).Select(d => (string?)d).ToList();
        Assert.Contains("[resourceId('Microsoft.Resources/deployments', 'private-endpoints')]", dependsOn);
        Assert.True(Private.DeploysModule("private-endpoints"));
        Assert.False(Public.DeploysModule("private-endpoints"));
        Assert.False(Public.DeploysModule("network"));
    }

    [Fact]
    public void PrivateVariant_ElasticPremiumDelegatesToServerFarmsAndRoutesAllTrafficThroughTheNetwork()
    {
        var premium = compiled.PrivateWith(("hostingPlan", JsonValue.Create("ElasticPremium")));
        var network = premium.Module("network");
        var (site, _) = Single(premium, "Microsoft.Web/sites");
        var appSubnetId = (string?)network.Output("appSubnetId");
        Assert.Equal(appSubnetId, (string?)site["properties"]!["virtualNetworkSubnetId"]);
        Assert.True((bool?)site["properties"]!["vnetRouteAllEnabled"] == true, "Elastic Premium reaches the private endpoints only with vnetRouteAllEnabled.");
        Assert.Equal(["Microsoft.Web/serverFarms"], Delegations(Subnet(network, appSubnetId!)));
    }

    [Fact]
    public void PrivateVariant_ChoosesServiceBusPremiumWhateverServiceBusSkuSays()
    {
        Assert.Equal("Standard", (string?)compiled.Main.Parameters["serviceBusSku"]!["defaultValue"]);
        foreach (var variant in new[] { Private, compiled.PrivateWith(("serviceBusSku", JsonValue.Create("Standard"))) })
        {
            var sku = Single(variant, "Microsoft.ServiceBus/namespaces").Resource["sku"]!;
            Assert.Equal("Premium", (string?)sku["name"]);
            Assert.Equal(1, (int?)sku["capacity"]);
            Assert.Equal("Premium", (string?)variant.Output("serviceBusSku"));
        }
    }

    [Fact]
    public void RoleAssignments_AreTheSameInBothVariants()
    {
        static List<string> Assignments(TemplateVariant variant) =>
            [.. variant.AllResourcesOfType("Microsoft.Authorization/roleAssignments")
                .Select(a => ArmTemplate.Text(new JsonObject
                {
                    ["name"] = a.Resource["name"]?.DeepClone(),
                    ["scope"] = a.Resource["scope"]?.DeepClone(),
                    ["role"] = a.Resource["properties"]!["roleDefinitionId"]?.DeepClone(),
                    ["principal"] = a.Resource["properties"]!["principalId"]?.DeepClone(),
                }))
                .Order(StringComparer.Ordinal)];

        var inPublic = Assignments(Public);
        var inPrivate = Assignments(Private);
        Assert.Equal(7, inPublic.Count);
        Assert.Equal(inPublic, inPrivate);
    }

    private static JsonObject Subnet(TemplateVariant network, string subnetId)
    {
        var vnet = Assert.Single(network.ResourcesOfType("Microsoft.Network/virtualNetworks"));
        var subnets = vnet["properties"]!["subnets"]!.AsArray().OfType<JsonObject>().ToList();
        var found = subnets.Where(s => subnetId == TemplateVariant.ResourceGroupResourceId("Microsoft.Network/virtualNetworks/subnets", (string)vnet["name"]!, (string)s["name"]!)).ToList();
        Assert.True(found.Count == 1, $"No subnet of {vnet["name"]} has the id {subnetId}.");
        return found[0];
    }

    private static List<string?> Delegations(JsonObject subnet) =>
        [.. (subnet["properties"]!["delegations"] as JsonArray ?? []).Select(d => (string?)d!["properties"]!["serviceName"])];

    private static (JsonObject Resource, TemplateVariant Template) Single(TemplateVariant variant, string type)
    {
        var found = variant.AllResourcesOfType(type).ToList();
        Assert.True(found.Count == 1, $"Expected exactly one {type}, found {found.Count}.");
        return found[0];
    }
}
