import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cliFor, forge, jsonError } from '../../../test-support/cli.js';
import { testDaemon, signedSample, type TestDaemon } from '../../../test-support/daemon.js';
import { logRequest, signedHostilePlugin } from '../../../test-support/hostile-plugin.js';
import { COMMANDS } from '../index.js';

const { cli, ok } = cliFor(COMMANDS, {});

const running: TestDaemon[] = [];
after(async () => {
  for (const daemon of running) await daemon.close();
});

/** A daemon running the hostile plugin, and the sample plugin installed but not started. */
async function daemonWithPlugins(): Promise<TestDaemon> {
  const d = await testDaemon();
  running.push(d);
  await ok(d.dir, 'install', await signedHostilePlugin(d.dir));
  await ok(d.dir, 'start', 'hostile');
  await ok(d.dir, 'install', await signedSample(d.dir));
  return d;
}

/** Text that would clear the screen, set the window title and reverse what follows, with a line break. */
const HOSTILE = '\u001b[2J\u001b]0;pwned\u0007\u202eevil\nnext';
const BINARY = Buffer.from([0xff, 0xfe, 0x00, 0x1b, 0x9b]);

describe('forge call', () => {
  it('calls through the daemon: the bytes as they are into a pipe, escaped on a terminal, {encoding, output} with --json', async () => {
    const d = await daemonWithPlugins();
    const piped = await cli(d.dir, 'call', 'hostile', 'echo', HOSTILE);
    assert.equal(piped.status, 0, piped.stderr);
    assert.deepEqual(piped.stdoutBytes, Buffer.from(HOSTILE, 'utf8'), 'a pipe gets the plugin\'s bytes unchanged');
    assert.equal(piped.stderr, '');

    const onTerminal = await forge(['call', 'hostile', 'echo', HOSTILE], { cwd: d.dir, env: {}, tty: { stdout: true } });
    assert.equal(onTerminal.stdout, '\\u{1b}[2J\\u{1b}]0;pwned\\u{7}\\u{202e}evil\nnext\n');
    assert.doesNotMatch(onTerminal.stdout, /[\u001b\u0007\u202e]/u);

    assert.deepEqual(JSON.parse(await ok(d.dir, 'call', 'hostile', 'echo', HOSTILE, '--json')), { encoding: 'utf8', output: HOSTILE });
    await writeFile(join(d.dir, 'binary.in'), BINARY);
    const binary = await cli(d.dir, 'call', 'hostile', 'echo', '--input-file', 'binary.in');
    assert.deepEqual(binary.stdoutBytes, BINARY);
    assert.deepEqual(JSON.parse(await ok(d.dir, 'call', 'hostile', 'echo', '--input-file', 'binary.in', '--json')), { encoding: 'base64', output: BINARY.toString('base64') });
    const binaryOnTerminal = await forge(['call', 'hostile', 'echo', '--input-file', 'binary.in'], { cwd: d.dir, env: {}, tty: { stdout: true } });
    assert.doesNotMatch(binaryOnTerminal.stdout, /[\u0000\u001b\u009b]/u);

    await ok(d.dir, 'start', 'sample-plugin');
    assert.match(await ok(d.dir, 'call', 'sample-plugin', 'greet', 'ForgeOne', '--json'), /"output": "Hello, ForgeOne!"/);
  });

  it('fails with the code of the refusal: a plugin the daemon does not run, an export it lacks, input given twice', async () => {
    const d = await daemonWithPlugins();
    const stopped = await cli(d.dir, 'call', 'sample-plugin', 'greet', 'x', '--json');
    assert.deepEqual([stopped.status, jsonError(stopped).code], [7, 'FO_LIFECYCLE_NOT_RUNNING']);
    const noExport = await cli(d.dir, 'call', 'hostile', 'nothing', '--json');
    assert.deepEqual([noExport.status, jsonError(noExport).code], [6, 'FO_ABI_NO_SUCH_EXPORT']);
    const twice = await cli(d.dir, 'call', 'hostile', 'echo', 'x', '--input-file', 'y', '--json');
    assert.deepEqual([twice.status, jsonError(twice).code], [2, 'FO_CLI_EXTRA_ARGUMENT']);
    const noFile = await cli(d.dir, 'call', 'hostile', 'echo', '--input-file', 'absent.bin', '--json');
    assert.deepEqual([noFile.status, jsonError(noFile).code], [6, 'FO_IO_NOT_FOUND']);
  });

  it('without a daemon, loads the installed plugin in this process for the call, says so, and escapes its log records on stderr', async () => {
    const d = await daemonWithPlugins();
    await d.close();
    const echoed = await cli(d.dir, 'call', 'hostile', 'echo', HOSTILE);
    assert.equal(echoed.status, 0, echoed.stderr);
    assert.deepEqual(echoed.stdoutBytes, Buffer.from(HOSTILE, 'utf8'), 'the same output as through the daemon');
    assert.equal(echoed.stderr, `forge: no daemon answers at ${join(d.dir, 'run', 'forge.sock')}; loading hostile in this process for this call (started, called, stopped)\n`);

    const logged = await cli(d.dir, 'call', 'hostile', 'log', logRequest(2, HOSTILE));
    assert.equal(logged.status, 0, logged.stderr);
    const lines = logged.stderr.split('\n');
    assert.equal(lines.length, 3, 'the note and one log line: the plugin\'s newline is escaped');
    assert.match(lines[1] ?? '', /^\d{4}-\d\d-\d\dT[\d:.]+Z {2}INFO {3}hostile {2}\\u\{1b\}\[2J\\u\{1b\}\]0;pwned\\u\{7\}\\u\{202e\}evil\\nnext {2}\{"source":"forge\.log"\}$/);
    assert.doesNotMatch(logged.stderr, /[\u001b\u0007\u202e]/u);

    assert.equal(await ok(d.dir, 'call', 'sample-plugin', 'greet', 'local'), 'Hello, local!', 'a stopped plugin is started for the call');
    const absent = await cli(d.dir, 'call', 'nothing', 'f', '--json');
    assert.deepEqual([absent.status, jsonError(absent).code], [6, 'FO_STORE_NOT_INSTALLED']);
  });
});
