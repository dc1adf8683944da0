import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ALLOW_ALL_GATE, ForgeError } from '@forgeone/common';
import { createForgeHostFunctions } from './forge-host.js';
import { recordingPolicy } from '@forgeone/microkernel/testing';
import { bytes, fileWrite, relayPlugin, type TestPlugin } from './test-support/plugin.js';

const roots: string[] = [];
after(() => {
  for (const dir of roots) rmSync(dir, { recursive: true, force: true });
});

interface Layout {
  readonly root: string;
  readonly data: string;
  readonly assets: string;
  readonly outside: string;
}

/** Host directories: data (rw), assets (ro), and a secret file next to them, outside every volume. */
function layout(): Layout {
  const root = mkdtempSync(join(tmpdir(), 'forge-files-'));
  roots.push(root);
  const data = join(root, 'data');
  const assets = join(root, 'assets');
  const outside = join(root, 'outside');
  for (const dir of [data, assets, outside, join(data, 'sub')]) mkdirSync(dir);
  writeFileSync(join(outside, 'secret.txt'), 'top secret');
  writeFileSync(join(assets, 'logo.txt'), 'LOGO');
  writeFileSync(join(data, 'sub', 'note.txt'), 'note');
  symlinkSync('../outside/secret.txt', join(data, 'relative-out'));
  symlinkSync(join(outside, 'secret.txt'), join(data, 'absolute-out'));
  symlinkSync('sub/note.txt', join(data, 'inside-link'));
  symlinkSync('../outside', join(data, 'dir-out'));
  return { root, data, assets, outside };
}

/** A relay plugin whose manifest declares both volumes and whose operator mapped them. */
async function filePlugin(
  dirs: Layout,
  options: { limits?: { file?: { maxReadBytes?: number; maxWriteBytes?: number } }; permissive?: boolean; cedar?: string } = {},
): Promise<TestPlugin> {
  const volumes = [
    { guest: '/data', host: dirs.data, mode: 'rw' as const },
    { guest: '/assets', host: dirs.assets, mode: 'ro' as const },
  ];
  if (options.permissive === true) {
    // A gate that allows everything: the call's own checks are then the only defence.
    return relayPlugin({ volumes, gate: ALLOW_ALL_GATE, ...(options.limits === undefined ? {} : { limits: options.limits }) });
  }
  return relayPlugin(
    { volumes, ...(options.limits === undefined ? {} : { limits: options.limits }) },
    {
      ceiling: {
        filesystem: ['read', 'write'],
        volumes: [
          { name: 'data', path: '/data', mode: 'rw' },
          { name: 'assets', path: '/assets', mode: 'ro' },
        ],
      },
      grant: { volumes: { data: { host: dirs.data, mode: 'rw' }, assets: { host: dirs.assets, mode: 'ro' } } },
      ...(options.cedar === undefined ? {} : { cedar: options.cedar }),
    },
  );
}

const text = (value: Uint8Array): string => new TextDecoder().decode(value);

