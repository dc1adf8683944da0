/**
 * The host side of one pool worker: its plugins, its job queue, the slot protocol
 * (pool-protocol.ts), wall-clock timeouts, and replacing the worker when it times out
 * or dies.
 *
 * Waiting for a job. The host writes the job into the slot and notifies; then, when
 * the plugin's calls are usually short, it blocks in Atomics.wait for up to
 * `fastWaitMs` (a few tens of microseconds), which answers most small calls without a
 * trip through the event loop. Otherwise, or when that runs out, it arms the job's
 * timer and waits with Atomics.waitAsync, so the host's event loop keeps running while
 * the worker works. A host request from the worker (a registered host call) is served
 * by whichever wait sees it.
 *
 * Replacing a worker. When a job runs past its limit, the worker is terminated (the
 * only way to stop a thread that is blocked or busy) and the job rejects with
 * FO_SANDBOX_TIMEOUT; when the worker dies on its own, with FO_SANDBOX_WORKER_FAILED.
 * The plugin whose job it was is poisoned and dropped; every other plugin of the
 * worker is re-created from its spec on a fresh worker, before any other job runs
 * there, and its handle emits `restarted`: its in-memory state is lost, and jobs that
 * were queued for it reject with FO_SANDBOX_RESTARTED.
 */
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort, type ResourceLimits } from 'node:worker_threads';
import { ForgeError, type Logger } from '@forgeone/common';
import { unloaded } from './handle-state.js';
import { Job, type LanePlugin } from './pool-job.js';
import { HEAT } from './pool-placement.js';
import { FLAG, HOST_OP, OP, STATE, STATUS, Slot, WORD, errorBytes, errorFrom, utf8, writePayload, type PoolWorkerData, type ToHost, type ToWorker } from './pool-protocol.js';
import { FairQueue } from './pool-queue.js';
import type { BackendHost } from './spec.js';

/** What every lane of a pool shares. */
export interface LaneEnv {
  readonly host: BackendHost;
  readonly logger: Logger;
  readonly workerUrl: URL;
  readonly slotBytes: number;
  /** Longest synchronous wait for a quick job, in ms (0: never wait synchronously). */
  readonly fastWaitMs: number;
  /** How long a worker spins for its next request before parking, in microseconds. */
  readonly workerSpinUs: number;
  /** A job at least this long, in microseconds, makes its plugin warmer. */
  readonly busyCallUs: number;
  readonly resourceLimits: ResourceLimits | undefined;
  /** Adds heat to a plugin (placement). */
  heat(plugin: LanePlugin, amount: number): void;
  /** True once BackendHost.audit has failed. */
  readonly auditBroken: boolean;
  /** Reports that BackendHost.audit failed, so every lane refuses audited calls. */
  auditFailed(): void;
}

/** Workers that die this many times in a row before finishing a job are not replaced again. */
const MAX_BOOT_FAILURES = 3;

/** Time a pump may spend answering queued quick jobs synchronously before yielding, in ms. */
const PUMP_BUDGET_MS = 1;

const EMPTY = new Uint8Array(0);

/** Atomics.waitAsync (ES2024; in Node since 16), typed locally: the workspace builds against ES2023. */
type WaitAsyncResult = { readonly async: false; readonly value: 'not-equal' | 'timed-out' } | { readonly async: true; readonly value: Promise<'ok' | 'timed-out'> };
const atomics = Atomics as unknown as { waitAsync(this: void, array: Int32Array, index: number, value: number): WaitAsyncResult };
const waitAsync = atomics.waitAsync;

/**
 * Reads the STATE word until it shows something for the host (a host request, a
 * finished job, a dead worker) or `until` (performance.now() ms) passes.
 * @returns the last state read
 */
function spin(header: Int32Array, until: number): number {
  let state = Atomics.load(header, WORD.STATE);
  for (let round = 0; state !== STATE.HOST_REQUEST && state !== STATE.DONE && state !== STATE.DEAD; round += 1) {
    if ((round & 63) === 0 && performance.now() >= until) break;
    state = Atomics.load(header, WORD.STATE);
  }
  return state;
}

