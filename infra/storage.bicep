// The storage account: the Functions host's own blobs/queues/tables (AzureWebJobsStorage), the Flex
// Consumption deployment container, and the engine's tables. Shared keys are off, so every client
// authenticates with Entra ID.

@description('Storage account name (3-24 lowercase letters and digits, globally unique).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags applied to the account.')
param tags object

@description('Replication SKU.')
param skuName string

@description('Tables the provisioning engine uses.')
param tableNames string[]

@description('Blob container holding the deployed app package.')
param deploymentContainerName string

@description('Enabled, or Disabled for the private variant: then only the private endpoints reach the account, and the ACLs deny by default.')
@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccess string

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: publicNetworkAccess
    // Private: no trusted-service bypass either; the app and the Flex platform come in through the
    // private endpoints (as Microsoft's Flex Consumption samples with vnetEnabled do).
    networkAcls: {
      bypass: publicNetworkAccess == 'Disabled' ? 'None' : 'AzureServices'
      defaultAction: publicNetworkAccess == 'Disabled' ? 'Deny' : 'Allow'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [
  for tableName in tableNames: {
    parent: tableService
    name: tableName
  }
]

output name string = storage.name
output id string = storage.id
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output queueEndpoint string = storage.properties.primaryEndpoints.queue
output tableEndpoint string = storage.properties.primaryEndpoints.table
