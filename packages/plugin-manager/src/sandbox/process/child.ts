/**
 * The main thread of a confined sandbox process. It hosts the plugins of its sandbox on
 * one pool worker thread (pool-worker-loop.ts, unchanged but for HTTP, which it forwards)
 * and speaks the frame protocol (wire.ts) with the host on descriptors 0 (frames in) and
 * 1 (frames out), both blocking FIFOs: it plays the host's part for its worker (writing
 * jobs into the slot, answering host requests) and turns each step into frames.
 *
 * ```
 * host relay                 this thread                     pool worker
 *   JOB        ->              slot REQUEST          ->        runs the job
 *   <- HOST                    <- slot HOST_REQUEST             (needs the host)
 *   REPLY (or a nested JOB) ->  slot HOST_REPLY       ->
 *   <- TELEMETRY, TRACE, DONE  <- port + slot DONE
 * ```
 *
 * Nothing here is trusted by the host: it checks every frame (relay.ts).
 */
import { deserialize } from 'node:v8';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { FLAG, STATE, Slot, WORD, writePayload, type ToHost, type ToWorker } from '../pool-protocol.js';
import { POOL_WORKER_URL } from '../pool.js';
import type { PluginSpec } from '../spec.js';
import { wasm } from '../../abi/wasm-api.js';
import { spinWhile } from './relay.js';
import { ChannelClosed, KIND, encodeFrame, jsonBytes, readFrame, writeFrame, type Frame } from './wire.js';

const IN = 0;
const OUT = 1;
const EMPTY = new Uint8Array(0);

/** What the host sends in a MSG frame (V8-serialized). */
export type ToSandbox =
  | { readonly type: 'load'; readonly plugin: number; readonly spec: Omit<PluginSpec, 'module'> & { readonly moduleBytes: Uint8Array } }
  | { readonly type: 'name'; readonly plugin: number; readonly id: number; readonly name: string }
  | { readonly type: 'policy'; readonly policy: PluginSpec['policy'] }
  | { readonly type: 'auditBroken' };

/** Slot bytes of the sandbox's worker: payloads larger than this cross its port. */
const SLOT_BYTES = 1024 * 1024;

class SandboxChild {
  readonly #slot = new Slot(Slot.allocate(SLOT_BYTES));
  readonly #port: MessagePort;
  readonly #worker: Worker;
  readonly #payloads: Uint8Array[] = [];
  readonly #telemetry: unknown[] = [];
  #trace: ToHost | undefined;

