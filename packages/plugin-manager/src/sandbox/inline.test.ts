import { InlineBackend } from './inline.js';
import { describeBackendConformance } from './test-support/conformance.js';

describeBackendConformance('inline', (host) => new InlineBackend(host), { preemptsTimeouts: false });
