/**
 * The I/O worker's entry module: the thread a {@link SyncBridge} made by
 * `createIoBridge` starts. It serves:
 *
 * - `http.hop`: one HTTP exchange ({@link performHttpHop}).
 *
 * Loaded only as a worker; importing it anywhere else throws.
 */
import { performHttpHop, type HttpHop } from './http-hop.js';
import { serveSyncBridge } from './sync-bridge-worker.js';

serveSyncBridge({
  'http.hop': (payload) => performHttpHop(payload as HttpHop),
});
