targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; used for the resource group name, the task hub name and the resource token.')
param environmentName string

@minLength(1)
@description('Azure region for all resources; one that offers Flex Consumption.')
// Regions offering Flex Consumption, as in Microsoft's Flex azd templates (Azure-Samples/
// durable-functions-quickstart-python-azd, infra/main.bicep), without the eastus2euap canary.
// Refresh with `az functionapp list-flexconsumption-locations -o table`. azd prompts from this list.
@allowed([
  'australiaeast'
  'australiasoutheast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'southindia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'ukwest'
  'westcentralus'
  'westeurope'
  'westus'
  'westus2'
  'westus3'
])
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Object id of the deploying user or CI principal, granted data access to run the app locally against the cloud resources. Empty to skip.')
param principalId string = ''

@description('Type of principalId: azd (>= 1.17.1) fills AZURE_PRINCIPAL_TYPE from its login, ServicePrincipal for `azd auth login --client-id` (CI), else User.')
@allowed([
  'User'
  'ServicePrincipal'
])
param principalType string = 'User'

@description('Durable Functions storage backend. DurableTaskScheduler also needs the packaged host.json switch (scripts/durable_backend.py, run by the azd prepackage hook).')
@allowed([
  'AzureStorage'
  'DurableTaskScheduler'
])
param durableBackend string = 'AzureStorage'

@description('When true, storage (and the scheduler) accept traffic only through private endpoints in a new VNet, and the app is VNet-integrated.')
param vnetEnabled bool = false

@description('Task hub name; empty derives one from environmentName (letters and digits, 3-45 chars, starting with a letter).')
@maxLength(45)
param taskHubName string = ''

@description('Python version of the Flex Consumption runtime: those the app runs on (requires-python >= 3.11; azure-functions 1.x, which Microsoft directs to 3.10-3.12).')
@allowed([
  '3.11'
  '3.12'
])
param pythonVersion string = '3.11'

@description('Memory per function app instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Upper bound for function app scale-out.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Always-ready instances for the durable trigger group; 0 (default) turns always-ready off.')
@minValue(0)
param durableAlwaysReadyInstanceCount int = 0

@description('Hours an approval waits before it times out (APPROVAL_TIMEOUT_HOURS).')
@minValue(1)
param approvalTimeoutHours int = 72

@description('Blob container the fan-out/fan-in pattern reads (INPUT_CONTAINER).')
param inputContainerName string = 'input'

@description('Blob container for async job payloads (JOBS_CONTAINER).')
param jobsContainerName string = 'jobs'

@description('Blob container for results (RESULTS_CONTAINER).')
param resultsContainerName string = 'results'

@description('Durable Task Scheduler SKU (DurableTaskScheduler backend only).')
@allowed([
  'Consumption'
  'Dedicated'
])
param dtsSkuName string = 'Consumption'

@description('Durable Task Scheduler capacity units (Dedicated SKU only).')
@minValue(1)
param dtsSkuCapacity int = 1

var abbrs = loadJsonContent('./abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var useScheduler = durableBackend == 'DurableTaskScheduler'

var functionAppName = '${abbrs.webSitesFunctions}api-${resourceToken}'
// Deployment container name: lowercase, at most 63 chars.
var deploymentStorageContainerName = 'app-package-${take(functionAppName, 32)}-${take(resourceToken, 7)}'
var derivedTaskHubName = take('hub${replace(replace(replace(toLower(environmentName), '-', ''), '_', ''), '.', '')}', 45)
var effectiveTaskHubName = empty(taskHubName) ? derivedTaskHubName : taskHubName

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}api-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}${resourceToken}'
    location: location
    tags: tags
    vnetEnabled: vnetEnabled
    containers: [
      deploymentStorageContainerName
      inputContainerName
      jobsContainerName
      resultsContainerName
    ]
  }
}

module dts 'app/dts.bicep' = if (useScheduler) {
  name: 'dts'
  scope: rg
  params: {
    name: '${abbrs.durableTaskSchedulers}${resourceToken}'
    taskHubName: effectiveTaskHubName
    location: location
    tags: tags
    skuName: dtsSkuName
    skuCapacity: dtsSkuCapacity
    vnetEnabled: vnetEnabled
  }
}

module vnet 'app/vnet.bicep' = if (vnetEnabled) {
  name: 'vnet'
  scope: rg
  params: {
    name: '${abbrs.networkVirtualNetworks}${resourceToken}'
    location: location
    tags: tags
  }
}

module privateEndpoints 'app/private-endpoints.bicep' = if (vnetEnabled) {
  name: 'private-endpoints'
  scope: rg
  params: {
    location: location
    tags: tags
    namePrefix: '${abbrs.networkPrivateEndpoints}${resourceToken}-'
    virtualNetworkId: vnet.outputs.id
    subnetId: vnet.outputs.privateEndpointSubnetId
    storageAccountId: storage.outputs.id
    schedulerId: useScheduler ? dts.outputs.id : ''
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    managedIdentityPrincipalId: identity.outputs.principalId
    principalId: principalId
    principalType: principalType
    schedulerName: useScheduler ? dts.outputs.name : ''
    taskHubName: useScheduler ? dts.outputs.taskHubName : ''
  }
}

module plan 'app/plan.bicep' = {
  name: 'plan'
  scope: rg
  params: {
    name: '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: tags
  }
}

module api 'app/api.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: functionAppName
    location: location
    tags: tags
    serviceName: 'api'
    appServicePlanId: plan.outputs.id
    runtimeVersion: pythonVersion
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    durableAlwaysReadyInstanceCount: durableAlwaysReadyInstanceCount
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageBlobEndpoint: storage.outputs.blobEndpoint
    storageQueueEndpoint: storage.outputs.queueEndpoint
    storageTableEndpoint: storage.outputs.tableEndpoint
    deploymentStorageContainerName: deploymentStorageContainerName
    applicationInsightsConnectionString: monitoring.outputs.connectionString
    durableBackend: durableBackend
    durableTaskSchedulerEndpoint: useScheduler ? dts.outputs.endpoint : ''
    virtualNetworkSubnetId: vnetEnabled ? vnet.outputs.appSubnetId : ''
    appSettings: {
      TASK_HUB_NAME: effectiveTaskHubName
      APPROVAL_TIMEOUT_HOURS: string(approvalTimeoutHours)
      INPUT_CONTAINER: inputContainerName
      JOBS_CONTAINER: jobsContainerName
      RESULTS_CONTAINER: resultsContainerName
    }
  }
  // Start the app only after its identity can reach storage; otherwise the first host start fails.
  dependsOn: [
    rbac
  ]
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = api.outputs.name
output SERVICE_API_NAME string = api.outputs.name
output SERVICE_API_URI string = api.outputs.uri
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_STORAGE_BLOB_ENDPOINT string = storage.outputs.blobEndpoint
output AZURE_USER_ASSIGNED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitoring.outputs.connectionString
output TASK_HUB_NAME string = effectiveTaskHubName
output DURABLE_BACKEND string = durableBackend
output DURABLE_TASK_SCHEDULER_ENDPOINT string = useScheduler ? dts.outputs.endpoint : ''
