#!/usr/bin/env node
// Benchmark: verify a signed 1 MiB package end to end (read under limits: gunzip, tar,
// sha256 of every file; then bundle, chain, revocation, DSSE signature, subjects, policy)
// with a warm trust store. Target (issue 4): median <= 5 ms.
//
// Usage: npx tsc -b && node bench/verify.mjs [--iterations N] [--quick] [--json]   (--quick: 50 iterations)
// Not a test: numbers depend on the machine; nothing here asserts a time.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { benchCase } from './stats.mjs';

const pm = { ...(await import('../packages/plugin-manager/dist/index.js')), ...(await import('../packages/plugin-manager/dist/signing.js')) };

const args = process.argv.slice(2);
const iterations = Number(args[args.indexOf('--iterations') + 1]) || (args.includes('--quick') ? 50 : 200);
const asJson = args.includes('--json');
const TARGET_MS = 5;
const MiB = 1024 * 1024;

/** A package whose module is 1 MiB of incompressible bytes behind a wasm header. */
function onePackage(name) {
  const wasm = Buffer.concat([Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]), randomBytes(MiB - 8)]);
  const manifest = pm.parsePluginToml(`[plugin]\nname = "${name}"\nversion = "1.0.0"\n`);
  return pm.writeArchive([
    { path: 'manifest.json', data: Buffer.from(pm.serializeManifest(manifest)) },
    { path: 'plugin.wasm', data: wasm },
  ]);
}

/** root -> intermediate -> publisher, every key of `algorithm`. */
function pki(algorithm) {
  const root = pm.createRootCa({ name: 'Bench Root CA', algorithm });
  const interKey = pm.generateKeyPair(algorithm);
  const inter = pm.issueCertificate({ certificate: root.certificate, key: root.key, chain: [] }, { publicKey: interKey.publicKey, name: 'Bench Signing CA', intermediate: true });
  const publisherKey = pm.generateKeyPair(algorithm);
  const publisher = pm.issueCertificate({ certificate: inter.certificate, key: interKey, chain: [root.certificate] }, { publicKey: publisherKey.publicKey, name: 'Bench Publisher' });
  return { root, inter: inter.certificate, publisher: publisher.certificate, publisherKey };
}

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { median: at(0.5), p90: at(0.9), min: sorted[0], max: sorted[sorted.length - 1] };
}

async function time(fn) {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

async function measure(label, fn) {
  for (let i = 0; i < Math.min(20, iterations); i += 1) await fn(); // warm-up: JIT, caches
  const samples = [];
  for (let i = 0; i < iterations; i += 1) samples.push(await time(fn));
  return { label, ...stats(samples), case: benchCase(label.replace(/\s+/g, ' '), 'ms', samples, { perCall: true }) };
}

const rows = [];
for (const algorithm of ['ed25519', 'ecdsa-p256']) {
  const { root, inter, publisher, publisherKey } = pki(algorithm);
  const signed = await pm.signPackage(onePackage('bench'), { key: publisherKey, certificate: publisher.der, chain: [inter.der] });
  const bytes = signed.bytes;
  const warm = pm.TrustStore.create({ roots: [root.certificate] });
  const contents = await pm.readPackage(bytes);
  rows.push(
    await measure(`${algorithm}: end to end, warm trust store (openVerifiedPackage)`, async () => {
      const opened = await pm.openVerifiedPackage(bytes, { verifySignatures: true, trustStore: warm });
      if (!opened.identity.attested) throw new Error('not attested');
    }),
  );
  rows.push(await measure(`${algorithm}:   of which reading the package (readPackage)`, () => pm.readPackage(bytes)));
  rows.push(await measure(`${algorithm}:   of which verification (verifyPackage), warm`, () => pm.verifyPackage(contents, { trustStore: warm })));
  rows.push(await measure(`${algorithm}: verification with a cold trust store each time`, () => pm.verifyPackage(contents, { trustStore: pm.TrustStore.create({ roots: [root.certificate] }) })));
  if (algorithm === 'ed25519') rows.push({ label: `package size`, bytes: bytes.length });
}

const headline = rows[0];
if (asJson) {
  process.stdout.write(`${JSON.stringify({ node: process.version, iterations, targetMs: TARGET_MS, rows: rows.map((row) => Object.fromEntries(Object.entries(row).filter(([key]) => key !== 'case'))), cases: rows.filter((row) => row.case).map((row) => row.case) }, null, 2)}\n`);
} else {
  const fmt = (ms) => `${ms.toFixed(3).padStart(8)} ms`;
  console.log(`verify a signed 1 MiB package (node ${process.version}, ${iterations} iterations, median / p90 / min)`);
  for (const row of rows) {
    if ('bytes' in row) console.log(`  ${row.label.padEnd(68)} ${row.bytes} bytes`);
    else console.log(`  ${row.label.padEnd(68)} ${fmt(row.median)} ${fmt(row.p90)} ${fmt(row.min)}`);
  }
  console.log(`target: median <= ${TARGET_MS} ms end to end with a warm trust store: ${headline.median <= TARGET_MS ? 'met' : 'NOT met'} (${headline.median.toFixed(3)} ms)`);
}
