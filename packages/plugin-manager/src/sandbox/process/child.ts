/**
 * The main thread of a confined sandbox process: it runs the pool worker's loop
 * (pool-worker-loop.ts, unchanged but for HTTP, which it forwards) on this one thread,
 * and plays the host's part through frames (wire.ts) on descriptors 0 (frames in) and 1
 * (frames out), both blocking FIFOs. Where a pool worker parks until its host thread
 * writes the slot, this loop reads the host's next frame and writes it into the slot
 * itself; where a pool worker signals its host, this loop sends the step as frames.
 *
 * ```
 * host relay                 this thread (pool worker loop)
 *   JOB        ->              slot REQUEST, the job runs
 *   <- HOST                    (the plugin needs the host) slot HOST_REQUEST
 *   REPLY (or a nested JOB) ->  slot HOST_REPLY (or REQUEST)
 *   <- TELEMETRY, TRACE, DONE  slot DONE
 * ```
 *
 * One thread, no worker: a sandbox costs one V8 isolate. Nothing here is trusted by the
 * host: it checks every frame (relay.ts).
 */
import { createRequire } from 'node:module';
import { deserialize } from 'node:v8';
import { wasm } from '../../abi/wasm-api.js';
import { FLAG, STATE, Slot, writePayload, type PoolWorkerData, type ToHost, type ToWorker, type WorkerPort } from '../pool-protocol.js';
import { servePoolWorker } from '../pool-worker-loop.js';
import type { PluginSpec } from '../spec.js';
import { idleCollector, memoryReducer } from './idle-memory.js';
import { LEDGER_BYTES } from '../pool-ledger.js';
import { descriptorArgument, openChannel } from './channel.js';
import { sharedMemory, type SharedMemoryModule } from './ring.js';
import { ChannelClosed, KIND, readJobFlags, MAX_TELEMETRY_ITEMS, jsonBytes, type Frame, type FrameChannel } from './wire.js';

const IN = 0;
const OUT = 1;
const EMPTY = new Uint8Array(0);

/** What the host sends in a MSG frame (V8-serialized). */
export type ToSandbox =
  | { readonly type: 'load'; readonly plugin: number; readonly spec: Omit<PluginSpec, 'module'> & { readonly moduleBytes: Uint8Array } }
  | { readonly type: 'name'; readonly plugin: number; readonly id: number; readonly name: string }
  | { readonly type: 'policy'; readonly policy: PluginSpec['policy'] }
  | { readonly type: 'auditBroken' }
  | { readonly type: 'auditRestored' };

/** Slot bytes: payloads larger than this cross the in-thread port. */
const SLOT_BYTES = 1024 * 1024;

class SandboxHost {
  readonly slot = new Slot(Slot.allocate(SLOT_BYTES));
  /** What this side posted for the loop, and what the loop posted for this side: its port, in this thread. */
  readonly #toLoop: ToWorker[] = [];
  readonly #fromLoop: ToHost[] = [];
  readonly port: WorkerPort = { postMessage: (message) => void this.#fromLoop.push(message), receive: () => this.#toLoop.shift() };
  readonly data: Omit<PoolWorkerData, 'port'>;
  readonly #payloads: Uint8Array[] = [];
  readonly #telemetry: unknown[] = [];
  /** The number of the last audit-mirror batch drained (pool-audit-mirror.ts): the host takes from the mirror only a batch it did not get. */
  #batch = 0;
  #trace: ToHost | undefined;

  readonly #channel: FrameChannel;

  /** @param ledger the mapping of the memfd the host reads when it kills this sandbox (pool-ledger.ts) */
  constructor(channel: FrameChannel, ledger: ArrayBuffer | undefined) {
    this.#channel = channel;
    this.data = { slot: this.slot.buffer, spinUs: 0, forwardHttp: true, ...(ledger === undefined ? {} : { ledger }) };
  }

  /** Host requests sent and not answered yet (a nested job's may come in between). */
  #asking = 0;
  /** The ids of the jobs running, innermost last (a nested job runs while its caller waits for a host reply): each DONE echoes its job's. */
  readonly #calls: number[] = [];

  ready(): void {
    this.#channel.send(KIND.READY, [], []);
  }

  /** The loop waits in `state`: read frames until one moves the slot on. */
  park(state: number): void {
    for (;;) {
      const frame = this.#channel.read();
      if (frame.kind === KIND.MSG) this.#message(frame.payload);
      else if (frame.kind === KIND.JOB) return this.#job(frame);
      else if (frame.kind === KIND.REPLY && this.#asking > 0) {
        this.#asking -= 1;
        return this.#reply(frame);
      } else throw new Error(`sandbox: frame kind ${frame.kind} while the slot is in state ${state}`);
    }
  }

  /** The loop signalled `state`: send it to the host. */
  signalled(state: number): void {
    if (state === STATE.HOST_REQUEST) this.#hostRequest();
    else if (state === STATE.DONE) this.#done();
  }

  #message(payload: Uint8Array): void {
    const message = deserialize(payload) as ToSandbox;
    switch (message.type) {
      case 'load': {
        const { moduleBytes, ...rest } = message.spec;
        if (rest.hostCalls.kvDirectory !== undefined) preloadSqlite();
        const spec = { ...rest, module: new wasm.Module(moduleBytes) } as PluginSpec;
        this.#post({ type: 'load', plugin: message.plugin, spec });
        break;
      }
      case 'name':
      case 'policy':
        this.#post(message);
        break;
      case 'auditBroken':
      case 'auditRestored':
        this.slot.setAuditBroken(message.type === 'auditBroken');
        break;
    }
  }

