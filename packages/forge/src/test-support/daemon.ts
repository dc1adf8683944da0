/**
 * A daemon for tests, in-process, on a fresh state in a temp directory: a signing
 * workspace (CA, publisher, trust store), a socket and database inside it, the loopback
 * TCP listener on a free port, an audit log, and the signed sample plugin packed and
 * ready to install.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, loadConfigFile, type LogRecord } from '@forgeone/common';
import { send, type ApiRequest, type ApiResponse, type DaemonTarget } from '../daemon/client.js';
import { startDaemon, type RunningDaemon } from '../daemon/daemon.js';
import type { ResolveAll } from '../daemon/pull-policy.js';
import type { StreamLimits } from '../daemon/streams.js';
import type { Route } from '../daemon/http/route.js';
import type { DaemonServices } from '../daemon/routes/index.js';
import { pack } from '../cli/commands/package/pack.js';
import { sign } from '../cli/commands/package/sign.js';
import { cliFor } from './cli.js';
import { signingWorkspace } from './workspace.js';

/** The repository's sample plugin. */
export const SAMPLE_PLUGIN_DIR = fileURLToPath(new URL('../../../../examples/sample-plugin', import.meta.url));

const { ok } = cliFor([pack, sign]);

/** A signed package of the sample plugin in `dir`; returns its path. */
export async function signedSample(dir: string, name = 'sample.forgepkg'): Promise<string> {
  await ok(dir, 'pack', SAMPLE_PLUGIN_DIR, '-o', name);
  await ok(dir, 'sign', name, '--key', 'publisher.key', '--cert', 'publisher.pem');
  return join(dir, name);
}

/** A running test daemon. */
export interface TestDaemon {
  readonly dir: string;
  readonly daemon: RunningDaemon;
  readonly logs: LogRecord[];
  /** The socket, acting as the daemon's own user (admin). */
  readonly socket: DaemonTarget;
  /** The TCP listener with `token` (or none). */
  tcp(token?: string): DaemonTarget;
  /** Sends a request and parses a JSON answer (`json` undefined for other bodies). */
  request(target: DaemonTarget, request: ApiRequest): Promise<ApiResponse & { readonly json: unknown }>;
  /** The audit log's event records. */
  auditEvents(): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

/** How a test daemon differs from the default one. */
export interface TestDaemonOptions {
  /** Lines inside the plugin_manager table, e.g. `  runtime:\n    backend: inline\n`. */
  readonly yaml?: string;
  /** Lines inside its daemon table, e.g. `    max_request_size: 2KB\n`. */
  readonly daemonYaml?: string;
  /** Lines inside its telemetry table (default: tracing off, metrics on a free loopback port). */
  readonly telemetryYaml?: string;
  /** Lines inside its audit table, e.g. `    level: all\n`. */
  readonly auditYaml?: string;
  /** Reuse this workspace (a restart) instead of making one. */
  readonly dir?: string;
  /** Bounds of streams other than the defaults (a short heartbeat). */
  readonly streams?: Partial<StreamLimits>;
  /** Extra routes, served like the table's (startDaemon's `routes`). */
  readonly routes?: readonly Route<DaemonServices>[];
  /** How pulls resolve registry host names (startDaemon's `resolve`). */
  readonly resolve?: ResolveAll;
}

/** Starts a daemon (see the module comment). */
export async function testDaemon(options: TestDaemonOptions = {}): Promise<TestDaemon> {
  const daemonTable = `  daemon:\n    socket: run/forge.sock\n    database: run/daemon.db\n    listen: 127.0.0.1:0\n${options.daemonYaml ?? ''}`;
  const telemetryTable = `  telemetry:\n${options.telemetryYaml ?? '    tracing_enabled: false\n    prometheus_listen: 127.0.0.1:0\n'}`;
  const workspace = options.dir ?? (await signingWorkspace('forge-daemon-', `${daemonTable}${telemetryTable}${options.yaml ?? ''}`, options.auditYaml));
  const config = await loadConfigFile(join(workspace, 'plugin-manager.yaml'));
  const logs: LogRecord[] = [];
  const daemon = await startDaemon({
    config,
    configDir: workspace,
    logger: createLogger((record) => logs.push(record), 'debug'),
    version: 'test',
    socketUser: 'user:tester',
    ...(options.streams === undefined ? {} : { streams: options.streams }),
    ...(options.routes === undefined ? {} : { routes: options.routes }),
    ...(options.resolve === undefined ? {} : { resolve: options.resolve }),
  });
  await daemon.restored;
  const url = daemon.url;
  return {
    dir: workspace,
    daemon,
    logs,
    socket: { socket: daemon.socket },
    tcp: (token) => ({ url: url ?? 'http://127.0.0.1:1', ...(token === undefined ? {} : { token }) }),
    async request(target, request) {
      const response = await send(target, request);
      const json = response.contentType.startsWith('application/json') && response.body.length > 0 ? (JSON.parse(response.body.toString('utf8')) as unknown) : undefined;
      return { ...response, json };
    },
    async auditEvents() {
      await daemon.services.audit?.flush();
      const text = await readFile(join(workspace, 'audit', 'audit.log'), 'utf8').catch(() => '');
      return text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((record) => record['type'] === 'event');
    },
    close: () => daemon.close(),
  };
}
