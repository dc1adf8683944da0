/**
 * A local HTTP server on 127.0.0.1 for the http_request tests, run in its own worker
 * thread: the test's main thread is blocked while a plugin waits for a response, so
 * the server cannot live there. Posts `{ port }` once listening.
 *
 * Routes: `/hello` (200 "hello", header x-test: yes), `/echo` (JSON of the method,
 * path, headers and body), `/redirect?to=URL&status=N` (N, default 302, to URL),
 * `/loop` (302 to itself), `/bytes?n=N` (N bytes of "a" with Content-Length),
 * `/stream?n=N` (N bytes, chunked, no length), `/hang` (never answers).
 */
import { createServer, type ServerResponse } from 'node:http';
import { parentPort } from 'node:worker_threads';

function send(response: ServerResponse, status: number, body: string | Buffer, headers: Record<string, string | number> = {}): void {
  response.writeHead(status, headers);
  response.end(body);
}

const server = createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://local');
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    switch (url.pathname) {
      case '/hello':
        send(response, 200, 'hello', { 'content-type': 'text/plain', 'x-test': 'yes' });
        return;
      case '/echo':
        send(response, 200, JSON.stringify({ method: request.method, path: request.url, headers: request.headers, body: Buffer.concat(chunks).toString('base64') }), {
          'content-type': 'application/json',
        });
        return;
      case '/redirect':
        send(response, Number(url.searchParams.get('status') ?? 302), 'moved', { location: url.searchParams.get('to') ?? '/hello' });
        return;
      case '/loop':
        send(response, 302, 'again', { location: '/loop' });
        return;
      case '/bytes': {
        const n = Number(url.searchParams.get('n') ?? 0);
        send(response, 200, Buffer.alloc(n, 0x61), { 'content-length': n });
        return;
      }
      case '/stream': {
        let left = Number(url.searchParams.get('n') ?? 0);
        response.writeHead(200, { 'content-type': 'application/octet-stream' });
        const step = (): void => {
          if (left <= 0) {
            response.end();
            return;
          }
          const size = Math.min(left, 1000);
          left -= size;
          response.write(Buffer.alloc(size, 0x62), step);
        };
        step();
        return;
      }
      case '/hang':
        return; // never answers
      default:
        send(response, 404, 'not found');
    }
  });
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  parentPort?.postMessage({ port: typeof address === 'object' && address !== null ? address.port : 0 });
});
