/**
 * Helpers for ForgeOne's own tests (`@forgeone/microkernel/testing`). Not part of the
 * stable API.
 */
export { recordingPolicy, TEST_PLUGIN, type RecordingPolicy, type RecordingPolicySetup } from './policy.js';
