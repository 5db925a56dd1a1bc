// OPTIONAL, and separate on purpose: main.bicep does not reference this file.
//
// Grants the app's managed identity the Microsoft Graph application permissions it needs:
//   User.Read.All         read users (projection, delta, subscriptions on /users)
//   GroupMember.Read.All  read group members (group delta and reconciliation)
//   Group.Read.All        subscribe to change notifications on /groups
// Azure role assignments cannot grant these. This file uses the Microsoft Graph Bicep extension,
// which is restored from a container registry at build time, so it is not compiled by the tests.
// The equivalent az CLI commands are in docs/deploy.md.
//
// Run it as someone allowed to grant application permissions (Privileged Role Administrator, or
// a principal with AppRoleAssignment.ReadWrite.All and Application.Read.All):
//   az deployment group create -g <rg> -f infra/graph-permissions.bicep \
//     -p principalId=$(az deployment group show -g <rg> -n scimfunctions --query properties.outputs.identityPrincipalId.value -o tsv)

extension 'br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:1.0.0'

@description('Object id of the managed identity\'s service principal (main.bicep output identityPrincipalId).')
param principalId string

// Microsoft Graph's well-known application id, and the ids of its application roles.
var graphAppId = '00000003-0000-0000-c000-000000000000'
var graphAppRoles = [
  {
    permission: 'User.Read.All'
    id: 'df021288-bdef-4463-88db-98f22de89214'
  }
  {
    permission: 'GroupMember.Read.All'
    id: '98830695-27a2-44f7-8c18-0c3ebc9698f6'
  }
  {
    permission: 'Group.Read.All'
    id: '5b567255-7703-4780-807c-7be8301ae99b'
  }
]

resource graph 'Microsoft.Graph/servicePrincipals@v1.0' existing = {
  appId: graphAppId
}

resource grants 'Microsoft.Graph/appRoleAssignedTo@v1.0' = [
  for role in graphAppRoles: {
    principalId: principalId
    resourceId: graph.id
    appRoleId: role.id
  }
]

output granted string[] = [for role in graphAppRoles: role.permission]
