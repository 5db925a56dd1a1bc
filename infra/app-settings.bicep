// Every app setting the Functions app reads, in one place: the variable appSettings below (plus
// premiumOnlySettings for Elastic Premium). Names match local.settings.sample.json; the
// Infrastructure tests check that, and that no value is a key, a connection string or a secret.
// This is a module rather than a variable in main.bicep because a variable built from runtime
// values (the identity's client id) is inlined by the compiler into one opaque expression; here
// those values arrive as parameters, so the compiled template keeps the list readable and testable.

@description('Name of the Function App whose settings these are.')
param functionAppName string

@description('FlexConsumption or ElasticPremium: Flex takes the runtime from functionAppConfig and refuses FUNCTIONS_WORKER_RUNTIME and FUNCTIONS_EXTENSION_VERSION.')
@allowed([
  'FlexConsumption'
  'ElasticPremium'
])
param hostingPlan string

@description('Resource id of the user-assigned identity.')
param identityId string

@description('Client id of the user-assigned identity: every identity-based connection names it.')
param identityClientId string

@description('Storage account holding the host\'s data and the engine\'s tables.')
param storageAccountName string

@description('Blob container URL of the deployed package (Elastic Premium runs from <container>/scimfunctions.zip).')
param deploymentContainerUrl string

@description('Service Bus namespace host name (<ns>.servicebus.windows.net).')
param serviceBusFullyQualifiedNamespace string

@description('Name of the provisioning queue.')
param provisioningQueueName string

@description('Key Vault holding the secrets; settings refer to it with Key Vault references.')
param keyVaultName string

@description('Key Vault secret names: scimCredential, clientState, notificationUrl.')
param secretNames {
  scimCredential: string
  clientState: string
  notificationUrl: string
}

@description('Application Insights connection string (not a credential: ingestion requires an Entra token).')
param appInsightsConnectionString string

@description('SCIM target profile: genesys or scim.')
@allowed([
  'genesys'
  'scim'
])
param scimProfile string

@description('SCIM base URL.')
param scimBaseUrl string

@description('OAuth login URL (genesys profile).')
param scimLoginUrl string

@description('OAuth client id (genesys profile).')
param scimClientId string

@description('Requests per minute the connector allows itself against the SCIM target.')
param scimRequestsPerMinute int

@description('Microsoft Graph base URL.')
param graphBaseUrl string

@description('NCRONTAB schedules of the timer functions.')
param schedules {
  deltaSweep: string
  reconcileGroups: string
  renewSubscriptions: string
  purgeDisabled: string
}

@description('Days a disabled user stays on the target before it is deleted.')
param disabledGraceDays int

var storageSuffix = environment().suffixes.storage
var scimSecretReference = '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${secretNames.scimCredential})'

var appSettings = {
  // Host storage, identity-based (no AzureWebJobsStorage connection string).
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AzureWebJobsStorage__blobServiceUri: 'https://${storageAccountName}.blob.${storageSuffix}'
  AzureWebJobsStorage__queueServiceUri: 'https://${storageAccountName}.queue.${storageSuffix}'
  AzureWebJobsStorage__tableServiceUri: 'https://${storageAccountName}.table.${storageSuffix}'

  // Entra-only telemetry ingestion with the user-assigned identity.
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'

  // Service Bus trigger and sender (ServiceBusClient binds the same section).
  ServiceBusConnection__fullyQualifiedNamespace: serviceBusFullyQualifiedNamespace
  ServiceBusConnection__credential: 'managedidentity'
  ServiceBusConnection__clientId: identityClientId
  ProvisioningQueueName: provisioningQueueName

  // Webhook: Graph echoes this secret in every notification.
  Notifications__ClientState: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${secretNames.clientState})'

  // Engine state in Table Storage.
  State__TableServiceUri: 'https://${storageAccountName}.table.${storageSuffix}'
  State__ClientId: identityClientId

  // Microsoft Graph, app-only with the managed identity. The notification URL carries the
  // function key (?code=), so it lives in Key Vault too.
  Graph__BaseUrl: graphBaseUrl
  Graph__TenantId: tenant().tenantId
  Graph__ClientId: identityClientId
  Graph__Credential: 'managedidentity'
  Graph__NotificationUrl: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${secretNames.notificationUrl})'

  // SCIM target. The credential is the client secret for genesys, the bearer token for scim.
  Scim__Profile: scimProfile
  Scim__BaseUrl: scimBaseUrl
  Scim__LoginUrl: scimProfile == 'genesys' ? scimLoginUrl : ''
  Scim__ClientId: scimProfile == 'genesys' ? scimClientId : ''
  Scim__ClientSecret: scimProfile == 'genesys' ? scimSecretReference : ''
  Scim__BearerToken: scimProfile == 'scim' ? scimSecretReference : ''
  Scim__RequestsPerMinute: string(scimRequestsPerMinute)
  // One budget for every instance, through Table Storage: the aggregate stays within it at any instance count (docs/scim-target.md).
  Scim__SharedBudgetTable: 'scimratebudget'

  // Timers (NCRONTAB, UTC) and lifecycle.
  DeltaSweepSchedule: schedules.deltaSweep
  ReconcileGroupsSchedule: schedules.reconcileGroups
  RenewSubscriptionsSchedule: schedules.renewSubscriptions
  PurgeDisabledSchedule: schedules.purgeDisabled
  Sync__DisabledGraceDays: string(disabledGraceDays)
}

// Elastic Premium only. Flex Consumption sets the worker runtime and version in functionAppConfig
// and rejects these settings. Premium runs from a package blob read with the identity, so it needs
// no Azure Files content share (whose connection string would need a storage key).
var premiumOnlySettings = {
  FUNCTIONS_WORKER_RUNTIME: 'dotnet-isolated'
  FUNCTIONS_EXTENSION_VERSION: '~4'
  WEBSITE_RUN_FROM_PACKAGE: '${deploymentContainerUrl}/scimfunctions.zip'
  WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID: identityId
}

resource site 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: hostingPlan == 'FlexConsumption' ? appSettings : union(appSettings, premiumOnlySettings)
}

