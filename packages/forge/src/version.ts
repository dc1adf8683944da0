/** The forge CLI version, kept equal to packages/forge/package.json by a test. */
export const FORGE_VERSION = '0.1.0';
