/**
 * The host's side of one confined sandbox: a worker thread that the pool machinery
 * (pool-lane.ts) drives exactly like a pool worker, through its shared slot, and that
 * relays each job to the sandbox process as frames (wire.ts) instead of running it.
 * Blocking reads on the sandbox's FIFO happen here, off the host's event loop, so a
 * plugin in a sandbox can also be called synchronously (forge.call_plugin).
 *
 * The relay is where the parent stays the trust anchor:
 * - every frame from the sandbox is checked (child-input.ts); a malformed one is a
 *   protocol violation: audited, reported, and the sandbox is killed;
 * - what leaves the sandbox is decided here, by this thread's own gate for each plugin,
 *   built from the spec the host gave (never from the sandbox): the host application's
 *   registered calls (with the resource the host names) and every forge.http_request
 *   hop, which is also made from here (the sandbox has no network);
 * - audit records reach the host's audit log from this thread only: the relay's own
 *   decisions, and the sandbox's reports of what it decided inside its walls (kernel-backed
 *   by its mounts), each checked and attributed to a plugin the sandbox really hosts.
 */
import { serialize } from 'node:v8';
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { ForgeError, toForgeError } from '@forgeone/common';
import { createIoBridge, explicitHosts, hostResource, resolveHostCallLimits, type ExplicitHosts, type HttpLimits, type SyncBridge } from '../../syscall/index.js';
import type { Anomaly, CallSpec } from '@forgeone/microkernel';
import { PluginGate, type BackendAuditEntry } from '../plugin-gate.js';
import { PolicyCache, registeredSpec } from '../policy.js';
import { FLAG, HOST_OP, NO_FUEL, OP, STATE, STATUS, Slot, WORD, errorBytes, text, writePayload, type PoolWorkerData, type TelemetryItem, type ToWorker } from '../pool-protocol.js';
import { WorkerOutbox } from '../pool-worker-outbox.js';
import type { PluginSpec } from '../spec.js';
import { spinWhile } from './spin.js';
import { checkHop, checkJobError, checkTelemetry, checkTrace, foldingOf, type SandboxPlugins } from './child-input.js';
import { ReportedAudits } from './reported-audits.js';
import type { ToSandbox } from './child.js';
import { CallIds } from './call-ids.js';
import { openChannel } from './channel.js';
import { ChannelClosed, KIND, jobFlags, jsonBytes, violation, type Frame, type FrameChannel } from './wire.js';
import { copyOut } from '../../abi/bytes-copy.js';

export { MAX_REPORTED_AUDITS } from './reported-audits.js';

/** What a relay receives as workerData besides a pool worker's. */
export interface RelayData extends PoolWorkerData {
  /** Frames from the sandbox (a blocking FIFO read end). */
  readonly fromSandbox: number;
  /** Frames to the sandbox (a blocking FIFO write end). */
  readonly toSandbox: number;
  /** The shared-memory ring's memfd (ring.ts), when the sandbox speaks through it; the FIFOs then carry only doorbells. */
  readonly ring?: number;
  /** The host's positions in the ring, shared with the host thread's direct path (direct.ts). */
  readonly cursor?: SharedArrayBuffer;
}

/** The call forge.http_request hops are decided as. */
const HTTP_CALL = 'forge.http_request';
/** Time the relay's I/O bridge waits beyond a hop's own deadline. */
const HOP_GRACE_MS = 5000;
const EMPTY = new Uint8Array(0);

interface RelayPlugin {
  readonly spec: PluginSpec;
  readonly gate: PluginGate;
  readonly policyKey: string;
  readonly http: HttpLimits;
  readonly explicit: ExplicitHosts;
  /** Registered call names, by the index the sandbox names them with. */
  readonly registered: readonly string[];
}

