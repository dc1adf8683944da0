#!/usr/bin/env node
// Part of `npm run build`: compiles the Node-API modules with the system C compiler ($CC,
// else cc, clang or gcc) and the headers of the Node running this script:
//   packages/forge/native/peercred.c -> packages/forge/dist/native/peercred.node
//     SO_PEERCRED for the daemon's socket; without it the daemon trusts its socket's file
//     mode alone and logs that at start (docs/daemon.md);
//   packages/plugin-manager/native/shared-memory.c -> packages/plugin-manager/dist/native/shared-memory.node
//     the process backend's shared-memory ring; without it sandboxes speak over FIFOs alone
//     (slower calls; docs/sandbox.md);
//   packages/plugin-manager/native/memory-reducer.cc -> packages/plugin-manager/dist/native/memory-reducer.node
//     (C++, with $CXX, else c++, clang++ or g++) a memory-reducing collection once a sandbox
//     is idle; without it an idle sandbox keeps the young generation its load touched
//     (about 1.5 MiB more per sandbox; docs/sandbox.md);
//   packages/plugin-manager/native/wasi-io.c -> packages/plugin-manager/dist/native/wasi-io.node
//     WASI file reads and writes as one preadv/pwritev into or out of guest memory; without
//     it they go through node:fs, one call per iovec (slower small reads; docs/wasi.md);
//   packages/plugin-manager/native/thread-sched.c -> packages/plugin-manager/dist/native/thread-sched.node
//     a pool worker thread's time slice (sched_setattr, Linux 6.12+); without it the pool's
//     workers keep the kernel's default slice (a slower wake-up when every core is busy;
//     docs/sandbox.md);
//   packages/microkernel/native/chain-fill.c + chain-check.c -> packages/microkernel/dist/native/chain-fill.node
//     the audit chain's sha256 and prev/hash writes, a batch per call, and verification's
//     check of a chunk's lines, with the OpenSSL Node exports; without it the chain is
//     hashed and checked in JS (about twice the CPU per audited record, three times per
//     verified record; docs/audit.md).
// Without a compiler the build goes on and says so. Under CI a failure fails the build.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const headers = join(dirname(dirname(process.execPath)), 'include', 'node');
const modules = [
  { source: 'packages/forge/native/peercred.c', target: 'packages/forge/dist/native/peercred.node', without: 'forge daemon will rely on its socket file mode alone' },
  { source: 'packages/plugin-manager/native/shared-memory.c', target: 'packages/plugin-manager/dist/native/shared-memory.node', without: 'the process backend will speak to sandboxes over FIFOs alone' },
  { source: 'packages/plugin-manager/native/memory-reducer.cc', target: 'packages/plugin-manager/dist/native/memory-reducer.node', without: 'idle sandboxes will keep their young generation', cxx: true },
  { source: 'packages/plugin-manager/native/wasi-io.c', target: 'packages/plugin-manager/dist/native/wasi-io.node', without: 'WASI file reads and writes will go through node:fs' },
  { source: 'packages/plugin-manager/native/thread-sched.c', target: 'packages/plugin-manager/dist/native/thread-sched.node', without: 'pool workers will keep the kernel’s default time slice' },
  {
    source: ['packages/microkernel/native/chain-fill.c', 'packages/microkernel/native/chain-check.c'],
    headers: ['packages/microkernel/native/chain-native.h'],
    target: 'packages/microkernel/dist/native/chain-fill.node',
    without: 'the audit chain will be hashed and checked in JS',
  },
];

if (process.platform !== 'linux') process.exit(0);
let failed = false;
for (const { source: relativeSource, headers: relativeHeaders = [], target: relativeTarget, without, cxx = false } of modules) {
  // One source file, or several compiled into one module (with the headers they share).
  const sources = [relativeSource].flat().map((file) => join(root, file));
  const target = join(root, relativeTarget);
  const newest = Math.max(...[...sources, ...relativeHeaders.map((file) => join(root, file))].map((file) => statSync(file).mtimeMs));
  if (existsSync(target) && statSync(target).mtimeMs >= newest) continue;
  mkdirSync(dirname(target), { recursive: true });
  // $CC, else the first of cc, clang and gcc that runs (Debian's clang package, which .ci/run installs, may not provide cc);
  // for C++, $CXX, else c++, clang++ and g++.
  const compilers = cxx ? (process.env.CXX ? [process.env.CXX] : ['c++', 'clang++', 'g++']) : process.env.CC ? [process.env.CC] : ['cc', 'clang', 'gcc'];
  let why = '';
  let built = false;
  for (const compiler of compilers) {
    const result = spawnSync(compiler, ['-shared', '-fPIC', '-O2', '-Wall', '-Werror', ...(cxx ? ['-std=c++17'] : []), `-I${headers}`, '-o', target, ...sources], { encoding: 'utf8' });
    if (result.status === 0) {
      built = true;
      break;
    }
    why += `${why === '' ? '' : '; '}${compiler}: ${result.error?.message ?? result.stderr.trim()}`;
  }
  if (!built) {
    console.error(`build-native: could not build ${target} (${why}); ${without}`);
    failed = true;
  }
}
if (failed && process.env.CI) process.exit(1);
