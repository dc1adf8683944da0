/**
 * The host's I/O bridge: one {@link SyncBridge} whose worker runs io-worker.ts. Create
 * one per thread that runs plugins (the main thread, each pool worker), share it among
 * that thread's plugins, and close it at shutdown.
 */
import { SyncBridge } from './sync-bridge.js';

/** The worker module behind {@link createIoBridge}. */
export const IO_WORKER_URL = new URL('./io-worker.js', import.meta.url);

/**
 * A bridge to a new I/O worker. The thread starts on the first call (or
 * {@link SyncBridge.start}); until then the bridge costs nothing.
 */
export function createIoBridge(name = 'forge-io'): SyncBridge {
  return new SyncBridge({ worker: IO_WORKER_URL, name, resourceLimits: { maxOldGenerationSizeMb: 256 } });
}
