/**
 * `@forgeone/plugin-manager/testing`: helpers for testing plugins and the code that
 * drives them (docs/guide/testing.md). Published and documented, unlike ForgeOne's own
 * test helpers (`@forgeone/plugin-manager/test-support`, workspace only).
 *
 * - {@link createMockPlugin}: a plugin with the real lifecycle whose functions are
 *   JavaScript handlers, every call and transition recorded; it can join a real
 *   registry as a native plugin.
 * - {@link testPlugin}: a real plugin loaded in an isolated registry under a chosen
 *   policy, with the host calls it made read from the audit log.
 */
export { MockPlugin, createMockPlugin, type MockCall, type MockHandler, type MockPluginOptions } from './testing/index.js';
export { testPlugin, type HostCallTrace, type TestPluginOptions, type TestedPlugin } from './testing/index.js';
