import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { forge } from '../../../test-support/cli.js';
import { wasiCommand } from '../../../test-support/wasi-command.js';
import { DenialReport, MAX_DENIAL_LINES, MAX_DISTINCT_DENIALS } from './denials.js';
import { wasiRun } from './run.js';

const commands = [wasiRun];

/** `(call $open ...)` on preopen fd 3 for the NAME at PTR, read-only; leaves the errno. */
function open(ptr: number, length: number): string {
  return `(call $open (i32.const 3) (i32.const 0) (i32.const ${ptr}) (i32.const ${length}) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 32))`;
}

async function withData(body: string, data: string, policy: string): Promise<string> {
  const dir = await wasiCommand(body, data);
  await mkdir(join(dir, 'data'));
  await writeFile(join(dir, 'data', 'a.txt'), 'a');
  await writeFile(join(dir, 'data', 'secret.txt'), 's');
  await writeFile(join(dir, 'ops.cedar'), policy);
  return dir;
}

describe('forge wasi run: denied calls', () => {
  it('names each distinct call the policy denied on stderr after the run, with a count, and not the allowed ones', async () => {
    const dir = await withData(
      `(drop ${open(64, 5)}) (drop ${open(80, 10)}) (drop ${open(80, 10)}) (call $exit ${open(80, 10)})`,
      '(data (i32.const 64) "a.txt") (data (i32.const 80) "secret.txt")',
      'forbid(principal, action, resource is ForgeOne::Path) when { resource.path == "/data/secret.txt" };\n',
    );
    const run = await forge(['wasi', 'run', '--dir', 'data::/data:ro', '--policy', 'ops.cedar', 'guest.wasm'], { cwd: dir, commands });
    assert.equal(run.status, 2, 'the guest exits with EACCES, its own choice');
    const lines = run.stderr.split('\n').filter((line) => line !== '');
    assert.equal(lines.length, 1, run.stderr);
    assert.match(lines[0]!, /^forge: denied wasi_snapshot_preview1\.path_open on "\/data\/secret\.txt": .*forbid.* \(3 times\)$/);
  });

  it('escapes terminal control and bidi characters in a resource name the guest chose', async () => {
    // "x<ESC>]0;pwned<BEL><CSI>31m<RLO>.txt" in UTF-8.
    const name = '"x\\1b]0;pwned\\07\\c2\\9b31m\\e2\\80\\ae.txt"';
    const dir = await withData(`(call $exit ${open(64, 23)})`, `(data (i32.const 64) ${name})`, 'forbid(principal, action, resource is ForgeOne::Path);\n');
    const run = await forge(['wasi', 'run', '--dir', 'data::/data', '--policy', 'ops.cedar', 'guest.wasm'], { cwd: dir, commands });
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /^forge: denied wasi_snapshot_preview1\.path_open on "\/data\/x/);
    assert.doesNotMatch(run.stderr, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/u);
    assert.ok(run.stderr.includes('\\u{9b}31m\\u{202e}.txt'), run.stderr);
  });

  it('also names refusals made outside policy, with the path the guest asked for', async () => {
    const dir = await withData(`(call $exit ${open(64, 13)})`, '(data (i32.const 64) "../secret.txt")', 'forbid(principal, action, resource is ForgeOne::Host);\n');
    const run = await forge(['wasi', 'run', '--dir', 'data::/data:ro', '--policy', 'ops.cedar', 'guest.wasm'], { cwd: dir, commands });
    assert.equal(run.status, 76, 'ENOTCAPABLE');
    assert.equal(run.stderr, 'forge: denied wasi_snapshot_preview1.path_open on "../secret.txt": ENOTCAPABLE: the path climbs above /data\n');
  });
});

describe('denial report', () => {
  it('keeps a bounded number of distinct refusals and summarises the rest', () => {
    const report = new DenialReport();
    for (let i = 0; i < MAX_DISTINCT_DENIALS + 50; i += 1) report.record('wasi_snapshot_preview1.path_open', `/data/${i}`, { reason: 'no' });
    report.record('wasi_snapshot_preview1.path_open', '/data/0', { reason: 'no' });
    const lines = report.lines();
    assert.equal(report.total, MAX_DISTINCT_DENIALS + 51);
    assert.equal(lines.length, MAX_DENIAL_LINES + 1);
    assert.equal(lines[0], 'forge: denied wasi_snapshot_preview1.path_open on "/data/0": no (2 times)\n');
    assert.equal(lines.at(-1), `forge: ... and ${MAX_DISTINCT_DENIALS + 50 - MAX_DENIAL_LINES} more denied calls (${MAX_DISTINCT_DENIALS + 51} in all; --audit-log records each)\n`);
  });

  it('truncates a long resource name', () => {
    const report = new DenialReport();
    report.record('forge.kv_get', `kv:${'k'.repeat(10_000)}`, { reason: 'no' });
    const [line] = report.lines();
    assert.ok(line !== undefined && line.length < 300, line);
    assert.match(line, /k\.\.\."/);
  });

  it('prints nothing when nothing was refused', () => {
    assert.deepEqual(new DenialReport().lines(), []);
  });
});
