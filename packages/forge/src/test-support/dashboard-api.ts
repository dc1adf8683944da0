/**
 * A stand-in for the daemon's API, for the dashboard's browser tests and its benchmark:
 * the real dashboard routes (routes/ui.ts: files, headers), the real server and access
 * check (http/api.ts, bearer tokens of the three roles), and in-memory plugins, figures,
 * events, audit records, logs and pending upgrades in the shapes docs/reference/http-api.md
 * documents. It holds any number of plugins (a daemon with 1,000 installed is slow to set
 * up) and any content (names and log lines no real plugin could produce, to attack the
 * page with), and can leave operations out to show the page degrading.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { ForgeError, silentLogger } from '@forgeone/common';
import { buildApi } from '../daemon/http/api.js';
import { route, type Route } from '../daemon/http/route.js';
import { UI_ROUTES } from '../daemon/routes/ui.js';
import { DaemonState } from '../daemon/state.js';
import { Tokens } from '../daemon/tokens.js';

/** A plugin as GET /v1/plugins shows it (the fields the dashboard reads; the rest are filled in). */
export interface FakePlugin {
  readonly name: string;
  readonly state: string;
  readonly version?: string;
  readonly publisher?: string;
}

/** Operations the fake can leave out (they answer 404 FO_DAEMON_NO_ROUTE, as an older daemon would). */
export type FakeOperation = 'events' | 'stats' | 'audit' | 'verify' | 'upgrades' | 'logs';

/** A pending upgrade, as GET /v1/upgrades shows it. */
export interface FakeUpgrade {
  readonly id: string;
  readonly name: string;
  readonly from: string | null;
  readonly to: string;
  readonly publisher: string;
  readonly diff: unknown;
  readonly receivedAt: string;
  readonly by: string;
}

/** A running fake. */
export interface FakeApi {
  readonly url: string;
  /** A token of each role. */
  readonly tokens: { readonly viewer: string; readonly operator: string; readonly admin: string };
  /** Every request: method, path with query, and whether it carried a bearer token. */
  readonly requests: { readonly method: string; readonly url: string; readonly bearer: boolean }[];
  /** The pending upgrades (edit freely). */
  readonly upgrades: FakeUpgrade[];
  /** Replaces the plugin list. */
  setPlugins(plugins: readonly FakePlugin[]): void;
  /** Changes one plugin's state in the list (no event is sent). */
  setState(name: string, state: string): void;
  /** Sends an event to every open event stream (an audit record is numbered and kept for GET /v1/audit). */
  emit(type: 'lifecycle' | 'plugin' | 'audit' | 'overflow', data: Readonly<Record<string, unknown>>): void;
  /** Ends every open event stream, as a restarting daemon would. */
  dropStreams(): void;
  /** What GET /v1/audit/verify answers from now on. */
  setVerification(answer: Readonly<Record<string, unknown>>): void;
  /** Adds a log record of `plugin` (kept, and sent to followers). */
  log(plugin: string, level: string, message: string, fields?: Readonly<Record<string, unknown>>): void;
  /** How many event streams are open. */
  streams(): number;
  close(): Promise<void>;
}

interface State {
  plugins: Map<string, Record<string, unknown>>;
  audit: Record<string, unknown>[];
  logs: Map<string, Record<string, unknown>[]>;
  upgrades: FakeUpgrade[];
  eventClients: Set<ServerResponse>;
  logClients: Map<string, Set<ServerResponse>>;
  started: number;
  verification: Readonly<Record<string, unknown>> | undefined;
}

function view(plugin: FakePlugin): Record<string, unknown> {
  return {
    name: plugin.name,
    version: plugin.version ?? '1.0.0',
    publisher: plugin.publisher ?? 'ACME Plugins',
    attested: true,
    digest: `sha256:${'0'.repeat(64)}`,
    state: plugin.state,
    desired: plugin.state === 'paused' ? 'paused' : plugin.state === 'running' ? 'running' : 'stopped',
    restarts: 0,
    installedAt: '2026-11-25T10:00:00.000Z',
    previousVersion: null,
    permissions: {},
    dependencies: {},
    loadError: null,
  };
}

