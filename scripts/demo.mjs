#!/usr/bin/env node
// `npm start`: the end-to-end demo until the daemon lands. Builds the sample plugin,
// packs it twice to show the package is deterministic, then inspects it.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const forge = join(root, 'packages/forge/dist/bin.js');
const out = join(root, '.forge-demo');
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
step('Inspect it', process.execPath, [forge, 'inspect', first]);
step('Check the configuration the demo runs with', process.execPath, [forge, 'config', 'check', 'examples/plugin-manager.yaml']);
