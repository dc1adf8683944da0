export { PluginState, TRANSITIONS, assertTransition, canTransition, isActive } from './state.js';
export { LifecycleController, type LifecycleOptions, type LifecycleTarget, type Transition, type TransitionObserver } from './controller.js';
export { CrashHistory, type RestartDecision } from './restart.js';
export { Supervisor, type RestartSettings, type Supervised, type SupervisorOptions } from './supervisor.js';
export { LifecycleObserver, type LifecycleObserverOptions, type ObservedPlugin } from './observer.js';
