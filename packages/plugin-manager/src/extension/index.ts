export { decodeCallPlugin, decodeRegisterExtension } from './codec.js';
export { ExtensionPoints, invokeEach, type DeclaredExtensions, type ExtensionImplementation, type InvocationResult } from './points.js';
