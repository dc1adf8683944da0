/**
 * `forge daemon`'s composition root: one store (plugin_directory) and one registry for
 * this host, served over a unix socket (mode 0600) and, if configured, a loopback TCP
 * listener; every request authorised and audited (http/access.ts).
 *
 * Start: take the daemon lock (a second daemon on the same state is refused), open the
 * audit log, the store, the registry and the daemon's database, listen, then bring back
 * the plugins that were running (readiness answers once that is done).
 * Stop (`close`): refuse new requests, let the ones in flight finish, stop the plugins
 * (dependents first; their desired state is kept, so the next start brings them back),
 * flush and checkpoint the audit log, release the lock.
 */
import { existsSync, mkdirSync, rmSync, chmodSync } from 'node:fs';
import { homedir } from 'node:os';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { ForgeError, TelemetryBus, createLogger, fromFsError, toForgeError, type ForgeConfig, type LogRecord, type Logger, type PluginIdentity } from '@forgeone/common';
import { auditPathsFromConfig, openConfiguredAuditLog, type AuditLog } from '@forgeone/microkernel';
import { PluginManager, PluginRegistry, PluginStore, createMetrics, createTracing, storeOptionsFromConfig } from '@forgeone/plugin-manager';
import { loadAttestationSettings, packageLimitsFromConfig } from '@forgeone/plugin-manager/signing';
import type { FastifyInstance } from 'fastify';
import { AuditReader } from './audit-reader.js';
import { EventHub } from './events.js';
import { loadPeerReader, peerOf, recordPeers } from './http/peer.js';
import { buildApi } from './http/api.js';
import type { Route } from './http/route.js';
import { takeDaemonLock, type DaemonLock } from './lock.js';
import { PluginLogs } from './logs.js';
import { serveMetrics } from './metrics-listener.js';
import { PendingUpgrades } from './pending.js';
import type { ResolveAll } from './pull-policy.js';
import { RegistryPulls } from './pulls.js';
import { DAEMON_ROUTES } from './routes/index.js';
import type { DaemonServices } from './routes/services.js';
import { PluginService } from './service.js';
import { RevocationWatch } from './revocations.js';
import { DaemonState } from './state.js';
import { DaemonStats } from './stats.js';
import { Streams, type StreamLimits } from './streams.js';
import { Tokens } from './tokens.js';
import { Upgrades } from './upgrades.js';

/** What the daemon is started with. */
export interface DaemonOptions {
  readonly config: ForgeConfig;
  /** The configuration file's directory, for relative paths (trust store, policies). */
  readonly configDir: string;
  /** Where the daemon's own records go; plugin records pass through it too, tagged with `plugin`. */
  readonly logger: Logger;
  /** Receives every record of the registry's logger (plugin logs among them), besides `logger`. */
  readonly onLog?: (record: LogRecord) => void;
  readonly version: string;
  /** The principal of socket callers: `user:<the daemon's user>`. */
  readonly socketUser: string;
  /** Extra routes (the dashboard's, tests'), served like the table's. */
  readonly routes?: readonly Route<DaemonServices>[];
  /** Bounds of log follows and event streams (streams.ts; defaults: 64 open, 1,000 queued, a heartbeat every 15 s). */
  readonly streams?: Partial<StreamLimits>;
  /** How pulls resolve registry host names (tests answer their own, e.g. a rebinding DNS). Default: the system resolver. */
  readonly resolve?: ResolveAll;
}

/** A running daemon. */
export interface RunningDaemon {
  /** The unix socket path. */
  readonly socket: string;
  /** `http://HOST:PORT` of the TCP listener (the port resolved when 0 was asked), or undefined. */
  readonly url: string | undefined;
  /** `http://HOST:PORT/<endpoint>` of the Prometheus listener, or undefined (metrics off, or prometheus_listen off). */
  readonly metricsUrl: string | undefined;
  readonly services: DaemonServices;
  /** Resolves when the plugins that should run have been brought back (or failed to). */
  readonly restored: Promise<void>;
  /** Stops everything (see the module comment). Idempotent. */
  close(): Promise<void>;
}