class Relay implements SandboxPlugins {
  readonly #slot: Slot;
  readonly #port: MessagePort;
  readonly #outbox: WorkerOutbox;
  readonly #data: RelayData;
  #channel: FrameChannel | undefined;
  readonly #policies = new PolicyCache();
  readonly #plugins = new Map<number, RelayPlugin>();
  readonly #ids = new Set<string>();
  readonly #payloads: Uint8Array[] = [];
  #io: SyncBridge | undefined;
  #auditBrokenSent = false;
  /** Audit entries the sandbox reported during the outermost job (reported-audits.ts). */
  readonly #reported = new ReportedAudits();
  /** Jobs in progress: 1 for a job, more while nested jobs run inside it. */
  #depth = 0;
  /** Ids of the jobs sent, counted with the host thread's direct path (it sends the jobs the relay ADOPTs). */
  readonly #calls: CallIds;

  constructor(data: RelayData) {
    this.#slot = new Slot(data.slot);
    this.#port = data.port;
    this.#outbox = new WorkerOutbox(data.port);
    this.#data = data;
    this.#calls = new CallIds(data.cursor);
  }

  has(id: string): boolean {
    return this.#ids.has(id);
  }

  decidedByHost(id: string, call: string): boolean {
    if (call === HTTP_CALL) return true;
    for (const plugin of this.#plugins.values()) if (plugin.spec.id === id) return plugin.registered.includes(call);
    return false;
  }

  folding(id: string): { kept: number; calls: number } | undefined {
    const spec = [...this.#plugins.values()].find((plugin) => plugin.spec.id === id)?.spec;
    return spec === undefined ? undefined : foldingOf(spec);
  }

  /** Waits for the sandbox's READY, then serves jobs until the sandbox is lost. */
  serve(): never {
    try {
      this.#channel = openChannel('host', this.#data.fromSandbox, this.#data.toSandbox, this.#data.ring, this.#data.cursor);
      const ready = this.#channel.read();
      if (ready.kind !== KIND.READY) throw violation(`expected READY first, found frame kind ${ready.kind}`);
      this.#slot.markReady();
      for (;;) {
        const state = spinWhile(this.#slot.header, STATE.REQUEST);
        if (state === STATE.REQUEST) this.#job();
        else Atomics.wait(this.#slot.header, WORD.STATE, state);
      }
    } catch (error) {
      this.#lost(error);
    }
  }

  /** The sandbox is gone or broke its protocol: say why, wake the host, and wait to be terminated. */
  #lost(error: unknown): never {
    const cause =
      error instanceof ChannelClosed
        ? new ForgeError('FO_SANDBOX_WORKER_FAILED', 'the sandbox process exited')
        : ForgeError.is(error, 'FO_SANDBOX_PROTOCOL_VIOLATION')
          ? error
          : new ForgeError('FO_SANDBOX_WORKER_FAILED', `the sandbox relay failed: ${toForgeError(error).message}`);
    if (cause.code === 'FO_SANDBOX_PROTOCOL_VIOLATION') {
      // Audited against every plugin the sandbox hosts: any of them may have done it.
      for (const id of this.#ids) this.#outbox.queue({ kind: 'audit', plugin: id, entry: { plugin: id, action: 'sandbox.protocol', resource: undefined, allowed: false, reason: cause.message } });
    }
    try {
      this.#outbox.flush();
      this.#port.postMessage({ type: 'lost', error: cause.toJSON() });
    } finally {
      this.#slot.signal(STATE.DEAD);
    }
    for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  }

  /** Applies what the host posted for the job at hand; forwards what the sandbox needs. */
  #drain(): void {
    for (let received = receiveMessageOnPort(this.#port); received !== undefined; received = receiveMessageOnPort(this.#port)) {
      const message = received.message as ToWorker;
      switch (message.type) {
        case 'load':
          this.#load(message.plugin, message.spec);
          break;
        case 'name':
          this.#send({ type: 'name', plugin: message.plugin, id: message.id, name: message.name });
          break;
        case 'policy':
          this.#setPolicy(message.policy);
          this.#send({ type: 'policy', policy: message.policy });
          break;
        case 'payload':
          this.#payloads.push(message.bytes);
          break;
      }
    }
    if (this.#slot.auditBroken !== this.#auditBrokenSent) {
      this.#auditBrokenSent = this.#slot.auditBroken;
      this.#send({ type: this.#auditBrokenSent ? 'auditBroken' : 'auditRestored' });
    }
  }

  #read(): Frame {
    if (this.#channel === undefined) throw new Error('relay: no channel yet');
    return this.#channel.read();
  }

  #write(kind: number, ints: readonly number[], bigs: readonly bigint[], payload: Uint8Array): void {
    if (this.#channel === undefined) throw new Error('relay: no channel yet');
    this.#channel.send(kind, ints, bigs, payload);
  }

  #send(message: ToSandbox): void {
    this.#write(KIND.MSG, [], [], serialize(message));
  }

  #load(index: number, spec: PluginSpec): void {
    this.#forget(index);
    const { moduleBytes } = spec;
    if (moduleBytes === undefined) throw new ForgeError('FO_SANDBOX_BAD_OPTION', `plugin ${spec.id}: the process backend needs the module's bytes (PluginSpec.moduleBytes)`);
    const { key, value } = this.#policies.retain(spec.policy, spec.hostCalls.registered);
    const sinks = {
      audit: (entry: BackendAuditEntry) => {
        if (this.#slot.auditBroken) throw new ForgeError('FO_AUDIT_WRITE_FAILED', `the host's audit log failed earlier, so calls of ${spec.id} that must be audited are refused`);
        this.#outbox.queue({ kind: 'audit', plugin: spec.id, entry });
      },
      anomaly: (anomaly: Anomaly) => this.#outbox.queue({ kind: 'anomaly', plugin: spec.id, anomaly }),
    };
    const gate = new PluginGate(spec, value, sinks);
    const registered = spec.hostCalls.registered.map((entry) => (typeof entry === 'string' ? entry : entry.name));
    this.#plugins.set(index, { spec, gate, policyKey: key, http: resolveHostCallLimits(spec.hostCalls.limits).http, explicit: explicitHosts(spec.hostCalls.explicitHosts), registered });
    this.#ids.add(spec.id);
    // The compiled module stays here (it cannot cross); the sandbox compiles the bytes.
    const sent: Record<string, unknown> = { ...spec, moduleBytes };
    delete sent['module'];
    this.#send({ type: 'load', plugin: index, spec: sent as Extract<ToSandbox, { type: 'load' }>['spec'] });
  }

  #forget(index: number): void {
    const plugin = this.#plugins.get(index);
    if (plugin === undefined) return;
    this.#plugins.delete(index);
    this.#policies.release(plugin.policyKey);
    if (![...this.#plugins.values()].some((other) => other.spec.id === plugin.spec.id)) this.#ids.delete(plugin.spec.id);
  }

  #setPolicy(policy: PluginSpec['policy']): void {
    for (const [index, plugin] of this.#plugins) {
      const { key, value } = this.#policies.retain(policy, plugin.spec.hostCalls.registered);
      plugin.gate.setPolicy(value.policy);
      this.#policies.release(plugin.policyKey);
      this.#plugins.set(index, { ...plugin, spec: { ...plugin.spec, policy }, policyKey: key });
    }
  }

  /** Relays the job in the slot to the sandbox (unless the host thread sent it: ADOPT) and its answer back. */
  #job(): void {
    const slot = this.#slot;
    this.#drain();
    const { op, plugin, name, length, fuel, trace, cpu } = slot.readRequest();
    // An adopted job was sent by the host thread, with the last id.
    const call = op === OP.ADOPT ? this.#calls.last : this.#calls.next();
    if (op !== OP.ADOPT) {
      // SECURITY: Slot.input waits until a streamed input is published (WORD.INPUT_READY):
      // read at once, the data area still holds the previous answer's bytes.
      const input = length < 0 ? (this.#payloads.shift() ?? EMPTY) : copyOut(slot.input(length), length);
      this.#payloads.length = 0;
      this.#write(KIND.JOB, [op, plugin, name, jobFlags(trace, cpu), call], [fuel], input);
    }
    this.#depth += 1;
    try {
      this.#relayJob(op === OP.ADOPT ? OP.CALL : op, plugin, call);
    } finally {
      this.#depth -= 1;
    }
  }

  /** Reads the sandbox's frames for the job just sent (id `call`), until its DONE. */
  #relayJob(op: number, plugin: number, call: number): void {
    for (;;) {
      const frame = this.#read();
      switch (frame.kind) {
        case KIND.TELEMETRY:
          // Posted on at once: the sandbox sent a batch because the host must have it now.
          for (const item of checkTelemetry(frame.payload, this)) this.#take(item);
          // With the number of the batch it ends: the host takes from the sandbox's ledger only a batch it was
          // not told of (pool-ledger.ts); a false number only hides the sandbox's own records.
          this.#outbox.flush((frame.ints[0] ?? 0) > 0 ? frame.ints[0] : undefined);
          break;
        case KIND.TRACE:
          this.#outbox.post(checkTrace(frame.payload));
          break;
        case KIND.HOST:
          this.#host(frame);
          break;
        case KIND.DONE:
          // SECURITY: a DONE ends only the job in flight: one with another id (a job not sent, one answered already) is a violation.
          if (frame.ints[4] !== call) throw violation(`a DONE for call ${frame.ints[4] ?? '?'} while call ${call} was in flight`, { call: frame.ints[4], expected: call });
          if (op === OP.UNLOAD) this.#forget(plugin);
          return this.#done(frame);
        default:
          throw violation(`frame kind ${frame.kind} during a job`);
      }
    }
  }

  /** Passes on one checked item from the sandbox, within the job's budget of audit entries (reported-audits.ts). */
  #take(item: TelemetryItem): void {
    if (this.#reported.take(item)) this.#outbox.queue(item);
  }

  #done(frame: Frame): void {
    const slot = this.#slot;
    const [status = 0, flags = 0, elapsedUs = 0, pages = 0] = frame.ints;
    if (status !== STATUS.OK && status !== STATUS.ERROR && status !== STATUS.NONE) throw violation(`a job status ${status}`);
    if ((flags & ~(FLAG.POISONED | FLAG.RECREATED)) !== 0) throw violation(`job flags ${flags}`);
    if (pages < 0 || pages > 65_536 || elapsedUs < 0) throw violation('a job answer with words out of range');
    const payload = status === STATUS.ERROR ? checkJobError(frame.payload) : frame.payload;
    const length = writePayload(slot, (message, transfer) => this.#outbox.post(message, transfer), payload);
    slot.writeAnswer({ status, length, fuel: frame.bigs[0] ?? 0n, charge: frame.bigs[1] ?? 0n });
    slot.elapsedUs = elapsedUs;
    slot.memoryBytes = pages * 65_536;
    if (this.#depth === 1) for (const item of this.#reported.end()) this.#outbox.queue(item);
    this.#queueCounts();
    this.#outbox.flush();
    slot.flags = flags | (this.#outbox.takePosted() ? FLAG.MESSAGES : 0);
    slot.signal(STATE.DONE);
  }

  /** Queues the host-call counts of the calls this thread decided. */
  #queueCounts(): void {
    for (const plugin of this.#plugins.values()) {
      const counts = plugin.gate.counts;
      if (counts?.changed === true) this.#outbox.queue({ kind: 'counts', plugin: plugin.spec.id, counts: counts.takeDeltas() });
    }
  }

  /** Answers a host request of the sandbox; a refusal is an answer, never an exception (but for violations). */
  #host(frame: Frame): void {
    const [op = 0, index = 0, name = 0] = frame.ints;
    const plugin = this.#plugins.get(index);
    if (plugin === undefined) throw violation(`a host request for plugin slot ${index}, which it does not host`, { index });
    let reply: { status: number; answer: Uint8Array; charge: bigint };
    if (op === HOST_OP.HTTP) reply = this.#http(plugin, frame.payload);
    else if (op === HOST_OP.CALL || op === HOST_OP.RESOURCE) {
      const call = plugin.registered[name];
      if (call === undefined) throw violation(`a host request for registered call ${name}, which plugin ${plugin.spec.id} was not given`);
      reply = op === HOST_OP.RESOURCE ? this.#ask(op, index, name, frame.payload, NO_FUEL) : this.#registered(plugin, index, name, frame.payload, frame.bigs[0] ?? NO_FUEL);
    } else throw violation(`a host request with op ${op}`);
    this.#outbox.flush();
    this.#write(KIND.REPLY, [reply.status], [reply.charge], reply.answer);
  }

  /** A registered call: decided here, with the resource the host names for the request, then run by the host. */
  #registered(plugin: RelayPlugin, index: number, name: number, request: Uint8Array, fuel: bigint): { status: number; answer: Uint8Array; charge: bigint } {
    const entry = plugin.spec.hostCalls.registered[name] as string | CallSpec;
    const call = registeredSpec(entry, plugin.gate.trust.catalog);
    let resource: string | undefined;
    if (call.resource !== 'none') {
      const named = this.#ask(HOST_OP.RESOURCE, index, name, request, NO_FUEL);
      if (named.status === STATUS.ERROR) return named;
      resource = named.status === STATUS.NONE ? undefined : text(named.answer);
    }
    const denial = plugin.gate.gate.check(call.name, resource);
    if (denial !== undefined) return refusal(denied(call.name));
    return this.#ask(HOST_OP.CALL, index, name, request, fuel);
  }

  /** An HTTP hop: checked, decided here on the URL's host, and made from here. */
  #http(plugin: RelayPlugin, payload: Uint8Array): { status: number; answer: Uint8Array; charge: bigint } {
    const { hop, url } = checkHop(payload, plugin.http, plugin.explicit);
    const denial = plugin.gate.gate.check(HTTP_CALL, hostResource(url), undefined, url.href);
    if (denial !== undefined) return refusal(denied(HTTP_CALL));
    try {
      this.#io ??= createIoBridge('forge-io-relay');
      return { status: STATUS.OK, answer: jsonBytes(this.#io.call('http.hop', hop, hop.timeoutMs + HOP_GRACE_MS)), charge: 0n };
    } catch (error) {
      return refusal(toForgeError(error));
    }
  }

  /** Asks the host thread through the slot (as a pool worker does), running nested jobs meanwhile. */
  #ask(op: number, plugin: number, name: number, request: Uint8Array, fuel: bigint): { status: number; answer: Uint8Array; charge: bigint } {
    const slot = this.#slot;
    slot.writeRequest({ op, plugin, name, length: writePayload(slot, (message, transfer) => this.#outbox.post(message, transfer), request), fuel });
    this.#outbox.flush();
    slot.flags = this.#outbox.takePosted() ? FLAG.MESSAGES : 0;
    slot.signal(STATE.HOST_REQUEST);
    for (;;) {
      const state = spinWhile(slot.header, STATE.HOST_REPLY, STATE.REQUEST);
      if (state === STATE.HOST_REPLY) break;
      if (state === STATE.REQUEST) this.#job();
      else Atomics.wait(slot.header, WORD.STATE, state);
    }
    this.#drain();
    const { status, length, charge } = slot.readAnswer();
    const answer = length < 0 ? (this.#payloads.shift() ?? EMPTY) : copyOut(slot.data, length);
    this.#payloads.length = 0;
    slot.settle(STATE.BUSY);
    return { status, answer, charge };
  }
}

function denied(call: string): ForgeError {
  return new ForgeError('FO_ABI_HOST_DENIED', `host policy denied ${call}`, { details: { call, audited: true } });
}

function refusal(error: ForgeError): { status: number; answer: Uint8Array; charge: bigint } {
  return { status: STATUS.ERROR, answer: errorBytes(error), charge: 0n };
}

/** Runs this worker thread as a sandbox relay. Never returns. */
export function runRelay(data: RelayData): never {
  return new Relay(data).serve();
}
