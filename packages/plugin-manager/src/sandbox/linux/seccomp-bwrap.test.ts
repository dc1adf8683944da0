import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { inCi, requireTool } from '@forgeone/common/testing';
import { DEFAULT_DENIED_SYSCALLS, seccompProgram } from './seccomp.js';
import { syscallNumber } from './seccomp-syscalls.js';
import { BWRAP_ARGS, compileProbe, runProbe } from './test-support/seccomp-probe.js';

const EPERM = 1;
const ENOSYS = 38;
const EBADF = 9;
const arch = process.arch === 'x64' || process.arch === 'arm64' ? process.arch : undefined;
/** Denied calls whose failure without the filter comes before any permission check, so it is never EPERM (x32_getpid: x86_64 only). */
const REFUSED_ONLY_BY_THE_FILTER = ['chroot', 'setns', 'settimeofday', 'clock_settime', 'process_vm_readv', 'name_to_handle_at', 'clone3', 'ioctl_tiocsti', 'personality_no_randomize'];

let dir = '';
let probe: string | undefined;
let skipReason = '';

/** Skips (under CI: fails) unless bubblewrap runs and the probe was built. */
function ready(t: TestContext): string | undefined {
  if (arch === undefined) {
    t.skip(`no seccomp filter for ${process.arch}`);
    return undefined;
  }
  if (!requireTool(t, 'bwrap', [...BWRAP_ARGS, 'true'])) return undefined;
  if (probe === undefined) {
    if (inCi()) throw new Error(`${skipReason}; CI must install a C compiler (.ci/run)`);
    t.skip(skipReason);
  }
  return probe;
}

/** Runs the probe under the filter (given as a file on fd 3). */
function filtered(path: string, extraDenied: readonly string[] = []): Map<string, number> {
  const file = join(dir, `filter-${extraDenied.join('-')}.bpf`);
  writeFileSync(file, seccompProgram({ extraDenied }));
  const fd = openSync(file, 'r');
  try {
    return runProbe(path, { fd });
  } finally {
    closeSync(fd);
  }
}

describe('the seccomp filter inside bubblewrap (a real kernel)', { skip: process.platform !== 'linux' && 'Linux only' }, () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'forge-seccomp-'));
    if (arch === undefined) return;
    // $CC, else the first of cc, clang and gcc that runs, as scripts/build-native.mjs does.
    const built = compileProbe(dir, arch, process.env['CC'] ? [process.env['CC']] : ['cc', 'clang', 'gcc']);
    if ('path' in built) probe = built.path;
    else skipReason = built.reason;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses every denied call with EPERM and clone3 with ENOSYS, and leaves getpid, fork, clone and threads working', (t) => {
    const path = ready(t);
    if (path === undefined) return;
    const rows = filtered(path);
    const denied = DEFAULT_DENIED_SYSCALLS.filter((name) => syscallNumber(arch!, name) !== undefined);
    for (const name of denied) assert.equal(rows.get(name), EPERM, `${name}: expected EPERM (${EPERM}), found ${rows.get(name)}`);
    for (const name of ['clone_newuser', 'ioctl_tiocsti', 'ioctl_tioclinux', 'personality_no_randomize', ...(arch === 'x64' ? ['x32_getpid'] : [])]) {
      assert.equal(rows.get(name), EPERM, `${name}: expected EPERM, found ${rows.get(name)}`);
    }
    assert.equal(rows.get('clone3'), ENOSYS);
    for (const name of ['getpid', 'fork', 'clone', 'pthread_create', 'personality_0']) assert.equal(rows.get(name), 0, `${name} must work, found errno ${rows.get(name)}`);
    assert.equal(rows.get('ioctl_tcgets'), EBADF, 'another ioctl reaches the kernel');
  });

  it('without the filter the same calls get other answers: the filter is what refuses them', (t) => {
    const path = ready(t);
    if (path === undefined) return;
    const open = runProbe(path);
    const rows = filtered(path);
    for (const name of [...REFUSED_ONLY_BY_THE_FILTER, ...(arch === 'x64' ? ['x32_getpid'] : [])]) {
      assert.notEqual(open.get(name), undefined, name);
      assert.notEqual(open.get(name), rows.get(name), `${name}: ${open.get(name)} without the filter, ${rows.get(name)} with it`);
    }
    const same = [...rows].filter(([name, errno]) => errno !== 0 && open.get(name) === errno).map(([name]) => name);
    t.diagnostic(`answered alike with and without the filter (the kernel refuses them here anyway): ${same.join(', ') || 'none'}`);
  });

  it('refuses a call named in extraDenied on the real kernel', (t) => {
    const path = ready(t);
    if (path === undefined) return;
    assert.equal(filtered(path).get('getpid'), 0);
    // getpid cannot fail, so the probe prints -1 only when the filter refused it
    assert.equal(filtered(path, ['getpid']).get('getpid'), -1);
  });
});
