/**
 * Mock plugins for tests of code that drives plugins: a plugin with the real lifecycle
 * (the same {@link TRANSITIONS}, illegal moves refused with FO_LIFECYCLE_BAD_TRANSITION,
 * calls only while Running) whose functions are JavaScript handlers and whose every
 * call and transition is recorded. {@link MockPlugin.asNative} gives the same plugin as
 * a {@link NativePlugin}, so it can join a real PluginRegistry where a plugin is expected.
 */
import { ForgeError } from '@forgeone/common';
import { PluginState, assertTransition, canTransition, type Transition } from '../lifecycle/index.js';
import type { EntryPointName } from '../plugin/index.js';
import type { NativePlugin, NativeStep } from '../registry/index.js';

/** A mock function: takes the call's input, returns its output (bytes or text). */
export type MockHandler = (input: Uint8Array) => Uint8Array | string | Promise<Uint8Array | string>;

/** One recorded call of a mock plugin. */
export interface MockCall {
  readonly fn: string;
  readonly input: Uint8Array;
  /** The output, when the call succeeded. */
  readonly output?: Uint8Array;
  /** The ForgeError code, when it failed. */
  readonly error?: string;
}

/** What a mock plugin does; everything is optional. */
export interface MockPluginOptions {
  /** Callable functions by name. */
  readonly functions?: Readonly<Record<string, MockHandler>>;
  /** Lifecycle steps; one that throws moves the plugin to Failed, as a failing entry point does. */
  readonly steps?: Readonly<Partial<Record<EntryPointName, NativeStep>>>;
}

const encoder = new TextEncoder();
const bytesOf = (value: Uint8Array | string): Uint8Array => (typeof value === 'string' ? encoder.encode(value) : value);

/** A mock plugin; create one with {@link createMockPlugin}. */
export class MockPlugin {
  readonly name: string;
  readonly version: string;
  /** Every call, in order, successful or not. */
  readonly calls: MockCall[] = [];
  /** Every state change, in order. */
  readonly transitions: Transition[] = [];
  /** The lifecycle steps run, in order (`init`, `start`, ...). */
  readonly steps: EntryPointName[] = [];
  #state: PluginState = PluginState.Created;
  readonly #functions: Map<string, MockHandler>;
  readonly #stepHooks: Readonly<Partial<Record<EntryPointName, NativeStep>>>;

  constructor(name: string, version: string, options: MockPluginOptions = {}) {
    this.name = name;
    this.version = version;
    this.#functions = new Map(Object.entries(options.functions ?? {}));
    this.#stepHooks = options.steps ?? {};
  }

  /** The current lifecycle state; a new mock is Created. */
  get state(): PluginState {
    return this.#state;
  }

  /** Adds or replaces a callable function. */
  on(fn: string, handler: MockHandler): this {
    this.#functions.set(fn, handler);
    return this;
  }

  /** Created (or Failed) -> Initializing -> Ready, running the init step. @throws ForgeError FO_LIFECYCLE_BAD_TRANSITION, or the step's error (the plugin is then Failed) */
  async load(): Promise<void> {
    await this.#step('init', PluginState.Initializing, PluginState.Ready);
  }

  /** The same as {@link load}: the name the registry uses. */
  async initialize(): Promise<void> {
    await this.load();
  }

  /** Ready (or Stopped) -> Running. @throws ForgeError FO_LIFECYCLE_BAD_TRANSITION, or the step's error */
  async start(): Promise<void> {
    await this.#step('start', undefined, PluginState.Running);
  }

  /** Running -> Paused. @throws ForgeError FO_LIFECYCLE_BAD_TRANSITION, or the step's error */
  async pause(): Promise<void> {
    await this.#step('pause', undefined, PluginState.Paused);
  }

  /** Paused -> Running. @throws ForgeError FO_LIFECYCLE_BAD_TRANSITION, or the step's error */
  async resume(): Promise<void> {
    await this.#step('resume', undefined, PluginState.Running);
  }

  /** Running or Paused -> Stopping -> Stopped. @throws ForgeError FO_LIFECYCLE_BAD_TRANSITION, or the step's error */
  async stop(): Promise<void> {
    await this.#step('stop', PluginState.Stopping, PluginState.Stopped);
  }

  /** -> Unloaded, from Created, Ready, Stopped, Failed or Quarantined. @throws ForgeError FO_LIFECYCLE_BAD_TRANSITION */
  async unload(): Promise<void> {
    await this.#step('unload', undefined, PluginState.Unloaded);
  }

