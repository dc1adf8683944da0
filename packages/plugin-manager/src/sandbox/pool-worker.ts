/**
 * The entry module of a pool worker thread (see pool-worker-loop.ts). Loaded only as a
 * worker by the pool backend; importing it anywhere else throws.
 */
import { runPoolWorker } from './pool-worker-loop.js';

runPoolWorker();
