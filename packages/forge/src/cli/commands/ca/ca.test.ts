import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { requireTool } from '@forgeone/common/testing';
import { cliFor, forge } from '../../../test-support/cli.js';
import { keygen } from '../key/keygen.js';
import { caInit } from './init.js';
import { caIssue } from './issue.js';
import { caRevoke } from './revoke.js';

const commands = [keygen, caInit, caIssue, caRevoke];

const { cli, ok } = cliFor(commands);

function openssl(cwd: string, ...args: string[]): { status: number | null; output: string } {
  const run = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** root CA -> intermediate CA (pathLen 0) -> publisher, all made by forge. */
async function forgeChain(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'forge-ca-'));
  await ok(dir, 'ca', 'init', '--out', 'root', '--name', 'Forge Root CA', '--algorithm', 'ecdsa-p256');
  await ok(dir, 'keygen', '--out', 'inter');
  await ok(dir, 'ca', 'issue', '--ca', 'root', '--pub', 'inter.pub', '--name', 'Forge Intermediate CA', '--intermediate', '--path-len', '0', '--out', 'inter.pem');
  await mkdir(join(dir, 'inter-ca'));
  await copyFile(join(dir, 'inter.pem'), join(dir, 'inter-ca', 'ca.pem'));
  await copyFile(join(dir, 'inter.key'), join(dir, 'inter-ca', 'ca.key'));
  await copyFile(join(dir, 'root', 'ca.pem'), join(dir, 'inter-ca', 'chain.pem'));
  await ok(dir, 'keygen', '--out', 'publisher', '--algorithm', 'ecdsa-p256');
  await ok(dir, 'ca', 'issue', '--ca', 'inter-ca', '--pub', 'publisher.pub', '--name', 'Forge Publisher', '--out', 'publisher.pem');
  return dir;
}

describe('forge keygen', () => {
  it('writes PREFIX.key (PKCS#8, mode 0600) and PREFIX.pub (SPKI) and prints the key id', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'forge-keygen-'));
    const stdout = await ok(dir, 'keygen', '--out', 'signer');
    assert.match(stdout, /^[0-9a-f]{64}\n$/);
    assert.equal((await stat(join(dir, 'signer.key'))).mode & 0o777, 0o600);
    assert.match(await readFile(join(dir, 'signer.key'), 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
    assert.match(await readFile(join(dir, 'signer.pub'), 'utf8'), /^-----BEGIN PUBLIC KEY-----\n/);
    const json = JSON.parse(await ok(dir, 'keygen', '--out', 'ec', '--algorithm', 'ecdsa-p256', '--json')) as { algorithm: string; keyid: string };
    assert.equal(json.algorithm, 'ecdsa-p256');
  });

  it('refuses to overwrite a key (exit 7) and an unknown algorithm (exit 2)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'forge-keygen-'));
    await ok(dir, 'keygen', '--out', 'signer');
    const again = await cli(dir, 'keygen', '--out', 'signer');
    assert.equal(again.status, 7);
    assert.match(again.stderr, /FO_IO_EXISTS/);
    const rsa = await cli(dir, 'keygen', '--out', 'other', '--algorithm', 'rsa');
    assert.equal(rsa.status, 2);
    assert.match(rsa.stderr, /FO_CLI_FLAG_VALUE: --algorithm expects ed25519 or ecdsa-p256/);
  });

  it('writes keys OpenSSL reads', async (t) => {
    if (!requireTool(t, 'openssl', ['version'])) return;
    const dir = await mkdtemp(join(tmpdir(), 'forge-keygen-'));
    await ok(dir, 'keygen', '--out', 'ed');
    await ok(dir, 'keygen', '--out', 'ec', '--algorithm', 'ecdsa-p256');
    assert.match(openssl(dir, 'pkey', '-in', 'ed.key', '-noout', '-text').output, /ED25519 Private-Key/);
    assert.match(openssl(dir, 'pkey', '-in', 'ec.key', '-noout', '-text').output, /NIST CURVE: P-256/);
    assert.equal(openssl(dir, 'pkey', '-pubin', '-in', 'ec.pub', '-noout').status, 0);
  });
});