  /** -> Quarantined (from any state but Unloaded). @throws ForgeError FO_LIFECYCLE_BAD_TRANSITION */
  quarantine(): void {
    this.#move(PluginState.Quarantined);
  }

  /**
   * Calls `fn` with `input`, as the registry calls a plugin's export, and records it.
   * @throws ForgeError FO_LIFECYCLE_NOT_RUNNING unless Running, FO_ABI_MISSING_EXPORT for
   *   an unknown function, or the handler's error (a non-ForgeError becomes FO_ABI_GUEST_TRAP)
   */
  async call(fn: string, input: Uint8Array | string = new Uint8Array(0)): Promise<Uint8Array> {
    const bytes = bytesOf(input);
    try {
      if (this.#state !== PluginState.Running) {
        throw new ForgeError('FO_LIFECYCLE_NOT_RUNNING', `plugin ${this.name} cannot be called in state ${this.#state}: expected running`, { details: { plugin: this.name, state: this.#state } });
      }
      const handler = this.#functions.get(fn);
      if (handler === undefined) throw new ForgeError('FO_ABI_MISSING_EXPORT', `plugin ${this.name} has no function ${fn}: expected one of ${[...this.#functions.keys()].join(', ') || 'none'}`, { details: { export: fn } });
      const output = bytesOf(await this.#run(fn, () => handler(bytes)));
      this.calls.push({ fn, input: bytes, output });
      return output;
    } catch (error) {
      this.calls.push({ fn, input: bytes, error: error instanceof ForgeError ? error.code : 'FO_ABI_GUEST_TRAP' });
      throw error;
    }
  }

  /** The calls of `fn`, in order. */
  callsOf(fn: string): MockCall[] {
    return this.calls.filter((call) => call.fn === fn);
  }

  /**
   * This plugin as a native plugin for a real PluginRegistry (`registry.registerNative`):
   * the registry then drives the lifecycle (its state is `registry.get(name).state`), and
   * every step and call is still recorded here.
   */
  asNative(): NativePlugin {
    const exports: Record<string, (input: Uint8Array) => Promise<Uint8Array>> = {};
    for (const fn of this.#functions.keys()) {
      exports[fn] = async (input) => {
        const handler = this.#functions.get(fn);
        if (handler === undefined) throw new ForgeError('FO_ABI_MISSING_EXPORT', `plugin ${this.name} has no function ${fn}`, { details: { export: fn } });
        const output = bytesOf(await this.#run(fn, () => handler(input)));
        this.calls.push({ fn, input, output });
        return output;
      };
    }
    const step = (name: EntryPointName): NativeStep => async () => {
      this.steps.push(name);
      await this.#stepHooks[name]?.();
    };
    return { name: this.name, version: this.version, init: step('init'), start: step('start'), stop: step('stop'), pause: step('pause'), resume: step('resume'), unload: step('unload'), exports };
  }

  async #run(fn: string, body: () => Uint8Array | string | Promise<Uint8Array | string>): Promise<Uint8Array | string> {
    try {
      return await body();
    } catch (error) {
      if (error instanceof ForgeError) throw error;
      throw new ForgeError('FO_ABI_GUEST_TRAP', `plugin ${this.name} trapped in ${fn}: ${error instanceof Error ? error.message : String(error)}`, { details: { export: fn } });
    }
  }

  /** Checks the whole move first (as the controller does), then runs the step between its states. */
  async #step(name: EntryPointName, during: PluginState | undefined, to: PluginState): Promise<void> {
    assertTransition(this.name, this.#state, during ?? to);
    if (during !== undefined) this.#move(during, name);
    try {
      this.steps.push(name);
      await this.#stepHooks[name]?.();
    } catch (error) {
      // As a failing entry point does: Failed where the lifecycle allows it.
      if (canTransition(this.#state, PluginState.Failed)) this.#move(PluginState.Failed, name);
      throw error;
    }
    this.#move(to, name);
  }

  #move(to: PluginState, step?: EntryPointName): void {
    assertTransition(this.name, this.#state, to);
    this.transitions.push({ plugin: this.name, from: this.#state, to, ...(step === undefined ? {} : { step }) });
    this.#state = to;
  }
}

/**
 * A mock plugin named `name` at `version`, in state Created, with the real lifecycle.
 * `options.functions` are its callable functions (JavaScript handlers).
 */
export function createMockPlugin(name: string, version: string, options: MockPluginOptions = {}): MockPlugin {
  return new MockPlugin(name, version, options);
}
