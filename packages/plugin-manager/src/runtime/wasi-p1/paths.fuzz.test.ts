/**
 * Fuzz: WASI path resolution against a real directory tree with hostile symlinks (to
 * '..', out of the preopen, absolute, loops, into a directory policy forbids). Generated
 * sequences of path_open, fd_read, fd_write and the other path_* calls, made straight
 * into the host functions, must never read or change anything outside the preopen, nor
 * read or change what the policy gate forbids (`/forbidden` and below), whatever links
 * they create or follow on the way; under a read-only preopen they change nothing at all.
 * Seeded: see docs/fuzzing.md for FORGE_FUZZ_SEED / FORGE_FUZZ_RUNS.
 */
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ForgeError, type HostCallGate } from '@forgeone/common';
import { runFuzz } from '@forgeone/common/testing';
import fc from 'fast-check';
import { engine } from '../wasm/engine.js';
import { HEADER, name, section, vec } from '../wasm/test-support/binary.js';
import { LOOKUPFLAGS, OFLAGS } from './abi.js';
import { scratch } from './test-support/guest.js';
import { WasiPreview1 } from './wasi.js';

const SECRET = 'top secret';
const FORBIDDEN = 'forbidden data';
const ALL_RIGHTS = (1n << 29n) - 1n;

/** The guest's memory: one page, exported, no code. */
const MEMORY_MODULE = new engine.Module(Uint8Array.from([...HEADER, ...section(5, vec([[0x00, 0x01]])), ...section(7, vec([[...name('memory'), 0x02, 0x00]]))]));

const forbids = (resource: string | undefined): boolean => resource === '/forbidden' || resource?.startsWith('/forbidden/') === true;
const GATE: HostCallGate = { check: (_call, resource) => (forbids(resource) ? { reason: 'policy forbids /forbidden' } : undefined), refuse: () => undefined };

const SEGMENTS = ['a.txt', 'sub', 'deep', 'b.txt', '..', '.', 'up', 'out', 'abs', 'loop1', 'self', 'dotdot', 'forbidden', 'x.txt', 'toforbidden', 'fsecret', 'new', 'n2', 'secret', ''];
const TARGETS = ['..', '../..', '../outside', '../outside/secret', '/', '/etc', 'forbidden', '../forbidden', 'sub', '.', 'new', 'loop1'];
const path = fc.array(fc.constantFrom(...SEGMENTS), { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/'));
const fd = fc.nat(5);

type Op =
  | { op: 'open'; dir: number; path: string; follow: boolean; oflags: number }
  | { op: 'read' | 'write'; fd: number }
  | { op: 'mkdir' | 'unlink' | 'rmdir' | 'readlink'; dir: number; path: string }
  | { op: 'stat'; dir: number; path: string; follow: boolean }
  | { op: 'rename' | 'link'; dir: number; path: string; dir2: number; path2: string; follow: boolean }
  | { op: 'symlink'; target: string; dir: number; path: string };

const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('open' as const), dir: fd, path, follow: fc.boolean(), oflags: fc.nat(15) }), weight: 4 },
  fc.record({ op: fc.constantFrom('read' as const, 'write' as const), fd }),
  fc.record({ op: fc.constantFrom('mkdir' as const, 'unlink' as const, 'rmdir' as const, 'readlink' as const), dir: fd, path }),
  fc.record({ op: fc.constant('stat' as const), dir: fd, path, follow: fc.boolean() }),
  fc.record({ op: fc.constantFrom('rename' as const, 'link' as const), dir: fd, path, dir2: fd, path2: path, follow: fc.boolean() }),
  { arbitrary: fc.record({ op: fc.constant('symlink' as const), target: fc.constantFrom(...TARGETS), dir: fd, path }), weight: 2 },
);

/** Every file and link under `dir`, with contents or targets: what must not change. */
function snapshot(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir)) {
    const full = join(dir, entry);
    const info = lstatSync(full);
    if (info.isSymbolicLink()) found.push(`l ${entry} -> ${readlinkSync(full)}`);
    else if (info.isDirectory()) found.push(`d ${entry}`, ...snapshot(full).map((inner) => `${entry}/${inner}`));
    else found.push(`f ${entry} ${readFileSync(full, 'utf8')} ${info.nlink}`);
  }
  return found.sort();
}

async function tree(): Promise<{ base: string; root: string; outside: string }> {
  const s = await scratch();
  const { root, outside } = s;
  writeFileSync(join(root, 'a.txt'), 'inside');
  mkdirSync(join(root, 'sub', 'deep'), { recursive: true });
  writeFileSync(join(root, 'sub', 'b.txt'), 'inside b');
  mkdirSync(join(root, 'forbidden'));
  writeFileSync(join(root, 'forbidden', 'x.txt'), FORBIDDEN);
  const links: [string, string][] = [
    ['up', '..'],
    ['out', '../outside'],
    ['abs', outside],
    ['fsecret', '../outside/secret'],
    ['loop1', 'loop2'],
    ['loop2', 'loop1'],
    ['self', '.'],
    ['toforbidden', 'forbidden'],
    ['sub/dotdot', '../..'],
    ['sub/toforbidden', '../forbidden'],
    ['sub/deep/up', '../../..'],
  ];
  for (const [at, target] of links) symlinkSync(target, join(root, at));
  return { base: s.base, root, outside };
}