describe('forge ca', () => {
  it('renders help for every key and ca command', async () => {
    for (const command of commands) {
      const run = await forge([...command.path, '--help'], { commands });
      assert.equal(run.status, 0, command.path.join(' '));
      for (const flag of command.flags) assert.ok(run.stdout.includes(`--${flag.name}`), `${command.path.join(' ')} --${flag.name}`);
    }
  });

  it('init writes ca.pem and ca.key (mode 0600) and refuses to overwrite them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'forge-ca-'));
    const out = JSON.parse(await ok(dir, 'ca', 'init', '--out', 'root', '--name', 'Test Root', '--days', '30', '--json')) as { subject: string; serial: string };
    assert.equal(out.subject, 'CN=Test Root');
    assert.match(out.serial, /^[0-9a-f]{32}$/);
    assert.equal((await stat(join(dir, 'root', 'ca.key'))).mode & 0o777, 0o600);
    const again = await cli(dir, 'ca', 'init', '--out', 'root');
    assert.equal(again.status, 7, again.stderr);
  });

  it('issue refuses an intermediate below a pathLen-0 CA, and --path-len without --intermediate', async () => {
    const dir = await forgeChain();
    await ok(dir, 'keygen', '--out', 'deeper');
    const deeper = await cli(dir, 'ca', 'issue', '--ca', 'inter-ca', '--pub', 'deeper.pub', '--name', 'Too Deep', '--intermediate', '--out', 'deeper.pem');
    assert.equal(deeper.status, 3, deeper.stderr);
    assert.match(deeper.stderr, /FO_CA_INVALID: .*pathLen 0/);
    const stray = await cli(dir, 'ca', 'issue', '--ca', 'root', '--pub', 'deeper.pub', '--name', 'X', '--path-len', '1', '--out', 'x.pem');
    assert.equal(stray.status, 2);
    const notCa = await cli(dir, 'ca', 'issue', '--ca', 'nowhere', '--pub', 'deeper.pub', '--name', 'X', '--out', 'x.pem');
    assert.equal(notCa.status, 3);
    assert.match(notCa.stderr, /FO_CA_INVALID: .* has no ca\.pem/);
  });

  it('revoke writes a signed list, keeps earlier entries and refuses a list signed by another CA', async () => {
    const dir = await forgeChain();
    const first = JSON.parse(await ok(dir, 'ca', 'revoke', '--ca', 'root', '--serial', '0A:1B', '--out', 'revocations.json', '--json')) as { serials: string[] };
    assert.deepEqual(first.serials, ['a1b']);
    const second = JSON.parse(await ok(dir, 'ca', 'revoke', '--ca', 'root', '--digest', `sha256:${'a'.repeat(64)}`, '--out', 'revocations.json', '--json')) as { serials: string[]; digests: string[] };
    assert.deepEqual(second.serials, ['a1b']);
    assert.equal(second.digests.length, 1);
    await ok(dir, 'ca', 'init', '--out', 'other', '--name', 'Other Root');
    const foreign = await cli(dir, 'ca', 'revoke', '--ca', 'other', '--serial', '01', '--out', 'revocations.json');
    assert.equal(foreign.status, 5, foreign.stderr);
    assert.match(foreign.stderr, /FO_REVOCATION_INVALID/);
    const intermediate = await cli(dir, 'ca', 'revoke', '--ca', 'inter-ca', '--serial', '01', '--out', 'x.json');
    assert.equal(intermediate.status, 3);
    const badSerial = await cli(dir, 'ca', 'revoke', '--ca', 'root', '--serial', 'xyz', '--out', 'y.json');
    assert.equal(badSerial.status, 3);
    assert.match(badSerial.stderr, /FO_REVOCATION_ENTRY_INVALID/);
  });
});

describe('OpenSSL accepts chains made by forge ca', () => {
  it('openssl verify -x509_strict accepts root -> intermediate -> publisher, and the publisher may sign code', async (t) => {
    if (!requireTool(t, 'openssl', ['version'])) return;
    const dir = await forgeChain();
    const strict = openssl(dir, 'verify', '-x509_strict', '-CAfile', join('root', 'ca.pem'), '-untrusted', 'inter.pem', 'publisher.pem');
    assert.equal(strict.status, 0, strict.output);
    assert.match(strict.output, /publisher\.pem: OK/);
    // OpenSSL 3.2+ knows a code-signing purpose; 3.0 does not, so the extensions are read back instead.
    if (openssl(dir, 'verify', '-help').output.includes('codesign')) {
      const purpose = openssl(dir, 'verify', '-x509_strict', '-purpose', 'codesign', '-CAfile', join('root', 'ca.pem'), '-untrusted', 'inter.pem', 'publisher.pem');
      assert.equal(purpose.status, 0, purpose.output);
    }
    const leaf = openssl(dir, 'x509', '-in', 'publisher.pem', '-noout', '-subject', '-ext', 'basicConstraints,keyUsage,extendedKeyUsage');
    assert.match(leaf.output, /subject=CN = Forge Publisher/);
    assert.match(leaf.output, /Basic Constraints: critical\s+CA:FALSE/);
    assert.match(leaf.output, /Key Usage: critical\s+Digital Signature/);
    assert.match(leaf.output, /Extended Key Usage:\s+Code Signing/);
    const inter = openssl(dir, 'x509', '-in', 'inter.pem', '-noout', '-ext', 'basicConstraints,keyUsage');
    assert.match(inter.output, /CA:TRUE, pathlen:0/);
    assert.match(inter.output, /Certificate Sign, CRL Sign/);
  });

  it('openssl verify refuses the same chain after it expires, so the check above is a real one', async (t) => {
    if (!requireTool(t, 'openssl', ['version'])) return;
    const dir = await forgeChain();
    const later = String(Math.floor(Date.now() / 1000) + 400 * 86_400);
    const expired = openssl(dir, 'verify', '-x509_strict', '-attime', later, '-CAfile', join('root', 'ca.pem'), '-untrusted', 'inter.pem', 'publisher.pem');
    assert.notEqual(expired.status, 0);
    assert.match(expired.output, /certificate has expired/);
    const missing = openssl(dir, 'verify', '-x509_strict', '-CAfile', join('root', 'ca.pem'), 'publisher.pem');
    assert.notEqual(missing.status, 0, 'without the intermediate there is no path');
  });
});
