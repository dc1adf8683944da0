/**
 * The web dashboard's files (docs/dashboard.md): the page at `/ui`, its scripts and style
 * sheet at `/ui/<file>`. They are public: they hold no data and no secret. Everything the
 * page shows it fetches from the API with the token the user logs in with, so the
 * dashboard can do exactly what that token's role can do with the CLI, and nothing more.
 *
 * SECURITY: every file goes out with `Content-Security-Policy: default-src 'self'` (plus
 * no `<base>`, no form submission, no framing, and Trusted Types with no policy, so the
 * browser refuses any assignment of a string to innerHTML and the like): no inline script,
 * no script or style from elsewhere, so text a plugin supplies (names, log lines, event
 * payloads, audit resources) cannot run even if some code path put it into markup; the page
 * only ever assigns it with textContent. `nosniff` makes the browser honour the media types given here, and
 * `no-referrer` keeps the page's URL (a token may arrive in its fragment) out of requests.
 * Only files of the build's own directory with a known extension are served, by a name
 * that cannot hold a path separator.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ForgeError } from '@forgeone/common';
import { route, type Route } from '../http/route.js';
import type { DaemonServices } from './services.js';

/** The headers of every dashboard file. */
export const UI_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'x-frame-options': 'DENY',
  // The files change with the daemon's version: always revalidate (the ETag makes that cheap).
  'cache-control': 'no-cache',
});

const MEDIA_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** A file name the dashboard may ask for: no separator, no leading dot, one known extension. */
const FILE_NAME = '^[a-z0-9][a-z0-9-]{0,63}\\.(?:html|js|css|svg)$';
const FILE_NAME_RE = new RegExp(FILE_NAME);

interface UiFile {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

/** Where the build put the dashboard (dist/daemon/ui, beside dist/daemon/routes). */
const UI_DIR = new URL('../ui/', import.meta.url);

let loading: Promise<ReadonlyMap<string, UiFile>> | undefined;

/** The dashboard's files, read once on first use (nothing is read at import time). */
function files(): Promise<ReadonlyMap<string, UiFile>> {
  loading ??= (async () => {
    const found = new Map<string, UiFile>();
    const names = await readdir(UI_DIR).catch(() => [] as string[]);
    for (const name of names) {
      const type = MEDIA_TYPES[extname(name)];
      // The name rule also leaves out the build's by-products (declarations: x.d.ts, build info).
      if (type === undefined || !FILE_NAME_RE.test(name)) continue;
      const body = await readFile(new URL(name, UI_DIR));
      found.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` });
    }
    return found;
  })();
  return loading;
}

/**
 * The file called `name`.
 * @throws ForgeError FO_DAEMON_NO_ROUTE when the build has no such dashboard file
 */
async function file(name: string): Promise<UiFile> {
  const found = (await files()).get(name);
  if (found === undefined) {
    throw new ForgeError('FO_DAEMON_NO_ROUTE', name === 'index.html' ? 'the dashboard is not in this build (dist/daemon/ui/index.html is missing; run npm run build)' : `the dashboard has no file ${name}`);
  }
  return found;
}

/** Answers 304 when the browser already holds this version. */
function unchanged(request: FastifyRequest, found: UiFile): boolean {
  return request.headers['if-none-match'] === found.etag;
}

function writeFile(request: FastifyRequest, reply: FastifyReply, found: UiFile): void {
  // Written to the raw response so the file keeps its own media type (the route table's
  // response kinds are JSON, bytes, streams and HTML).
  void reply.hijack();
  const headers = { ...UI_HEADERS, etag: found.etag };
  if (unchanged(request, found)) {
    reply.raw.writeHead(304, headers);
    reply.raw.end();
    return;
  }
  reply.raw.writeHead(200, { ...headers, 'content-type': found.type, 'content-length': String(found.body.length) });
  reply.raw.end(found.body);
}

/** The dashboard's routes. */
export const UI_ROUTES: readonly Route<DaemonServices>[] = [
  route<DaemonServices>({
    operation: 'ui.page',
    method: 'GET',
    url: '/ui',
    summary: 'The web dashboard (docs/dashboard.md).',
    description:
      'A static page: it logs in with an API token (typed in, or given as #token=... in the URL fragment, kept in the tab\'s sessionStorage) and ' +
      'sends it as a bearer token with every API call. Served with Content-Security-Policy default-src \'self\'.',
    role: 'public',
    mutates: false,
    response: { status: 200, content: 'html', description: 'The page.' },
    handler: async ({ request, reply }) => {
      writeFile(request, reply, await file('index.html'));
      return undefined;
    },
  }),
  route<DaemonServices>({
    operation: 'ui.file',
    method: 'GET',
    url: '/ui/:file',
    summary: 'A script, style sheet or image of the web dashboard (`/ui/` alone is the page).',
    description: 'Served with its own media type (text/javascript, text/css, image/svg+xml) and the page\'s security headers.',
    role: 'public',
    mutates: false,
    params: {
      type: 'object',
      // Empty: `/ui/` is the page too.
      properties: { file: { type: 'string', pattern: `${FILE_NAME}|^$`, description: 'The file\'s name (empty: the page).' } },
      required: ['file'],
      additionalProperties: false,
    },
    response: { status: 200, content: 'binary', description: 'The file.' },
    handler: async ({ params, request, reply }) => {
      const name = params['file'] as string;
      writeFile(request, reply, await file(name === '' ? 'index.html' : name));
      return undefined;
    },
  }),
];
