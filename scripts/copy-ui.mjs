#!/usr/bin/env node
// Part of `npm run build`, after `tsc -b`: copies the web dashboard's static files (the
// page and its style sheet) from packages/forge/src/daemon/ui/ next to its scripts, which
// tsc compiled into packages/forge/dist/daemon/ui/. The daemon serves that directory at
// /ui (packages/forge/src/daemon/routes/ui.ts).
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const from = join(root, 'packages/forge/src/daemon/ui');
const to = join(root, 'packages/forge/dist/daemon/ui');
mkdirSync(to, { recursive: true });
for (const name of readdirSync(from)) {
  if (!/\.(?:html|css|svg)$/.test(name)) continue;
  // Unchanged files are left alone: a build while tests or a daemon read dist/ changes nothing under them.
  const target = join(to, name);
  if (!existsSync(target) || !readFileSync(target).equals(readFileSync(join(from, name)))) copyFileSync(join(from, name), target);
}