interface Running {
  readonly worker: Worker;
  readonly port: MessagePort;
  readonly slot: Slot;
  /** True once the worker has loaded its modules and waits for jobs: job timers start then. */
  ready: boolean;
  /** Asynchronous waits registered on this slot's STATE word and not yet woken. */
  waiters: number;
  /** True while the worker handle keeps the event loop alive (work is pending). */
  referenced: boolean;
}

/** One worker and everything the host keeps about it. See the module comment. */
export class Lane {
  readonly id: number;
  /** True for the worker kept apart for hot plugins. */
  readonly isolation: boolean;
  readonly #env: LaneEnv;
  readonly #plugins = new Map<number, LanePlugin>();
  readonly #queue = new FairQueue<LanePlugin, Job>();
  /** The job the worker runs, then the nested jobs the host started while serving it. */
  readonly #active: Job[] = [];
  readonly #payloads: Uint8Array[] = [];
  readonly #stopping = new Set<Promise<unknown>>();
  #running: Running | undefined;
  #nextIndex = 1;
  #generation = 0;
  #serving = 0;
  #driving = 0;
  #bootFailures = 0;
  #completedSinceSpawn = 0;
  #restarts = 0;
  #closed = false;
  #broken: ForgeError | undefined;

  constructor(id: number, isolation: boolean, env: LaneEnv) {
    this.id = id;
    this.isolation = isolation;
    this.#env = env;
    this.#spawn();
  }

