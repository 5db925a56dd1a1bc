// ScimFunctions: one deployment for a locked-down connector. No keys or connection strings anywhere:
// every connection uses the user-assigned managed identity, and secrets live in Key Vault.
//
//   az deployment group create -g <rg> -f main.bicep -p main.parameters.json \
//     -p scimCredential=<secret> graphClientState=<secret>
//
// Add -p vnetEnabled=true for the private variant (private endpoints, no public data plane, Service
// Bus Premium); docs/deploy.md, "Private networking", says what it changes and what it costs.
//
// Step by step (Graph permissions, publishing the code, wiring the webhook, first sync): docs/deploy.md.
// The app settings list lives in infra/app-settings.bicep (variable appSettings).

metadata description = 'ScimFunctions: Entra ID to SCIM (Genesys Cloud or any RFC 7644 server) provisioning on Azure Functions.'

targetScope = 'resourceGroup'

// ---------------------------------------------------------------------------------------------
// Naming and placement
// ---------------------------------------------------------------------------------------------

@description('Azure region for every resource. Flex Consumption is offered in a subset of regions.')
param location string = resourceGroup().location

@description('Short lowercase name (letters and digits) that prefixes every resource name.')
@minLength(3)
@maxLength(10)
param baseName string = 'scimfn'

@description('Tags applied to every resource.')
param tags object = {}

// ---------------------------------------------------------------------------------------------
// Hosting
// ---------------------------------------------------------------------------------------------

@description('FlexConsumption (FC1, default) or ElasticPremium (EP1-EP3).')
@allowed([
  'FlexConsumption'
  'ElasticPremium'
])
param hostingPlan string = 'FlexConsumption'

@description('Elastic Premium SKU; used only when hostingPlan is ElasticPremium.')
@allowed([
  'EP1'
  'EP2'
  'EP3'
])
param elasticPremiumSku string = 'EP1'

@description('.NET version of the isolated worker.')
param dotnetVersion string = '10.0'

@description('Flex Consumption: most instances the app scales out to. Keeps the SCIM target\'s rate limit in reach.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Flex Consumption: memory per instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Always-ready instances for the HTTP group (Flex) or pre-warmed instances (Premium): keeps the Graph webhook inside its 3-second deadline on cold start.')
@minValue(0)
@maxValue(20)
param alwaysReadyHttpInstances int = 1

// ---------------------------------------------------------------------------------------------
// Storage and Service Bus
// ---------------------------------------------------------------------------------------------

@description('Storage replication.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
])
param storageSku string = 'Standard_LRS'

@description('Service Bus tier: Standard or Premium (Basic has neither sessions nor duplicate detection).')
@allowed([
  'Standard'
  'Premium'
])
param serviceBusSku string = 'Standard'

@description('Name of the queue carrying work items (app setting ProvisioningQueueName).')
param provisioningQueueName string = 'provisioning'

@description('Duplicate-detection window (ISO 8601, at most P7D). Graph redelivers a notification for up to 4 hours.')
param duplicateDetectionWindow string = 'PT4H'

@description('Deliveries of a work item before it is dead-lettered.')
@minValue(1)
@maxValue(100)
param maxDeliveryCount int = 10

@description('Message (and session) lock duration (ISO 8601, at most PT5M); the host renews it while a work item runs.')
param lockDuration string = 'PT1M'

@description('How long an unprocessed work item lives before it is dead-lettered (ISO 8601).')
param messageTimeToLive string = 'P14D'

// ---------------------------------------------------------------------------------------------
// Private networking (docs/deploy.md, "Private networking")
// ---------------------------------------------------------------------------------------------

@description('Private variant: a virtual network with private endpoints for Storage, Service Bus and Key Vault, public network access off on all three, the app joined to the network with outbound through a NAT gateway. Forces Service Bus Premium (Standard has no private endpoints). The webhook stays public for Microsoft Graph.')
param vnetEnabled bool = false

@description('Private variant: address space of the virtual network.')
param vnetAddressPrefix string = '10.20.0.0/24'

@description('Private variant: subnet the Function App joins (delegated to the plan kind). One address per instance, so keep room above maximumInstanceCount.')
param appSubnetPrefix string = '10.20.0.0/25'

@description('Private variant: subnet for the five private endpoints.')
param privateEndpointSubnetPrefix string = '10.20.0.128/27'

// ---------------------------------------------------------------------------------------------
// SCIM target and Microsoft Graph
// ---------------------------------------------------------------------------------------------

@description('SCIM target profile: genesys (Genesys Cloud, OAuth client credentials) or scim (any RFC 7644 server, bearer token).')
@allowed([
  'genesys'
  'scim'
])
param scimProfile string = 'genesys'

