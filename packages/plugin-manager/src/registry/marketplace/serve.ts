/**
 * A static file server for a repository's public/ directory: enough to serve a
 * marketplace, since TUF needs no trust in the server (clients verify everything).
 *
 * SECURITY: GET and HEAD only; a path with `..`, `.` or empty segments, a backslash, a
 * NUL or a percent-encoding that does not decode is refused before the file system is
 * touched; the resolved real path must stay under the served directory (no symlink
 * escape); only regular files are served, never directory listings; every response
 * says nosniff and carries no cookie. It binds to 127.0.0.1 unless told otherwise:
 * put a TLS-terminating proxy or a CDN in front to publish it.
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, sep } from 'node:path';
import { ForgeError, fromFsError } from '@forgeone/common';

/** Options of {@link serveDirectory}. */
export interface ServeOptions {
  /** Address to bind. Default 127.0.0.1. */
  readonly host?: string;
  /** Port; 0 (the default) takes a free one. */
  readonly port?: number;
}

/** A running server. */
export interface ServingDirectory {
  /** `http://HOST:PORT/`, the marketplace URL clients configure. */
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

const SAFE_SEGMENT = /^[A-Za-z0-9._-]+$/;

/** The path segments of a request target, or undefined when it is not a plain safe path. */
export function safeSegments(target: string): string[] | undefined {
  const path = target.split('?')[0] ?? '';
  if (!path.startsWith('/')) return undefined;
  // Split before decoding, so an encoded "/" (%2F) stays inside its segment and is refused there.
  const segments: string[] = [];
  for (const encoded of path.slice(1).split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(encoded);
    } catch {
      return undefined;
    }
    if (!SAFE_SEGMENT.test(segment) || segment === '.' || segment === '..') return undefined;
    segments.push(segment);
  }
  return segments;
}

function send(response: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', ...headers });
  response.end(`${text}\n`);
}

async function handle(root: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, 'method not allowed', { allow: 'GET, HEAD' });
  const segments = safeSegments(request.url ?? '');
  if (segments === undefined) return send(response, 400, 'bad path');
  let file: string;
  try {
    file = await realpath(join(root, ...segments));
  } catch {
    return send(response, 404, 'not found');
  }
  if (!file.startsWith(`${root}${sep}`)) return send(response, 404, 'not found');
  const info = await stat(file).catch(() => undefined);
  if (info === undefined || !info.isFile()) return send(response, 404, 'not found');
  response.writeHead(200, {
    'content-type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream',
    'content-length': String(info.size),
    'x-content-type-options': 'nosniff',
    'cache-control': file.endsWith(`${sep}timestamp.json`) || file.endsWith(`${sep}root.json`) ? 'no-cache' : 'public, max-age=300',
  });
  if (request.method === 'HEAD') return void response.end();
  createReadStream(file).on('error', () => response.destroy()).pipe(response);
}

/**
 * Serves `dir` over HTTP.
 *
 * @throws ForgeError FO_IO_* when `dir` does not exist, FO_MARKET_UNREACHABLE when the address cannot be bound
 */
export async function serveDirectory(dir: string, options: ServeOptions = {}): Promise<ServingDirectory> {
  const root = await realpath(dir).catch((error: unknown) => {
    throw fromFsError(error, 'serve the directory', dir);
  });
  const server = createServer((request, response) => {
    handle(root, request, response).catch(() => response.destroy());
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new ForgeError('FO_MARKET_UNREACHABLE', `cannot serve on ${host}:${options.port ?? 0}: ${error.message}`, { details: { host, port: options.port ?? 0 }, cause: error })));
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shown}:${address.port}/`,
    server,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
