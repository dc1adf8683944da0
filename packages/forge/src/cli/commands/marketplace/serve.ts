import { join, resolve } from 'node:path';
import { REPOSITORY_LAYOUT, serveDirectory } from '@forgeone/plugin-manager/marketplace';
import { defineCommand } from '../../command.js';
import { badFlagValue } from '../../flag-value.js';
import { text } from '../../help-text.js';
import { sanitizeForTerminal } from '../../terminal.js';

/** `forge marketplace serve DIR [--listen HOST:PORT]` */
export const marketplaceServe = defineCommand({
  path: ['marketplace', 'serve'],
  summary: 'Serve a marketplace\'s published files over HTTP (GET and HEAD only) until interrupted.',
  description: text`
    Serves DIR/public/ as static files and prints the URL clients set as marketplace.url. Clients verify
    everything they read (TUF), so the server needs no trust; it still refuses paths with "..", encoded
    separators or symlinks leading out of the directory, and never lists directories. It speaks plain HTTP:
    put a TLS-terminating proxy or a CDN in front to publish beyond this host. Any static web server serving
    DIR/public/ works as well.
  `,
  flags: [{ name: 'listen', type: 'string', value: 'HOST:PORT', description: 'Address to listen on (default: 127.0.0.1:0, a free port on loopback).' }],
  args: [{ name: 'DIR', description: 'The repository (forge marketplace init).', required: true }],
  examples: ['forge marketplace serve ./market --listen 127.0.0.1:8080'],
  async run({ flags, args }, io) {
    const listen = flags.listen ?? '127.0.0.1:0';
    const match = /^(.+):(\d{1,5})$/.exec(listen);
    const port = Number(match?.[2] ?? Number.NaN);
    if (match === null || !(port <= 65_535)) throw badFlagValue('listen', 'HOST:PORT, e.g. 127.0.0.1:8080', listen);
    const host = (match[1] ?? '').replace(/^\[(.*)\]$/, '$1');
    const served = await serveDirectory(join(resolve(io.cwd, args.DIR), REPOSITORY_LAYOUT.published), { host, port });
    io.stdout.write(`${served.url}\n`);
    io.stderr.write(`serving ${sanitizeForTerminal(resolve(io.cwd, args.DIR))} until interrupted\n`);
    // Runs until the process is interrupted, or until the caller's signal aborts (tests, embedding).
    await new Promise<void>((done) => {
      if (io.signal?.aborted === true) return done();
      io.signal?.addEventListener('abort', () => done(), { once: true });
    });
    await served.close();
  },
});
