/**
 * Hostile test: the guard of one pull's connections. A rebinding DNS server (a public
 * address first, loopback next) gets one question per host per pull, and the connection
 * goes to its first answer; a token realm or redirect target on an unlisted inner
 * address, in any spelling, is refused with FO_DAEMON_REGISTRY_NOT_ALLOWED naming its host.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { codeOf, forgeErrorOf } from '@forgeone/common/testing';
import { parseReference } from '@forgeone/plugin-manager';
import { PullPins } from './pull-pins.js';
import { checkResolvesPublic } from './pull-policy.js';

/** A resolver answering `answers[host][n]` at its n-th question about `host` (the last one ever after), counting questions. */
function rebinding(answers: Record<string, readonly (readonly string[])[]>): { resolve: (host: string) => Promise<readonly string[]>; asked: Map<string, number> } {
  const asked = new Map<string, number>();
  const resolve = (host: string): Promise<readonly string[]> => {
    const turn = asked.get(host) ?? 0;
    asked.set(host, turn + 1);
    const list = answers[host];
    if (list === undefined) return Promise.reject(new Error(`ENOTFOUND ${host}`));
    return Promise.resolve(list[Math.min(turn, list.length - 1)] ?? []);
  };
  return { resolve, asked };
}

describe('the connections of one daemon pull', () => {
  it('asks a rebinding DNS server once per host per pull and connects to the answer it checked, for every request of the pull', async () => {
    const dns = rebinding({ 'rebind.example.org': [['93.184.216.34'], ['127.0.0.1']] });
    const pins = new PullPins([], dns.resolve);
    await checkResolvesPublic(parseReference('rebind.example.org/acme/hello:1.0.0'), [], pins.resolve);
    for (const path of ['/v2/acme/hello/manifests/1.0.0', '/v2/acme/hello/blobs/sha256:00', '/token?scope=x']) {
      assert.deepEqual(await pins.guard(new URL(`https://rebind.example.org${path}`)), [{ address: '93.184.216.34', family: 4 }], path);
    }
    assert.deepEqual([...dns.asked], [['rebind.example.org', 1]]);
    // A new pull asks again, and the rebound answer is refused there.
    const next = new PullPins([], dns.resolve);
    const refusal = await forgeErrorOf(next.guard(new URL('https://rebind.example.org/v2/')));
    assert.deepEqual([refusal?.code, refusal?.details['registry'], refusal?.details['address']], ['FO_DAEMON_REGISTRY_NOT_ALLOWED', 'rebind.example.org', '127.0.0.1']);
  });

  it('refuses a token realm or redirect target on an unlisted inner address, by spelling or by resolution, and names its host', async () => {
    const dns = rebinding({ 'inner.example.org': [['93.184.216.34', '10.0.0.7']], 'auth.example.org': [['2606:4700::1']], 'listed.example.org': [['127.0.0.1']] });
    const pins = new PullPins(['127.0.0.1:5000', 'listed.example.org:8080', 'tokens.example.org:443'], dns.resolve);
    for (const [url, host] of [
      ['http://127.0.0.1:5001/token', '127.0.0.1:5001'],
      ['http://169.254.169.254/latest/meta-data', '169.254.169.254'],
      ['http://[::ffff:127.0.0.1]:5000/x', '[::ffff:7f00:1]:5000'],
      ['http://2130706433:5002/x', '127.0.0.1:5002'],
      ['http://localhost:5000/token', 'localhost:5000'],
      ['http://intranet/token', 'intranet'],
      ['https://inner.example.org/blob', 'inner.example.org'],
      ['https://listed.example.org/blob', 'listed.example.org'],
    ] as const) {
      const refusal = await forgeErrorOf(pins.guard(new URL(url)));
      assert.deepEqual([refusal?.code, refusal?.details['registry']], ['FO_DAEMON_REGISTRY_NOT_ALLOWED', host], url);
      assert.match(refusal?.message ?? '', new RegExp(`does not connect to ${host.replace(/[[\]]/g, '\\$&')}`));
    }
    assert.deepEqual(await pins.guard(new URL('https://auth.example.org/token')), [{ address: '2606:4700::1', family: 6 }], 'a public name');
    assert.deepEqual(await pins.guard(new URL('http://listed.example.org:8080/v2/')), [{ address: '127.0.0.1', family: 4 }], 'listed host:port');
    assert.equal(await codeOf(pins.guard(new URL('https://tokens.example.org/token'))), 'FO_OCI_UNREACHABLE', 'listed as host:443, matched by the default port, then not resolvable');
    assert.equal(await codeOf(pins.guard(new URL('https://93.184.216.34/token'))), 'ok');
  });
});
