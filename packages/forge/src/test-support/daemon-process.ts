/**
 * `forge daemon` as operators run it: a child process (`node packages/forge/bin/forge.js
 * daemon --config FILE`) on a workspace, for the tests that kill it (SIGKILL, SIGTERM)
 * and start it again. Its stderr is kept to read what it said.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ForgeError } from '@forgeone/common';
import { send } from '../daemon/client.js';
import { pause } from './raw-http.js';

/** The `forge` launcher the package links as its bin. */
export const FORGE_BIN = fileURLToPath(new URL('../../bin/forge.js', import.meta.url));

/** A daemon table for a workspace: socket and database under run/, no TCP listener unless `listen`. */
export function daemonTable(listen = 'off'): string {
  // No fixed metrics port (tests run side by side) and no span export to a collector nobody runs.
  return `  daemon:\n    socket: run/forge.sock\n    database: run/daemon.db\n    listen: ${listen}\n  telemetry:\n    prometheus_listen: off\n    tracing_enabled: false\n`;
}

/** How a daemon process ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A running `forge daemon` child process. */
export interface DaemonProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** The socket it serves (daemon.socket of the workspace's configuration). */
  readonly socket: string;
  /** Everything it wrote to stderr so far. */
  stderr(): string;
  readonly exited: Promise<Exit>;
}

/**
 * Starts `forge daemon --config DIR/plugin-manager.yaml` in `dir` and waits until it
 * is ready (its plugins brought back), or fails with what it printed.
 * @throws Error when the process exits before it is ready, or is not ready within `waitMs`
 */
export async function spawnDaemon(dir: string, options: { readonly socket?: string; readonly waitMs?: number } = {}): Promise<DaemonProcess> {
  const socket = options.socket ?? join(dir, 'run', 'forge.sock');
  const child = spawn(process.execPath, [FORGE_BIN, 'daemon', '--config', join(dir, 'plugin-manager.yaml')], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => (stderr += text));
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let exit: Exit | undefined;
  void exited.then((value) => (exit = value));
  const daemon: DaemonProcess = { child, pid: child.pid as number, socket, stderr: () => stderr, exited };
  const deadline = Date.now() + (options.waitMs ?? 60_000);
  // Polling for readiness is waiting, not measuring: the deadline only turns a hang into a failure.
  while (Date.now() < deadline) {
    if (exit !== undefined) throw new Error(`forge daemon exited (${exit.code ?? exit.signal}) before it was ready:\n${stderr}`);
    if (stderr.includes('forge daemon: serving')) {
      const ready = await send({ socket }, { method: 'GET', path: '/v1/ready', timeoutMs: 5000 }).catch((error: unknown) => {
        if (error instanceof ForgeError) return undefined;
        throw error;
      });
      if (ready?.status === 200) return daemon;
    }
    await pause(50);
  }
  child.kill('SIGKILL');
  throw new Error(`forge daemon was not ready within ${options.waitMs ?? 60_000} ms:\n${stderr}`);
}
