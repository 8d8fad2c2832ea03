// The DeployIfNotExists policy that keeps a Vigil diagnostic setting on every Azure ML workspace,
// and (assign = true) an example assignment at this subscription with a system-assigned identity and
// the roles the policy names. The rule itself lives in ../policy/aml-diagnostics-to-eventhub.json
// (also usable with `az policy definition create`). Subscription scope. ARM JSON twin: ../arm/policy.json.
targetScope = 'subscription'

@description('Create the example assignment (and its role assignments) as well as the definition.')
param assign bool = true

@description('Location of the assignment\'s managed identity.')
param location string = deployment().location

@description('Namespace authorization rule with Manage, Send, Listen (eventhubs.bicep output diagnosticsAuthorizationRuleId).')
param eventHubAuthorizationRuleId string

param eventHubName string = 'vigil-logs'

@description('Only workspaces in this region; empty for all.')
param eventHubLocation string = ''

@allowed(['allLogs', 'audit'])
param categoryGroup string = 'allLogs'

var policy = loadJsonContent('../policy/aml-diagnostics-to-eventhub.json')
var roleDefinitionIds = policy.properties.policyRule.then.details.roleDefinitionIds

resource definition 'Microsoft.Authorization/policyDefinitions@2023-04-01' = {
  name: 'vigil-aml-diagnostics-to-eventhub'
  properties: policy.properties
}

resource assignment 'Microsoft.Authorization/policyAssignments@2024-04-01' = if (assign) {
  name: 'vigil-aml-diagnostics'
  location: location
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    displayName: 'Vigil: AML workspace logs to Event Hubs'
    policyDefinitionId: definition.id
    parameters: {
      eventHubAuthorizationRuleId: { value: eventHubAuthorizationRuleId }
      eventHubName: { value: eventHubName }
      eventHubLocation: { value: eventHubLocation }
      categoryGroup: { value: categoryGroup }
    }
  }
}

// The remediation identity needs the policy's roles. Subscription-wide here for brevity; narrow the
// Event Hubs Data Owner grant to the namespace in production (see deploy/README.md).
resource roles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for roleId in roleDefinitionIds: if (assign) {
  name: guid(subscription().id, 'vigil-aml-diagnostics', roleId)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', last(split(roleId, '/')))
    principalId: assign ? assignment.identity.principalId : ''
    principalType: 'ServicePrincipal'
  }
}]

output policyDefinitionId string = definition.id
output assignmentId string = assign ? assignment.id : ''