/** Runs `ops` through the host functions; a refusal (errno or FO_WASI_CALL_DENIED) is fine, anything else thrown is not. */
function play(ops: readonly Op[], wasi: WasiPreview1, memory: Uint8Array): void {
  const calls = wasi.importObject['wasi_snapshot_preview1'] as Record<string, (...args: unknown[]) => number>;
  const fds = [3];
  const at = (index: number): number => fds[index % fds.length] ?? 3;
  const put = (ptr: number, text: string): [number, number] => {
    const bytes = Buffer.from(text, 'utf8');
    memory.set(bytes, ptr);
    return [ptr, bytes.length];
  };
  const view = new DataView(memory.buffer);
  const call = (fn: string, ...args: unknown[]): number => {
    const target = calls[fn];
    assert.ok(target !== undefined, fn);
    try {
      return target(...args);
    } catch (error) {
      if (error instanceof ForgeError && error.code === 'FO_WASI_CALL_DENIED') return -1;
      throw error;
    }
  };
  for (const step of ops) {
    switch (step.op) {
      case 'open': {
        const errno = call('path_open', at(step.dir), step.follow ? LOOKUPFLAGS.SYMLINK_FOLLOW : 0, ...put(0x100, step.path), step.oflags & (OFLAGS.CREAT | OFLAGS.DIRECTORY | OFLAGS.EXCL | OFLAGS.TRUNC), ALL_RIGHTS, ALL_RIGHTS, 0, 0x80);
        if (errno === 0) fds.push(view.getUint32(0x80, true));
        break;
      }
      case 'read':
        view.setUint32(0x40, 0x1000, true);
        view.setUint32(0x44, 0x4000, true);
        call('fd_read', at(step.fd), 0x40, 1, 0x48);
        break;
      case 'write':
        view.setUint32(0x40, put(0x200, 'PWNED')[0], true);
        view.setUint32(0x44, 5, true);
        call('fd_write', at(step.fd), 0x40, 1, 0x48);
        break;
      case 'mkdir':
        call('path_create_directory', at(step.dir), ...put(0x100, step.path));
        break;
      case 'unlink':
        call('path_unlink_file', at(step.dir), ...put(0x100, step.path));
        break;
      case 'rmdir':
        call('path_remove_directory', at(step.dir), ...put(0x100, step.path));
        break;
      case 'readlink':
        call('path_readlink', at(step.dir), ...put(0x100, step.path), 0x1000, 256, 0x48);
        break;
      case 'stat':
        call('path_filestat_get', at(step.dir), step.follow ? LOOKUPFLAGS.SYMLINK_FOLLOW : 0, ...put(0x100, step.path), 0x1000);
        break;
      case 'rename':
        call('path_rename', at(step.dir), ...put(0x100, step.path), at(step.dir2), ...put(0x300, step.path2));
        break;
      case 'link':
        call('path_link', at(step.dir), step.follow ? LOOKUPFLAGS.SYMLINK_FOLLOW : 0, ...put(0x100, step.path), at(step.dir2), ...put(0x300, step.path2));
        break;
      case 'symlink':
        call('path_symlink', ...put(0x300, step.target), at(step.dir), ...put(0x100, step.path));
        break;
    }
    const text = Buffer.from(memory).toString('latin1');
    assert.ok(!text.includes(SECRET), `the secret outside the preopen reached the guest after ${JSON.stringify(step)}`);
    assert.ok(!text.includes(FORBIDDEN), `the forbidden file reached the guest after ${JSON.stringify(step)}`);
  }
}

describe('WASI fuzz: path calls stay inside the preopen and within policy', () => {
  it('no sequence of path calls reads or writes outside the preopen or under a forbidden path', async () => {
    const prop = fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
      const { base, root, outside } = await tree();
      const before = { outside: snapshot(outside), forbidden: snapshot(join(root, 'forbidden')), base: readdirSync(base).sort() };
      const wasi = new WasiPreview1({ preopens: [{ host: root, guest: '/' }], gate: GATE });
      try {
        const instance = new engine.Instance(MEMORY_MODULE, {});
        wasi.bind(instance);
        const memory = new Uint8Array((instance.exports['memory'] as { buffer: ArrayBuffer }).buffer);
        play(ops, wasi, memory);
        assert.deepEqual(snapshot(outside), before.outside, 'something outside the preopen changed');
        assert.deepEqual(readdirSync(base).sort(), before.base, 'something next to the preopen changed');
        assert.deepEqual(snapshot(join(root, 'forbidden')), before.forbidden, 'something under the forbidden directory changed');
      } finally {
        wasi.close();
        rmSync(base, { recursive: true, force: true });
      }
    });
    await runFuzz('paths.fuzz', 150, (settings) => fc.check(prop, settings), (details) => fc.asyncDefaultReportMessage(details));
  });

  it('no sequence of path calls changes anything in a read-only preopen', async () => {
    const prop = fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
      const { base, root } = await tree();
      const before = snapshot(base);
      const wasi = new WasiPreview1({ preopens: [{ host: root, guest: '/', readOnly: true }], gate: GATE });
      try {
        const instance = new engine.Instance(MEMORY_MODULE, {});
        wasi.bind(instance);
        play(ops, wasi, new Uint8Array((instance.exports['memory'] as { buffer: ArrayBuffer }).buffer));
        assert.deepEqual(snapshot(base), before, 'something changed under a read-only preopen');
      } finally {
        wasi.close();
        rmSync(base, { recursive: true, force: true });
      }
    });
    await runFuzz('paths.fuzz', 80, (settings) => fc.check(prop, settings), (details) => fc.asyncDefaultReportMessage(details));
  });
});
