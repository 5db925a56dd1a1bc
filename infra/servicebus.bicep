// Service Bus namespace and the provisioning queue. Standard or Premium: sessions and duplicate
// detection do not exist on Basic. Local (SAS) auth is off, so only Entra identities can connect.

@description('Namespace name (6-50 characters, globally unique).')
@minLength(6)
@maxLength(50)
param name string

@description('Azure region.')
param location string

@description('Tags applied to the namespace.')
param tags object

@description('Namespace tier.')
@allowed([
  'Standard'
  'Premium'
])
param skuName string

@description('Enabled, or Disabled for the private variant (Premium only: Standard has no private endpoints).')
@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccess string

@description('Name of the queue carrying work items.')
param queueName string

@description('How long Service Bus remembers a MessageId to drop duplicates (ISO 8601, at most P7D).')
param duplicateDetectionHistoryTimeWindow string

@description('Deliveries before a message is dead-lettered.')
@minValue(1)
@maxValue(2000)
param maxDeliveryCount int

@description('Peek-lock (and session lock) duration (ISO 8601, at most PT5M).')
param lockDuration string

@description('Time to live of a message that nobody processes (ISO 8601).')
param defaultMessageTimeToLive string

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
    tier: skuName
    // One messaging unit, the smallest Premium namespace.
    capacity: skuName == 'Premium' ? 1 : null
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: publicNetworkAccess
  }
}

// Sessions (SessionId = Entra object id) serialise work per object; duplicate detection drops the
// same notification delivered twice (deterministic MessageId). Both can only be set at creation.
resource queue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: queueName
  properties: {
    requiresSession: true
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: duplicateDetectionHistoryTimeWindow
    maxDeliveryCount: maxDeliveryCount
    lockDuration: lockDuration
    defaultMessageTimeToLive: defaultMessageTimeToLive
    deadLetteringOnMessageExpiration: true
    enablePartitioning: false
  }
}

output name string = namespace.name
output id string = namespace.id
output queueName string = queue.name
// https://<ns>.servicebus.windows.net:443/ → <ns>.servicebus.windows.net (right for every cloud).
output fullyQualifiedNamespace string = replace(replace(namespace.properties.serviceBusEndpoint, 'https://', ''), ':443/', '')
