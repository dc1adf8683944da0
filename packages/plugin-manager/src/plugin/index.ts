export {
  ENTRY_POINT_NAMES,
  PLUGIN_NAME,
  SUPPORTED_ABIS,
  entryPointsSchema,
  limitsSchema,
  manifestSchema,
  permissionsSchema,
  pluginTomlSchema,
  type EntryPointName,
  type Manifest,
  type ManifestLimits,
  type Permissions,
  type PluginToml,
} from './manifest-schema.js';
export {
  diffManifests,
  isCanonicalManifest,
  parseManifestJson,
  parsePluginToml,
  serializeManifest,
  validateManifest,
  type ManifestDifference,
} from './manifest.js';
export { renderManifestReference } from './reference.js';