/** True when something answers on the unix socket at `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Starts the daemon.
 * @throws ForgeError FO_DAEMON_RUNNING, FO_DAEMON_STATE_INVALID, the audit log's, store's,
 *   trust store's and registry's codes, FO_IO_* (the socket or the TCP port cannot be used)
 */
export async function startDaemon(options: DaemonOptions): Promise<RunningDaemon> {
  const { config, logger } = options;
  const cleanups: (() => Promise<void> | void)[] = [];
  const undo = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        logger.warn('cleaning up after a failed start failed', { error: toForgeError(error).message });
      }
    }
  };
  try {
    mkdirSync(dirname(config.daemon.database), { recursive: true, mode: 0o700 });
    const lock: DaemonLock = takeDaemonLock(`${config.daemon.database}.lock`);
    cleanups.push(() => lock.release());
    if (lock.tookOverFrom !== undefined) logger.warn('took over the lock of a daemon that is no longer running', { previous_pid: lock.tookOverFrom });

    const audit: AuditLog | undefined = config.security.audit_logging ? await openConfiguredAuditLog(config.audit, options.configDir, { logger }) : undefined;
    if (audit !== undefined) cleanups.push(() => audit.close());
    const attestation = await loadAttestationSettings(config.security, options.configDir);
    const store = await PluginStore.open(storeOptionsFromConfig(config, attestation, audit === undefined ? {} : { audit: { log: audit, principal: options.socketUser } }));
    const logs = new PluginLogs(config.daemon.log_buffer);
    const registryLogger = teeLogger(logger, (record) => {
      logs.accept(record);
      options.onLog?.(record);
    });
    const tracing = createTracing(config.telemetry, { serviceName: 'forge-daemon', serviceVersion: options.version, logger });
    if (tracing !== undefined) cleanups.push(() => tracing.shutdown());
    // The registry's own bus (not the process-wide one): lifecycle events for /v1/events.
    const telemetry = new TelemetryBus((error, event) => logger.warn('a telemetry listener threw', { event: event.name, error: toForgeError(error).message }));
    const registry = await PluginRegistry.create(config, {
      audit: audit ?? false,
      logger: registryLogger,
      configDir: options.configDir,
      attestation,
      telemetry,
      ...(tracing === undefined ? {} : { tracing }),
    });
    // Revocations are verified before plugins come back, so a revoked one is refused at load.
    const revocations = config.marketplace.url === undefined ? undefined : new RevocationWatch(config.marketplace, registry, logger);
    const revocationsApplied = revocations?.start() ?? Promise.resolve();
    if (revocations !== undefined) cleanups.push(() => revocations.stop());
    const manager = new PluginManager(registry, store);
    const stats = new DaemonStats(registry);
    const metrics = createMetrics(config.telemetry, registry);
    const state = DaemonState.open(config.daemon.database);
    const plugins = new PluginService({ manager, store, state, logs, logger, ...(revocations === undefined ? {} : { admit: (identity: PluginIdentity) => revocations.check(identity) }) });
    cleanups.push(async () => {
      await plugins.close();
      stats.close();
      metrics?.close();
      state.close();
    });
    const upgrades = new Upgrades(PendingUpgrades.open(state.db, join(dirname(config.daemon.database), 'pending')), plugins, logger);
    const events = new EventHub({ telemetry, registry, audit });
    const streams = new Streams(options.streams);

    let ready = false;
    let draining = false;
    const services: DaemonServices = {
      plugins,
      tokens: new Tokens(state.db),
      logs,
      stats,
      audit,
      auditReader: new AuditReader(auditPathsFromConfig(config.audit, options.configDir), audit),
      events,
      streams,
      upgrades,
      pulls: new RegistryPulls({
        plugins,
        store,
        upgrades,
        marketplace: revocations,
        allowed: config.daemon.pull_registries,
        limits: packageLimitsFromConfig(config.package_limits),
        requireSignatures: config.security.verify_signatures,
        credentialsFile: registryCredentialsFile(),
        audit,
        logger,
        ...(options.resolve === undefined ? {} : { resolve: options.resolve }),
      }),
      about: { version: options.version, startedAt: new Date().toISOString(), pid: process.pid },
      ...(revocations === undefined ? {} : { revocations }),
      ready: () => ready && !draining,
    };
    const routes = [...DAEMON_ROUTES, ...(options.routes ?? [])];
    const peers = loadPeerReader();
    if ('reason' in peers) logger.warn('socket callers are not identified by their peer credentials: the socket file mode alone keeps other users out', { reason: peers.reason });
    const daemonUid = process.geteuid?.() ?? 0;
    const api = (transport: 'socket' | 'tcp'): FastifyInstance =>
      buildApi({
        transport,
        routes,
        services,
        access: { tokens: services.tokens, audit, socketUser: options.socketUser, daemonUid, ...(transport === 'socket' && 'reader' in peers ? { peers: peerOf } : {}) },
        logger,
        maxBodyBytes: config.daemon.max_request_size,
        requestTimeoutMs: config.daemon.request_timeout,
        maxConnections: config.daemon.max_connections,
        draining: () => draining,
      });

    const socket = config.daemon.socket;
    mkdirSync(dirname(socket), { recursive: true, mode: 0o700 });
    chmodSync(dirname(socket), 0o700);
    if (existsSync(socket)) {
      // We hold the lock, so whatever answers there is not a daemon of this state.
      if (await answers(socket)) throw new ForgeError('FO_DAEMON_RUNNING', `something already answers on ${socket}`, { details: { socket } });
      rmSync(socket, { force: true });
    }
    const socketServer = api('socket');
    if ('reader' in peers) recordPeers(socketServer.server, peers.reader, logger);
    await socketServer.listen({ path: socket }).catch((error: unknown) => {
      throw fromFsError(error, 'listen on the daemon socket', socket);
    });
    chmodSync(socket, 0o600);
    const servers: FastifyInstance[] = [socketServer];
    cleanups.push(async () => {
      draining = true;
      await Promise.all(servers.map((server) => server.close()));
      rmSync(socket, { force: true });
    });
    // Runs before the servers close (cleanups run in reverse): an open stream would hold its server open.
    cleanups.push(() => {
      events.close();
      streams.closeAll();
    });
    let url: string | undefined;
    if (config.daemon.listen !== 'off') {
      const tcp = api('tcp');
      const colon = config.daemon.listen.lastIndexOf(':');
      const host = config.daemon.listen.slice(0, colon).replace(/^\[|\]$/g, '');
      await tcp.listen({ host, port: Number(config.daemon.listen.slice(colon + 1)) });
      servers.push(tcp);
      const address = tcp.server.address();
      const port = typeof address === 'object' && address !== null ? address.port : Number(config.daemon.listen.slice(colon + 1));
      url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    }

    let metricsUrl: string | undefined;
    if (metrics !== undefined && config.telemetry.prometheus_listen !== 'off') {
      const listener = await serveMetrics(metrics, config.telemetry.prometheus_listen, config.telemetry.prometheus_endpoint, logger);
      cleanups.push(() => listener.close());
      metricsUrl = listener.url;
    }

    const restored = revocationsApplied.then(() => plugins.restore()).then(
      (outcome) => {
        ready = true;
        logger.info('plugins brought back', { started: outcome.started.length, failed: outcome.failed.length });
      },
      (error: unknown) => {
        ready = true;
        logger.error('bringing plugins back failed', { error: toForgeError(error).message });
      },
    );
    let closing: Promise<void> | undefined;
    return {
      socket,
      url,
      metricsUrl,
      services,
      restored,
      close: () => {
        closing ??= (async () => {
          draining = true;
          await restored;
          await undo();
        })();
        return closing;
      },
    };
  } catch (error) {
    await undo();
    throw error;
  }
}

/** The daemon user's docker config.json, as the CLI finds it: $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
function registryCredentialsFile(): string {
  const dir = process.env['DOCKER_CONFIG'];
  return dir !== undefined && dir !== '' ? join(dir, 'config.json') : join(homedir(), '.docker', 'config.json');
}

/** A logger that also hands every record it writes to `tap` (the shared logger with a sink that writes to both; `logger` applies its own level). */
function teeLogger(logger: Logger, tap: (record: LogRecord) => void): Logger {
  return createLogger((record) => {
    logger[record.level](record.message, record.fields);
    tap(record);
  }, 'trace');
}