describe('forge.file_read and file_write', () => {
  it('reads a file inside a volume, the gate seeing the guest path', async () => {
    const dirs = layout();
    const plugin = await filePlugin(dirs);
    assert.equal(text(plugin.call('file_read', bytes('/data/sub/note.txt'))), 'note');
    assert.equal(text(plugin.call('file_read', bytes('/assets/logo.txt'))), 'LOGO');
    assert.equal(text(plugin.call('file_read', bytes('/data/inside-link'))), 'note', 'a link that stays inside the volume is followed');
    assert.deepEqual(
      plugin.policy.audit.map((entry) => [entry.action, entry.resource, entry.allowed]),
      [
        ['forge.file_read', '/data/sub/note.txt', true],
        ['forge.file_read', '/assets/logo.txt', true],
        ['forge.file_read', '/data/inside-link', true],
      ],
    );
    plugin.host.close();
  });

  it('writes in the three modes: replace atomically, append, create exclusively', async () => {
    const dirs = layout();
    const plugin = await filePlugin(dirs);
    plugin.call('file_write', fileWrite('/data/out.txt', 'one'));
    plugin.call('file_write', fileWrite('/data/out.txt', 'two'));
    assert.equal(readFileSync(join(dirs.data, 'out.txt'), 'utf8'), 'two');
    plugin.call('file_write', fileWrite('/data/out.txt', '+three', 'append'));
    assert.equal(readFileSync(join(dirs.data, 'out.txt'), 'utf8'), 'two+three');
    plugin.call('file_write', fileWrite('/data/log.txt', 'first', 'append'));
    assert.equal(readFileSync(join(dirs.data, 'log.txt'), 'utf8'), 'first', 'append creates a missing file');
    plugin.call('file_write', fileWrite('/data/new.txt', 'fresh', 'create'));
    assert.equal(plugin.code('file_write', fileWrite('/data/new.txt', 'again', 'create')), 'FO_SYSCALL_FILE_EXISTS');
    assert.equal(readFileSync(join(dirs.data, 'new.txt'), 'utf8'), 'fresh');
    assert.equal(plugin.code('file_write', fileWrite('/data/x', 'x', 7)), 'FO_ABI_BAD_REQUEST');
    assert.deepEqual(readdirSync(dirs.data).filter((name) => name.includes('.forge-write-')), [], 'no temporary file is left behind');
    plugin.host.close();
  });

  it('refuses paths outside every volume and .. escapes through policy, returning FO_ABI_HOST_DENIED and auditing each', async () => {
    const dirs = layout();
    const plugin = await filePlugin(dirs);
    const attempts = ['/etc/passwd', '/data/../outside/secret.txt', '/data/sub/../../outside/secret.txt', 'data/sub/note.txt', '/data/sub/note.txt\0.png'];
    for (const path of attempts) assert.equal(plugin.code('file_read', bytes(path)), 'FO_ABI_HOST_DENIED', JSON.stringify(path));
    assert.equal(plugin.code('file_write', fileWrite('/data/../outside/secret.txt', 'pwned')), 'FO_ABI_HOST_DENIED');
    assert.equal(plugin.code('file_write', fileWrite('/assets/logo.txt', 'defaced')), 'FO_ABI_HOST_DENIED', 'the manifest and the grant make /assets read-only');
    assert.deepEqual(plugin.policy.denials(), [
      ...attempts.map((path) => ['forge.file_read', path] as const),
      ['forge.file_write', '/data/../outside/secret.txt'],
      ['forge.file_write', '/assets/logo.txt'],
    ]);
    assert.equal(readFileSync(join(dirs.outside, 'secret.txt'), 'utf8'), 'top secret');
    assert.equal(readFileSync(join(dirs.assets, 'logo.txt'), 'utf8'), 'LOGO');
    plugin.host.close();
  });

  it('refuses symbolic links out of the volume with FO_SYSCALL_FILE_ESCAPE, even when policy allowed the path', async () => {
    const dirs = layout();
    const plugin = await filePlugin(dirs);
    for (const path of ['/data/relative-out', '/data/absolute-out', '/data/dir-out/secret.txt']) {
      const failure = plugin.failure('file_read', bytes(path));
      assert.equal(failure.code, 'FO_SYSCALL_FILE_ESCAPE', path);
      assert.doesNotMatch(failure.message, /outside\/secret|forge-files-/, 'the message names the guest path only');
    }
    assert.equal(plugin.code('file_write', fileWrite('/data/dir-out/secret.txt', 'pwned')), 'FO_SYSCALL_FILE_ESCAPE');
    // Policy allowed these paths; the resolver refused them: each refusal is audited.
    assert.deepEqual(plugin.policy.denials(), [
      ['forge.file_read', '/data/relative-out'],
      ['forge.file_read', '/data/absolute-out'],
      ['forge.file_read', '/data/dir-out/secret.txt'],
      ['forge.file_write', '/data/dir-out/secret.txt'],
    ]);
    assert.ok(
      plugin.policy.audit.filter((entry) => !entry.allowed).every((entry) => entry.reason.startsWith('FO_SYSCALL_FILE_ESCAPE: ')),
      'each denial says what refused it',
    );
    assert.equal(plugin.code('file_write', fileWrite('/data/inside-link', 'x')), 'FO_SYSCALL_FILE_NOT_REGULAR', 'a write never follows a final link');
    assert.equal(readFileSync(join(dirs.outside, 'secret.txt'), 'utf8'), 'top secret');
    assert.equal(readFileSync(join(dirs.data, 'sub', 'note.txt'), 'utf8'), 'note');
    plugin.host.close();
  });

  it('checks paths itself when the gate lets anything through: .., NUL, relative and ro volumes are still refused', async () => {
    const dirs = layout();
    const plugin = await filePlugin(dirs, { permissive: true });
    assert.equal(plugin.code('file_read', bytes('/data/../outside/secret.txt')), 'FO_SYSCALL_FILE_BAD_PATH');
    assert.equal(plugin.code('file_read', bytes('/data/sub/note.txt\0')), 'FO_SYSCALL_FILE_BAD_PATH');
    assert.equal(plugin.code('file_read', bytes('data/sub/note.txt')), 'FO_SYSCALL_FILE_BAD_PATH');
    assert.equal(plugin.code('file_read', bytes('/data//sub/note.txt')), 'FO_SYSCALL_FILE_BAD_PATH');
    assert.equal(plugin.code('file_read', bytes('/outside/secret.txt')), 'FO_SYSCALL_FILE_NO_VOLUME');
    assert.equal(plugin.code('file_read', Uint8Array.of(0x2f, 0xff)), 'FO_SYSCALL_FILE_BAD_PATH', 'ill-formed UTF-8');
    assert.equal(plugin.code('file_write', fileWrite('/assets/logo.txt', 'defaced')), 'FO_SYSCALL_FILE_READ_ONLY');
    assert.equal(readFileSync(join(dirs.assets, 'logo.txt'), 'utf8'), 'LOGO');
    plugin.host.close();
  });

  it('answers missing files, directories and oversize files with their codes', async () => {
    const dirs = layout();
    writeFileSync(join(dirs.data, 'big.bin'), Buffer.alloc(101));
    const plugin = await filePlugin(dirs, { limits: { file: { maxReadBytes: 100, maxWriteBytes: 10 } } });
    assert.equal(plugin.code('file_read', bytes('/data/missing.txt')), 'FO_SYSCALL_FILE_NOT_FOUND');
    assert.equal(plugin.code('file_read', bytes('/data/nodir/missing.txt')), 'FO_SYSCALL_FILE_NOT_FOUND');
    assert.equal(plugin.code('file_read', bytes('/data/sub')), 'FO_SYSCALL_FILE_NOT_REGULAR');
    assert.equal(plugin.code('file_read', bytes('/data')), 'FO_SYSCALL_FILE_NOT_REGULAR');
    assert.equal(plugin.code('file_read', bytes('/data/big.bin')), 'FO_SYSCALL_FILE_TOO_LARGE');
    assert.equal(plugin.code('file_write', fileWrite('/data/w.txt', '12345678901')), 'FO_SYSCALL_FILE_TOO_LARGE');
    assert.equal(plugin.code('file_write', fileWrite('/data/w.txt', '1234567890')), 'ok');
    assert.equal(plugin.code('file_write', fileWrite('/data/nodir/w.txt', 'x')), 'FO_SYSCALL_FILE_NOT_FOUND');
    plugin.host.close();
  });

  it('refuses malformed volume mappings all at once, and a missing host directory', () => {
    const gate = recordingPolicy().gate;
    assert.throws(
      () =>
        createForgeHostFunctions({
          plugin: 'p',
          gate,
          volumes: [
            { guest: 'data', host: '/tmp', mode: 'rw' },
            { guest: '/a/../b', host: '/tmp', mode: 'ro' },
            { guest: '/c', host: '/tmp', mode: 'rx' as 'ro' },
          ],
        }),
      (error: unknown) => ForgeError.is(error, 'FO_SYSCALL_INVALID_OPTIONS') && (error.details['problems'] as string[]).length === 3,
    );
    assert.throws(
      () => createForgeHostFunctions({ plugin: 'p', gate, volumes: [{ guest: '/data', host: join(tmpdir(), 'forge-no-such-dir-for-test'), mode: 'rw' }] }),
      (error: unknown) => ForgeError.is(error, 'FO_SYSCALL_VOLUME_UNAVAILABLE'),
    );
  });
});

