// The private variant's private endpoints (main.bicep, vnetEnabled=true): one per data-plane
// service the app uses, Table, Blob and Queue storage, the Service Bus namespace and the Key Vault,
// each registered through a DNS zone group in the private DNS zone that network.bicep links to
// the virtual network, so the public host names resolve to private addresses inside it.

@description('Prefix of the endpoint names; the endpoint kind is appended.')
param namePrefix string

@description('Azure region.')
param location string

@description('Tags applied to the endpoints.')
param tags object

@description('Resource id of the subnet the endpoints live in.')
param subnetId string

@description('Private DNS zone names by endpoint kind (blob, queue, table, namespace, vault).')
param privateDnsZoneNames object

@description('Storage account name.')
param storageAccountName string

@description('Service Bus namespace name (Premium: Standard has no private endpoints).')
param serviceBusNamespaceName string

@description('Key Vault name.')
param keyVaultName string

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: serviceBusNamespaceName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

// Each endpoint's private link sub-resource (group id), which is also the key of its DNS zone.
var endpoints = [
  'blob'
  'queue'
  'table'
  'namespace'
  'vault'
]

resource privateEndpoints 'Microsoft.Network/privateEndpoints@2024-05-01' = [
  for groupId in endpoints: {
    name: '${namePrefix}-${groupId}'
    location: location
    tags: tags
    properties: {
      subnet: {
        id: subnetId
      }
      privateLinkServiceConnections: [
        {
          name: groupId
          properties: {
            privateLinkServiceId: groupId == 'namespace' ? namespace.id : groupId == 'vault' ? vault.id : storage.id
            groupIds: [
              groupId
            ]
          }
        }
      ]
    }
  }
]

resource zoneGroups 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = [
  for (groupId, i) in endpoints: {
    parent: privateEndpoints[i]
    name: 'default'
    properties: {
      privateDnsZoneConfigs: [
        {
          name: groupId
          properties: {
            privateDnsZoneId: resourceId('Microsoft.Network/privateDnsZones', privateDnsZoneNames[groupId])
          }
        }
      ]
    }
  }
]
