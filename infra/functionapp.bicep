// The Function App (.NET isolated, Linux) and its plan. Flex Consumption by default, with an
// always-ready instance for the HTTP group so the Graph webhook answers inside Graph's 3 s deadline
// even on cold start; Elastic Premium as the alternative. App settings are applied by
// app-settings.bicep once the identity's roles exist.

@description('Function App name (globally unique host name).')
param name string

@description('App Service plan name.')
param planName string

@description('Azure region.')
param location string

@description('Tags applied to the plan and the app.')
param tags object

@description('FlexConsumption (FC1) or ElasticPremium (EP1-EP3).')
@allowed([
  'FlexConsumption'
  'ElasticPremium'
])
param hostingPlan string

@description('Elastic Premium SKU, used only when hostingPlan is ElasticPremium.')
@allowed([
  'EP1'
  'EP2'
  'EP3'
])
param elasticPremiumSku string

@description('.NET version of the isolated worker.')
param dotnetVersion string

@description('Resource id of the user-assigned identity the app runs as.')
param identityId string

@description('Blob container URL for the deployed package (https://<account>.blob.<suffix>/<container>).')
param deploymentContainerUrl string

@description('Flex Consumption: most instances the app scales out to.')
param maximumInstanceCount int

@description('Flex Consumption: memory per instance in MB.')
param instanceMemoryMB int

@description('Always-ready instances for the HTTP group (Flex) or pre-warmed/minimum instances (Premium).')
param alwaysReadyHttpInstances int

@description('Subnet the app joins (private variant), or empty for none.')
param virtualNetworkSubnetId string

var isFlex = hostingPlan == 'FlexConsumption'

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: isFlex ? 'functionapp' : 'elastic'
  sku: isFlex
    ? {
        name: 'FC1'
        tier: 'FlexConsumption'
      }
    : {
        name: elasticPremiumSku
        tier: 'ElasticPremium'
      }
  properties: {
    reserved: true
    maximumElasticWorkerCount: isFlex ? null : 20
  }
}

var flexAppConfig = {
  deployment: {
    storage: {
      type: 'blobContainer'
      value: deploymentContainerUrl
      authentication: {
        type: 'UserAssignedIdentity'
        userAssignedIdentityResourceId: identityId
      }
    }
  }
  scaleAndConcurrency: {
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    alwaysReady: alwaysReadyHttpInstances > 0
      ? [
          {
            name: 'http'
            instanceCount: alwaysReadyHttpInstances
          }
        ]
      : []
  }
  runtime: {
    name: 'dotnet-isolated'
    version: dotnetVersion
  }
}

var commonSiteConfig = {
  minTlsVersion: '1.2'
  scmMinTlsVersion: '1.2'
  ftpsState: 'Disabled'
  http20Enabled: true
}

var premiumSiteConfig = {
  linuxFxVersion: 'DOTNET-ISOLATED|${dotnetVersion}'
  minimumElasticInstanceCount: max(alwaysReadyHttpInstances, 1)
  preWarmedInstanceCount: max(alwaysReadyHttpInstances, 1)
  // Lets the runtime, with the app's own identity, drive scaling on the Service Bus queue.
  functionsRuntimeScaleMonitoringEnabled: true
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    // Inbound stays public even in the private variant: Microsoft Graph calls the webhook from its
    // own cloud (HTTPS, function key, clientState). See docs/deploy.md, "Private networking".
    publicNetworkAccess: 'Enabled'
    // Outbound: Flex routes all of an integrated app's traffic through the subnet; Premium does
    // only when told to (vnetRouteAllEnabled), and needs it to reach the private endpoints.
    virtualNetworkSubnetId: empty(virtualNetworkSubnetId) ? null : virtualNetworkSubnetId
    vnetRouteAllEnabled: isFlex || empty(virtualNetworkSubnetId) ? null : true
    // Key Vault references resolve with the user-assigned identity, not a system-assigned one.
    keyVaultReferenceIdentity: identityId
    siteConfig: isFlex ? commonSiteConfig : union(commonSiteConfig, premiumSiteConfig)
    functionAppConfig: isFlex ? flexAppConfig : null
  }
}

// No publishing with usernames and passwords: deployments authenticate with Entra ID.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

output name string = site.name
output id string = site.id
output defaultHostName string = site.properties.defaultHostName
