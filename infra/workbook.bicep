// An Azure Monitor workbook for the operators: joiners, movers and leavers per hour, failures by reason,
// dead letters and staged actions, notification-to-target lag, SCIM 429s and rate use against the budget.
// Its queries read what the app exports with the OpenTelemetry Azure Monitor exporter: the engine's counters
// and histogram in customMetrics (name scimfn.*, dimension kind), its log events in traces
// (customDimensions.EventId and the message template's fields), HTTP client spans in dependencies.
// A test (WorkbookTests) holds every metric name and event id named here to the ones the code emits.

@description('Azure region of the workbook.')
param location string

@description('Tags applied to the workbook.')
param tags object

@description('Display name shown in the portal.')
param displayName string

@description('Application Insights component the queries run against.')
param appInsightsName string

@description('Service Bus namespace whose dead-letter metric is charted.')
param serviceBusNamespaceName string

@description('Provisioning queue name.')
param queueName string

@description('Host of the SCIM target (requests to it are counted against the budget).')
param scimHost string

@description('The SCIM budget, requests per minute (Scim__RequestsPerMinute).')
param requestsPerMinute int

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: serviceBusNamespaceName
}

// Engine events named below by EventId: 3200 failed, 3201 postponed, 3100 staged (EngineLog.cs), 3300 malformed
// work item dead-lettered (ProvisionObject.cs), 4100 SCIM request failed (ScimLog.cs). Multi-line strings take no
// interpolation, so the queries carry the ids as text; the two deployment values are put in with replace().

var joinersMoversLeavers = '''
customMetrics
| where name in ("scimfn.creates", "scimfn.updates", "scimfn.disables", "scimfn.deletes")
| where tostring(customDimensions.kind) == "user"
| extend what = case(name == "scimfn.creates", "joiners", name == "scimfn.updates", "movers", "leavers")
| summarize objects = sum(valueSum) by bin(timestamp, 1h), what
| render columnchart kind=stacked
'''

var failuresByReason = '''
traces
| where tostring(customDimensions.EventId) in ("3200", "3201")
| extend reason = tostring(customDimensions.Reason), outcome = iff(tostring(customDimensions.EventId) == "3200", "failed (dead-lettered)", "postponed (retried)")
| summarize events = count() by reason, outcome
| order by events desc
'''

var stagedAndDeadLettered = '''
traces
| where tostring(customDimensions.EventId) in ("3100", "3200", "3300")
| extend what = case(tostring(customDimensions.EventId) == "3100", "staged destructive actions", "dead-lettered work items")
| summarize events = count() by bin(timestamp, 1h), what
| render timechart
'''

// The exporter sends a histogram as per-interval aggregates (valueSum, valueCount), not single values, so the
// percentiles are those of the per-interval means, weighted by how many changes each interval held.
var lagPercentiles = '''
customMetrics
| where name == "scimfn.lag"
| where valueCount > 0
| extend meanSeconds = valueSum / valueCount
| summarize percentilesW(meanSeconds, valueCount, 50, 95) by bin(timestamp, 1h), kind = tostring(customDimensions.kind)
| render timechart
'''

var throttles = '''
union
  (traces
   | where tostring(customDimensions.EventId) == "4100" and tostring(customDimensions.Status) == "429"
   | summarize count() by bin(timestamp, 5m), series = "SCIM 429 answers"),
  (customMetrics
   | where name == "scimfn.throttles"
   | summarize count = sum(valueSum) by bin(timestamp, 5m), series = "work items postponed by throttling")
| render timechart
'''

var rateUse = '''
dependencies
| where target has "__SCIM_HOST__"
| summarize requests = count() by bin(timestamp, 1m)
| extend budget = __BUDGET__
| render timechart
'''

var workbook = {
  version: 'Notebook/1.0'
  items: [
    {
      type: 1
      name: 'intro'
      content: {
        json: '## ScimFunctions\nWhat the connector did and what held it up. Per user: `scimfn explain USER`; dead letters: `scimfn replay --dry-run`.'
      }
    }
    {
      type: 3
      name: 'joiners-movers-leavers'
      content: {
        version: 'KqlItem/1.0'
        title: 'Joiners, movers and leavers per hour (users)'
        query: joinersMoversLeavers
        queryType: 0
        resourceType: 'microsoft.insights/components'
        timeContext: { durationMs: 604800000 }
      }
    }
    {
      type: 3
      name: 'failures-by-reason'
      content: {
        version: 'KqlItem/1.0'
        title: 'Failures by reason'
        query: failuresByReason
        queryType: 0
        resourceType: 'microsoft.insights/components'
        visualization: 'table'
        timeContext: { durationMs: 604800000 }
      }
    }
    {
      type: 3
      name: 'staged-and-dead-lettered'
      content: {
        version: 'KqlItem/1.0'
        title: 'Staged destructive actions and dead-lettered work items (engine events)'
        query: stagedAndDeadLettered
        queryType: 0
        resourceType: 'microsoft.insights/components'
        timeContext: { durationMs: 604800000 }
      }
    }
    {
      type: 10
      name: 'dead-letter-queue'
      content: {
        version: 'MetricsItem/2.0'
        title: 'Messages in the dead-letter queue (${queueName})'
        size: 0
        chartType: 2
        resourceType: 'microsoft.servicebus/namespaces'
        metricScope: 0
        resourceIds: [
          namespace.id
        ]
        timeContext: { durationMs: 604800000 }
        metrics: [
          {
            namespace: 'microsoft.servicebus/namespaces'
            metric: 'microsoft.servicebus/namespaces--DeadletteredMessages'
            aggregation: 4
          }
        ]
        filters: [
          {
            key: 'EntityName'
            operator: 0
            values: [
              queueName
            ]
          }
        ]
      }
    }
    {
      type: 3
      name: 'lag'
      content: {
        version: 'KqlItem/1.0'
        title: 'Notification to target, seconds (p50 / p95 of the exported interval means)'
        query: lagPercentiles
        queryType: 0
        resourceType: 'microsoft.insights/components'
        timeContext: { durationMs: 86400000 }
      }
    }
    {
      type: 3
      name: 'throttles'
      content: {
        version: 'KqlItem/1.0'
        title: 'SCIM 429s and throttled work items'
        query: throttles
        queryType: 0
        resourceType: 'microsoft.insights/components'
        timeContext: { durationMs: 86400000 }
      }
    }
    {
      type: 3
      name: 'rate-use'
      content: {
        version: 'KqlItem/1.0'
        title: 'SCIM requests per minute against the budget (all instances)'
        query: replace(replace(rateUse, '__SCIM_HOST__', scimHost), '__BUDGET__', string(requestsPerMinute))
        queryType: 0
        resourceType: 'microsoft.insights/components'
        timeContext: { durationMs: 86400000 }
      }
    }
  ]
  isLocked: false
}

resource dashboard 'Microsoft.Insights/workbooks@2023-06-01' = {
  // A workbook's name must be a GUID; derived from the component so redeployments update the same one.
  name: guid(appInsights.id, 'scimfn-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: displayName
    category: 'workbook'
    sourceId: appInsights.id
    serializedData: string(workbook)
  }
}

output workbookId string = dashboard.id
