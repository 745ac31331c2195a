@description('Name of the storage account the roles are scoped to.')
param storageAccountName string

@description('Name of the Application Insights component Monitoring Metrics Publisher is scoped to.')
param applicationInsightsName string

@description('Principal id of the function app managed identity.')
param managedIdentityPrincipalId string

@description('Object id of the deploying user (or CI principal) for running locally against the cloud resources; empty to skip.')
param principalId string = ''

@description('Type of principalId (User, or ServicePrincipal for CI); must match the principal or ARM refuses the assignment (UnmatchedPrincipalType).')
@allowed([
  'User'
  'ServicePrincipal'
])
param principalType string = 'User'

@description('Name of the Durable Task Scheduler; empty when the Azure Storage backend is used.')
param schedulerName string = ''

@description('Name of the task hub in the scheduler the Durable Task Data Contributor role is scoped to.')
param taskHubName string = ''

// Built-in role definition ids (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles).
var roles = concat(
  [
    { id: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b', scope: 'storage' } // Storage Blob Data Owner
    { id: '974c5e8b-45b9-4653-ba55-5f855dd0fb88', scope: 'storage' } // Storage Queue Data Contributor
    { id: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3', scope: 'storage' } // Storage Table Data Contributor
    { id: '3913510d-42f4-4e42-8a64-420c390055eb', scope: 'appInsights' } // Monitoring Metrics Publisher
  ],
  empty(schedulerName) ? [] : [
    { id: '0ad04412-c4d5-4796-b79c-f76d14c8d402', scope: 'taskHub' } // Durable Task Data Contributor
  ]
)

var principals = concat(
  [
    { id: managedIdentityPrincipalId, type: 'ServicePrincipal' }
  ],
  empty(principalId) ? [] : [
    { id: principalId, type: principalType }
  ]
)

// Every (principal, role) pair, in one list.
var assignments = flatten(map(principals, p => map(roles, r => {
  principalId: p.id
  principalType: p.type
  roleDefinitionId: r.id
  scope: r.scope
})))

resource storageAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource scheduler 'Microsoft.DurableTask/schedulers@2026-02-01' existing = if (!empty(schedulerName)) {
  name: schedulerName
}

resource taskHub 'Microsoft.DurableTask/schedulers/taskHubs@2026-02-01' existing = if (!empty(schedulerName)) {
  parent: scheduler
  name: taskHubName
}

// A role assignment's scope must be a resource symbol of a fixed type, so the one assignment
// list is applied per scope type (a ternary scope compiles but is dropped: Azure/bicep#17157).
resource storageAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for a in filter(assignments, x => x.scope == 'storage'): {
    name: guid(storageAccount.id, a.principalId, a.roleDefinitionId)
    scope: storageAccount
    properties: {
      principalId: a.principalId
      principalType: a.principalType
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', a.roleDefinitionId)
    }
  }
]

resource appInsightsAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for a in filter(assignments, x => x.scope == 'appInsights'): {
    name: guid(applicationInsights.id, a.principalId, a.roleDefinitionId)
    scope: applicationInsights
    properties: {
      principalId: a.principalId
      principalType: a.principalType
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', a.roleDefinitionId)
    }
  }
]

resource taskHubAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for a in filter(assignments, x => x.scope == 'taskHub'): {
    name: guid(taskHub.id, a.principalId, a.roleDefinitionId)
    scope: taskHub
    properties: {
      principalId: a.principalId
      principalType: a.principalType
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', a.roleDefinitionId)
    }
  }
]

output roleDefinitionIds array = map(roles, r => r.id)
