#!/usr/bin/env node
// `npm run demo`: a tour of the CLI (`npm start` runs the daemon). Builds the sample plugin,
// packs it twice to show the package is deterministic, signs it with a fresh
// organisation CA, verifies it, inspects it, and shows policy and audit at work on a
// WASI run.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const forge = join(root, 'packages/forge/bin/forge.js');
const out = join(root, '.forge-demo');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

function step(title, command, args) {
  console.error(`\n== ${title}\n$ ${[command === process.execPath ? 'node' : command, ...args].join(' ')}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`demo: step failed with exit status ${result.status}`);
    process.exit(result.status ?? 1);
  }
}

const digest = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');
const first = join(out, 'sample-plugin-0.1.0.forgepkg');
const second = join(out, 'sample-plugin-again.forgepkg');

step('Build the sample plugin module', process.execPath, ['examples/sample-plugin/build.mjs']);
step('Pack it', process.execPath, [forge, 'pack', 'examples/sample-plugin', '-o', first]);
step('Pack it again', process.execPath, [forge, 'pack', 'examples/sample-plugin', '-o', second]);
const same = digest(first) === digest(second);
console.error(`\nboth packages have sha256 ${digest(first)}: ${same ? 'byte-identical' : 'DIFFERENT (a bug)'}`);
if (!same) process.exit(1);
step('Create an organisation CA', process.execPath, [forge, 'ca', 'init', '--out', join(out, 'ca'), '--name', 'Demo Root CA']);
step('Make a publisher key', process.execPath, [forge, 'keygen', '--out', join(out, 'publisher')]);
step('Issue the publisher certificate', process.execPath, [forge, 'ca', 'issue', '--ca', join(out, 'ca'), '--pub', join(out, 'publisher.pub'), '--name', 'Demo Publisher', '--out', join(out, 'publisher.pem')]);
step('Sign the package', process.execPath, [forge, 'sign', first, '--key', join(out, 'publisher.key'), '--cert', join(out, 'publisher.pem')]);
step('Verify it against the CA', process.execPath, [forge, 'verify', first, '--trust', join(out, 'ca', 'ca.pem')]);
step('Inspect it', process.execPath, [forge, 'inspect', first]);

// The README's WASI program: it prints notes.txt and tries secret.txt, which a Cedar policy forbids.
const wabt = await (await import('wabt')).default();
const guest = wabt.parseWat('reader.wat', readFileSync(join(root, 'examples/wasi/reader.wat'), 'utf8'));
writeFileSync(join(out, 'reader.wasm'), guest.toBinary({}).buffer);
guest.destroy();
mkdirSync(join(out, 'data'));
writeFileSync(join(out, 'data', 'notes.txt'), 'hello\n');
writeFileSync(join(out, 'data', 'secret.txt'), 'do not read\n');
writeFileSync(join(out, 'policy.cedar'), 'forbid(principal, action, resource is ForgeOne::Path) when { resource.path == "/data/secret.txt" };\n');
writeFileSync(join(out, 'plugin-manager.yaml'), 'plugin_manager:\n  audit:\n    path: audit/audit.log\n    checkpoint_key: audit/checkpoint-key.pem\n');
const config = join(out, 'plugin-manager.yaml');
console.error('\n== Run a WASI program under a Cedar policy, with an audit log (it prints notes.txt, then exits with errno 2, EACCES, for the forbidden secret.txt)');
const run = spawnSync(process.execPath, [forge, 'wasi', 'run', '--config', config, '--dir', `${join(out, 'data')}::/data:ro`, '--policy', join(out, 'policy.cedar'), '--audit-log', join(out, 'audit', 'audit.log'), join(out, 'reader.wasm')], { cwd: root, stdio: 'inherit' });
console.error(`exit status ${run.status}`);
step('Read the audit log', process.execPath, [forge, 'audit', 'tail', '--config', config]);
step('Verify the audit log', process.execPath, [forge, 'audit', 'verify', '--config', config]);
step('Check the configuration the demo runs with', process.execPath, [forge, 'config', 'check', 'examples/plugin-manager.yaml']);