@description('SCIM base URL. Genesys: https://api.<region domain>/api/v2/scim/v2.')
param scimBaseUrl string = 'https://api.mypurecloud.com/api/v2/scim/v2'

@description('Genesys: OAuth login URL of the region (https://login.<region domain>). Ignored for the scim profile.')
param scimLoginUrl string = 'https://login.mypurecloud.com'

@description('Genesys: OAuth client id (client credentials grant). Not a secret. Ignored for the scim profile.')
param scimClientId string = ''

@description('The SCIM credential, stored in Key Vault: the Genesys OAuth client secret (genesys) or the bearer token (scim). Pass it on the command line, never in a parameters file.')
@secure()
param scimCredential string

@description('The clientState secret Graph echoes in every notification (16-128 characters), stored in Key Vault. Pass it on the command line; keep it the same across deployments.')
@secure()
@minLength(16)
@maxLength(128)
param graphClientState string

@description('Requests per minute all instances together allow themselves against the SCIM target, shared through Table Storage (Genesys limits SCIM to 300 per OAuth client). At least 14.')
@minValue(14)
param scimRequestsPerMinute int = 300

@description('Set true on a deployment after the code is published: stores https://<host>/api/notifications?code=<default function key> in Key Vault for Graph__NotificationUrl. The first deployment cannot: the host creates its keys when it first runs.')
param wireGraphWebhook bool = false

// ---------------------------------------------------------------------------------------------
// Engine schedules and lifecycle
// ---------------------------------------------------------------------------------------------

@description('NCRONTAB (UTC) of DeltaSweep: the safety net behind change notifications, and the initial load.')
param deltaSweepSchedule string = '0 */30 * * * *'

@description('NCRONTAB (UTC) of ReconcileGroups: group membership reconciliation.')
param reconcileGroupsSchedule string = '0 15 */6 * * *'

@description('NCRONTAB (UTC) of RenewSubscriptions: creates and renews the Graph subscriptions.')
param renewSubscriptionsSchedule string = '0 0 */6 * * *'

@description('NCRONTAB (UTC) of PurgeDisabled: deletes users disabled longer than the grace period.')
param purgeDisabledSchedule string = '0 30 3 * * *'

@description('Days a leaver stays disabled on the target before PurgeDisabled deletes it.')
@minValue(0)
@maxValue(3650)
param disabledGraceDays int = 30

// ---------------------------------------------------------------------------------------------
// Monitoring and alerts
// ---------------------------------------------------------------------------------------------

@description('Days Log Analytics keeps logs.')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

@description('Create the alert rules.')
param enableAlerts bool = true

@description('E-mail address that receives alerts; empty creates the rules without notifications.')
param alertEmail string = ''

@description('Hours without a successful provisioning before the quiet alert fires (1-48). Suits directories that change daily.')
@minValue(1)
@maxValue(48)
param noProvisioningAlertHours int = 24

@description('Disables plus deletes within one hour that count as a spike.')
@minValue(1)
param destructiveSpikeThreshold int = 50

@description('Days a deleted Key Vault or secret can be recovered (purge protection is always on).')
@minValue(7)
@maxValue(90)
param keyVaultSoftDeleteDays int = 90

// ---------------------------------------------------------------------------------------------
// Names and shared values
// ---------------------------------------------------------------------------------------------

var token = uniqueString(subscription().id, resourceGroup().id, baseName)
var names = {
  identity: 'id-${baseName}-${token}'
  storage: take(toLower('st${baseName}${token}'), 24)
  serviceBus: 'sb-${baseName}-${token}'
  keyVault: take('kv-${baseName}-${token}', 24)
  logAnalytics: 'log-${baseName}-${token}'
  appInsights: 'appi-${baseName}-${token}'
  plan: 'plan-${baseName}-${token}'
  functionApp: 'func-${baseName}-${token}'
  vnet: 'vnet-${baseName}-${token}'
  natGateway: 'ng-${baseName}-${token}'
  privateEndpoint: 'pe-${baseName}-${token}'
}

// Service Bus private endpoints exist only on Premium, so the private variant chooses it.
var effectiveServiceBusSku = vnetEnabled ? 'Premium' : serviceBusSku
var dataPlanePublicNetworkAccess = vnetEnabled ? 'Disabled' : 'Enabled'

// The private link DNS zones, by private endpoint group id. Storage's follow the cloud's suffix.
var privateDnsZoneNames = {
  blob: 'privatelink.blob.${environment().suffixes.storage}'
  queue: 'privatelink.queue.${environment().suffixes.storage}'
  table: 'privatelink.table.${environment().suffixes.storage}'
  namespace: 'privatelink.servicebus.windows.net'
  vault: 'privatelink.vaultcore.azure.net'
}

