// The Event Hubs namespace, hub and consumer group Vigil reads, plus the authorization rules:
// one for Azure Monitor diagnostic settings to send with, one listen-only rule for Vigil.
// Resource-group scope. ARM JSON twin: ../arm/eventhubs.json (keep both in step; validate.py checks).
targetScope = 'resourceGroup'

@description('Event Hubs namespace name (globally unique, 6-50 characters).')
@minLength(6)
@maxLength(50)
param namespaceName string

@description('Location of the namespace. Diagnostic settings must send to a namespace in the same region as the resource.')
param location string = resourceGroup().location

@description('Standard or Premium. Basic has no Kafka endpoint.')
@allowed(['Standard', 'Premium'])
param skuName string = 'Standard'

@description('Throughput units (Standard) or processing units (Premium).')
@minValue(1)
param capacity int = 1

@description('The hub Azure Monitor writes every log category into (one hub keeps Vigil to one topic).')
param eventHubName string = 'vigil-logs'

@description('Partitions: the most Vigil consumers that can share the load. Cannot be changed later on Standard.')
@minValue(1)
@maxValue(32)
param partitionCount int = 4

@description('Days events stay in the hub (Standard: at most 7). Vigil must catch up within this time.')
@minValue(1)
@maxValue(7)
param retentionDays int = 7

@description('Event Hubs consumer group for AMQP readers. Kafka clients use their own group.id instead (see docs/operations.md).')
param consumerGroupName string = 'vigil'

@description('Also create a storage account that diagnostic settings can archive to (Vigil can replay its blobs).')
param createArchiveStorage bool = false

@description('Name of that storage account (3-24 lowercase letters and digits).')
param archiveStorageName string = ''

resource namespace 'Microsoft.EventHub/namespaces@2024-01-01' = {
  name: namespaceName
  location: location
  sku: {
    name: skuName
    tier: skuName
    capacity: capacity
  }
  properties: {
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
    disableLocalAuth: false // Kafka with $ConnectionString needs SAS; switch to Entra (OAUTHBEARER) and set true.
    kafkaEnabled: true
  }
}

resource hub 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' = {
  parent: namespace
  name: eventHubName
  properties: {
    partitionCount: partitionCount
    messageRetentionInDays: retentionDays
  }
}

resource consumerGroup 'Microsoft.EventHub/namespaces/eventhubs/consumergroups@2024-01-01' = {
  parent: hub
  name: consumerGroupName
  properties: {
    userMetadata: 'Vigil SIEM event processor'
  }
}

// Diagnostic settings need a namespace-level rule with Manage, Send and Listen.
resource diagnosticsRule 'Microsoft.EventHub/namespaces/authorizationRules@2024-01-01' = {
  parent: namespace
  name: 'azure-monitor-send'
  properties: {
    rights: ['Manage', 'Send', 'Listen']
  }
}

// Vigil only listens, and only to its hub.
resource vigilRule 'Microsoft.EventHub/namespaces/eventhubs/authorizationRules@2024-01-01' = {
  parent: hub
  name: 'vigil-listen'
  properties: {
    rights: ['Listen']
  }
}

resource archive 'Microsoft.Storage/storageAccounts@2023-05-01' = if (createArchiveStorage) {
  name: archiveStorageName
  location: location
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    supportsHttpsTrafficOnly: true
  }
}

output eventHubName string = hub.name
output kafkaBootstrapServers string = '${namespace.name}.servicebus.windows.net:9093'
@description('Pass to the diagnostic-settings templates and the policy assignment.')
output diagnosticsAuthorizationRuleId string = diagnosticsRule.id
@description('Read the connection string with: az eventhubs eventhub authorization-rule keys list ... --name vigil-listen')
output vigilAuthorizationRuleId string = vigilRule.id
output archiveStorageAccountId string = createArchiveStorage ? archive.id : ''
