import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EXIT_CODES, ForgeError } from '@forgeone/common';
import { HOST_CALL_FUEL } from '@forgeone/plugin-manager/wasi';
import { forge } from '../../../test-support/cli.js';
import { wasiCommand } from '../../../test-support/wasi-command.js';
import { parseDirFlag, parseEnvFlags } from './flags.js';
import { wasiRun } from './run.js';

const commands = [wasiRun];
const command = wasiCommand;

describe('forge wasi run', () => {
  it('exits 0 when _start returns and passes the guest\'s stdout through', async () => {
    const dir = await command('(call $print (i32.const 64) (i32.const 6))', '(data (i32.const 64) "hello\\n")');
    const run = await forge(['wasi', 'run', 'guest.wasm'], { cwd: dir, commands });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, 'hello\n');
    assert.equal(run.stderr, '');
  });

  it('exits with the guest\'s proc_exit code', async () => {
    const dir = await command('(call $exit (i32.const 7))');
    assert.equal((await forge(['wasi', 'run', 'guest.wasm'], { cwd: dir, commands })).status, 7);
  });

  it('reports codes above 255 as 255, never as success', async () => {
    const dir = await command('(call $exit (i32.const 256))');
    assert.equal((await forge(['wasi', 'run', 'guest.wasm'], { cwd: dir, commands })).status, 255);
  });

  it('exits 134 on a trap, with the trap on stderr', async () => {
    const dir = await command('(unreachable)');
    const run = await forge(['wasi', 'run', 'guest.wasm'], { cwd: dir, commands });
    assert.equal(run.status, 134);
    assert.match(run.stderr, /^forge: the guest trapped: RuntimeError: unreachable\n/);
  });

  it('gives the guest MODULE and the arguments after -- as argv, and only the --env variables', async () => {
    const dir = await command(
      `(drop (call $args_sizes (i32.const 16) (i32.const 20))) (drop (call $args (i32.const 1024) (i32.const 2048)))
       (call $print (i32.const 2048) (i32.load (i32.const 20)))
       (drop (call $env_sizes (i32.const 16) (i32.const 20))) (drop (call $env (i32.const 1024) (i32.const 4096)))
       (call $print (i32.const 4096) (i32.load (i32.const 20)))`,
    );
    const run = await forge(['wasi', 'run', '--env', 'GREETING=hi', '--env=EMPTY=', 'guest.wasm', '--', 'one', '--two'], { cwd: dir, commands, env: { HOME: '/leak' } });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, 'guest.wasm\0one\0--two\0GREETING=hi\0EMPTY=\0');
  });

  it('preopens --dir directories; a read-only one can be read but refuses writes with ENOTCAPABLE', async () => {
    const dir = await command(
      `(drop (call $open (i32.const 3) (i32.const 0) (i32.const 64) (i32.const 5) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 32)))
       (i32.store (i32.const 8) (i32.const 128)) (i32.store (i32.const 12) (i32.const 4))
       (drop (call $read (i32.load (i32.const 32)) (i32.const 8) (i32.const 1) (i32.const 36)))
       (call $print (i32.const 128) (i32.load (i32.const 36)))
       (call $exit (call $open (i32.const 3) (i32.const 0) (i32.const 64) (i32.const 5) (i32.const 0) (i64.const 64) (i64.const 0) (i32.const 0) (i32.const 32)))`,
      '(data (i32.const 64) "a.txt")',
    );
    await mkdir(join(dir, 'data'));
    await writeFile(join(dir, 'data', 'a.txt'), 'data');
    const run = await forge(['wasi', 'run', '--dir', 'data::/data:ro', 'guest.wasm'], { cwd: dir, commands });
    assert.equal(run.stdout, 'data');
    assert.equal(run.status, 76, 'ENOTCAPABLE');
    assert.equal(await readFile(join(dir, 'data', 'a.txt'), 'utf8'), 'data');
  });

  it('checks every call against --policy and records the decisions in --audit-log, verifiable with forge audit verify', async () => {
    // Opens secret.txt (exit with its errno), having first opened a.txt.
    const dir = await command(
      `(drop (call $open (i32.const 3) (i32.const 0) (i32.const 64) (i32.const 5) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 32)))
       (call $exit (call $open (i32.const 3) (i32.const 0) (i32.const 80) (i32.const 10) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 32)))`,
      '(data (i32.const 64) "a.txt") (data (i32.const 80) "secret.txt")',
    );
    await mkdir(join(dir, 'data'));
    await writeFile(join(dir, 'data', 'a.txt'), 'a');
    await writeFile(join(dir, 'data', 'secret.txt'), 's');
    await writeFile(join(dir, 'ops.cedar'), 'forbid(principal, action, resource is ForgeOne::Path) when { resource.path == "/data/secret.txt" };\n');
    await writeFile(join(dir, 'pm.yaml'), 'plugin_manager:\n  audit:\n    checkpoint_key: keys/audit.pem\n');
    const run = await forge(['wasi', 'run', '--config', 'pm.yaml', '--dir', 'data::/data:ro', '--policy', 'ops.cedar', '--audit-log', 'audit/run.log', 'guest.wasm'], { cwd: dir, commands });
    assert.equal(run.status, 2, `EACCES from the policy, got ${run.status}: ${run.stderr}`);
    const { auditVerify } = await import('../audit/verify.js');
    const { auditTail } = await import('../audit/tail.js');
    const verified = await forge(['audit', 'verify', '--config', 'pm.yaml', '--log', 'audit/run.log', '--json'], { cwd: dir, commands: [auditVerify] });
    assert.equal(verified.status, 0, verified.stdout + verified.stderr);
    const tail = await forge(['audit', 'tail', '--config', 'pm.yaml', '--log', 'audit/run.log', '--json'], { cwd: dir, commands: [auditTail] });
    const { records } = JSON.parse(tail.stdout) as { records: { action?: string; resource?: string; decision?: string }[] };
    const opens = records.filter((record) => record.action === 'wasi_snapshot_preview1.path_open').map((record) => [record.resource, record.decision]);
    assert.deepEqual(opens, [
      ['/data/a.txt', 'allow'],
      ['/data/secret.txt', 'deny'],
    ]);
  });

  it('stops a runaway guest after --fuel units with FO_SANDBOX_CPU_LIMIT and exit 134', async () => {
    const dir = await command('(loop $forever (br $forever))');
    const run = await forge(['wasi', 'run', '--fuel', '100000', 'guest.wasm'], { cwd: dir, commands });
    assert.equal(run.status, 134);
    assert.match(run.stderr, /FO_SANDBOX_CPU_LIMIT: the guest used all 100000 units of fuel/);
    const enough = await command('(call $exit (i32.const 3))');
    assert.equal((await forge(['wasi', 'run', '--fuel', '100000', 'guest.wasm'], { cwd: enough, commands })).status, 3, 'a guest within its fuel runs normally');
  });

  it('charges every WASI call HOST_CALL_FUEL units under --fuel: an endless loop of fd_write stops with FO_SANDBOX_CPU_LIMIT after at most fuel / HOST_CALL_FUEL lines', async () => {
    const dir = await command('(loop $forever (call $print (i32.const 64) (i32.const 2)) (br $forever))', '(data (i32.const 64) "x\\n")');
    const run = await forge(['wasi', 'run', '--fuel', '100000', 'guest.wasm'], { cwd: dir, commands });
    assert.equal(run.status, 134, run.stderr);
    assert.match(run.stderr, /FO_SANDBOX_CPU_LIMIT: the guest used all 100000 units of fuel/);
    const lines = run.stdout.split('\n').filter((line) => line === 'x').length;
    assert.ok(lines <= Number(100_000n / HOST_CALL_FUEL), `${lines} lines written on 100,000 units: at most ${100_000n / HOST_CALL_FUEL} fd_write calls can be paid for`);
    // Each turn's own instructions cost far less than 100 units.
    assert.ok(lines >= Number(100_000n / (HOST_CALL_FUEL + 100n)), `${lines} lines: the loop ran until its fuel was spent`);
  });

  it('caps memory with --max-memory so memory.grow past it returns -1', async () => {
    const dir = await command('(call $exit (i32.add (memory.grow (i32.const 100)) (i32.const 2)))');
    assert.equal((await forge(['wasi', 'run', 'guest.wasm'], { cwd: dir, commands })).status, 3, 'uncapped: grow returns the old size, 1');
    assert.equal((await forge(['wasi', 'run', '--max-memory', '1MB', 'guest.wasm'], { cwd: dir, commands })).status, 1, 'capped at 16 pages: grow returns -1');
  });

  it('refuses malformed --fuel and --max-memory values', async () => {
    const dir = await command('(call $exit (i32.const 0))');
    for (const flags of [['--fuel', '-1'], ['--fuel', '1e9'], ['--max-memory', '1KB'], ['--max-memory', 'lots']]) {
      const run = await forge(['wasi', 'run', ...flags, 'guest.wasm'], { cwd: dir, commands });
      assert.equal(run.status, 2, flags.join(' '));
      assert.match(run.stderr, /FO_CLI_FLAG_VALUE/);
    }
  });

  it('refuses a malformed --dir or --env as a usage error', async () => {
    const dir = await command('');
    for (const flags of [['--dir', '::/x'], ['--dir=data::'], ['--env', 'NOVALUE'], ['--env', '=x']]) {
      const run = await forge(['wasi', 'run', ...flags, 'guest.wasm'], { cwd: dir, commands });
      assert.equal(run.status, EXIT_CODES.usage, flags.join(' '));
      assert.match(run.stderr, /FO_CLI_FLAG_VALUE/);
    }
  });

  it('exits 6 for a missing module, 6 for a missing --dir directory and 3 for bytes that are not wasm', async () => {
    const dir = await command('');
    await writeFile(join(dir, 'bad.wasm'), 'not wasm');
    const missing = await forge(['wasi', 'run', 'nope.wasm'], { cwd: dir, commands });
    assert.deepEqual([missing.status, /FO_IO_NOT_FOUND/.test(missing.stderr)], [EXIT_CODES.not_found, true]);
    const noDir = await forge(['wasi', 'run', '--dir', 'absent::/x', 'guest.wasm'], { cwd: dir, commands });
    assert.deepEqual([noDir.status, /FO_WASI_PREOPEN_NOT_FOUND/.test(noDir.stderr)], [EXIT_CODES.not_found, true]);
    const bad = await forge(['wasi', 'run', 'bad.wasm'], { cwd: dir, commands });
    assert.deepEqual([bad.status, /FO_WASI_MODULE_INVALID/.test(bad.stderr)], [EXIT_CODES.invalid, true]);
  });

  it('renders its help with every flag', async () => {
    const run = await forge(['wasi', 'run', '--help'], { commands });
    assert.equal(run.status, 0);
    assert.match(run.stdout, /^Usage: forge wasi run \[flags\] MODULE \[-- ARGS\.\.\.\]/);
    for (const flag of ['--dir', '--env', '--config']) assert.ok(run.stdout.includes(flag), flag);
  });
});

