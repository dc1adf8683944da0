#!/usr/bin/env node
// The `forge` command npm links into node_modules/.bin. It is committed, not built: npm
// links a bin only if its file exists when `npm ci` runs, which on a fresh clone is before
// any build, and a file tsc rewrites loses its executable bit. This launcher only loads
// the built CLI (dist/bin.js, the composition root), or says how to build it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(`forge: FO_CLI_NOT_BUILT: the forge CLI is not built yet (${fileURLToPath(cli)} is missing); run npm run build first\n`);
  // 9 is the exit status of the error kind `unavailable` (docs/reference/cli.md); the
  // catalog that maps it is itself part of what is not built yet.
  process.exit(9);
}
await import(cli.href);