  /** Plugins placed here. */
  get plugins(): readonly LanePlugin[] {
    return [...this.#plugins.values()];
  }

  /** Times the worker was replaced. */
  get restarts(): number {
    return this.#restarts;
  }

  /** A new index for a plugin placed here. */
  place(plugin: (index: number) => LanePlugin): LanePlugin {
    const record = plugin(this.#nextIndex);
    this.#nextIndex += 1;
    this.#plugins.set(record.index, record);
    return record;
  }

  /** Forgets a plugin that never loaded or was unloaded. */
  forget(plugin: LanePlugin): void {
    plugin.gone = true;
    this.#plugins.delete(plugin.index);
  }

  /** Tells the worker that BackendHost.audit failed. */
  markAuditBroken(): void {
    if (this.#running !== undefined) Atomics.store(this.#running.slot.header, WORD.AUDIT_BROKEN, 1);
  }

  /** Queues a job (urgent when it belongs to no plugin) and starts it when the worker is free. */
  submit(job: Job): void {
    if (this.#closed || this.#broken !== undefined) {
      job.reject(this.#broken ?? unloaded(job.plugin?.id ?? 'pool', job.what));
      return;
    }
    if (job.plugin === undefined) this.#queue.pushUrgent(job);
    else this.#queue.push(job.plugin, job);
    this.#pump();
    this.#reference();
  }

  /**
   * Keeps the event loop alive while jobs are pending (Atomics.waitAsync alone does
   * not), and lets an idle pool go.
   */
  #reference(): void {
    const running = this.#running;
    if (running === undefined) return;
    const busy = this.#active.length > 0 || this.#queue.size > 0;
    if (busy === running.referenced) return;
    running.referenced = busy;
    if (busy) running.worker.ref();
    else running.worker.unref();
  }

  /** Removes and rejects the queued jobs of `plugin` (it is being unloaded). */
  dropQueued(plugin: LanePlugin, error: (job: Job) => ForgeError): void {
    for (const job of this.#queue.take((queued) => queued.plugin === plugin)) job.reject(error(job));
  }

  /**
   * Runs `job` now and blocks the host thread until it finishes: the worker's current
   * job is finished first (serving its host requests), or, when the worker is waiting
   * for this thread to answer one of its host requests, the job runs nested inside it.
   * @returns the job's outcome
   * @throws ForgeError the job's error, FO_SANDBOX_TIMEOUT
   */
  runSync<T>(job: Job): T {
    if (this.#closed || this.#broken !== undefined) throw this.#broken ?? unloaded(job.plugin?.id ?? 'pool', job.what);
    this.#driving += 1;
    try {
      const generation = this.#generation;
      if (this.#serving === 0) {
        const current = this.#active[0];
        if (current !== undefined) this.#drive(current, current.startedAt + current.timeoutMs, true);
      }
      if (generation !== this.#generation || job.plugin?.loaded === false) {
        // The worker was replaced while the current job finished (or the plugin is not
        // on this worker yet); the new instance has not been re-created.
        job.reject(
          new ForgeError('FO_SANDBOX_RESTARTED', `the ${job.what} did not run: plugin ${job.plugin?.id ?? ''} is being (re-)created on pool worker ${this.id}`, {
            details: { worker: this.id },
          }),
        );
      }
      const running = this.#running;
      if (!job.done && running !== undefined && !running.ready && !this.#awaitReady(running, performance.now() + job.timeoutMs)) {
        job.reject(new ForgeError('FO_SANDBOX_WORKER_FAILED', `the ${job.what} did not run: pool worker ${this.id} did not start within ${job.timeoutMs} ms`, { details: { worker: this.id } }));
      }
      if (!job.done) {
        this.#start(job);
        this.#drive(job, job.startedAt + job.timeoutMs, true);
      }
    } finally {
      this.#driving -= 1;
    }
    if (this.#driving === 0) {
      queueMicrotask(() => {
        this.#pump();
        this.#reference();
      });
    }
    return job.outcome<T>();
  }

  /** Stops the worker; every pending job rejects with FO_SANDBOX_UNLOADED. Idempotent. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#generation += 1;
      for (const job of [...this.#active.splice(0), ...this.#queue.take(() => true)]) {
        clearTimeout(job.timer);
        job.reject(unloaded(job.plugin?.id ?? 'pool', job.what));
      }
      this.#stop();
    }
    await Promise.all([...this.#stopping]);
  }

  // --- the worker -----------------------------------------------------------------

  #spawn(): void {
    const { port1, port2 } = new MessageChannel();
    const slot = new Slot(Slot.allocate(this.#env.slotBytes));
    if (this.#env.auditBroken) slot.header[WORD.AUDIT_BROKEN] = 1;
    const worker = new Worker(this.#env.workerUrl, {
      name: `forge-pool-${this.id}`,
      workerData: { slot: slot.buffer, port: port2, spinUs: this.#env.workerSpinUs } satisfies PoolWorkerData,
      transferList: [port2],
      ...(this.#env.resourceLimits === undefined ? {} : { resourceLimits: this.#env.resourceLimits }),
    });
    const generation = this.#generation;
    // Without listeners an 'error' event would crash the host.
    worker.on('error', (error) => this.#died(generation, error));
    worker.on('exit', (code) => this.#died(generation, code));
    port1.on('message', (message: ToHost) => this.#receive(message));
    // An idle pool must not keep the process alive; a pending job's timer does.
    worker.unref();
    port1.unref();
    const running: Running = { worker, port: port1, slot, ready: false, waiters: 0, referenced: false };
    this.#running = running;
    this.#completedSinceSpawn = 0;
    // Booting a worker (loading its modules) takes tens of milliseconds; no job and no
    // timer starts before it is ready.
    const booted = waitAsync(slot.header, WORD.READY, 0);
    const ready = (): void => {
      running.ready = true;
      if (this.#running === running) this.#pump();
    };
    if (booted.async) void booted.value.then(ready);
    else ready();
  }

  /** Blocks until the worker is ready, or `deadline` (performance.now() ms) passes. */
  #awaitReady(running: Running, deadline: number): boolean {
    while (Atomics.load(running.slot.header, WORD.READY) === 0) {
      const left = deadline - performance.now();
      if (left <= 0 || this.#running !== running) return false;
      Atomics.wait(running.slot.header, WORD.READY, 0, left);
    }
    running.ready = true;
    return true;
  }

  #stop(): void {
    const running = this.#running;
    if (running === undefined) return;
    this.#running = undefined;
    running.port.close();
    // Wakes host-side waiters on the old slot; their generation is stale, so they stop.
    Atomics.notify(running.slot.header, WORD.STATE);
    const stopping = running.worker.terminate().then(
      () => undefined,
      () => undefined,
    );
    this.#stopping.add(stopping);
    void stopping.then(() => this.#stopping.delete(stopping));
  }

  #died(generation: number, why: unknown): void {
    if (generation !== this.#generation || this.#closed) return;
    const reason = why instanceof Error ? `${why.name}: ${why.message}` : `exit code ${String(why)}`;
    const job = this.#active[0];
    this.#fail(
      new ForgeError('FO_SANDBOX_WORKER_FAILED', `pool worker ${this.id} exited unexpectedly (${reason})${job === undefined ? '' : ` during the ${job.what}`}; it was replaced`, {
        details: { worker: this.id, reason },
      }),
    );
  }

  // --- running jobs ---------------------------------------------------------------

  #pump(): void {
    const started = performance.now();
    while (this.#active.length === 0 && this.#driving === 0 && !this.#closed && this.#running?.ready === true) {
      const job = this.#queue.shift();
      if (job === undefined) return;
      if (job.plugin?.gone === true && job.op !== OP.UNLOAD) {
        job.reject(unloaded(job.plugin.id, job.what));
        continue;
      }
      this.#start(job);
      const fast = job.quick && (job.plugin?.meanUs ?? 0) * 1e-3 < this.#env.fastWaitMs && performance.now() - started < PUMP_BUDGET_MS;
      if (fast) {
        this.#driving += 1;
        try {
          this.#drive(job, Math.min(performance.now() + this.#env.fastWaitMs, job.startedAt + job.timeoutMs), false);
        } finally {
          this.#driving -= 1;
        }
        if (job.done) continue;
      }
      if (this.#active.includes(job)) {
        job.timer = setTimeout(() => this.#timedOut(job), Math.max(0, job.startedAt + job.timeoutMs - performance.now()));
        this.#waitAsync();
      }
      return;
    }
  }

  /** Writes `job` into the slot and wakes the worker. */
  #start(job: Job): void {
    const running = this.#running;
    if (running === undefined) throw this.#broken ?? unloaded(job.plugin?.id ?? 'pool', job.what);
    const { slot, port } = running;
    const header = slot.header;
    const plugin = job.plugin;
    const post = (message: ToWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);
    let length = 0;
    let name = 0;
    switch (job.op) {
      case OP.LOAD:
        if (plugin !== undefined) post({ type: 'load', plugin: plugin.index, spec: plugin.spec });
        break;
      case OP.CALL: {
        if (plugin === undefined) break;
        let id = plugin.names.get(job.exportName);
        if (id === undefined) {
          id = plugin.names.size;
          plugin.names.set(job.exportName, id);
          post({ type: 'name', plugin: plugin.index, id, name: job.exportName });
        }
        name = id;
        length = writePayload(slot, post, job.input ?? EMPTY);
        break;
      }
      case OP.LIFECYCLE:
        name = job.step;
        break;
      case OP.POLICY:
        if (job.policy !== undefined) post({ type: 'policy', policy: job.policy });
        break;
    }
    header[WORD.OP] = job.op;
    header[WORD.PLUGIN] = plugin?.index ?? 0;
    header[WORD.NAME] = name;
    header[WORD.LENGTH] = length;
    job.startedAt = performance.now();
    this.#active.push(job);
    slot.signal(STATE.REQUEST);
  }

  /**
   * Waits synchronously until `job` finishes or `deadline` (performance.now() ms)
   * passes, serving host requests meanwhile: spinning for the first `fastWaitMs` (a
   * sleeping thread takes 10-20 us to wake on a virtual machine, longer than a small
   * call), then sleeping in Atomics.wait. At the deadline, `strict` times the job out;
   * otherwise the caller goes on waiting asynchronously.
   */
  #drive(job: Job, deadline: number, strict: boolean): void {
    const spinUntil = Math.min(deadline, performance.now() + this.#env.fastWaitMs);
    while (!job.done) {
      const running = this.#running;
      if (running === undefined) return;
      const header = running.slot.header;
      const state = spin(header, spinUntil);
      if (state === STATE.HOST_REQUEST) this.#serve(running);
      else if (state === STATE.DONE) this.#complete(running);
      else if (state === STATE.DEAD) this.#died(this.#generation, 'the worker exited');
      else {
        const left = deadline - performance.now();
        if (left <= 0) {
          if (strict) this.#timedOut(job);
          return;
        }
        Atomics.wait(header, WORD.STATE, state, left);
      }
    }
  }

  /** Waits for the worker without blocking the event loop. */
  #waitAsync(): void {
    const running = this.#running;
    if (running === undefined || running.waiters > 0 || this.#active.length === 0) return;
    const header = running.slot.header;
    const state = Atomics.load(header, WORD.STATE);
    if (state === STATE.HOST_REQUEST || state === STATE.DONE || state === STATE.DEAD) {
      this.#progress();
      return;
    }
    const waited = waitAsync(header, WORD.STATE, state);
    if (!waited.async) {
      this.#progress();
      return;
    }
    running.waiters += 1;
    void waited.value.then(() => {
      running.waiters -= 1;
      if (this.#running === running) this.#progress();
    });
  }

  /** Acts on the worker's state after an asynchronous wake. */
  #progress(): void {
    const running = this.#running;
    if (running === undefined || this.#driving > 0) return;
    const state = Atomics.load(running.slot.header, WORD.STATE);
    if (state === STATE.HOST_REQUEST) {
      this.#serve(running);
      this.#waitAsync();
    } else if (state === STATE.DONE) {
      this.#complete(running);
      this.#pump();
      this.#reference();
    } else if (state === STATE.DEAD) {
      this.#died(this.#generation, 'the worker exited');
    } else {
      this.#waitAsync();
    }
  }

  /** Reads what the worker posted (telemetry, large payloads), when it says it did. */
  #drainIfFlagged(running: Running): void {
    if (((running.slot.header[WORD.FLAGS] ?? 0) & FLAG.MESSAGES) === 0) return;
    for (let received = receiveMessageOnPort(running.port); received !== undefined; received = receiveMessageOnPort(running.port)) {
      this.#receive(received.message as ToHost);
    }
  }

  #receive(message: ToHost): void {
    if (message.type === 'payload') {
      this.#payloads.push(message.bytes);
      return;
    }
    const host = this.#env.host;
    for (const item of message.items) {
      try {
        switch (item.kind) {
          case 'audit':
            host.audit(item.entry);
            break;
          case 'log':
            host.log(item.plugin, item.record);
            break;
          case 'event':
            host.event(item.plugin, item.event);
            break;
          case 'anomaly':
            host.anomaly(item.plugin, item.anomaly);
            break;
        }
      } catch (error) {
        if (item.kind === 'audit') {
          // SECURITY: the worker already acted on this decision; from now on every
          // worker refuses calls it must audit (fail closed for all later calls).
          this.#env.auditFailed();
          this.#env.logger.error('the audit log refused an entry from a pool worker; audited calls are refused from now on', {
            plugin: item.plugin,
            error: error instanceof Error ? error.message : String(error),
          });
        } else {
          this.#env.logger.warn(`BackendHost.${item.kind} threw`, { plugin: item.plugin, error: error instanceof Error ? error.message : String(error) });
        }
      }
    }
  }

