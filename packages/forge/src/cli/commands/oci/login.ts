import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ForgeError, fromFsError } from '@forgeone/common';
import { OciClient, saveCredentials } from '@forgeone/plugin-manager';
import { defineCommand } from '../../command.js';
import { text } from '../../help-text.js';
import { sanitizeForTerminal } from '../../terminal.js';
import { PLAIN_HTTP_FLAG, REGISTRY_CONFIG_FLAG, registryConfigPath } from './registry.js';

/** Largest password file read, in bytes. */
const MAX_PASSWORD = 64 * 1024;

/** `forge login HOST -u USER --password-file FILE` */
export const ociLogin = defineCommand({
  path: ['login'],
  summary: 'Check credentials against a registry and store them in the docker config.json.',
  description: text`
    Asks HOST's /v2/ with the credentials (answering its Basic or Bearer challenge), and only when it accepts
    them writes them to the docker config.json (mode 0600, other entries kept), where forge push, pull and
    install, docker, podman and skopeo find them. The password is read from a file, never from the command
    line where other users could see it: use --password-file /dev/stdin to pipe it. One trailing newline is
    removed.
  `,
  flags: [
    { name: 'username', short: 'u', type: 'string', value: 'USER', description: 'The user name.', required: true },
    { name: 'password-file', type: 'string', value: 'FILE', description: 'A file holding the password or token (/dev/stdin to pipe it).', required: true },
    REGISTRY_CONFIG_FLAG,
    PLAIN_HTTP_FLAG,
  ],
  args: [{ name: 'HOST', description: 'The registry, host[:port].', required: true }],
  examples: ['printf %s "$GHCR_TOKEN" | forge login ghcr.io -u acme --password-file /dev/stdin'],
  async run({ flags, args }, io) {
    const source = resolve(io.cwd, flags['password-file'] ?? '');
    const raw = await readFile(source).catch((error: unknown) => {
      throw fromFsError(error, 'read the password', source);
    });
    if (raw.length > MAX_PASSWORD) throw new ForgeError('FO_OCI_TOO_LARGE', `${source}: expected a password of at most ${MAX_PASSWORD} bytes, found ${raw.length}`, { details: { path: source } });
    const password = raw.toString('utf8').replace(/\r?\n$/, '');
    const host = args.HOST.toLowerCase();
    const credentials = { username: flags.username ?? '', password };
    const client = new OciClient({ registry: host, credentials, ...(flags['plain-http'] ? { plainHttp: true } : {}) });
    const answer = await client.send({ method: 'GET', path: '/v2/', scope: '', what: `login to ${host}` });
    await answer.body?.cancel();
    const path = registryConfigPath(io, flags['registry-config']);
    await saveCredentials(path, host, credentials);
    io.stdout.write(`logged in to ${sanitizeForTerminal(host)} as ${sanitizeForTerminal(credentials.username)} (credentials in ${path})\n`);
  },
});
