/**
 * The unix socket's peer credentials (SO_PEERCRED): the daemon's user (here root) is
 * admin and its records name the connecting process; a process of another user that
 * reaches the socket because its directory's mode was loosened is refused with
 * FO_DAEMON_PEER_REFUSED and audited with its uid and pid, unless it presents a token,
 * which then decides as over TCP.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { inCi } from '@forgeone/common/testing';
import { testDaemon } from '../test-support/daemon.js';
import { unprivilegedUser } from '../test-support/unprivileged.js';
import { loadPeerReader } from './http/peer.js';

/** Skips (or, under CI, fails) when the peer module was not built. */
function peerModule(t: TestContext): boolean {
  const loaded = loadPeerReader();
  if ('reader' in loaded) return true;
  if (inCi()) throw new Error(`the peer-credentials module must be built under CI: ${loaded.reason}`);
  t.skip(loaded.reason);
  return false;
}

/**
 * The uid of another user to connect as (nobody), when this test runs as root; else
 * skipped with the reason (failed under CI, which runs as root).
 */
function otherUser(t: TestContext): number | undefined {
  if (process.geteuid?.() !== 0) {
    if (inCi()) throw new Error('this test needs root under CI, to connect as another user');
    t.skip('needs root to connect as another user');
    return undefined;
  }
  return unprivilegedUser(t)?.uid;
}

/** GET `path` over the socket from a child process running as `uid`; its pid, status and body. */
function requestAs(uid: number, socket: string, path: string, token?: string): Promise<{ pid: number; status: number; body: Record<string, unknown> }> {
  const script = `
    const request = require('node:http').request({ socketPath: process.argv[1], path: process.argv[2], headers: process.argv[3] ? { authorization: 'Bearer ' + process.argv[3] } : {} }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (text) => (body += text)).on('end', () => console.log(JSON.stringify({ status: response.statusCode, body: JSON.parse(body) })));
    });
    request.on('error', (error) => { console.error(error.message); process.exit(3); });
    request.end();`;
  const child = spawn(process.execPath, ['-e', script, socket, path, token ?? ''], { uid, gid: uid, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (out += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (err += text));
  return new Promise((resolve, reject) => {
    child.once('close', (code) => (code === 0 ? resolve({ pid: child.pid as number, ...(JSON.parse(out) as { status: number; body: Record<string, unknown> }) }) : reject(new Error(`request as uid ${uid} failed (${code}): ${err}`))));
  });
}

describe('forge daemon socket peer credentials', () => {
  it('names the connecting process of the daemon\'s user in the audit record', async (t) => {
    if (!peerModule(t)) return;
    const d = await testDaemon();
    try {
      const answer = await d.request(d.socket, { method: 'GET', path: '/v1/plugins' });
      assert.equal(answer.status, 200);
      await d.request(d.socket, { method: 'POST', path: '/v1/tokens', json: { name: 'peer-check', role: 'viewer' } });
      const record = (await d.auditEvents()).find((event) => event['action'] === 'api.tokens.create');
      assert.ok(record, 'the token creation is audited');
      assert.equal(record['principal'], 'user:tester');
      assert.deepEqual(record['data'], { ...(record['data'] as object), transport: 'socket', peer_uid: String(process.geteuid?.()), peer_pid: String(process.pid) });
    } finally {
      await d.close();
    }
  });

  it('leaves another user no way in at the default modes: the kernel refuses the connection (EACCES), at the 0700 directory and at the 0600 socket', async (t) => {
    const uid = otherUser(t);
    if (uid === undefined) return;
    const d = await testDaemon();
    try {
      chmodSync(d.dir, 0o755); // the workspace above run/ is traversable, as /var/lib is
      await assert.rejects(requestAs(uid, d.daemon.socket, '/v1/health'), /EACCES/, 'run/ is 0700');
      chmodSync(dirname(d.daemon.socket), 0o755);
      await assert.rejects(requestAs(uid, d.daemon.socket, '/v1/health'), /EACCES/, 'the socket itself is 0600');
    } finally {
      await d.close();
    }
  });

  it('refuses another user who reaches a loosened socket with FO_DAEMON_PEER_REFUSED, audited with its uid and pid; a token still decides', async (t) => {
    if (!peerModule(t)) return;
    const uid = otherUser(t);
    if (uid === undefined) return;
    const d = await testDaemon();
    try {
      // The misconfiguration the peer check stands behind: every directory up to the socket, and the socket, opened to all.
      chmodSync(d.dir, 0o755);
      chmodSync(dirname(d.daemon.socket), 0o755);
      chmodSync(d.daemon.socket, 0o777);
      const refused = await requestAs(uid, d.daemon.socket, '/v1/plugins');
      assert.equal(refused.status, 401);
      assert.equal((refused.body['error'] as { code: string }).code, 'FO_DAEMON_PEER_REFUSED');
      const denial = (await d.auditEvents()).find((event) => event['decision'] === 'deny' && String(event['reason']).startsWith('FO_DAEMON_PEER_REFUSED'));
      assert.ok(denial, 'the refusal is audited');
      assert.equal(denial['principal'], 'anonymous');
      assert.equal(denial['action'], 'api.plugins.list');
      assert.deepEqual(
        [(denial['data'] as Record<string, string>)['peer_uid'], (denial['data'] as Record<string, string>)['peer_pid']],
        [String(uid), String(refused.pid)],
      );

      const viewer = d.daemon.services.tokens.create('outsider', 'viewer').token;
      const allowed = await requestAs(uid, d.daemon.socket, '/v1/plugins', viewer);
      assert.equal(allowed.status, 200, JSON.stringify(allowed.body));
    } finally {
      await d.close();
    }
  });
});
