#!/usr/bin/env node
// Writes the generated references in docs/reference/ from the built packages
// (run `tsc -b` first). With --check, writes nothing, prints what differs and exits 1
// when a file is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readApi, renderApiReport } from './api-report.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const common = await import('../packages/common/dist/index.js');
const pm = await import('../packages/plugin-manager/dist/index.js');
const forge = await import('../packages/forge/dist/index.js');

const outputs = {
  'docs/reference/errors.md': common.renderErrorReference(),
  'docs/reference/config.md': common.renderConfigReference(),
  ...(pm.renderManifestReference ? { 'docs/reference/manifest.md': pm.renderManifestReference() } : {}),
  ...(forge.renderCliReference ? { 'docs/reference/cli.md': forge.renderCliReference() } : {}),
  ...(forge.renderHttpReference ? { 'docs/reference/http-api.md': forge.renderHttpReference() } : {}),
  ...(forge.daemonOpenApi ? { 'docs/reference/openapi.json': `${JSON.stringify(forge.daemonOpenApi(), null, 2)}\n` } : {}),
  'docs/reference/api.md': renderApiReport(await readApi(root)),
};

/** The lines only one side has, `-` for the committed file and `+` for the new one, at most `max`. */
function lineChanges(current, next, max = 40) {
  const count = (text) => {
    const counts = new Map();
    for (const line of text.split('\n')) counts.set(line, (counts.get(line) ?? 0) + 1);
    return counts;
  };
  const before = count(current);
  const after = count(next);
  const changes = [];
  for (const line of current.split('\n')) {
    if ((after.get(line) ?? 0) > 0) after.set(line, after.get(line) - 1);
    else changes.push(`  - ${line}`);
  }
  for (const line of next.split('\n')) {
    if ((before.get(line) ?? 0) > 0) before.set(line, before.get(line) - 1);
    else changes.push(`  + ${line}`);
  }
  return changes.length > max ? [...changes.slice(0, max), `  ... and ${changes.length - max} more`] : changes;
}

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
    console.error(`${file} is out of date: run npm run gen:reference and review the change`);
    for (const line of lineChanges(current, content)) console.error(line);
    stale += 1;
  } else {
    writeFileSync(path, content);
    console.error(`wrote ${file}`);
  }
}
process.exit(stale === 0 ? 0 : 1);
