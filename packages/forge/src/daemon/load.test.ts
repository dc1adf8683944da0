/**
 * 100 API clients at once against one daemon: readers, callers of the running sample
 * plugin, operators driving another plugin's lifecycle, and viewers trying what they
 * may not. Every answer is a success or a documented refusal, nothing hangs, each
 * decision is in the audit log exactly once, and the log verifies afterwards.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { signedSample, testDaemon } from '../test-support/daemon.js';
import { signedVariant, verifyWorkspaceAudit } from '../test-support/sample-variants.js';
import { call, failureOf, send, type ApiRequest, type DaemonTarget } from './client.js';

const CLIENTS = 100;
const REQUESTS_PER_CLIENT = 10;
const ACTIONS = ['stop', 'start', 'pause', 'resume', 'restart'] as const;
/**
 * The refusals a lifecycle action may meet when others drive the same plugin at the same
 * time (docs/reference/errors.md): the plugin is not in a state the action starts from.
 */
const LIFECYCLE_REFUSALS = new Set(['FO_LIFECYCLE_BAD_TRANSITION', 'FO_LIFECYCLE_NOT_RUNNING', 'FO_LIFECYCLE_PAUSED']);

type Kind = 'read' | 'call' | 'lifecycle' | 'forbidden';

interface Planned {
  readonly kind: Kind;
  readonly target: DaemonTarget;
  readonly request: ApiRequest;
  /** The audit action an allowed or denied mutation is recorded under. */
  readonly action?: string;
  readonly expect: (status: number, code: string, body: Buffer) => boolean;
}

interface Outcome {
  readonly planned: Planned;
  readonly status: number;
  readonly code: string;
  readonly ok: boolean;
}

describe('forge daemon under load', () => {
  it('answers 100 concurrent clients (reads, plugin calls, lifecycle actions, forbidden attempts) with successes or documented refusals only, audits each decision once, and its log verifies', { timeout: 300_000 }, async () => {
    const d = await testDaemon();
    try {
      await call(d.socket, { method: 'POST', path: '/v1/plugins?start=true', bytes: await readFile(await signedSample(d.dir)) });
      await call(d.socket, { method: 'POST', path: '/v1/plugins?start=true', bytes: await readFile(await signedVariant(d.dir, { name: 'other-plugin', version: '1.0.0' })) });
      const operator = d.daemon.services.tokens.create('operator', 'operator').token;
      const viewer = d.daemon.services.tokens.create('viewer', 'viewer').token;
      const auditedBefore = (await d.auditEvents()).length;

      const plan = (client: number, index: number): Planned => {
        const kind = (['read', 'call', 'lifecycle', 'forbidden'] as const)[client % 4] as Kind;
        const onSocket = client % 8 < 4;
        const success = (status: number): boolean => status === 200;
        switch (kind) {
          case 'read': {
            const paths = ['/v1/plugins', '/v1/plugins/sample-plugin', '/v1/plugins/other-plugin', '/v1/info', '/v1/health', '/v1/ready'];
            return { kind, target: onSocket ? d.socket : d.tcp(viewer), request: { method: 'GET', path: paths[index % paths.length] as string }, expect: success };
          }
          case 'call': {
            const input = `client ${client} request ${index}`;
            return {
              kind,
              target: onSocket ? d.socket : d.tcp(operator),
              request: { method: 'POST', path: '/v1/plugins/sample-plugin/call/greet', bytes: Buffer.from(input) },
              action: 'api.plugins.call',
              expect: (status, _code, body) => status === 200 && body.toString('utf8') === `Hello, ${input}!`,
            };
          }
          case 'lifecycle': {
            const action = ACTIONS[(client + index) % ACTIONS.length] as string;
            return {
              kind,
              target: onSocket ? d.socket : d.tcp(operator),
              request: { method: 'POST', path: `/v1/plugins/other-plugin/${action}` },
              action: `api.plugins.${action}`,
              expect: (status, code) => status === 200 || (status === 409 && LIFECYCLE_REFUSALS.has(code)),
            };
          }
          case 'forbidden':
            if (index % 3 === 2) return { kind: 'read', target: d.tcp(viewer), request: { method: 'GET', path: '/v1/plugins' }, expect: success };
            return {
              kind,
              target: d.tcp(viewer),
              request: index % 3 === 0 ? { method: 'POST', path: '/v1/plugins/other-plugin/stop' } : { method: 'POST', path: '/v1/plugins/sample-plugin/call/greet', bytes: Buffer.from('x') },
              action: index % 3 === 0 ? 'api.plugins.stop' : 'api.plugins.call',
              expect: (status, code) => status === 403 && code === 'FO_DAEMON_FORBIDDEN',
            };
        }
      };

      const outcomes: Outcome[] = [];
      await Promise.all(
        Array.from({ length: CLIENTS }, async (_, client) => {
          for (let index = 0; index < REQUESTS_PER_CLIENT; index += 1) {
            const planned = plan(client, index);
            // A request that hangs fails here (FO_DAEMON_UNREACHABLE), never silently.
            const response = await send(planned.target, { ...planned.request, timeoutMs: 60_000 });
            const code = failureOf(response)?.code ?? 'ok';
            outcomes.push({ planned, status: response.status, code, ok: planned.expect(response.status, code, response.body) });
          }
        }),
      );

      assert.equal(outcomes.length, CLIENTS * REQUESTS_PER_CLIENT);
      const unexpected = outcomes.filter((outcome) => !outcome.ok).map((outcome) => `${outcome.planned.request.method} ${outcome.planned.request.path}: ${outcome.status} ${outcome.code}`);
      assert.deepEqual(unexpected, [], 'every answer is a success or a documented refusal');
      const kinds = new Set(outcomes.map((outcome) => `${outcome.planned.kind} ${outcome.status}`));
      for (const expected of ['read 200', 'call 200', 'lifecycle 200', 'forbidden 403']) assert.ok(kinds.has(expected), `the load included ${expected}`);

      // Each allowed or denied mutation was audited exactly once, nothing more, nothing less.
      const count = (entries: Iterable<string>): Record<string, number> => {
        const counts: Record<string, number> = {};
        for (const entry of entries) counts[entry] = (counts[entry] ?? 0) + 1;
        return counts;
      };
      const expected = count(
        outcomes.flatMap((outcome) => (outcome.planned.action === undefined ? [] : [`${outcome.planned.action} ${outcome.planned.kind === 'forbidden' ? 'deny' : 'allow'}`])),
      );
      const recorded = count(
        (await d.auditEvents())
          .slice(auditedBefore)
          .filter((record) => String(record['action']).startsWith('api.'))
          .map((record) => `${String(record['action'])} ${String(record['decision'])}`),
      );
      assert.deepEqual(recorded, expected);

      // The lifecycle actions ran one after another: the plugin is in the state it should be in.
      const other = await call<{ state: string; desired: string }>(d.socket, { method: 'GET', path: '/v1/plugins/other-plugin' });
      assert.equal(other.state, other.desired);
      assert.equal((await call<{ state: string }>(d.socket, { method: 'GET', path: '/v1/plugins/sample-plugin' })).state, 'running');
    } finally {
      await d.close();
    }
    const audit = await verifyWorkspaceAudit(d.dir);
    assert.deepEqual([audit.ok, audit.problem, audit.signatures], [true, undefined, 'verified']);
  });
});