  /** Answers the worker's host request. */
  #serve(running: Running): void {
    const { slot } = running;
    const header = slot.header;
    this.#drainIfFlagged(running);
    const op = header[WORD.OP];
    const plugin = this.#plugins.get(header[WORD.PLUGIN] ?? 0);
    const name = plugin?.registered[header[WORD.NAME] ?? -1];
    const length = header[WORD.LENGTH] ?? 0;
    const request = length < 0 ? (this.#payloads.shift() ?? EMPTY) : slot.data.slice(0, length);
    // SECURITY: nothing the worker sent may outlive the request it came with.
    this.#payloads.length = 0;
    const generation = this.#generation;
    let status: number = STATUS.OK;
    let answer: Uint8Array = EMPTY;
    this.#serving += 1;
    try {
      if (plugin === undefined || name === undefined) throw new ForgeError('FO_SYSCALL_UNKNOWN', 'a pool worker asked for a host call this plugin was not given');
      if (op === HOST_OP.CALL) {
        const result: unknown = this.#env.host.hostCall(plugin.id, name, request);
        if (!(result instanceof Uint8Array)) throw new TypeError(`BackendHost.hostCall returned ${typeof result}; expected a Uint8Array`);
        answer = result;
      } else {
        const resource = this.#env.host.hostCallResource?.(plugin.id, name, request);
        if (resource === undefined) status = STATUS.NONE;
        else answer = utf8(resource);
      }
    } catch (error) {
      status = STATUS.ERROR;
      answer = errorBytes(this.#forGuest(error, plugin?.id, name));
    } finally {
      this.#serving -= 1;
    }
    // The worker may have been replaced while the host call ran (a nested job timed out).
    if (generation !== this.#generation || this.#running !== running) return;
    header[WORD.LENGTH] = writePayload(slot, (message, transfer) => running.port.postMessage(message, transfer), answer);
    header[WORD.STATUS] = status;
    slot.signal(STATE.HOST_REPLY);
  }

  /** A host-side failure as the plugin may see it: ForgeErrors as they are, anything else logged and hidden. */
  #forGuest(error: unknown, plugin: string | undefined, name: string | undefined): ForgeError {
    if (error instanceof ForgeError) return error;
    this.#env.logger.error('a registered host call failed inside the host', { plugin, call: name, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
    // SECURITY: host internals (stack, paths) stay in the host's log, not in the guest.
    return new ForgeError('FO_INTERNAL_UNEXPECTED', `${name ?? 'the host call'} failed inside the host`);
  }

  /** Settles the innermost active job from the worker's reply. */
  #complete(running: Running): void {
    const { slot } = running;
    const header = slot.header;
    this.#drainIfFlagged(running);
    const job = this.#active.pop();
    const status = header[WORD.STATUS];
    const length = header[WORD.LENGTH] ?? 0;
    const flags = header[WORD.FLAGS] ?? 0;
    const elapsedUs = header[WORD.ELAPSED_US] ?? 0;
    const fuel = slot.fuel;
    const payload = length < 0 ? (this.#payloads.shift() ?? EMPTY) : slot.data.slice(0, length);
    this.#payloads.length = 0;
    Atomics.store(header, WORD.STATE, STATE.IDLE);
    if (job === undefined) return;
    clearTimeout(job.timer);
    this.#completedSinceSpawn += 1;
    this.#bootFailures = 0;
    const plugin = job.plugin;
    const error = status === STATUS.ERROR ? errorFrom(payload) : undefined;
    if (plugin !== undefined && (job.op === OP.CALL || job.op === OP.LIFECYCLE)) {
      plugin.book.ran(error === undefined, fuel);
      plugin.meanUs = plugin.meanUs === 0 ? elapsedUs : plugin.meanUs * 0.8 + elapsedUs * 0.2;
      if (elapsedUs >= this.#env.busyCallUs) this.#env.heat(plugin, HEAT.slowCall);
      if (error?.code === 'FO_SANDBOX_CPU_LIMIT') this.#env.heat(plugin, HEAT.fault);
      if (error !== undefined && (flags & FLAG.POISONED) !== 0) plugin.book.poison(error);
    }
    if (plugin !== undefined && job.op === OP.LOAD && error === undefined) plugin.loaded = true;
    if (plugin !== undefined && job.op === OP.UNLOAD) this.forget(plugin);
    if (error !== undefined) job.reject(error);
    else if (job.op === OP.CALL) job.resolve(payload);
    else if (job.op === OP.LIFECYCLE) job.resolve(status !== STATUS.NONE);
    else job.resolve(undefined);
  }

  #timedOut(job: Job): void {
    if (job.done || !this.#active.includes(job)) return;
    this.#fail(
      new ForgeError(
        'FO_SANDBOX_TIMEOUT',
        `the ${job.what} ran past its ${job.timeoutMs} ms limit; pool worker ${this.id} was terminated and replaced`,
        { details: { plugin: job.plugin?.id, timeoutMs: job.timeoutMs, worker: this.id } },
      ),
    );
  }

  // --- replacing the worker -------------------------------------------------------

  /**
   * The worker is lost: settle what it held, drop the culprit (the plugin whose code
   * ran: the innermost active job's), re-create the others on a new worker. Every
   * active job rejects with `error`; with nested jobs, the outer ones never finish either.
   */
  #fail(error: ForgeError): void {
    if (this.#closed) return;
    this.#generation += 1;
    const active = this.#active.splice(0);
    const culprit = active.at(-1)?.plugin;
    for (const job of active) {
      clearTimeout(job.timer);
      job.reject(error);
    }
    this.#stop();
    this.#payloads.length = 0;
    if (this.#completedSinceSpawn === 0) this.#bootFailures += 1;
    if (culprit !== undefined) {
      this.#env.heat(culprit, HEAT.fault);
      culprit.book.poison(error);
      this.forget(culprit);
    }
    const restarted = new ForgeError('FO_SANDBOX_RESTARTED', `the plugin's pool worker ${this.id} was replaced (${error.code}); its instance was re-created with fresh state and this queued job did not run`, {
      details: { worker: this.id, cause: error.code },
    });
    const firstLoads: Job[] = [];
    for (const job of this.#queue.take(() => true)) {
      if (job.op === OP.UNLOAD || job.op === OP.POLICY) job.resolve(undefined); // the new worker starts from the newest specs
      else if (job.op === OP.LOAD && job.plugin?.loaded === false && !job.plugin.gone) firstLoads.push(job);
      else if (job.plugin === culprit && culprit !== undefined) job.reject(error);
      else job.reject(restarted);
    }
    if (this.#bootFailures >= MAX_BOOT_FAILURES) {
      this.#broken = new ForgeError('FO_SANDBOX_WORKER_FAILED', `pool worker ${this.id} failed ${this.#bootFailures} times before finishing a job; it is not replaced again (${error.message})`, {
        details: { worker: this.id },
      });
      for (const job of firstLoads) job.reject(this.#broken);
      for (const plugin of this.#plugins.values()) plugin.book.poison(this.#broken);
      return;
    }
    this.#restarts += 1;
    this.#spawn();
    const survivors = [...this.#plugins.values()].filter((plugin) => plugin.loaded && !plugin.gone);
    for (const plugin of survivors) {
      plugin.names.clear();
      plugin.loaded = false;
      const reload = new Job(OP.LOAD, { plugin, timeoutMs: plugin.loadTimeoutMs, what: `re-creation of plugin ${plugin.id}` });
      this.#queue.pushUrgent(reload);
      void reload.promise().then(
        () => {
          plugin.loaded = true;
        },
        (failure: unknown) => plugin.book.poison(failure instanceof ForgeError ? failure : restarted),
      );
    }
    for (const job of firstLoads) this.#queue.push(job.plugin as LanePlugin, job);
    // Listeners learn of the restart before any later job reaches the new instances.
    for (const plugin of survivors) plugin.book.restarted(error);
    this.#pump();
    this.#reference();
  }
}
