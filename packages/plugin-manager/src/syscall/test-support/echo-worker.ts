/** A worker for the sync-bridge tests. */
import { setTimeout as sleep } from 'node:timers/promises';
import { ForgeError } from '@forgeone/common';
import { bridgeData, serveSyncBridge } from '../sync-bridge-worker.js';

serveSyncBridge({
  echo: (payload) => payload,
  data: () => bridgeData(),
  wait: async (payload) => {
    await sleep(payload as number);
    return 'waited';
  },
  fail: () => {
    throw new ForgeError('FO_SYSCALL_KV_NOT_FOUND', 'no such thing', { details: { key: 'k' } });
  },
  crash: () => {
    throw new TypeError('leaked /secret/host/path');
  },
  hang: () => new Promise(() => {}),
  fill: (payload) => new Uint8Array(payload as number).fill(7),
  unclonable: () => () => 'functions do not clone',
});
