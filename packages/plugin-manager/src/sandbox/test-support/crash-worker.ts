/**
 * A pool worker for fault-injection tests: it exits the thread (as a crash would)
 * before running a call of an export named `crash_worker`.
 */
import { runPoolWorker } from '../pool-worker-loop.js';

runPoolWorker({
  beforeCall: (_plugin, exportName) => {
    if (exportName === 'crash_worker') process.exit(70);
  },
});
