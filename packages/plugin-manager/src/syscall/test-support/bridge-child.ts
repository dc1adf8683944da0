/**
 * A child process for the sync-bridge test: makes one call and ends without closing
 * the bridge. An idle bridge must not keep the process alive, so this exits by itself.
 */
import { SyncBridge } from '../sync-bridge.js';

const sync = new SyncBridge({ worker: new URL('./echo-worker.js', import.meta.url) });
process.stdout.write(String(sync.call('echo', 'alive', 10_000)));
