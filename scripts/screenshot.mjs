#!/usr/bin/env node
// Takes the dashboard screenshot shown in the README (docs/dashboard.png), in headless
// Chromium (/usr/bin/chromium, driven by playwright-core).
//
//   npm run build && node scripts/screenshot.mjs [--fake] [--out FILE]
//
// By default from a real daemon (the test workspace: CA, publisher, loopback listener)
// with a few plugins installed: copies of the sample plugin under other names, some
// running and called in a loop (so the charts move), one paused, one stopped, and an
// upgrade that asks for more permissions (refused, so it waits for approval). Panels of
// operations the daemon lacks say "not available". With --fake, from the stand-in API
// the browser tests use (packages/forge/src/test-support/dashboard-api.ts), which has
// every operation of docs/reference/http-api.md and made-up content.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../packages/forge/dist/test-support/browser.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const out = resolve(root, args.includes('--out') ? args[args.indexOf('--out') + 1] : 'docs/dashboard.png');
const fake = args.includes('--fake');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A real daemon with a few plugins; returns the /ui URL with an admin token, and a stop function. */
async function realDaemon() {
  const { testDaemon } = await import('../packages/forge/dist/test-support/daemon.js');
  const { signedVariant } = await import('../packages/forge/dist/test-support/sample-variants.js');
  const { call } = await import('../packages/forge/dist/daemon/client.js');
  const d = await testDaemon();
  const signed = async (name, version = '0.1.0', extraToml = '') => readFile(await signedVariant(d.dir, { name, version, extraToml }));
  const names = ['geo-lookup', 'image-resizer', 'invoice-parser', 'markdown-render', 'sample-plugin'];
  for (const name of names) await call(d.socket, { method: 'POST', path: '/v1/plugins?start=true', bytes: await signed(name) });
  await call(d.socket, { method: 'POST', path: '/v1/plugins/markdown-render/pause' });
  await call(d.socket, { method: 'POST', path: '/v1/plugins/invoice-parser/stop' });
  // An upgrade asking for the network: refused until an admin approves it.
  const upgrade = await signed('geo-lookup', '0.2.0', '\n[permissions]\nnetwork = ["connect"]\nallowed_hosts = ["geo.example.com"]\n');
  await call(d.socket, { method: 'POST', path: '/v1/plugins', bytes: upgrade }).catch((error) => console.error(`screenshot: the upgrade waits for approval (${error.code})`));
  let calling = true;
  const load = (async () => {
    for (let i = 0; calling; i += 1) {
      for (const name of ['geo-lookup', 'image-resizer', 'sample-plugin'].slice(0, 1 + (i % 3))) {
        await call(d.socket, { method: 'POST', path: `/v1/plugins/${name}/call/greet`, bytes: new TextEncoder().encode(`caller ${i}`) }).catch(() => undefined);
      }
      await sleep(150);
    }
  })();
  const token = d.daemon.services.tokens.create('dashboard', 'admin').token;
  const viewer = d.daemon.services.tokens.create('intern', 'viewer').token;
  return {
    url: `${d.daemon.url}/ui#token=${token}`,
    // Once the page listens: lifecycle events, and a viewer's refused stop in the audit stream.
    live: async () => {
      await call(d.socket, { method: 'POST', path: '/v1/plugins/invoice-parser/start' });
      await call(d.socket, { method: 'POST', path: '/v1/plugins/invoice-parser/stop' });
      await fetch(`${d.daemon.url}/v1/plugins/geo-lookup/stop`, { method: 'POST', headers: { authorization: `Bearer ${viewer}` } });
      await call(d.socket, { method: 'POST', path: '/v1/plugins/markdown-render/resume' });
      await call(d.socket, { method: 'POST', path: '/v1/plugins/markdown-render/pause' });
    },
    quiet: async () => {
      calling = false;
      await load;
    },
    stop: async () => {
      calling = false;
      await load;
      await d.close();
    },
  };
}

/** The stand-in API with made-up content. */
async function fakeApi() {
  const { fakeDashboardApi } = await import('../packages/forge/dist/test-support/dashboard-api.js');
  const states = { 'geo-lookup': 'running', 'image-resizer': 'running', 'invoice-parser': 'stopped', 'markdown-render': 'paused', 'sample-plugin': 'running', 'search-index': 'running', 'thumbnailer': 'failed' };
  const api = await fakeDashboardApi({ plugins: Object.entries(states).map(([name, state]) => ({ name, state, version: '0.1.0' })) });
  api.upgrades.push({
    id: 'upg-1', name: 'geo-lookup', from: '0.1.0', to: '0.2.0', publisher: 'ACME Plugins', receivedAt: new Date().toISOString(), by: 'token:ci',
    diff: { network: { added: ['connect'], removed: [] }, allowed_hosts: { added: ['geo.example.com'], removed: [] }, volumes: { added: [], removed: [], changed: [] }, threads: { from: false, to: false } },
  });
  for (const [i, line] of ['started', 'resolving 52.52,13.40', 'cache hit ratio 0.93', 'resolved 120 lookups in 1.2 s'].entries()) api.log('geo-lookup', i === 2 ? 'debug' : 'info', line);
  const now = () => new Date().toISOString();
  return {
    url: `${api.url}/ui#token=${api.tokens.admin}`,
    // Events reach only the streams open when they are sent: send them once the page listens.
    live: () => {
      api.emit('lifecycle', { time: now(), plugin: 'thumbnailer', from: 'running', to: 'failed', step: 'call', error: { code: 'FO_SANDBOX_CPU_LIMIT', message: 'the call ran out of fuel' } });
      api.emit('audit', { ts: now(), principal: 'token:ci', action: 'api.plugins.install', resource: 'geo-lookup', decision: 'deny', reason: 'FO_STORE_APPROVAL_REQUIRED: geo-lookup 0.2.0 asks for network: connect' });
      api.emit('plugin', { time: now(), plugin: 'search-index', name: 'index.rebuilt', payload: Buffer.from('{"documents":18234}').toString('base64') });
      api.emit('lifecycle', { time: now(), plugin: 'markdown-render', from: 'running', to: 'paused', step: 'pause' });
      api.emit('audit', { ts: now(), principal: 'token:ops', action: 'api.plugins.pause', resource: 'markdown-render', decision: 'allow', reason: 'the operator role allows plugins.pause' });
    },
    stop: () => api.close(),
  };
}

const source = fake ? await fakeApi() : await realDaemon();
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 980 } });
  await page.goto(source.url);
  await page.locator('#plugin-rows tr').first().waitFor();
  await page.waitForTimeout(1000);
  // Let the charts gather half a minute of samples, then show events and audit records live.
  await sleep(30_000);
  await source.quiet?.();
  await source.live();
  await page.waitForTimeout(500);
  await page.locator('#verify-now').click().catch(() => undefined);
  await page.waitForTimeout(1000);
  await page.screenshot({ path: out, fullPage: true });
  console.error(`screenshot: wrote ${out} from ${fake ? 'the stand-in API' : 'a real daemon'}`);
} finally {
  await browser.close();
  await source.stop();
}
