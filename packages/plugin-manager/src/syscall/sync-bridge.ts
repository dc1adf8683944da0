/**
 * The sync bridge: a synchronous call into asynchronous work done by a dedicated
 * worker thread. Guest code cannot await, so a host call that needs async I/O (an
 * HTTP request) blocks the calling thread here while the worker does the work.
 *
 * ```
 * calling thread                          I/O worker (serveSyncBridge)
 *   port.postMessage({ id, kind, payload })  ->  handler(payload) (async)
 *   Atomics.wait(control[0], seen, timeout)       port.postMessage({ id, result })
 *                                          <-  Atomics.add(control[0], 1); Atomics.notify
 *   receiveMessageOnPort(port)  (synchronous read of the reply)
 * ```
 *
 * The reply travels as an ordinary message, so results of any size and structure
 * need no shared-buffer layout; the shared counter only wakes the caller. Replies
 * carry the request id, and a reply to an abandoned (timed-out) request is dropped.
 * A call that times out terminates the worker, so a stuck handler cannot answer a
 * later call; the next call starts a fresh worker.
 *
 * Errors cross as `ForgeError` JSON and are rebuilt on this side with their code.
 * `Atomics.wait` is allowed on Node's main thread (unlike in browsers) and in workers,
 * so the pool backend's workers use the same bridge.
 */
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort, type ResourceLimits } from 'node:worker_threads';
import { ForgeError } from '@forgeone/common';

/** Options for {@link SyncBridge}. */
export interface SyncBridgeOptions {
  /** The module the worker runs; it must call `serveSyncBridge` (sync-bridge-worker.ts). */
  readonly worker: URL;
  /** Structured-clonable data the worker reads with `bridgeData()`. */
  readonly data?: unknown;
  /** Thread name, shown in diagnostics (default `forge-sync-bridge`). */
  readonly name?: string;
  /** V8 heap limits for the worker (default: Node's). */
  readonly resourceLimits?: ResourceLimits;
}

/** What the caller sends. */
export interface BridgeRequest {
  readonly id: number;
  readonly kind: string;
  readonly payload: unknown;
}

/** What the worker answers. */
export type BridgeReply = { readonly id: number; readonly ok: true; readonly value: unknown } | { readonly id: number; readonly ok: false; readonly error: unknown };

/** What the worker receives as workerData. */
export interface BridgeWorkerData {
  readonly port: MessagePort;
  readonly control: SharedArrayBuffer;
  readonly data: unknown;
}

interface Running {
  readonly worker: Worker;
  readonly port: MessagePort;
  readonly control: Int32Array;
  /** Set from the worker's error/exit events (seen between calls). */
  dead: boolean;
}

/** Longest timeout a call accepts: about 24 days, what Atomics.wait and timers handle. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** A synchronous front for one worker thread. See the module comment. */
export class SyncBridge {
  readonly #options: SyncBridgeOptions;
  #running: Running | undefined;
  #nextId = 1;
  #closed = false;
  readonly #stopping = new Set<Promise<unknown>>();

  constructor(options: SyncBridgeOptions) {
    this.#options = options;
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends `payload` to the worker's `kind` handler and blocks this thread until the
   * reply arrives or `timeoutMs` passes. Starts the worker on first use.
   *
   * @returns the handler's result (structured-cloned)
   * @throws ForgeError the handler's error (rebuilt with its code; anything that was
   *   not a ForgeError arrives as FO_INTERNAL_UNEXPECTED), FO_SYSCALL_BRIDGE_TIMEOUT
   *   (no reply in time; the worker is replaced), FO_SYSCALL_BRIDGE_CLOSED
   */
  call<T>(kind: string, payload: unknown, timeoutMs: number): T {
    if (this.#closed) throw new ForgeError('FO_SYSCALL_BRIDGE_CLOSED', `the I/O bridge is closed; cannot run ${kind}`, { details: { kind } });
    if (!(timeoutMs > 0)) {
      throw new ForgeError('FO_SYSCALL_BRIDGE_TIMEOUT', `${kind} had no time left to run (timeout ${timeoutMs} ms)`, { details: { kind, timeoutMs } });
    }
    const running = this.#worker();
    const id = this.#nextId;
    this.#nextId += 1;
    let seen = Atomics.load(running.control, 0);
    running.port.postMessage({ id, kind, payload } satisfies BridgeRequest);
    const deadline = performance.now() + Math.min(timeoutMs, MAX_TIMEOUT_MS);
    for (;;) {
      // Drain first, then wait on the counter value read *before* draining: a reply
      // that lands in between changes the counter, so the wait returns at once.
      for (let received = receiveMessageOnPort(running.port); received !== undefined; received = receiveMessageOnPort(running.port)) {
        const reply = received.message as BridgeReply;
        if (reply.id !== id) continue; // the late reply to an abandoned call
        if (reply.ok) return reply.value as T;
        throw ForgeError.fromJSON(reply.error);
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        this.#discard(running);
        throw new ForgeError('FO_SYSCALL_BRIDGE_TIMEOUT', `the I/O worker did not answer ${kind} within ${Math.round(timeoutMs)} ms; it was replaced`, {
          details: { kind, timeoutMs },
        });
      }
      Atomics.wait(running.control, 0, seen, left);
      seen = Atomics.load(running.control, 0);
    }
  }

  /** Starts the worker now, so the first call does not pay for it. */
  start(): void {
    if (!this.#closed) this.#worker();
  }

  /**
   * Stops the worker and waits until it has exited. Later calls are refused with
   * FO_SYSCALL_BRIDGE_CLOSED. Idempotent.
   */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#running !== undefined) this.#discard(this.#running);
    await Promise.all([...this.#stopping]);
  }

  #worker(): Running {
    const current = this.#running;
    if (current !== undefined && !current.dead) return current;
    if (current !== undefined) this.#discard(current);
    const { port1, port2 } = new MessageChannel();
    const control = new SharedArrayBuffer(4);
    const worker = new Worker(this.#options.worker, {
      name: this.#options.name ?? 'forge-sync-bridge',
      workerData: { port: port2, control, data: this.#options.data } satisfies BridgeWorkerData,
      transferList: [port2],
      ...(this.#options.resourceLimits === undefined ? {} : { resourceLimits: this.#options.resourceLimits }),
    });
    const running: Running = { worker, port: port1, control: new Int32Array(control), dead: false };
    // Without listeners an 'error' event would crash the host; a dead worker is
    // replaced on the next call.
    worker.on('error', () => {
      running.dead = true;
    });
    worker.on('exit', () => {
      running.dead = true;
    });
    // An idle bridge must not keep the process alive.
    worker.unref();
    port1.unref();
    this.#running = running;
    return running;
  }

  #discard(running: Running): void {
    running.dead = true;
    if (this.#running === running) this.#running = undefined;
    running.port.close();
    const stopping = running.worker.terminate().then(
      () => undefined,
      () => undefined,
    );
    this.#stopping.add(stopping);
    void stopping.then(() => this.#stopping.delete(stopping));
  }
}
