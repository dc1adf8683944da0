/**
 * How a command finds the daemon. The CLI is the daemon's client when one runs and works
 * on the local store otherwise, so every command that can do both asks here first:
 *
 * - `FORGE_DAEMON` unset (or empty): the configuration's daemon.socket, if a daemon
 *   answers there; otherwise none, and the command works locally.
 * - `FORGE_DAEMON=off`: never the daemon (scripts that must act on the files themselves).
 * - `FORGE_DAEMON=unix:PATH` or `http://HOST:PORT` (loopback only): that daemon, and no
 *   fallback: a daemon named explicitly that does not answer is FO_DAEMON_NOT_RUNNING.
 *
 * `FORGE_TOKEN`, when set, is sent as the bearer token with every request: required over
 * TCP, and on the socket it makes the request act with that token's role instead of admin.
 */
import { connect } from 'node:net';
import { resolve } from 'node:path';
import { ForgeError, describeValue, type ForgeConfig } from '@forgeone/common';
import type { DaemonTarget } from '../daemon/client.js';
import type { CliIo } from './command.js';
import { text } from './help-text.js';
import { sanitizeForTerminal } from './terminal.js';

/** A daemon to talk to. */
export interface DaemonLink {
  readonly target: DaemonTarget;
  /** The socket path or URL, for messages. */
  readonly address: string;
}

/** The paragraph every daemon-aware command's help ends with. */
export const DAEMON_HELP = text`
  Daemon: with a daemon answering on the configured daemon.socket, the command goes through its
  API; otherwise it works on the local files. FORGE_DAEMON=unix:PATH or http://127.0.0.1:PORT
  names a daemon explicitly (no fallback), FORGE_DAEMON=off never uses one, and FORGE_TOKEN is
  sent as the bearer token (needed over TCP: forge token create).
`;

/** The paragraph of the commands that only a running daemon can serve. */
export const DAEMON_ONLY_HELP = text`
  Needs a running daemon (forge daemon): without one it fails with FO_DAEMON_NOT_RUNNING (exit 9).
  It is found on the configured daemon.socket; FORGE_DAEMON=unix:PATH or http://127.0.0.1:PORT
  names another, and FORGE_TOKEN is sent as the bearer token (needed over TCP).
`;

const LOOPBACK_HOST = /^(?:localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])$/;

/** What FORGE_DAEMON says. */
type Setting = { readonly kind: 'auto'; readonly socket: string } | { readonly kind: 'off'; readonly socket: string } | { readonly kind: 'explicit'; readonly link: DaemonLink };

function invalidTarget(value: string, why: string): ForgeError {
  return new ForgeError('FO_DAEMON_TARGET_INVALID', `FORGE_DAEMON must be off, unix:PATH or http://HOST:PORT on the loopback interface; found ${JSON.stringify(sanitizeForTerminal(value.slice(0, 200)))} (${why})`, {
    details: { value: value.slice(0, 200) },
  });
}

/**
 * Reads FORGE_DAEMON and FORGE_TOKEN.
 * @throws ForgeError FO_DAEMON_TARGET_INVALID
 */