const TRANSITIONS: Readonly<Record<string, { readonly from: readonly string[]; readonly to: string }>> = {
  start: { from: ['ready', 'stopped', 'created', 'failed', 'not-loaded'], to: 'running' },
  stop: { from: ['running', 'paused'], to: 'stopped' },
  pause: { from: ['running'], to: 'paused' },
  resume: { from: ['paused'], to: 'running' },
};

function sse(response: ServerResponse, type: string, data: unknown): void {
  response.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** Hijacks the reply and keeps a stream open until the client leaves. */
function openStream(context: { readonly reply: { hijack(): void; readonly raw: ServerResponse }; readonly request: { readonly raw: { on(event: 'close', listener: () => void): unknown } } }, type: string, clients: Set<ServerResponse>): ServerResponse {
  context.reply.hijack();
  const raw = context.reply.raw;
  raw.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
  // Send the head now: a stream with nothing to say yet is still open.
  raw.flushHeaders();
  clients.add(raw);
  context.request.raw.on('close', () => clients.delete(raw));
  return raw;
}

function routes(state: State, missing: ReadonlySet<FakeOperation>, emit: FakeApi['emit']): Route<State>[] {
  const all: (Route<State> & { readonly feature?: FakeOperation })[] = [
    route<State>({
      operation: 'system.info', method: 'GET', url: '/v1/info', summary: 'info', role: 'viewer', mutates: false,
      response: { status: 200, content: {}, description: '' },
      handler: ({ principal }) => Promise.resolve({ version: 'fake', pid: process.pid, startedAt: new Date(state.started).toISOString(), principal: principal.name, role: principal.role }),
    }),
    route<State>({
      operation: 'plugins.list', method: 'GET', url: '/v1/plugins', summary: 'plugins', role: 'viewer', mutates: false,
      response: { status: 200, content: {}, description: '' },
      handler: () => Promise.resolve({ plugins: [...state.plugins.values()] }),
    }),
    route<State>({
      operation: 'plugins.action', method: 'POST', url: '/v1/plugins/:name/:action', summary: 'action', role: 'operator', mutates: true,
      response: { status: 200, content: {}, description: '' },
      handler: ({ params, principal }) => {
        const plugin = state.plugins.get(params['name'] as string);
        const transition = TRANSITIONS[params['action'] as string];
        if (plugin === undefined || transition === undefined) return Promise.reject(new ForgeError('FO_DAEMON_NO_ROUTE', 'no such plugin or action'));
        const from = String(plugin['state']);
        if (!transition.from.includes(from)) return Promise.reject(new ForgeError('FO_LIFECYCLE_BAD_TRANSITION', `cannot ${String(params['action'])} while ${from}`));
        plugin['state'] = transition.to;
        emit('audit', { ts: new Date().toISOString(), principal: principal.name, action: `api.plugins.${String(params['action'])}`, resource: plugin['name'], decision: 'allow', reason: `the ${principal.role} role allows plugins.${String(params['action'])}` });
        emit('lifecycle', { time: new Date().toISOString(), plugin: plugin['name'], from, to: transition.to, step: params['action'] });
        return Promise.resolve(plugin);
      },
    }),
    {
      ...route<State>({
        operation: 'system.stats', method: 'GET', url: '/v1/stats', summary: 'stats', role: 'viewer', mutates: false,
        response: { status: 200, content: {}, description: '' },
        handler: () => {
          const seconds = (Date.now() - state.started) / 1000;
          const plugins = [...state.plugins.values()].map((plugin, index) => {
            const running = plugin['state'] === 'running';
            const wave = 1 + Math.sin(seconds / 3 + index);
            return {
              name: plugin['name'], calls: Math.round(seconds * 40 * (index + 1)), errors: 0,
              callsPerSecond: running ? 40 * (index % 7 + 1) * wave : 0, p50Seconds: 0.0004 * wave, p99Seconds: running ? 0.002 * (1 + wave) : 0,
              memoryBytes: 2 ** 20 * (2 + (index % 5)) + Math.round(65536 * wave), fuelTotal: Math.round(seconds * 1e6 * (index % 3 + 1) + 1e5 * wave),
            };
          });
          return Promise.resolve({ time: new Date().toISOString(), plugins });
        },
      }),
      feature: 'stats',
    },
    {
      ...route<State>({
        operation: 'events.stream', method: 'GET', url: '/v1/events', summary: 'events', role: 'viewer', mutates: false,
        response: { status: 200, content: 'event-stream', description: '' },
        handler: (context) => {
          openStream(context, 'text/event-stream', state.eventClients).write(': connected\n\n');
          return Promise.resolve(undefined);
        },
      }),
      feature: 'events',
    },
    {
      ...route<State>({
        operation: 'audit.tail', method: 'GET', url: '/v1/audit', summary: 'audit', role: 'viewer', mutates: false,
        response: { status: 200, content: {}, description: '' },
        handler: ({ query }) => Promise.resolve({ records: state.audit.slice(-Number(query['limit'] ?? 100)) }),
      }),
      feature: 'audit',
    },
    {
      ...route<State>({
        operation: 'audit.verify', method: 'GET', url: '/v1/audit/verify', summary: 'verify', role: 'viewer', mutates: false,
        response: { status: 200, content: {}, description: '' },
        handler: () => Promise.resolve(state.verification ?? { ok: true, records: state.audit.length, checkpoints: Math.floor(state.audit.length / 10), lastCheckpointAge: 12 }),
      }),
      feature: 'verify',
    },
    {
      ...route<State>({
        operation: 'upgrades.list', method: 'GET', url: '/v1/upgrades', summary: 'upgrades', role: 'viewer', mutates: false,
        response: { status: 200, content: {}, description: '' },
        handler: () => Promise.resolve({ upgrades: state.upgrades }),
      }),
      feature: 'upgrades',
    },
    {
      ...route<State>({
        operation: 'upgrades.approve', method: 'POST', url: '/v1/upgrades/:id/approve', summary: 'approve', role: 'admin', mutates: true,
        response: { status: 200, content: {}, description: '' },
        handler: ({ params }) => {
          const index = state.upgrades.findIndex((item) => item.id === params['id']);
          const [item] = index === -1 ? [] : state.upgrades.splice(index, 1);
          if (item === undefined) return Promise.reject(new ForgeError('FO_DAEMON_NO_ROUTE', 'no such upgrade'));
          return Promise.resolve({ action: 'upgraded', from: item.from, diff: item.diff, plugin: state.plugins.get(item.name) ?? null });
        },
      }),
      feature: 'upgrades',
    },
    {
      ...route<State>({
        operation: 'upgrades.discard', method: 'DELETE', url: '/v1/upgrades/:id', summary: 'discard', role: 'admin', mutates: true,
        response: { status: 204, content: 'none', description: '' },
        handler: ({ params }) => {
          state.upgrades.splice(0, state.upgrades.length, ...state.upgrades.filter((item) => item.id !== params['id']));
          return Promise.resolve(undefined);
        },
      }),
      feature: 'upgrades',
    },
    {
      ...route<State>({
        operation: 'plugins.logs', method: 'GET', url: '/v1/plugins/:name/logs', summary: 'logs', role: 'viewer', mutates: false,
        response: { status: 200, content: 'ndjson', description: '' },
        handler: (context) => {
          const name = context.params['name'] as string;
          const recent = (state.logs.get(name) ?? []).slice(-Number(context.query['limit'] ?? 100));
          let clients = state.logClients.get(name);
          if (clients === undefined) {
            clients = new Set();
            state.logClients.set(name, clients);
          }
          const raw = openStream(context, 'application/x-ndjson', clients);
          for (const record of recent) raw.write(`${JSON.stringify(record)}\n`);
          if (context.query['follow'] !== 'true' && context.query['follow'] !== true) {
            clients.delete(raw);
            raw.end();
          }
          return Promise.resolve(undefined);
        },
      }),
      feature: 'logs',
    },
  ];
  return all.filter((entry) => entry.feature === undefined || !missing.has(entry.feature));
}

/** Starts a fake on 127.0.0.1 (see the module comment). */
export async function fakeDashboardApi(options: { readonly plugins?: readonly FakePlugin[]; readonly missing?: readonly FakeOperation[] } = {}): Promise<FakeApi> {
  const dir = await mkdtemp(join(tmpdir(), 'forge-dashboard-'));
  const db = DaemonState.open(join(dir, 'daemon.db'));
  const tokens = new Tokens(db.db);
  const state: State = { plugins: new Map(), audit: [], logs: new Map(), upgrades: [], eventClients: new Set(), logClients: new Map(), started: Date.now(), verification: undefined };
  const setPlugins = (plugins: readonly FakePlugin[]): void => {
    state.plugins = new Map([...plugins].sort((a, b) => (a.name < b.name ? -1 : 1)).map((plugin) => [plugin.name, view(plugin)]));
  };
  setPlugins(options.plugins ?? []);
  const emit: FakeApi['emit'] = (type, data) => {
    let payload = data;
    if (type === 'audit') {
      const numbered = { seq: state.audit.length + 1, ...data };
      state.audit.push(numbered);
      payload = numbered;
    }
    for (const client of state.eventClients) sse(client, type, payload);
    if (type === 'overflow') {
      // As the daemon does with a client that fell behind: the overflow event, then the end.
      for (const client of state.eventClients) client.end();
      state.eventClients.clear();
    }
  };
  // The dashboard's routes serve files and never touch the services.
  const uiRoutes = UI_ROUTES as unknown as readonly Route<State>[];
  const app = buildApi<State>({
    transport: 'tcp',
    routes: [...uiRoutes, ...routes(state, new Set(options.missing ?? []), emit)],
    services: state,
    access: { tokens, audit: undefined, socketUser: 'user:fake', daemonUid: process.geteuid?.() ?? 0 },
    logger: silentLogger,
    maxBodyBytes: 1 << 20,
    requestTimeoutMs: 0,
    maxConnections: 256,
    draining: () => false,
  });
  const requests: FakeApi['requests'] = [];
  app.addHook('onRequest', (request, _reply, done) => {
    requests.push({ method: request.method, url: request.url, bearer: /^Bearer /.test(request.headers.authorization ?? '') });
    done();
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    tokens: { viewer: tokens.create('viewer', 'viewer').token, operator: tokens.create('operator', 'operator').token, admin: tokens.create('admin', 'admin').token },
    requests,
    upgrades: state.upgrades,
    setPlugins,
    setState(name, value) {
      const plugin = state.plugins.get(name);
      if (plugin === undefined) throw new Error(`the fake has no plugin ${name}`);
      plugin['state'] = value;
    },
    emit,
    dropStreams() {
      for (const client of state.eventClients) client.end();
      state.eventClients.clear();
    },
    setVerification(answer) {
      state.verification = answer;
    },
    log(plugin, level, message, fields = {}) {
      const record = { plugin, time: new Date().toISOString(), level, message, fields };
      let kept = state.logs.get(plugin);
      if (kept === undefined) {
        kept = [];
        state.logs.set(plugin, kept);
      }
      kept.push(record);
      for (const client of state.logClients.get(plugin) ?? []) client.write(`${JSON.stringify(record)}\n`);
    },
    streams: () => state.eventClients.size,
    async close() {
      for (const client of [...state.eventClients, ...[...state.logClients.values()].flatMap((set) => [...set])]) client.end();
      await app.close();
      db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
