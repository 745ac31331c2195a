@description('Azure region for the private endpoints.')
param location string

@description('Tags applied to the private endpoints and DNS zones.')
param tags object = {}

@description('Resource id of the virtual network the DNS zones are linked to.')
param virtualNetworkId string

@description('Resource id of the subnet the private endpoints are placed in.')
param subnetId string

@description('Prefix for private endpoint names, e.g. pep-<token>.')
param namePrefix string

@description('Resource id of the storage account (blob, queue and table endpoints).')
param storageAccountId string

@description('Resource id of the Durable Task Scheduler; empty for none.')
param schedulerId string = ''

var storageTargets = [
  for service in [ 'blob', 'queue', 'table' ]: {
    groupId: service
    targetId: storageAccountId
    dnsZoneName: 'privatelink.${service}.${environment().suffixes.storage}'
  }
]

var schedulerTargets = empty(schedulerId) ? [] : [
  {
    groupId: 'scheduler'
    targetId: schedulerId
    dnsZoneName: 'privatelink.durabletask.io'
  }
]

var targets = concat(storageTargets, schedulerTargets)

resource dnsZones 'Microsoft.Network/privateDnsZones@2024-06-01' = [
  for t in targets: {
    name: t.dnsZoneName
    location: 'global'
    tags: tags
  }
]

resource dnsZoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [
  for (t, i) in targets: {
    parent: dnsZones[i]
    name: '${t.groupId}-link'
    location: 'global'
    tags: tags
    properties: {
      virtualNetwork: {
        id: virtualNetworkId
      }
      registrationEnabled: false
    }
  }
]

resource privateEndpoints 'Microsoft.Network/privateEndpoints@2024-05-01' = [
  for t in targets: {
    name: '${namePrefix}${t.groupId}'
    location: location
    tags: tags
    properties: {
      subnet: {
        id: subnetId
      }
      privateLinkServiceConnections: [
        {
          name: '${namePrefix}${t.groupId}'
          properties: {
            privateLinkServiceId: t.targetId
            groupIds: [
              t.groupId
            ]
          }
        }
      ]
    }
  }
]

resource dnsZoneGroups 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = [
  for (t, i) in targets: {
    parent: privateEndpoints[i]
    name: 'default'
    properties: {
      privateDnsZoneConfigs: [
        {
          name: t.groupId
          properties: {
            privateDnsZoneId: dnsZones[i].id
          }
        }
      ]
    }
  }
]
