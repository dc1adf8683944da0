export { importPolicy } from './import-policy.js';
export { prepareModule, type PrepareOptions, type PreparedModule } from './prepare.js';
export { DEFAULT_FUEL_PER_CALL, PluginInstance, type PluginInstanceOptions } from './plugin-instance.js';
