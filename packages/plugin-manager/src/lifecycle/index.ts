export { PluginState, TRANSITIONS, assertTransition, canTransition } from './state.js';
export { LifecycleController, type LifecycleOptions, type LifecycleTarget, type Transition, type TransitionObserver } from './controller.js';
