/**
 * The contract of a worker's direct path: plain calls the host thread sends and answers
 * itself, past the worker (process/direct.ts implements it; pool-worker-handle.ts uses it).
 */
import type { RequestWords, Slot } from './pool-protocol.js';

/** Where a direct answer goes: the slot, and its payload. */
export interface DirectSink {
  readonly slot: Slot;
  stash(payload: Uint8Array): void;
}

/**
 * Plain calls the host thread sends and answers itself, past the worker (which relays to
 * a sandbox process), handing a call to the worker whenever it needs more: see
 * process/direct.ts. The worker takes turns with it through the slot.
 */
export interface DirectCalls {
  /** True while a call sent here has been neither answered here nor handed over. */
  readonly inFlight: boolean;
  /** Sends a call when the slot is idle; false: it did not (send it through the worker). */
  send(slot: Slot, request: RequestWords, payload: Uint8Array): boolean;
  /** Takes the call's answer into the slot (true, state DONE), or hands the call over (false) once it needs the worker or `until` (performance.now() ms) passes (unless `keep`: it then stays in flight). */
  poll(sink: DirectSink, until: number, keep?: boolean): boolean;
  /** Calls `done` once the call in flight is answered into the slot or handed over, waiting in the event loop meanwhile. */
  whenAnswered(sink: DirectSink, done: () => void): void;
  /** Blocks for the call in flight until it is answered into the slot (true) or `until` (performance.now() ms) passes or it needs the worker: then it is handed over (false). */
  waitSync(sink: DirectSink, until: number): boolean;
  /** Gives the call in flight to the worker. */
  handOff(slot: Slot): void;
  /** Sends the next call through the worker: it has something to pass on first. */
  relayNext(): void;
  /** Sends nothing more. */
  close(): void;
}
