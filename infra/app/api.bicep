@description('Name of the function app.')
param name string

@description('Azure region for the function app.')
param location string

@description('Tags applied to the function app (the azd-service-name tag is added here).')
param tags object = {}

@description('azd service name; must match the service key in azure.yaml.')
param serviceName string = 'api'

@description('Resource id of the Flex Consumption plan.')
param appServicePlanId string

@description('Python version of the Flex Consumption runtime (see pythonVersion in main.bicep).')
@allowed([
  '3.11'
  '3.12'
])
param runtimeVersion string = '3.11'

@description('Memory per instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Upper bound for scale-out.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Always-ready instances for the durable trigger group (orchestrators, activities, entities). 0 turns it off.')
@minValue(0)
param durableAlwaysReadyInstanceCount int = 0

@description('Resource id of the user-assigned identity the app runs as.')
param identityId string

@description('Client id of the user-assigned identity.')
param identityClientId string

@description('Blob endpoint of the storage account, e.g. https://<name>.blob.core.windows.net/.')
param storageBlobEndpoint string

@description('Queue endpoint of the storage account.')
param storageQueueEndpoint string

@description('Table endpoint of the storage account.')
param storageTableEndpoint string

@description('Blob container that holds the deployment package.')
param deploymentStorageContainerName string

@description('Application Insights connection string.')
param applicationInsightsConnectionString string

@description('Durable Functions storage backend.')
@allowed([
  'AzureStorage'
  'DurableTaskScheduler'
])
param durableBackend string = 'AzureStorage'

@description('Durable Task Scheduler endpoint; required when durableBackend is DurableTaskScheduler.')
param durableTaskSchedulerEndpoint string = ''

@description('Settings the application code reads (task hub, containers, timeouts).')
param appSettings object = {}

@description('Subnet id for VNet integration; empty for none.')
param virtualNetworkSubnetId string = ''

var useScheduler = durableBackend == 'DurableTaskScheduler'

// Identity-based host storage: no AzureWebJobsStorage connection string exists anywhere.
var hostStorageSettings = {
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AzureWebJobsStorage__blobServiceUri: storageBlobEndpoint
  AzureWebJobsStorage__queueServiceUri: storageQueueEndpoint
  AzureWebJobsStorage__tableServiceUri: storageTableEndpoint
}

// DefaultAzureCredential in app code picks the user-assigned identity from AZURE_CLIENT_ID.
var identitySettings = {
  AZURE_CLIENT_ID: identityClientId
}

var monitoringSettings = {
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
}

// The packaged host.json is switched to azureManaged by scripts/durable_backend.py (azd prepackage hook).
// The AzureFunctionsJobHost__ overrides make the runtime agree even if the app is published another way.
var dtsSettings = {
  DURABLE_TASK_SCHEDULER_CONNECTION_STRING: 'Endpoint=${durableTaskSchedulerEndpoint};Authentication=ManagedIdentity;ClientID=${identityClientId}'
  AzureFunctionsJobHost__extensions__durableTask__storageProvider__type: 'azureManaged'
  AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionStringName: 'DURABLE_TASK_SCHEDULER_CONNECTION_STRING'
}
var schedulerSettings = useScheduler ? dtsSettings : {}

var durableAlwaysReady = [
  {
    name: 'durable'
    instanceCount: durableAlwaysReadyInstanceCount
  }
]
var alwaysReady = durableAlwaysReadyInstanceCount > 0 ? durableAlwaysReady : []

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: appServicePlanId
    httpsOnly: true
    virtualNetworkSubnetId: empty(virtualNetworkSubnetId) ? null : virtualNetworkSubnetId
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentStorageContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
        alwaysReady: alwaysReady
      }
      runtime: {
        name: 'python'
        version: runtimeVersion
      }
    }
  }
}

resource functionAppSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: union(appSettings, hostStorageSettings, identitySettings, monitoringSettings, schedulerSettings)
}

// Basic (publishing credential) auth stays off; azd deploys with Entra tokens.
resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

resource ftpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

output name string = functionApp.name
output id string = functionApp.id
output uri string = 'https://${functionApp.properties.defaultHostName}'
