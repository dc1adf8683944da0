#!/usr/bin/env node
// Part of `npm run build`: compiles forge's Node-API module (packages/forge/native/peercred.c,
// SO_PEERCRED for the daemon's socket) into packages/forge/dist/native/peercred.node with the
// system C compiler ($CC, else cc, clang or gcc) and the headers of the Node running this script.
// Without a compiler the build goes on and says so: the daemon then trusts its socket's file
// mode alone and logs that at start (docs/daemon.md). Under CI a failure fails the build.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const source = join(root, 'packages/forge/native/peercred.c');
const target = join(root, 'packages/forge/dist/native/peercred.node');
const headers = join(dirname(dirname(process.execPath)), 'include', 'node');

if (process.platform !== 'linux') process.exit(0);
if (existsSync(target) && statSync(target).mtimeMs >= statSync(source).mtimeMs) process.exit(0);
mkdirSync(dirname(target), { recursive: true });
// $CC, else the first of cc, clang and gcc that runs (Debian's clang package, which .ci/run installs, may not provide cc).
let why = '';
for (const compiler of process.env.CC ? [process.env.CC] : ['cc', 'clang', 'gcc']) {
  const result = spawnSync(compiler, ['-shared', '-fPIC', '-O2', '-Wall', '-Werror', `-I${headers}`, '-o', target, source], { encoding: 'utf8' });
  if (result.status === 0) process.exit(0);
  why += `${why === '' ? '' : '; '}${compiler}: ${result.error?.message ?? result.stderr.trim()}`;
}
console.error(`build-native: could not build ${target} (${why}); forge daemon will rely on its socket's file mode alone`);
if (process.env.CI) process.exit(1);