describe('forge wasi run flags', () => {
  it('parses HOST::GUEST, :ro and :rw, and a single DIR for both sides', () => {
    assert.deepEqual(parseDirFlag('data::/data:ro', '/work'), { host: '/work/data', guest: '/data', readOnly: true });
    assert.deepEqual(parseDirFlag('/srv/x::/x:rw', '/work'), { host: '/srv/x', guest: '/x', readOnly: false });
    assert.deepEqual(parseDirFlag('.', '/work'), { host: '/work', guest: '.', readOnly: false });
  });

  it('refuses a single colon (the Docker spelling) and suggests HOST::GUEST', () => {
    for (const [typed, suggested] of [
      ['data:/data', 'data::/data'],
      ['data:/data:ro', 'data::/data:ro'],
      ['/srv/x:/x:rw', '/srv/x::/x:rw'],
    ]) {
      assert.throws(
        () => parseDirFlag(typed!, '/work'),
        (error: unknown) =>
          ForgeError.is(error, 'FO_CLI_FLAG_VALUE') && error.message === `--dir expects HOST::GUEST[:ro] (two colons between the host directory and the guest path), found "${typed}" (did you mean "${suggested}"?)`,
        typed,
      );
    }
    assert.deepEqual(parseDirFlag('data:ro', '/work'), { host: '/work/data', guest: 'data', readOnly: true });
    assert.deepEqual(parseDirFlag('a:b::a:b', '/work'), { host: '/work/a:b', guest: 'a:b', readOnly: false });
  });

  it('keeps = inside --env values', () => {
    assert.deepEqual(parseEnvFlags(['A=b=c', 'E=']), { A: 'b=c', E: '' });
  });
});
