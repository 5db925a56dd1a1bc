// The private variant's network (main.bicep, vnetEnabled=true): one virtual network with a subnet
// the Function App joins and a subnet for the private endpoints, the private DNS zones those
// endpoints register in (linked to the network), and a NAT gateway that carries the app's outbound
// calls to Microsoft Graph and the SCIM target.
//
// Why a NAT gateway rather than default outbound access: default outbound access is being retired
// for new virtual networks (their subnets become private, with no implicit internet egress), so a
// network created today cannot rely on it. The subnets here say so explicitly
// (defaultOutboundAccess: false), and the NAT gateway is the one way out, with a static public IP
// that a SCIM target's allow-list can name.

@description('Virtual network name.')
param name string

@description('NAT gateway name; its public IP is named after it.')
param natGatewayName string

@description('Azure region.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Address space of the virtual network (CIDR).')
param addressPrefix string

@description('Subnet the Function App joins (CIDR inside addressPrefix).')
param appSubnetPrefix string

@description('Subnet holding the private endpoints (CIDR inside addressPrefix).')
param privateEndpointSubnetPrefix string

@description('FlexConsumption delegates the app subnet to Microsoft.App/environments, ElasticPremium to Microsoft.Web/serverFarms.')
@allowed([
  'FlexConsumption'
  'ElasticPremium'
])
param hostingPlan string

@description('Private DNS zones to create and link, by endpoint kind (blob, queue, table, namespace, vault).')
param privateDnsZoneNames object

var appSubnetName = 'snet-app'
var privateEndpointSubnetName = 'snet-private-endpoints'

resource publicIp 'Microsoft.Network/publicIPAddresses@2024-05-01' = {
  name: 'pip-${natGatewayName}'
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Regional'
  }
  properties: {
    publicIPAddressVersion: 'IPv4'
    publicIPAllocationMethod: 'Static'
    idleTimeoutInMinutes: 4
  }
}

resource natGateway 'Microsoft.Network/natGateways@2024-05-01' = {
  name: natGatewayName
  location: location
  tags: tags
  sku: {
    name: 'Standard'
  }
  properties: {
    idleTimeoutInMinutes: 4
    publicIpAddresses: [
      {
        id: publicIp.id
      }
    ]
  }
}

// Subnets are declared inside the network, not as child resources: a redeployment of a network
// whose subnets are separate resources tries to remove them.
resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: [
      {
        name: appSubnetName
        properties: {
          addressPrefix: appSubnetPrefix
          defaultOutboundAccess: false
          natGateway: {
            id: natGateway.id
          }
          delegations: [
            {
              name: 'function-app'
              properties: {
                serviceName: hostingPlan == 'FlexConsumption' ? 'Microsoft.App/environments' : 'Microsoft.Web/serverFarms'
              }
            }
          ]
        }
      }
      {
        name: privateEndpointSubnetName
        properties: {
          addressPrefix: privateEndpointSubnetPrefix
          defaultOutboundAccess: false
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]
  }

  resource appSubnet 'subnets' existing = {
    name: appSubnetName
  }

  resource privateEndpointSubnet 'subnets' existing = {
    name: privateEndpointSubnetName
  }
}

resource zones 'Microsoft.Network/privateDnsZones@2024-06-01' = [
  for zone in items(privateDnsZoneNames): {
    name: zone.value
    location: 'global'
    tags: tags
  }
]

resource links 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [
  for (zone, i) in items(privateDnsZoneNames): {
    parent: zones[i]
    name: vnet.name
    location: 'global'
    tags: tags
    properties: {
      registrationEnabled: false
      virtualNetwork: {
        id: vnet.id
      }
    }
  }
]

output vnetId string = vnet.id
output appSubnetId string = vnet::appSubnet.id
output privateEndpointSubnetId string = vnet::privateEndpointSubnet.id
output outboundIpAddress string = publicIp.properties.ipAddress