// The tables the provisioning engine uses (State/ in ScimFunctions.Provisioning).
var engineTableNames = [
  'ScimUserMappings'
  'ScimGroupMappings'
  'ScimCursors'
  'ScimSubscriptions'
  'ScimStagedActions'
  'ScimCounters'
  'ScimPending'
  'ScimTargetHints'
  'ScimHistory'
]

var deploymentContainerName = 'app-package'

var secretNames = {
  scimCredential: scimProfile == 'genesys' ? 'scim-client-secret' : 'scim-bearer-token'
  clientState: 'graph-client-state'
  notificationUrl: 'graph-notification-url'
}

// Log events the engine emits ([LoggerMessage] EventId and message text); the alerts query them.
var engineEvents = {
  provisionedUser: {
    id: 3000
    message: 'Provisioned user'
  }
  disabledUser: {
    id: 3010
    message: 'Disabled user'
  }
  deletedUser: {
    id: 3011
    message: 'Deleted user'
  }
  stagedDestructiveAction: {
    id: 3100
    message: 'Staged destructive action'
  }
}

// ---------------------------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------------------------

module identity 'infra/identity.bicep' = {
  name: 'identity'
  params: {
    name: names.identity
    location: location
    tags: tags
  }
}

module monitoring 'infra/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    logAnalyticsName: names.logAnalytics
    appInsightsName: names.appInsights
    location: location
    tags: tags
    retentionInDays: logRetentionDays
  }
}

module storage 'infra/storage.bicep' = {
  name: 'storage'
  params: {
    name: names.storage
    location: location
    tags: tags
    skuName: storageSku
    tableNames: engineTableNames
    deploymentContainerName: deploymentContainerName
    publicNetworkAccess: dataPlanePublicNetworkAccess
  }
}

module serviceBus 'infra/servicebus.bicep' = {
  name: 'servicebus'
  params: {
    name: names.serviceBus
    location: location
    tags: tags
    skuName: effectiveServiceBusSku
    publicNetworkAccess: dataPlanePublicNetworkAccess
    queueName: provisioningQueueName
    duplicateDetectionHistoryTimeWindow: duplicateDetectionWindow
    maxDeliveryCount: maxDeliveryCount
    lockDuration: lockDuration
    defaultMessageTimeToLive: messageTimeToLive
  }
}

module keyVault 'infra/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    name: names.keyVault
    location: location
    tags: tags
    softDeleteRetentionInDays: keyVaultSoftDeleteDays
    publicNetworkAccess: dataPlanePublicNetworkAccess
    scimCredentialSecretName: secretNames.scimCredential
    scimCredential: scimCredential
    clientStateSecretName: secretNames.clientState
    clientState: graphClientState
  }
}

module network 'infra/network.bicep' = if (vnetEnabled) {
  name: 'network'
  params: {
    name: names.vnet
    natGatewayName: names.natGateway
    location: location
    tags: tags
    addressPrefix: vnetAddressPrefix
    appSubnetPrefix: appSubnetPrefix
    privateEndpointSubnetPrefix: privateEndpointSubnetPrefix
    hostingPlan: hostingPlan
    privateDnsZoneNames: privateDnsZoneNames
  }
}

module privateEndpoints 'infra/private-endpoints.bicep' = if (vnetEnabled) {
  name: 'private-endpoints'
  dependsOn: [
    storage
    serviceBus
    keyVault
  ]
  params: {
    namePrefix: names.privateEndpoint
    location: location
    tags: tags
    subnetId: network.?outputs.privateEndpointSubnetId ?? ''
    privateDnsZoneNames: privateDnsZoneNames
    storageAccountName: names.storage
    serviceBusNamespaceName: names.serviceBus
    keyVaultName: names.keyVault
  }
}

// Names (not outputs) go to modules that address existing resources, so What-If can predict them.
module roles 'infra/roles.bicep' = {
  name: 'roles'
  dependsOn: [
    identity
    storage
    serviceBus
    keyVault
    monitoring
  ]
  params: {
    identityName: names.identity
    storageAccountName: names.storage
    serviceBusNamespaceName: names.serviceBus
    queueName: provisioningQueueName
    keyVaultName: names.keyVault
    appInsightsName: names.appInsights
  }
}

