#!/usr/bin/env node
// Writes the generated references in docs/reference/ from the built packages
// (run `tsc -b` first). With --check, writes nothing and exits 1 when a file is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const common = await import('../packages/common/dist/index.js');
const pm = await import('../packages/plugin-manager/dist/index.js');
const forge = await import('../packages/forge/dist/index.js');

const outputs = {
  'docs/reference/errors.md': common.renderErrorReference(),
  'docs/reference/config.md': common.renderConfigReference(),
  ...(pm.renderManifestReference ? { 'docs/reference/manifest.md': pm.renderManifestReference() } : {}),
  ...(forge.renderCliReference ? { 'docs/reference/cli.md': forge.renderCliReference() } : {}),
};

const check = process.argv.includes('--check');
let stale = 0;
for (const [file, content] of Object.entries(outputs)) {
  const path = join(root, file);
  let current = '';
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    current = '';
  }
  if (current === content) continue;
  if (check) {
    console.error(`${file} is out of date: run npm run gen:reference`);
    stale += 1;
  } else {
    writeFileSync(path, content);
    console.error(`wrote ${file}`);
  }
}
process.exit(stale === 0 ? 0 : 1);
