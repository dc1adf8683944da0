/** Starts and stops the test HTTP server (http-server-worker.ts) in its own thread. */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

/** A running test server. */
export interface TestServer {
  readonly port: number;
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  stop(): Promise<void>;
}

/** Starts the server and waits until it listens. */
export async function startTestServer(): Promise<TestServer> {
  const worker = new Worker(new URL('./http-server-worker.js', import.meta.url), { name: 'syscall-test-http-server' });
  const [message] = (await once(worker, 'message')) as [{ port: number }];
  return {
    port: message.port,
    origin: `http://127.0.0.1:${message.port}`,
    stop: async () => {
      await worker.terminate();
    },
  };
}
