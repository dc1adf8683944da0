import { PoolBackend } from './pool.js';
import { describeBackendConformance } from './test-support/conformance.js';

describeBackendConformance('pool', (host) => new PoolBackend(host, { size: 1 }), { preemptsTimeouts: true });

// The slow paths: every wait through the event loop, every payload over 4 KiB as a message.
describeBackendConformance('pool, asynchronous waits and small slots', (host) => new PoolBackend(host, { size: 2, fastWaitUs: 0, slotBytes: 4096 }), { preemptsTimeouts: true });
