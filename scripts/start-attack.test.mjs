// Found by the h14 attack review: `npm start` run by root (or any user) over a development
// state directory another user owns followed whatever that owner planted: plugin-manager.yaml
// as a link was written through (a root-owned file elsewhere overwritten), and ca/ca.pem was
// copied into the trust store as the development root. Now it refuses a state directory (or
// its forgeone/ parent) that is not the running user's own, and writes nothing through a link.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { inCi } from '../packages/common/dist/testing/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const NOBODY = 65534;

describe('npm start over a state directory another user owns', () => {
  it('refuses it, writes nothing through a planted link and trusts no planted CA', (t) => {
    if (process.getuid?.() !== 0) {
      // CI runs as root; elsewhere a non-root user cannot give a directory away.
      if (inCi()) throw new Error('this test needs root under CI, to give the directory to another user');
      return t.skip('needs root to give the directory to another user');
    }
    const base = mkdtempSync(join(tmpdir(), 'forge-start-attack-'));
    try {
      const dev = join(base, 'xdg', 'forgeone', 'dev');
      mkdirSync(join(dev, 'ca'), { recursive: true });
      writeFileSync(join(dev, 'ca', 'ca.pem'), 'the other user\'s CA\n');
      writeFileSync(join(dev, 'publisher.pem'), ''); // skips making the identity
      const victim = join(base, 'victim');
      writeFileSync(victim, 'root-owned original\n');
      symlinkSync(victim, join(dev, 'plugin-manager.yaml'));
      for (const path of [join(base, 'xdg', 'forgeone'), dev, join(dev, 'ca'), join(dev, 'ca', 'ca.pem'), join(dev, 'publisher.pem')]) chownSync(path, NOBODY, NOBODY);
      spawnSync('chown', ['-h', `${NOBODY}:${NOBODY}`, join(dev, 'plugin-manager.yaml')]);
      const run = spawnSync(process.execPath, [join(root, 'scripts/start.mjs')], {
        cwd: root,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: base, XDG_STATE_HOME: join(base, 'xdg') },
        encoding: 'utf8',
        timeout: 120_000,
      });
      assert.notEqual(run.status, 0, 'npm start must not go on over another user\'s directory');
      assert.equal(readFileSync(victim, 'utf8'), 'root-owned original\n', 'a file outside the state directory was overwritten through a planted link');
      const trusted = join(dev, 'trust', 'roots', 'development.pem');
      assert.ok(!existsSync(trusted) || readFileSync(trusted, 'utf8') !== 'the other user\'s CA\n', 'the other user\'s CA was put in the trust store');
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
