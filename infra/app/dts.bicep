@description('Name of the Durable Task Scheduler (3-64 letters, digits, hyphens).')
@minLength(3)
@maxLength(64)
param name string

@description('Name of the task hub; the app uses the same value as TASK_HUB_NAME.')
param taskHubName string

@description('Azure region for the scheduler.')
param location string

@description('Tags applied to the scheduler.')
param tags object = {}

@description('Scheduler SKU. Consumption bills per action; Dedicated reserves capacity units.')
@allowed([
  'Consumption'
  'Dedicated'
])
param skuName string = 'Consumption'

@description('Capacity units; used only by the Dedicated SKU.')
@minValue(1)
param skuCapacity int = 1

@description('When true, the scheduler is reachable only through its private endpoint.')
param vnetEnabled bool = false

@description('IP ranges allowed to reach the scheduler over its public endpoint (required by the resource provider). Access is still Entra-authenticated and RBAC-gated.')
param ipAllowlist array = [
  '0.0.0.0/0'
]

// capacity is only meaningful for Dedicated; it is left out for Consumption.
var dedicatedSku = {
  name: skuName
  capacity: skuCapacity
}
var consumptionSku = {
  name: skuName
}

resource scheduler 'Microsoft.DurableTask/schedulers@2026-02-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    ipAllowlist: vnetEnabled ? [] : ipAllowlist
    publicNetworkAccess: vnetEnabled ? 'Disabled' : 'Enabled'
    sku: skuName == 'Dedicated' ? dedicatedSku : consumptionSku
  }
}

resource taskHub 'Microsoft.DurableTask/schedulers/taskHubs@2026-02-01' = {
  parent: scheduler
  name: taskHubName
}

output name string = scheduler.name
output id string = scheduler.id
output endpoint string = scheduler.properties.endpoint
output taskHubName string = taskHub.name
output dashboardUrl string = taskHub.properties.dashboardUrl
