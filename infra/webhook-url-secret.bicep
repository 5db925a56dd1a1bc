// Stores the Graph webhook URL, function key included (?code=), in Key Vault as the secret that
// Graph__NotificationUrl refers to. Deployed only when main.bicep's wireGraphWebhook is true: the
// host creates its keys when it first runs, so this works once the code has been published.

@description('Function App name.')
param functionAppName string

@description('Key Vault name.')
param keyVaultName string

@description('Secret name (Graph__NotificationUrl refers to it).')
param secretName string

resource site 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource notificationUrl 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: secretName
  properties: {
    value: 'https://${site.properties.defaultHostName}/api/notifications?code=${listKeys('${site.id}/host/default', site.apiVersion).functionKeys.default}'
    contentType: 'text/uri-list'
  }
}
