// The private variant the Infrastructure tests compile and evaluate: main.parameters.json's choices
// with these on top. The two secure values are test placeholders, not secrets.
using '../../../main.bicep'

param vnetEnabled = true
param scimCredential = 'test-placeholder-not-a-secret'
param graphClientState = 'test-placeholder-client-state'