function setting(io: CliIo, config: ForgeConfig): Setting {
  const raw = io.env['FORGE_DAEMON'] ?? '';
  const token = io.env['FORGE_TOKEN'];
  const auth = token === undefined || token === '' ? {} : { token };
  if (raw === '') return { kind: 'auto', socket: config.daemon.socket };
  if (raw === 'off') return { kind: 'off', socket: config.daemon.socket };
  if (raw.startsWith('unix:')) {
    const path = raw.slice('unix:'.length);
    if (path === '') throw invalidTarget(raw, 'no socket path after unix:');
    const socket = resolve(io.cwd, path);
    return { kind: 'explicit', link: { target: { socket, ...auth }, address: socket } };
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalidTarget(raw, 'not a URL');
  }
  if (url.protocol !== 'http:') throw invalidTarget(raw, `the scheme ${url.protocol} is not served; use http:// on loopback, or an SSH tunnel to reach another host`);
  // SECURITY: the token travels in clear over http; keep it on this host's loopback interface.
  if (!LOOPBACK_HOST.test(url.hostname)) throw invalidTarget(raw, `${url.hostname} is not a loopback address, and the token would cross the network in clear`);
  if (url.username !== '' || url.password !== '' || (url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    throw invalidTarget(raw, 'only a scheme, host and port are expected');
  }
  const origin = `${url.protocol}//${url.host}`;
  return { kind: 'explicit', link: { target: { url: origin, ...auth }, address: origin } };
}

/**
 * True when a daemon answers on the unix socket at `path`.
 * @throws ForgeError FO_DAEMON_UNREACHABLE when the socket is there but this user may not connect
 */
function answers(path: string): Promise<boolean> {
  return new Promise((resolvePromise, reject) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolvePromise(true);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EACCES' || error.code === 'EPERM') {
        reject(
          new ForgeError('FO_DAEMON_UNREACHABLE', `the daemon socket ${path} is not open to this user (it belongs to the daemon's user); run forge as that user, or reach the daemon over TCP with FORGE_DAEMON and FORGE_TOKEN`, {
            details: { socket: path, reason: error.code },
          }),
        );
      } else resolvePromise(false);
    });
  });
}

/**
 * The daemon this command should talk to, or undefined to work locally (none answers on
 * the configured socket, or FORGE_DAEMON=off).
 * @throws ForgeError FO_DAEMON_TARGET_INVALID, FO_DAEMON_UNREACHABLE (a socket this user cannot open)
 */
export async function findDaemon(io: CliIo, config: ForgeConfig): Promise<DaemonLink | undefined> {
  const chosen = setting(io, config);
  if (chosen.kind === 'explicit') return chosen.link;
  if (chosen.kind === 'off' || !(await answers(chosen.socket))) return undefined;
  const token = io.env['FORGE_TOKEN'];
  return { target: { socket: chosen.socket, ...(token === undefined || token === '' ? {} : { token }) }, address: chosen.socket };
}

/**
 * The daemon a command that only a daemon can serve talks to.
 * @param command the command's words, for the message (`start`, `logs`)
 * @throws ForgeError FO_DAEMON_NOT_RUNNING (with the hint to run forge daemon), and the codes of {@link findDaemon}
 */
export async function requireDaemon(io: CliIo, config: ForgeConfig, command: string): Promise<DaemonLink> {
  const link = await findDaemon(io, config);
  if (link !== undefined) return link;
  const off = io.env['FORGE_DAEMON'] === 'off';
  throw new ForgeError(
    'FO_DAEMON_NOT_RUNNING',
    off
      ? `forge ${command} needs a running daemon, and FORGE_DAEMON=off says not to use one`
      : `forge ${command} needs a running daemon, and none answers at ${sanitizeForTerminal(config.daemon.socket)}; start one with forge daemon (or name another with FORGE_DAEMON)`,
    { details: { command, socket: config.daemon.socket } },
  );
}

/** The stderr line of a command that works locally because no daemon answers. */
export function localNote(io: CliIo, config: ForgeConfig, doing: string): string {
  const why = io.env['FORGE_DAEMON'] === 'off' ? 'FORGE_DAEMON=off' : `no daemon answers at ${sanitizeForTerminal(config.daemon.socket)}`;
  return `forge: ${why}; ${doing}\n`;
}

/** A plugin name as the store and the API accept it. */
const PLUGIN_NAME = /^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/;

/**
 * The API path of a plugin (`/v1/plugins/NAME` + `rest`), after checking the name as the
 * store does, so a bad name is refused with the code it gets without a daemon.
 * @throws ForgeError FO_STORE_INVALID_NAME
 */
export function pluginPath(name: string, rest = ''): string {
  if (!PLUGIN_NAME.test(name)) {
    throw new ForgeError('FO_STORE_INVALID_NAME', `expected a plugin name (1-64 of a-z 0-9 . _ -, starting and ending with a letter or digit), found ${describeValue(name)}`, {
      details: { name },
    });
  }
  return `/v1/plugins/${name}${rest}`;
}
