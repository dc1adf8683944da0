import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Permissions } from '../../plugin/index.js';
import { callPatternCovers, diffPermissions, hostPatternCovers, renderPermissionDiff } from './permission-diff.js';

const NONE: Permissions = { filesystem: [], network: [], allowed_hosts: [], syscalls: [], volumes: [] };

function perms(overrides: Partial<Permissions>): Permissions {
  return { ...NONE, ...overrides };
}

describe('diffPermissions', () => {
  it('finds nothing to approve between equal permissions, or when only order differs', () => {
    const a = perms({ filesystem: ['read', 'write'], syscalls: ['forge.kv_get', 'forge.log'], allowed_hosts: ['a.example.com', 'b.example.com'] });
    const b = perms({ filesystem: ['write', 'read'], syscalls: ['forge.log', 'forge.kv_get'], allowed_hosts: ['b.example.com', 'a.example.com'] });
    const diff = diffPermissions(a, b);
    assert.equal(diff.widens, false);
    assert.equal(diff.unchanged, true);
    assert.deepEqual(diff.escalations, []);
  });

  it('counts every added filesystem mode, network use, host, call and volume as a widening', () => {
    const diff = diffPermissions(
      NONE,
      perms({
        filesystem: ['read', 'write'],
        network: ['connect'],
        allowed_hosts: ['api.example.com'],
        syscalls: ['forge.http_request'],
        volumes: [{ name: 'data', path: '/data', mode: 'rw' }],
      }),
    );
    assert.equal(diff.widens, true);
    assert.deepEqual(diff.escalations, [
      'filesystem: read',
      'filesystem: write',
      'network: connect',
      'allowed_hosts: api.example.com',
      'syscalls: forge.http_request',
      'volume data (/data, rw)',
    ]);
  });

  it('counts turning threads on as a widening (a plugin that can block its thread), and off as a narrowing', () => {
    const on = diffPermissions(NONE, perms({ threads: true }));
    assert.equal(on.widens, true);
    assert.deepEqual(on.escalations, ['threads: true']);
    assert.deepEqual(renderPermissionDiff(on), ['+ threads']);
    const off = diffPermissions(perms({ threads: true }), NONE);
    assert.equal(off.widens, false);
    assert.equal(off.unchanged, false);
    assert.deepEqual(renderPermissionDiff(off), ['- threads']);
    assert.equal(diffPermissions(perms({ threads: false }), NONE).unchanged, true, 'false and absent are the same');
  });

  it('treats removals as narrowing, never as needing approval', () => {
    const diff = diffPermissions(perms({ filesystem: ['read', 'write'], network: ['connect'], allowed_hosts: ['x.io'], volumes: [{ name: 'v', path: '/v', mode: 'rw' }] }), perms({ filesystem: ['read'] }));
    assert.equal(diff.widens, false);
    assert.equal(diff.unchanged, false);
    assert.deepEqual(diff.filesystem.removed, ['write']);
    assert.deepEqual(diff.allowed_hosts.removed, ['x.io']);
    assert.deepEqual(diff.volumes.removed.map((volume) => volume.name), ['v']);
  });

  it('widens when a volume goes from ro to rw, not when it goes back or moves', () => {
    const ro = perms({ filesystem: ['read', 'write'], volumes: [{ name: 'data', path: '/data', mode: 'ro' }] });
    const rw = perms({ filesystem: ['read', 'write'], volumes: [{ name: 'data', path: '/data', mode: 'rw' }] });
    const moved = perms({ filesystem: ['read', 'write'], volumes: [{ name: 'data', path: '/srv/data', mode: 'ro' }] });
    assert.deepEqual(diffPermissions(ro, rw).escalations, ['volume data (/data): ro -> rw']);
    assert.equal(diffPermissions(rw, ro).widens, false);
    const move = diffPermissions(ro, moved);
    assert.equal(move.widens, false);
    assert.deepEqual(renderPermissionDiff(move), ['~ volume data: path /data -> /srv/data']);
  });

  it('sees a call or host as covered by an installed wildcard, and a new wildcard as wider than its members', () => {
    assert.equal(diffPermissions(perms({ syscalls: ['forge.*'] }), perms({ syscalls: ['forge.kv_get'] })).widens, false);
    assert.deepEqual(diffPermissions(perms({ syscalls: ['forge.kv_get'] }), perms({ syscalls: ['forge.*'] })).escalations, ['syscalls: forge.*']);
    assert.deepEqual(diffPermissions(perms({ syscalls: ['forge.*'] }), perms({ syscalls: ['wasi_snapshot_preview1.fd_write'] })).escalations, ['syscalls: wasi_snapshot_preview1.fd_write']);
    assert.equal(diffPermissions(perms({ allowed_hosts: ['*.example.com'] }), perms({ allowed_hosts: ['api.example.com'] })).widens, false);
    assert.deepEqual(diffPermissions(perms({ allowed_hosts: ['api.example.com'] }), perms({ allowed_hosts: ['*.example.com'] })).escalations, ['allowed_hosts: *.example.com']);
  });

  it('renders + for widenings and - for narrowings', () => {
    const diff = diffPermissions(perms({ syscalls: ['forge.kv_set'] }), perms({ network: ['connect'], allowed_hosts: ['api.example.com'] }));
    assert.deepEqual(renderPermissionDiff(diff), ['+ network: connect', '+ allowed_hosts: api.example.com', '- syscalls: forge.kv_set']);
  });
});

describe('pattern coverage', () => {
  it('matches hosts the way the trust layer does, including ports and hostile look-alikes', () => {
    assert.equal(hostPatternCovers('*.example.com', 'api.example.com'), true);
    assert.equal(hostPatternCovers('*.example.com', 'example.com'), false, 'a wildcard does not cover the domain itself');
    assert.equal(hostPatternCovers('*.example.com', 'api.example.com.evil.io'), false);
    assert.equal(hostPatternCovers('*.example.com', 'evilexample.com'), false);
    assert.equal(hostPatternCovers('*.com', '*.example.com'), true);
    assert.equal(hostPatternCovers('*.ample.com', '*.example.com'), false);
    assert.equal(hostPatternCovers('*.example.com', '*.com'), false);
    assert.equal(hostPatternCovers('api.example.com', '*.example.com'), false);
    assert.equal(hostPatternCovers('api.example.com', 'api.example.com:443'), true, 'no port means any port');
    assert.equal(hostPatternCovers('api.example.com:443', 'api.example.com'), false);
    assert.equal(hostPatternCovers('api.example.com:443', 'api.example.com:8443'), false);
    assert.equal(hostPatternCovers('*.example.com:443', '*.example.com'), false);
    assert.equal(hostPatternCovers('[::1]', '[::1]:8080'), true);
    assert.equal(hostPatternCovers('[::1]:80', '[::1]:8080'), false);
  });

  it('matches calls exactly or by module wildcard', () => {
    assert.equal(callPatternCovers('forge.*', 'forge.kv_get'), true);
    assert.equal(callPatternCovers('forge.*', 'forge.*'), true);
    assert.equal(callPatternCovers('forge.kv_get', 'forge.kv_get_all'), false);
    assert.equal(callPatternCovers('forge.*', 'forgex.kv_get'), false);
  });
});
