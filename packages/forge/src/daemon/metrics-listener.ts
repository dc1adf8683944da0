/**
 * The Prometheus listener: its own HTTP server on telemetry.prometheus_listen (loopback
 * only, like every listener of the daemon), answering GET on telemetry.prometheus_endpoint
 * with the metrics text and nothing else. It needs no token: keep it on loopback and
 * let the scraper run there, or put an authenticating proxy in front.
 */
import { createServer, type Server } from 'node:http';
import { toForgeError, type Logger } from '@forgeone/common';
import type { PluginMetrics } from '@forgeone/plugin-manager';

/** A listening metrics server. */
export interface MetricsListener {
  /** `http://HOST:PORT<endpoint>` (the port resolved when 0 was asked). */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Listens on `listen` (HOST:PORT) and serves `metrics` at `endpoint`.
 * @throws the listen error (a port in use) as the server reports it
 */
export async function serveMetrics(metrics: PluginMetrics, listen: string, endpoint: string, logger: Logger): Promise<MetricsListener> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (request.method !== 'GET' || path !== endpoint) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    metrics.metricsText().then(
      (text) => response.writeHead(200, { 'content-type': metrics.contentType }).end(text),
      (error: unknown) => {
        logger.error('collecting metrics failed', { error: toForgeError(error).message });
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics unavailable\n');
      },
    );
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  const colon = listen.lastIndexOf(':');
  const host = listen.slice(0, colon).replace(/^\[|\]$/g, '');
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(listen.slice(colon + 1)), host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}${endpoint}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
