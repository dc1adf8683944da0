/**
 * The worker side of the sync bridge (sync-bridge.ts). A worker module calls
 * {@link serveSyncBridge} once with its handlers; each request is answered on the
 * bridge's port and the caller is woken through the shared counter.
 */
import { isMainThread, workerData, type MessagePort } from 'node:worker_threads';
import { ForgeError } from '@forgeone/common';
import type { BridgeReply, BridgeRequest, BridgeWorkerData } from './sync-bridge.js';

/** Handlers by request kind. A handler's result must be structured-clonable. */
export type SyncBridgeHandlers = Readonly<Record<string, (payload: unknown) => unknown>>;

function bridgeWorkerData(): BridgeWorkerData {
  const data = workerData as Partial<BridgeWorkerData> | undefined;
  if (isMainThread || !(data?.control instanceof SharedArrayBuffer) || typeof data.port?.postMessage !== 'function') {
    throw new Error('serveSyncBridge runs inside a worker started by SyncBridge');
  }
  return data as BridgeWorkerData;
}

/** The `data` the bridge was created with. */
export function bridgeData(): unknown {
  return bridgeWorkerData().data;
}

/**
 * Serves requests until the worker is terminated.
 * @throws Error when not running in a worker started by SyncBridge
 */
export function serveSyncBridge(handlers: SyncBridgeHandlers): void {
  const { port, control } = bridgeWorkerData();
  const counter = new Int32Array(control);
  port.on('message', (request: BridgeRequest) => {
    void answer(port, counter, handlers, request);
  });
}

async function answer(port: MessagePort, counter: Int32Array, handlers: SyncBridgeHandlers, request: BridgeRequest): Promise<void> {
  let reply: BridgeReply;
  try {
    const handler = Object.hasOwn(handlers, request.kind) ? handlers[request.kind] : undefined;
    if (handler === undefined) throw new ForgeError('FO_INTERNAL_UNEXPECTED', `the I/O worker has no handler for ${JSON.stringify(request.kind)}`);
    reply = { id: request.id, ok: true, value: await handler(request.payload) };
  } catch (error) {
    // SECURITY: only ForgeErrors carry their message across; anything else is a bug
    // whose text may hold host details, kept in details for the host's log.
    const forge =
      error instanceof ForgeError
        ? error
        : new ForgeError('FO_INTERNAL_UNEXPECTED', `the I/O worker failed while serving ${request.kind}`, {
            details: { kind: request.kind, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) },
          });
    reply = { id: request.id, ok: false, error: forge.toJSON() };
  }
  try {
    port.postMessage(reply);
  } catch (error) {
    // The result could not be cloned (a handler bug): answer so the caller does not wait out its timeout.
    port.postMessage({
      id: request.id,
      ok: false,
      error: new ForgeError('FO_INTERNAL_UNEXPECTED', `the I/O worker could not send the result of ${request.kind}`, { details: { error: String(error) } }).toJSON(),
    } satisfies BridgeReply);
  }
  // The reply is queued on the port before the counter moves, so the woken caller finds it.
  Atomics.add(counter, 0, 1);
  Atomics.notify(counter, 0);
}
