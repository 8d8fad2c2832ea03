// Diagnostic settings on existing Azure ML workspaces, Key Vaults and Storage accounts (blob service)
// in this resource group, sending the categories Vigil reads to its event hub (and optionally storage).
// Resource-group scope. ARM JSON twin: ../arm/resource-diagnostics.json.
// Categories: ../../../shared/reference/resource-logs.md (AML §3, Key Vault §4, Storage §5). If a region
// rejects an AML category, remove it from amlCategories (or use the policy, which uses categoryGroup allLogs).
targetScope = 'resourceGroup'

param settingName string = 'vigil'

@description('Namespace authorization rule with Manage, Send, Listen (eventhubs.bicep output diagnosticsAuthorizationRuleId).')
param eventHubAuthorizationRuleId string

param eventHubName string = 'vigil-logs'

@description('Optional storage account id for an archive copy; empty for none.')
param storageAccountId string = ''

@description('Azure ML workspace names in this resource group.')
param workspaceNames array = []

@description('Key Vault names in this resource group (the workspaces\' vaults at least).')
param keyVaultNames array = []

@description('Storage account names in this resource group (the workspaces\' default storage at least).')
param storageAccountNames array = []

@description('AML workspace categories: data-plane reads and changes (D22), compute, deployments, runs.')
param amlCategories array = [
  'AmlComputeClusterEvent'
  'AmlComputeJobEvent'
  'AmlRunStatusChangedEvent'
  'ComputeInstanceEvent'
  'DataLabelChangeEvent'
  'DataLabelReadEvent'
  'DataSetChangeEvent'
  'DataSetReadEvent'
  'DataStoreChangeEvent'
  'DataStoreReadEvent'
  'DeploymentEventACI'
  'DeploymentEventAKS'
  'DeploymentReadEvent'
  'EnvironmentChangeEvent'
  'EnvironmentReadEvent'
  'InferencingOperationACI'
  'InferencingOperationAKS'
  'ModelsActionEvent'
  'ModelsChangeEvent'
  'ModelsReadEvent'
  'PipelineChangeEvent'
  'PipelineReadEvent'
  'RunEvent'
  'RunReadEvent'
]

var keyVaultCategories = ['AuditEvent']
var storageCategories = ['StorageRead', 'StorageWrite', 'StorageDelete']

resource workspaces 'Microsoft.MachineLearningServices/workspaces@2024-04-01' existing = [for name in workspaceNames: {
  name: name
}]

resource vaults 'Microsoft.KeyVault/vaults@2023-07-01' existing = [for name in keyVaultNames: {
  name: name
}]

resource blobServices 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = [for name in storageAccountNames: {
  name: '${name}/default'
}]

resource workspaceDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = [for (name, i) in workspaceNames: {
  name: settingName
  scope: workspaces[i]
  properties: {
    eventHubAuthorizationRuleId: eventHubAuthorizationRuleId
    eventHubName: eventHubName
    storageAccountId: empty(storageAccountId) ? null : storageAccountId
    logs: [for category in amlCategories: {
      category: category
      enabled: true
    }]
  }
}]

resource vaultDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = [for (name, i) in keyVaultNames: {
  name: settingName
  scope: vaults[i]
  properties: {
    eventHubAuthorizationRuleId: eventHubAuthorizationRuleId
    eventHubName: eventHubName
    storageAccountId: empty(storageAccountId) ? null : storageAccountId
    logs: [for category in keyVaultCategories: {
      category: category
      enabled: true
    }]
  }
}]

resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = [for (name, i) in storageAccountNames: {
  name: settingName
  scope: blobServices[i]
  properties: {
    eventHubAuthorizationRuleId: eventHubAuthorizationRuleId
    eventHubName: eventHubName
    storageAccountId: empty(storageAccountId) ? null : storageAccountId
    logs: [for category in storageCategories: {
      category: category
      enabled: true
    }]
  }
}]
