// Subscription diagnostic setting: every Activity Log category to Vigil's event hub (and optionally
// to a storage account, which writes insights-activity-logs/... blobs that `vigil replay` reads).
// Subscription scope. ARM JSON twin: ../arm/activity-log.json.
targetScope = 'subscription'

@description('Name of the diagnostic setting.')
param settingName string = 'vigil'

@description('Resource id of the namespace authorization rule with Manage, Send, Listen (eventhubs.bicep output diagnosticsAuthorizationRuleId).')
param eventHubAuthorizationRuleId string

@description('Hub to write into (eventhubs.bicep output eventHubName).')
param eventHubName string = 'vigil-logs'

@description('Optional storage account id for an archive copy; empty for none.')
param storageAccountId string = ''

@description('Activity Log categories. Administrative, Security and Policy are the ones Vigil rules read.')
param categories array = [
  'Administrative'
  'Security'
  'Policy'
  'ServiceHealth'
  'ResourceHealth'
  'Alert'
  'Recommendation'
  'Autoscale'
]

resource activityLog 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: settingName
  properties: {
    eventHubAuthorizationRuleId: eventHubAuthorizationRuleId
    eventHubName: eventHubName
    storageAccountId: empty(storageAccountId) ? null : storageAccountId
    logs: [for category in categories: {
      category: category
      enabled: true
    }]
  }
}
