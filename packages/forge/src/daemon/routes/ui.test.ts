import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { testDaemon, type TestDaemon } from '../../test-support/daemon.js';
import { UI_HEADERS } from './ui.js';

let d: TestDaemon;
before(async () => {
  // A daemon auditing at level all (every read too), so "public files are not audited" can fail.
  const first = await testDaemon();
  await first.close();
  const config = join(first.dir, 'plugin-manager.yaml');
  await writeFile(config, (await readFile(config, 'utf8')).replace('    checkpoint_key: audit/checkpoint-key.pem\n', '    checkpoint_key: audit/checkpoint-key.pem\n    level: all\n'));
  d = await testDaemon({ dir: first.dir });
});
after(() => d.close());

const CSP = "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types 'none'";

async function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | undefined>; body: string }> {
  // fetch, not the daemon client: the headers of the answer matter here.
  const response = await fetch(`${d.daemon.url ?? ''}${path}`, { headers });
  return { status: response.status, headers: Object.fromEntries(response.headers.entries()), body: await response.text() };
}

describe('the dashboard\'s files (GET /ui, /ui/:file)', () => {
  it('serves the page to anyone over TCP with Content-Security-Policy default-src \'self\' and the other security headers, and audits nothing', async () => {
    const page = await get('/ui');
    assert.equal(page.status, 200);
    assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(page.headers['content-security-policy'], CSP);
    for (const [name, value] of Object.entries(UI_HEADERS)) assert.equal(page.headers[name], value, name);
    assert.match(page.body, /<script type="module" src="\/ui\/main\.js"><\/script>/);
    const slash = await get('/ui/');
    assert.deepEqual([slash.status, slash.headers['content-type'], slash.headers['content-security-policy'], slash.body], [200, 'text/html; charset=utf-8', CSP, page.body], '/ui/ is the page too');
    await get('/v1/health');
    assert.equal((await d.request(d.socket, { method: 'GET', path: '/v1/info' })).status, 200);
    const records = await d.auditEvents();
    assert.ok(records.some((record) => record['action'] === 'api.system.info'), 'the audit log records reads at level all');
    assert.deepEqual(records.filter((record) => String(record['action']).startsWith('api.ui.')), [], 'public files are not API operations on anything');
  });

  it('serves every script, the style sheet and the icon with its own media type and the same headers', async () => {
    const page = (await get('/ui')).body;
    const linked = [...page.matchAll(/(?:src|href)="\/ui\/([^"]+)"/g)].map((match) => match[1] as string);
    const preloaded = [...page.matchAll(/<link rel="modulepreload" href="\/ui\/([^"]+)">/g)].map((match) => match[1] as string);
    assert.deepEqual(linked.filter((name) => !preloaded.includes(name)).sort(), ['dashboard.css', 'favicon.svg', 'main.js']);
    const types: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', svg: 'image/svg+xml' };
    // The scripts the entry point imports, transitively, must all be served.
    const seen = new Set<string>();
    const queue = [...linked];
    while (queue.length > 0) {
      const name = queue.shift() as string;
      if (seen.has(name)) continue;
      seen.add(name);
      const file = await get(`/ui/${name}`);
      assert.equal(file.status, 200, name);
      assert.equal(file.headers['content-type'], types[name.split('.').pop() as string], name);
      assert.equal(file.headers['content-security-policy'], CSP, name);
      assert.equal(file.headers['x-content-type-options'], 'nosniff', name);
      if (name.endsWith('.js')) for (const match of file.body.matchAll(/from '\.\/([a-z-]+\.js)'/g)) queue.push(match[1] as string);
    }
    const modules = [...seen].filter((name) => name.endsWith('.js') && name !== 'main.js').sort();
    assert.ok(modules.length >= 10, `the page's modules: ${modules.join(', ')}`);
    assert.deepEqual(preloaded.sort(), modules, 'the page preloads exactly the modules main.js imports');
  });

  it('answers 304 without a body to a browser that holds the current version', async () => {
    const first = await get('/ui/main.js');
    const etag = first.headers['etag'];
    assert.match(etag ?? '', /^"[A-Za-z0-9_-]{27}"$/);
    const again = await get('/ui/main.js', { 'if-none-match': etag as string });
    assert.equal(again.status, 304);
    assert.equal(again.body, '');
    assert.equal((await get('/ui/main.js', { 'if-none-match': '"stale"' })).status, 200);
  });

  it('serves nothing but the dashboard\'s own files: other names, build by-products and paths out of its directory are refused', async () => {
    const refusals: [string, number, string][] = [];
    for (const path of ['/ui/nope.js', '/ui/main.d.ts', '/ui/.tsbuildinfo', '/ui/..%2Froutes%2Fui.js', '/ui/%2e%2e%2fdaemon.js', '/ui/main.js%00.css', '/ui/sub/main.js', '/ui/MAIN.JS']) {
      const answer = await get(path);
      const code = (JSON.parse(answer.body) as { error: { code: string } }).error.code;
      refusals.push([path, answer.status, code]);
    }
    assert.deepEqual(refusals, [
      ['/ui/nope.js', 404, 'FO_DAEMON_NO_ROUTE'],
      ['/ui/main.d.ts', 400, 'FO_DAEMON_BAD_REQUEST'],
      ['/ui/.tsbuildinfo', 400, 'FO_DAEMON_BAD_REQUEST'],
      ['/ui/..%2Froutes%2Fui.js', 400, 'FO_DAEMON_BAD_REQUEST'],
      ['/ui/%2e%2e%2fdaemon.js', 400, 'FO_DAEMON_BAD_REQUEST'],
      ['/ui/main.js%00.css', 400, 'FO_DAEMON_BAD_REQUEST'],
      ['/ui/sub/main.js', 404, 'FO_DAEMON_NO_ROUTE'],
      ['/ui/MAIN.JS', 400, 'FO_DAEMON_BAD_REQUEST'],
    ]);
    assert.equal((await get('/ui/main.js')).status, 200, 'and the daemon still serves');
  });

  it('has no inline script, style or event handler in the page (the CSP would block them)', async () => {
    const page = await readFile(new URL('../ui/index.html', import.meta.url), 'utf8');
    const scripts = [...page.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.equal(scripts.length, 1);
    assert.deepEqual(scripts.map((match) => [match[1]?.includes('src="/ui/'), match[2]]), [[true, '']]);
    assert.doesNotMatch(page, /\son[a-z]+\s*=/i, 'no event handler attributes');
    assert.doesNotMatch(page, /\sstyle\s*=|<style\b/i, 'no inline style');
    assert.doesNotMatch(page, /(?:src|href)="(?:https?:)?\/\//, 'nothing from elsewhere');
  });
});