  #post(message: ToWorker): void {
    this.#toLoop.push(message);
  }

  #job(frame: Frame): void {
    const [op = 0, plugin = 0, name = 0, trace = 0, call = 0] = frame.ints;
    this.#calls.push(call);
    const slot = this.slot;
    const length = writePayload(slot, (message) => this.#post(message), frame.payload);
    slot.writeRequest({ op, plugin, name, length, fuel: frame.bigs[0] ?? 0n, ...readJobFlags(trace) });
    slot.settle(STATE.REQUEST);
  }

  #reply(frame: Frame): void {
    const slot = this.slot;
    const length = writePayload(slot, (message) => this.#post(message), frame.payload);
    slot.writeAnswer({ status: frame.ints[0] ?? 0, length, charge: frame.bigs[0] ?? 0n });
    slot.settle(STATE.HOST_REPLY);
  }

  /**
   * The loop posted a batch of telemetry mid-job (a full batch, a refusal, an anomaly):
   * it goes to the host now, before the guest goes on, so a sandbox killed at its call's
   * time limit has already sent it.
   */
  telemetry(): void {
    this.#drain();
    this.#flushTelemetry();
  }

  /** Reads what the loop posted: telemetry, large payloads, a trace. */
  #drain(): void {
    for (let message = this.#fromLoop.shift(); message !== undefined; message = this.#fromLoop.shift()) {
      if (message.type === 'payload') this.#payloads.push(message.bytes);
      else if (message.type === 'trace') this.#trace = message;
      else if (message.type === 'telemetry') {
        this.#telemetry.push(...message.items);
        if (message.batch !== undefined) this.#batch = message.batch;
      }
    }
  }

  /** The payload of the request or answer in the slot: a view of the slot's bytes (encoded into a frame at once), or the one posted. */
  #take(length: number): Uint8Array {
    const payload = length < 0 ? (this.#payloads.shift() ?? EMPTY) : this.slot.data.subarray(0, length);
    this.#payloads.length = 0;
    return payload;
  }

  #flushTelemetry(): void {
    // A call making thousands of host calls at audit level all piles up more items than
    // the host takes in one frame (it refuses more as a violation): send them in several.
    // The batch number goes with the last frame: the host has the whole batch only then.
    while (this.#telemetry.length > 0) {
      const items = this.#telemetry.splice(0, MAX_TELEMETRY_ITEMS);
      this.#channel.send(KIND.TELEMETRY, [this.#telemetry.length === 0 ? this.#batch : 0], [], jsonBytes(items));
    }
  }

  #hostRequest(): void {
    this.#drain();
    this.#flushTelemetry();
    const request = this.slot.readRequest();
    this.#asking += 1;
    this.#channel.send(KIND.HOST, [request.op, request.plugin, request.name], [request.fuel], this.#take(request.length));
  }

  #done(): void {
    const slot = this.slot;
    // The loop flags an answer when it posted something since its last one (telemetry was sent on by telemetry()).
    if ((slot.flags & FLAG.MESSAGES) !== 0) this.#drain();
    this.#flushTelemetry();
    const answer = slot.readAnswer();
    const payload = this.#take(answer.length);
    const trace = this.#trace;
    this.#trace = undefined;
    if (trace !== undefined) this.#channel.send(KIND.TRACE, [], [], jsonBytes(trace));
    const flags = slot.flags & ~FLAG.MESSAGES;
    this.#channel.send(KIND.DONE, [answer.status, flags, slot.elapsedUs, slot.memoryBytes / 65_536, this.#calls.pop() ?? 0], [answer.fuel, answer.charge], payload);
    slot.settle(STATE.IDLE);
  }
}

/**
 * The sandbox's bundle requires better-sqlite3 on the first key-value store opened
 * (scripts/bundle-sandbox.mjs), so a sandbox whose plugins have no store never loads it.
 * A plugin given a store has it (its module and native addon) loaded here, while it loads, so that its first kv call
 * (inside an entry point, under that step's timeout) does not pay for it. A failure is
 * left to the store's own open, which reports it to the plugin as any open failure.
 */
function preloadSqlite(): void {
  try {
    // better-sqlite3 maps its native addon (and SQLite) on the first database made, not on require.
    const Database = createRequire(import.meta.url)('better-sqlite3') as new (path: string) => { close(): void };
    new Database(':memory:').close();
  } catch {
    // reported by the store when the plugin opens it
  }
}

/** Runs this process as a sandbox's main thread. Exits 0 when the host closes the channel. */
export function runSandboxChild(): void {
  try {
    const reducer = memoryReducer();
    const idle = reducer === undefined ? undefined : (memory: SharedMemoryModule) => idleCollector((fd, ms) => memory.waitReadable(fd, ms), reducer);
    const args = process.argv.slice(2);
    const ledger = descriptorArgument(args, 'ledger');
    const host = new SandboxHost(openChannel('sandbox', IN, OUT, descriptorArgument(args, 'ring'), undefined, idle), ledger === undefined ? undefined : sharedMemory()?.map(ledger, LEDGER_BYTES));
    host.ready();
    servePoolWorker(host.data, host.port, { park: (state) => host.park(state), signalled: (state) => host.signalled(state), telemetry: () => host.telemetry() });
  } catch (error) {
    if (error instanceof ChannelClosed) process.exit(0);
    process.stderr.write(`forge sandbox: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(70);
  }
}
