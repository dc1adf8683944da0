import { describeBackendConformance } from '../test-support/conformance.js';
import { ProcessBackend } from './backend.js';

// Needs bubblewrap, user namespaces and writable cgroups: ProcessBackend.create fails
// closed (FO_SANDBOX_UNAVAILABLE) without them, and these tests fail with it. The ring
// transport also needs native/shared-memory.node (npm run build): asked for by name here,
// its absence fails these tests.
describeBackendConformance('process, one sandbox per plugin', (host) => ProcessBackend.create(host, { limits: { memoryBytes: 512 * 2 ** 20, pids: 128, fileDescriptors: 1024 } }), { preemptsTimeouts: true });

describeBackendConformance('process, one sandbox per publisher', (host) => ProcessBackend.create(host, { groupBy: 'publisher' }), { preemptsTimeouts: true });

describeBackendConformance('process, frames through the shared-memory ring', (host) => ProcessBackend.create(host, { transport: 'ring' }), { preemptsTimeouts: true });
