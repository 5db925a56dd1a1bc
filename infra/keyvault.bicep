// Key Vault in RBAC mode with purge protection, holding the secrets the app reads through Key Vault
// references (resolved by the user-assigned identity, granted Key Vault Secrets User).
// Secrets are written through the control plane, so the deploying user needs no data-plane role.

@description('Key Vault name (3-24 characters, globally unique).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags applied to the vault.')
param tags object

@description('Days a deleted vault or secret can be recovered.')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int

@description('Enabled, or Disabled for the private variant: then only the private endpoint reaches the vault, and the ACLs deny by default. Secrets are still written, through the control plane.')
@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccess string

@description('Name of the secret that holds the SCIM credential.')
param scimCredentialSecretName string

@description('The SCIM credential: the Genesys OAuth client secret, or the bearer token of a generic SCIM server.')
@secure()
param scimCredential string

@description('Name of the secret that holds the Graph clientState.')
param clientStateSecretName string

@description('The clientState secret Graph echoes in every change notification.')
@secure()
param clientState string

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    enablePurgeProtection: true
    publicNetworkAccess: publicNetworkAccess
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: publicNetworkAccess == 'Disabled' ? 'Deny' : 'Allow'
    }
  }
}

resource scimCredentialSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: scimCredentialSecretName
  properties: {
    value: scimCredential
    contentType: 'text/plain'
  }
}

resource clientStateSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: clientStateSecretName
  properties: {
    value: clientState
    contentType: 'text/plain'
  }
}

output name string = vault.name
output id string = vault.id
output uri string = vault.properties.vaultUri
