import assert from 'node:assert/strict';
import { userInfo } from 'node:os';
import { after, describe, it } from 'node:test';
import { cliFor, forge, jsonError } from '../../../test-support/cli.js';
import { testDaemon, type TestDaemon } from '../../../test-support/daemon.js';
import { COMMANDS } from '../index.js';

const { cli, ok } = cliFor(COMMANDS, {});
const TOKEN = /^fo_([0-9a-f]{16})_[A-Za-z0-9_-]{43}\n$/;
const DAY = 86_400_000;

const running: TestDaemon[] = [];
after(async () => {
  for (const daemon of running) await daemon.close();
});

async function daemon(dir?: string): Promise<TestDaemon> {
  const started = await testDaemon(dir === undefined ? {} : { dir });
  running.push(started);
  return started;
}

/** The status of GET /v1/plugins over TCP with `token`. */
async function statusWith(d: TestDaemon, token: string): Promise<number> {
  return (await d.request(d.tcp(token), { method: 'GET', path: '/v1/plugins' })).status;
}

interface Info {
  id: string;
  name: string;
  role: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

describe('forge token', () => {
  it('creates a token through the daemon, prints it once on stdout with a warning on stderr, lists it and revokes it', async () => {
    const d = await daemon();
    const created = await cli(d.dir, 'token', 'create', '--name', 'dashboard', '--role', 'viewer', '--expires', '30d');
    assert.equal(created.status, 0, created.stderr);
    const match = TOKEN.exec(created.stdout);
    assert.ok(match !== null, `a token alone on its line: ${JSON.stringify(created.stdout)}`);
    const id = match[1] ?? '';
    assert.match(created.stderr, new RegExp(`^created token ${id} "dashboard" \\(viewer, expires \\d{4}-[\\d-]+T[\\d:.]+Z\\); store it now: it is shown only this once\\n$`));
    const token = created.stdout.trim();
    assert.equal(await statusWith(d, token), 200, 'the token works over TCP');

    const json = JSON.parse(await ok(d.dir, 'token', 'create', '--name', 'ci', '--role', 'operator', '--expires', '30d', '--json')) as { token: string; info: Info };
    assert.match(`${json.token}\n`, TOKEN);
    assert.deepEqual([json.info.name, json.info.role, Date.parse(json.info.expiresAt ?? '') - Date.parse(json.info.createdAt)], ['ci', 'operator', 30 * DAY]);

    const table = (await ok(d.dir, 'token', 'list')).trimEnd().split('\n').map((line) => line.split(/ {2,}/));
    assert.deepEqual(table[0], ['ID', 'NAME', 'ROLE', 'STATUS', 'CREATED', 'EXPIRES', 'LAST USED']);
    assert.deepEqual(table.slice(1).map((row) => row.slice(0, 4)).sort(), [[id, 'dashboard', 'viewer', 'active'], [json.info.id, 'ci', 'operator', 'active']].sort());
    assert.doesNotMatch(await ok(d.dir, 'token', 'list', '--json'), /fo_[0-9a-f]{16}_/, 'a list never shows a secret');

    assert.equal(await ok(d.dir, 'token', 'revoke', id), `revoked token ${id} "dashboard"\n`);
    assert.equal(await statusWith(d, token), 401, 'a revoked token is refused');
    const listed = JSON.parse(await ok(d.dir, 'token', 'list', '--json')) as { tokens: Info[] };
    assert.notEqual(listed.tokens.find((info) => info.id === id)?.revokedAt ?? null, null);
    const unknown = await cli(d.dir, 'token', 'revoke', '0123456789abcdef', '--json');
    assert.deepEqual([unknown.status, jsonError(unknown).code], [6, 'FO_DAEMON_TOKEN_NOT_FOUND']);
  });

  it('acts with FORGE_TOKEN\'s role on the socket: a viewer token cannot create tokens (FO_DAEMON_FORBIDDEN, exit 4)', async () => {
    const d = await daemon();
    const viewer = (await ok(d.dir, 'token', 'create', '--name', 'v', '--role', 'viewer')).trim();
    const refused = await forge(['token', 'create', '--name', 'x', '--role', 'admin', '--json'], { cwd: d.dir, env: { FORGE_TOKEN: viewer } });
    assert.deepEqual([refused.status, jsonError(refused).code], [4, 'FO_DAEMON_FORBIDDEN']);
    const denial = (await d.auditEvents()).find((record) => record['decision'] === 'deny');
    assert.deepEqual([denial?.['action'], denial?.['principal']], ['api.tokens.create', 'token:v']);
  });

  it('without a daemon, writes the daemon database directly, audits it, and the daemon honours it when it starts', async () => {
    const first = await daemon();
    await first.close();
    const dir = first.dir;
    const created = await cli(dir, 'token', 'create', '--name', 'offline', '--role', 'admin');
    assert.equal(created.status, 0, created.stderr);
    const id = TOKEN.exec(created.stdout)?.[1] ?? '';
    assert.match(created.stderr, new RegExp(`^created token ${id} "offline" \\(admin, never expires\\); store it now`));
    assert.match(await ok(dir, 'token', 'list'), new RegExp(`${id} {2}offline {2}admin {2}active`));

    const second = await daemon(dir);
    assert.equal(await statusWith(second, created.stdout.trim()), 200, 'the token made offline works');
    const audited = (await second.auditEvents()).find((record) => record['action'] === 'cli.tokens.create');
    assert.deepEqual([audited?.['principal'], audited?.['resource'], audited?.['decision']], [`user:${userInfo().username}`, id, 'allow']);
    await second.close();

    assert.equal(await ok(dir, 'token', 'revoke', id), `revoked token ${id} "offline"\n`);
    const third = await daemon(dir);
    assert.equal(await statusWith(third, created.stdout.trim()), 401, 'the token revoked offline is refused');
    assert.equal((await third.auditEvents()).filter((record) => record['action'] === 'cli.tokens.revoke').length, 1);
  });

  it('refuses a bad role or lifetime with a usage error (exit 2) before touching anything', async () => {
    const d = await daemon();
    for (const argv of [
      ['--name', 'x', '--role', 'root'],
      ['--name', 'x', '--role', 'viewer', '--expires', 'soon'],
      ['--name', 'x', '--role', 'viewer', '--expires', '0s'],
      ['--name', 'x', '--role', 'viewer', '--expires', '3651d'],
    ]) {
      const run = await cli(d.dir, 'token', 'create', ...argv, '--json');
      assert.deepEqual([run.status, jsonError(run).code], [2, 'FO_CLI_FLAG_VALUE'], argv.join(' '));
    }
    const noName = await cli(d.dir, 'token', 'create', '--role', 'viewer', '--json');
    assert.deepEqual([noName.status, jsonError(noName).code], [2, 'FO_CLI_MISSING_ARGUMENT']);
    assert.deepEqual((JSON.parse(await ok(d.dir, 'token', 'list', '--json')) as { tokens: unknown[] }).tokens, []);
  });
});
