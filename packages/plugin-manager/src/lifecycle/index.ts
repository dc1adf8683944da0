export { PluginState, TRANSITIONS, assertTransition, canTransition } from './state.js';