// In the private variant the app is created once its private endpoints exist, so the platform can
// reach the deployment container from the start.
module functionApp 'infra/functionapp.bicep' = {
  name: 'functionapp'
  dependsOn: [
    privateEndpoints
  ]
  params: {
    name: names.functionApp
    planName: names.plan
    location: location
    tags: tags
    hostingPlan: hostingPlan
    elasticPremiumSku: elasticPremiumSku
    dotnetVersion: dotnetVersion
    identityId: identity.outputs.id
    deploymentContainerUrl: '${storage.outputs.blobEndpoint}${deploymentContainerName}'
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    alwaysReadyHttpInstances: alwaysReadyHttpInstances
    virtualNetworkSubnetId: network.?outputs.appSubnetId ?? ''
  }
}

// Applied after the role assignments so the host starts with access to storage and Key Vault.
module appSettings 'infra/app-settings.bicep' = {
  name: 'app-settings'
  dependsOn: [
    roles
    functionApp
  ]
  params: {
    functionAppName: names.functionApp
    hostingPlan: hostingPlan
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerUrl: '${storage.outputs.blobEndpoint}${deploymentContainerName}'
    serviceBusFullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
    provisioningQueueName: serviceBus.outputs.queueName
    keyVaultName: keyVault.outputs.name
    secretNames: secretNames
    appInsightsConnectionString: monitoring.outputs.appInsightsConnectionString
    scimProfile: scimProfile
    scimBaseUrl: scimBaseUrl
    scimLoginUrl: scimLoginUrl
    scimClientId: scimClientId
    scimRequestsPerMinute: scimRequestsPerMinute
    graphBaseUrl: '${environment().graph}v1.0'
    schedules: {
      deltaSweep: deltaSweepSchedule
      reconcileGroups: reconcileGroupsSchedule
      renewSubscriptions: renewSubscriptionsSchedule
      purgeDisabled: purgeDisabledSchedule
    }
    disabledGraceDays: disabledGraceDays
  }
}

module webhookUrlSecret 'infra/webhook-url-secret.bicep' = if (wireGraphWebhook) {
  name: 'webhook-url-secret'
  dependsOn: [
    appSettings
    keyVault
  ]
  params: {
    functionAppName: names.functionApp
    keyVaultName: names.keyVault
    secretName: secretNames.notificationUrl
  }
}

module alerts 'infra/alerts.bicep' = if (enableAlerts) {
  name: 'alerts'
  dependsOn: [
    serviceBus
    monitoring
  ]
  params: {
    location: location
    tags: tags
    namePrefix: baseName
    serviceBusNamespaceName: names.serviceBus
    queueName: provisioningQueueName
    appInsightsName: names.appInsights
    alertEmail: alertEmail
    engineEvents: engineEvents
    noProvisioningHours: noProvisioningAlertHours
    destructiveSpikeThreshold: destructiveSpikeThreshold
  }
}

module workbook 'infra/workbook.bicep' = {
  name: 'workbook'
  dependsOn: [
    serviceBus
    monitoring
  ]
  params: {
    location: location
    tags: tags
    displayName: '${baseName} provisioning'
    appInsightsName: names.appInsights
    serviceBusNamespaceName: names.serviceBus
    queueName: provisioningQueueName
    scimHost: split(split(scimBaseUrl, '://')[1], '/')[0]
    requestsPerMinute: scimRequestsPerMinute
  }
}

// ---------------------------------------------------------------------------------------------
// Outputs
// ---------------------------------------------------------------------------------------------

@description('The Graph webhook, without its function key (Graph__NotificationUrl holds the URL with ?code=).')
output webhookUrl string = 'https://${functionApp.outputs.defaultHostName}/api/notifications'

output functionAppName string = functionApp.outputs.name
output functionAppHostName string = functionApp.outputs.defaultHostName
output storageAccountName string = storage.outputs.name
output deploymentContainerName string = deploymentContainerName
output serviceBusNamespaceName string = serviceBus.outputs.name
output provisioningQueueName string = serviceBus.outputs.queueName
output keyVaultName string = keyVault.outputs.name
output appInsightsName string = monitoring.outputs.appInsightsName
output logAnalyticsName string = monitoring.outputs.logAnalyticsName
output identityName string = identity.outputs.name

@description('Private variant: the NAT gateway\'s public IP, the address Graph and the SCIM target see the app call from (empty otherwise).')
output outboundIpAddress string = network.?outputs.outboundIpAddress ?? ''

@description('Service Bus tier actually deployed (Premium whenever vnetEnabled is true).')
output serviceBusSku string = effectiveServiceBusSku

@description('Client id of the managed identity (the app authenticates everywhere with it).')
output identityClientId string = identity.outputs.clientId

@description('Object id of the managed identity\'s service principal: grant it the Graph permissions (docs/deploy.md).')
output identityPrincipalId string = identity.outputs.principalId