describe('forge.file_read and file_write decide on the file a link really leads to', () => {
  const FORBID_SUB = 'forbid(principal, action in ForgeOne::Action::"filesystem", resource is ForgeOne::Path) when { resource.path like "/data/sub*" };';

  it('refuses a link to a forbidden file with FO_ABI_HOST_DENIED, audited on the file reached with the path asked for', async () => {
    const dirs = layout();
    const plugin = await filePlugin(dirs, { cedar: FORBID_SUB });
    const failure = plugin.failure('file_read', bytes('/data/inside-link'));
    assert.equal(failure.code, 'FO_ABI_HOST_DENIED');
    assert.doesNotMatch(failure.message, /note/);
    assert.deepEqual(
      plugin.policy.audit.map((entry) => [entry.resource, entry.allowed, entry.requested]),
      [
        ['/data/inside-link', true, undefined],
        ['/data/sub/note.txt', false, '/data/inside-link'],
      ],
    );
    plugin.host.close();
  });

  it('refuses a directory link into a forbidden tree, for reads and writes', async () => {
    const dirs = layout();
    symlinkSync('sub', join(dirs.data, 'door'));
    const plugin = await filePlugin(dirs, { cedar: FORBID_SUB });
    assert.equal(plugin.code('file_read', bytes('/data/door/note.txt')), 'FO_ABI_HOST_DENIED');
    assert.equal(plugin.code('file_write', fileWrite('/data/door/note.txt', 'pwned')), 'FO_ABI_HOST_DENIED');
    assert.equal(readFileSync(join(dirs.data, 'sub', 'note.txt'), 'utf8'), 'note');
    assert.deepEqual(plugin.policy.denials(), [
      ['forge.file_read', '/data/sub/note.txt'],
      ['forge.file_write', '/data/sub/note.txt'],
    ]);
    plugin.host.close();
  });

  it('answers FO_ABI_HOST_DENIED, not FO_SYSCALL_FILE_NOT_FOUND, for a missing name under a forbidden place reached through a link', async () => {
    const dirs = layout();
    symlinkSync('sub', join(dirs.data, 'door'));
    const plugin = await filePlugin(dirs, { cedar: FORBID_SUB });
    assert.equal(plugin.code('file_read', bytes('/data/door/missing/x')), 'FO_ABI_HOST_DENIED');
    assert.deepEqual(plugin.policy.denials(), [['forge.file_read', '/data/sub/missing']]);
    plugin.host.close();
  });
});
