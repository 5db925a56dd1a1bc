// Alert rules: dead-lettered work items (Service Bus metric) and three log alerts on the engine's
// own log events in Application Insights (staged destructive actions, no successful provisioning
// for a while, a spike of disables/deletes). Events are matched by EventId or by message text, so
// a change on either side still leaves one match.

@description('Azure region of the log alerts.')
param location string

@description('Tags applied to the rules.')
param tags object

@description('Prefix for rule names.')
param namePrefix string

@description('Service Bus namespace name.')
param serviceBusNamespaceName string

@description('Provisioning queue name (the metric is filtered to it).')
param queueName string

@description('Application Insights component name.')
param appInsightsName string

@description('E-mail address notified by every alert; empty for rules without notifications.')
param alertEmail string

@description('Log events the engine emits: EventId and message text of each.')
param engineEvents {
  stagedDestructiveAction: { id: int, message: string }
  provisionedUser: { id: int, message: string }
  disabledUser: { id: int, message: string }
  deletedUser: { id: int, message: string }
}

@description('Hours without any successful provisioning before the quiet alert fires (at most 48).')
@minValue(1)
@maxValue(48)
param noProvisioningHours int

@description('Disables plus deletes within one hour that count as a spike.')
@minValue(1)
param destructiveSpikeThreshold int

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: serviceBusNamespaceName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmail)) {
  name: '${namePrefix}-operators'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'scimfn'
    enabled: true
    emailReceivers: [
      {
        name: 'operators'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

var metricActions = empty(alertEmail) ? [] : [{ actionGroupId: actionGroup.id }]
var logActions = empty(alertEmail) ? {} : { actionGroups: [actionGroup.id] }

// KQL that matches one engine event by EventId (customDimensions) or by its message text.
func eventFilter(eventId int, message string) string =>
  '(tostring(customDimensions.EventId) == "${eventId}" or message startswith "${message}")'

resource deadLettered 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${namePrefix}-dead-lettered'
  location: 'global'
  tags: tags
  properties: {
    description: 'Work items were dead-lettered on the provisioning queue: permanent failures that need an operator (scimfn replay).'
    severity: 1
    enabled: true
    scopes: [
      namespace.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'DeadLettered'
          metricNamespace: 'Microsoft.ServiceBus/namespaces'
          metricName: 'DeadletteredMessages'
          dimensions: [
            {
              name: 'EntityName'
              operator: 'Include'
              values: [
                queueName
              ]
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          timeAggregation: 'Maximum'
        }
      ]
    }
    actions: metricActions
  }
}

resource stagedActions 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${namePrefix}-staged-destructive-actions'
  location: location
  tags: tags
  properties: {
    displayName: '${namePrefix}: destructive actions staged'
    description: 'The deletion/disable threshold was reached: destructive actions are held until an operator releases or discards them.'
    severity: 1
    enabled: true
    scopes: [
      appInsights.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: 'traces | where ${eventFilter(engineEvents.stagedDestructiveAction.id, engineEvents.stagedDestructiveAction.message)}'
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: logActions
  }
}

resource noProvisioning 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${namePrefix}-no-successful-provisioning'
  location: location
  tags: tags
  properties: {
    displayName: '${namePrefix}: no successful provisioning for ${noProvisioningHours} h'
    description: 'No user was provisioned successfully for ${noProvisioningHours} hours. In a directory with daily changes this means the pipeline is stuck (subscription, queue, credentials or target).'
    severity: 2
    enabled: true
    scopes: [
      appInsights.id
    ]
    evaluationFrequency: 'PT1H'
    windowSize: 'PT${noProvisioningHours}H'
    criteria: {
      allOf: [
        {
          query: 'traces | where ${eventFilter(engineEvents.provisionedUser.id, engineEvents.provisionedUser.message)}'
          timeAggregation: 'Count'
          operator: 'LessThan'
          threshold: 1
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: logActions
  }
}

resource destructiveSpike 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${namePrefix}-destructive-spike'
  location: location
  tags: tags
  properties: {
    displayName: '${namePrefix}: spike of disables/deletes'
    description: 'More than ${destructiveSpikeThreshold} users were disabled or deleted on the target within an hour.'
    severity: 1
    enabled: true
    scopes: [
      appInsights.id
    ]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT1H'
    criteria: {
      allOf: [
        {
          query: 'traces | where ${eventFilter(engineEvents.disabledUser.id, engineEvents.disabledUser.message)} or ${eventFilter(engineEvents.deletedUser.id, engineEvents.deletedUser.message)}'
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: destructiveSpikeThreshold
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: logActions
  }
}
