import { describeBackendConformance } from '../test-support/conformance.js';
import { ProcessBackend } from './backend.js';

// Needs bubblewrap, user namespaces and writable cgroups: ProcessBackend.create fails
// closed (FO_SANDBOX_UNAVAILABLE) without them, and these tests fail with it. The ring
// transport (the default, with the host thread's direct path) needs
// native/shared-memory.node (npm run build); the last suite asks for the FIFOs alone.
describeBackendConformance('process, one sandbox per plugin', (host) => ProcessBackend.create(host, { limits: { memoryBytes: 512 * 2 ** 20, pids: 128, fileDescriptors: 1024 } }), { preemptsTimeouts: true, relayed: true });

describeBackendConformance('process, one sandbox per publisher', (host) => ProcessBackend.create(host, { groupBy: 'publisher' }), { preemptsTimeouts: true, relayed: true });

describeBackendConformance('process, frames over the FIFOs alone (no direct path)', (host) => ProcessBackend.create(host, { transport: 'fifo' }), { preemptsTimeouts: true, relayed: true });