  constructor() {
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    this.#worker = new Worker(POOL_WORKER_URL, {
      name: 'forge-sandbox-worker',
      workerData: { slot: this.#slot.buffer, port: port2, spinUs: 50, forwardHttp: true },
      transferList: [port2],
    });
    this.#worker.on('error', () => process.exit(70));
    this.#worker.on('exit', () => process.exit(70));
  }

  /** Waits for the worker, says READY, then serves frames until the host closes the channel. */
  run(): void {
    while (!this.#slot.ready) Atomics.wait(this.#slot.header, WORD.READY, 0, 50);
    writeFrame(OUT, encodeFrame(KIND.READY, [], []));
    for (;;) this.#top(readFrame(IN));
  }

  #top(frame: Frame): void {
    if (frame.kind === KIND.MSG) this.#message(frame.payload);
    else if (frame.kind === KIND.JOB) this.#job(frame);
    else throw new Error(`sandbox: unexpected frame kind ${frame.kind}`);
  }

  #message(payload: Uint8Array): void {
    const message = deserialize(payload) as ToSandbox;
    switch (message.type) {
      case 'load': {
        const { moduleBytes, ...rest } = message.spec;
        const spec = { ...rest, module: new wasm.Module(moduleBytes) } as PluginSpec;
        this.#post({ type: 'load', plugin: message.plugin, spec });
        break;
      }
      case 'name':
      case 'policy':
        this.#post(message);
        break;
      case 'auditBroken':
        this.#slot.markAuditBroken();
        break;
    }
  }

  #post(message: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.#port.postMessage(message, transfer);
  }

  /** Runs a job on the worker and answers it (nested jobs arrive while it waits for a reply). */
  #job(frame: Frame): void {
    const [op = 0, plugin = 0, name = 0, trace = 0] = frame.ints;
    const slot = this.#slot;
    const length = writePayload(slot, (message, transfer) => this.#post(message, transfer), frame.payload.slice());
    slot.writeRequest({ op, plugin, name, length, fuel: frame.bigs[0] ?? 0n, trace: trace === 1 });
    slot.signal(STATE.REQUEST);
    for (;;) {
      const state = spinWhile(slot.header, STATE.HOST_REQUEST, STATE.DONE, STATE.DEAD);
      if (state === STATE.HOST_REQUEST) this.#serveHost();
      else if (state === STATE.DONE) return this.#done();
      else if (state === STATE.DEAD) process.exit(70);
      else Atomics.wait(slot.header, WORD.STATE, state);
    }
  }

  /** Reads what the worker posted when it says it did: telemetry, large payloads, a trace. */
  #drain(): void {
    if ((this.#slot.flags & FLAG.MESSAGES) === 0) return;
    for (let received = receiveMessageOnPort(this.#port); received !== undefined; received = receiveMessageOnPort(this.#port)) {
      const message = received.message as ToHost;
      if (message.type === 'payload') this.#payloads.push(message.bytes);
      else if (message.type === 'trace') this.#trace = message;
      else if (message.type === 'telemetry') this.#telemetry.push(...message.items);
    }
  }

  #take(length: number): Uint8Array {
    const payload = length < 0 ? (this.#payloads.shift() ?? EMPTY) : this.#slot.data.slice(0, length);
    this.#payloads.length = 0;
    return payload;
  }

  #flushTelemetry(): void {
    if (this.#telemetry.length === 0) return;
    const items = this.#telemetry.splice(0);
    writeFrame(OUT, encodeFrame(KIND.TELEMETRY, [], [], jsonBytes(items)));
  }

  #serveHost(): void {
    const slot = this.#slot;
    this.#drain();
    this.#flushTelemetry();
    const request = slot.readRequest();
    writeFrame(OUT, encodeFrame(KIND.HOST, [request.op, request.plugin, request.name], [request.fuel], this.#take(request.length)));
    slot.settle(STATE.BUSY);
    for (;;) {
      const frame = readFrame(IN);
      if (frame.kind === KIND.REPLY) {
        const [status = 0] = frame.ints;
        const length = writePayload(slot, (message, transfer) => this.#post(message, transfer), frame.payload.slice());
        slot.writeAnswer({ status, length, charge: frame.bigs[0] ?? 0n });
        slot.signal(STATE.HOST_REPLY);
        return;
      }
      this.#top(frame);
    }
  }

  #done(): void {
    const slot = this.#slot;
    this.#drain();
    this.#flushTelemetry();
    const answer = slot.readAnswer();
    const payload = this.#take(answer.length);
    const trace = this.#trace;
    this.#trace = undefined;
    if (trace !== undefined) writeFrame(OUT, encodeFrame(KIND.TRACE, [], [], jsonBytes(trace)));
    const flags = slot.flags & ~FLAG.MESSAGES;
    writeFrame(OUT, encodeFrame(KIND.DONE, [answer.status, flags, slot.elapsedUs, slot.memoryBytes / 65_536], [answer.fuel, answer.charge], payload));
    slot.settle(STATE.IDLE);
  }
}

/** Runs this process as a sandbox's main thread. Returns (exit 0) when the host closes the channel. */
export function runSandboxChild(): void {
  try {
    new SandboxChild().run();
  } catch (error) {
    if (error instanceof ChannelClosed) process.exit(0);
    process.stderr.write(`forge sandbox: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(70);
  }
}
