export { MockPlugin, createMockPlugin, type MockCall, type MockHandler, type MockPluginOptions } from './mock-plugin.js';
export { testPlugin, type HostCallTrace, type TestPluginOptions, type TestedPlugin } from './test-plugin.js';
