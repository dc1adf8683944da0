export { IdentityContext, type IdentityInit, type PluginIdentity } from './identity.js';
