import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { requireTool } from '@forgeone/common/testing';
import { readPackage, writeArchive } from '@forgeone/plugin-manager/signing';
import { cliFor, forge, jsonError } from '../../../test-support/cli.js';
import { caInit } from '../ca/init.js';
import { caIssue } from '../ca/issue.js';
import { caRevoke } from '../ca/revoke.js';
import { keygen } from '../key/keygen.js';
import { inspect } from './inspect.js';
import { pack } from './pack.js';
import { sign } from './sign.js';
import { verify } from './verify.js';

const commands = [pack, inspect, keygen, caInit, caIssue, caRevoke, sign, verify];
const WASM = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

const { cli, ok } = cliFor(commands);

/** A workspace with a packed plugin (hello.forgepkg) and a forge-made PKI trusted by ./trust. */
async function workspace(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'forge-sign-'));
  await mkdir(join(dir, 'src'));
  await writeFile(join(dir, 'src', 'plugin.toml'), '[plugin]\nname = "hello"\nversion = "1.0.0"\n');
  await writeFile(join(dir, 'src', 'plugin.wasm'), WASM);
  await ok(dir, 'pack', 'src', '-o', 'hello.forgepkg');
  await ok(dir, 'ca', 'init', '--out', 'root', '--name', 'ACME Root CA');
  await ok(dir, 'keygen', '--out', 'inter');
  await ok(dir, 'ca', 'issue', '--ca', 'root', '--pub', 'inter.pub', '--name', 'ACME Signing CA', '--intermediate', '--out', 'inter.pem');
  await mkdir(join(dir, 'inter-ca'));
  await copyFile(join(dir, 'inter.pem'), join(dir, 'inter-ca', 'ca.pem'));
  await copyFile(join(dir, 'inter.key'), join(dir, 'inter-ca', 'ca.key'));
  await ok(dir, 'keygen', '--out', 'publisher');
  await ok(dir, 'ca', 'issue', '--ca', 'inter-ca', '--pub', 'publisher.pub', '--name', 'ACME Plugins', '--out', 'publisher.pem');
  await mkdir(join(dir, 'trust', 'roots'), { recursive: true });
  await copyFile(join(dir, 'root', 'ca.pem'), join(dir, 'trust', 'roots', 'acme.pem'));
  return dir;
}

describe('forge sign and forge verify', () => {
  it('renders help for sign and verify with every flag', async () => {
    for (const command of [sign, verify]) {
      const run = await forge([...command.path, '--help'], { commands });
      assert.equal(run.status, 0);
      for (const flag of command.flags) assert.ok(run.stdout.includes(`--${flag.name}`), `--${flag.name}`);
    }
  });

  it('signs with a certificate and chain, then verifies and prints the publisher', async () => {
    const dir = await workspace();
    const signed = await cli(dir, 'sign', 'hello.forgepkg', '--key', 'publisher.key', '--cert', 'publisher.pem', '--chain', 'inter.pem');
    assert.equal(signed.status, 0, signed.stderr);
    assert.equal(signed.stdout, `${join(dir, 'hello.forgepkg')}\n`);
    assert.match(signed.stderr, /^signed hello 1\.0\.0 with key [0-9a-f]{64}: 1 signature now\n$/);
    const human = await ok(dir, 'verify', 'hello.forgepkg', '--trust', 'trust');
    assert.match(human, /^verified hello 1\.0\.0\n {2}publisher: ACME Plugins\n/);
    assert.match(human, /chain: CN=ACME Plugins <- CN=ACME Signing CA <- CN=ACME Root CA/);
    const json = JSON.parse(await ok(dir, 'verify', 'hello.forgepkg', '--trust', 'trust', '--json')) as {
      verified: boolean;
      identity: { publisher: string; attested: boolean; digest: string };
      trustStore: { roots: string[] };
    };
    assert.equal(json.verified, true);
    assert.equal(json.identity.publisher, 'ACME Plugins');
    assert.equal(json.identity.attested, true);
    assert.deepEqual(json.trustStore.roots, ['CN=ACME Root CA']);
    const inspected = JSON.parse(await ok(dir, 'inspect', 'hello.forgepkg', '--json')) as { digest: string; signatures: { mediaType: string }[] };
    assert.equal(inspected.digest, json.identity.digest);
    assert.deepEqual(inspected.signatures.map((signature) => signature.mediaType), ['application/vnd.dev.sigstore.bundle.v0.3+json']);
  });

  it('exits 5 for a tampered package and 4 for an untrusted or revoked signer', async () => {
    const dir = await workspace();
    await ok(dir, 'sign', 'hello.forgepkg', '--key', 'publisher.key', '--cert', 'publisher.pem', '--chain', 'inter.pem', '--out', 'signed.forgepkg');
    const contents = await readPackage(join(dir, 'signed.forgepkg'));
    const files = contents.files.map((file) => ({ path: file.path, data: file.path === 'plugin.wasm' ? Buffer.concat([WASM, Buffer.from([0])]) : (contents.read(file.path) as Buffer) }));
    await writeFile(join(dir, 'tampered.forgepkg'), writeArchive(files));
    const tampered = await cli(dir, 'verify', 'tampered.forgepkg', '--trust', 'trust', '--json');
    assert.equal(tampered.status, 5, tampered.stderr);
    assert.equal(jsonError(tampered).code, 'FO_VERIFY_DIGEST_MISMATCH');

    await ok(dir, 'ca', 'init', '--out', 'other', '--name', 'Other Root');
    await mkdir(join(dir, 'other-trust', 'roots'), { recursive: true });
    await copyFile(join(dir, 'other', 'ca.pem'), join(dir, 'other-trust', 'roots', 'other.pem'));
    const untrusted = await cli(dir, 'verify', 'signed.forgepkg', '--trust', 'other-trust', '--json');
    assert.equal(untrusted.status, 4, untrusted.stderr);
    assert.equal(jsonError(untrusted).code, 'FO_SIGNER_UNTRUSTED');

    const serial = (JSON.parse(await ok(dir, 'verify', 'signed.forgepkg', '--trust', 'trust', '--json')) as { accepted: { serial: string }[] }).accepted[0]?.serial ?? '';
    await ok(dir, 'ca', 'revoke', '--ca', 'root', '--serial', serial, '--out', join('trust', 'revocations.json'));
    const revoked = await cli(dir, 'verify', 'signed.forgepkg', '--trust', 'trust', '--json');
    assert.equal(revoked.status, 4, revoked.stderr);
    assert.equal(jsonError(revoked).code, 'FO_REVOKED_CERTIFICATE');

    const unsigned = await cli(dir, 'verify', 'hello.forgepkg', '--trust', 'trust');
    assert.equal(unsigned.status, 4);
    assert.match(unsigned.stderr, /FO_VERIFY_UNSIGNED/);
  });

  it('applies a signer policy and counts several signatures toward its threshold', async () => {
    const dir = await workspace();
    await ok(dir, 'keygen', '--out', 'second');
    await ok(dir, 'ca', 'issue', '--ca', 'root', '--pub', 'second.pub', '--name', 'ACME Security', '--out', 'second.pem');
    await writeFile(join(dir, 'policy.json'), JSON.stringify({ version: 1, threshold: 2, publishers: ['ACME Plugins', 'ACME Security'] }));
    await ok(dir, 'sign', 'hello.forgepkg', '--key', 'publisher.key', '--cert', 'publisher.pem', '--chain', 'inter.pem');
    const one = await cli(dir, 'verify', 'hello.forgepkg', '--trust', 'trust', '--policy', 'policy.json', '--json');
    assert.equal(one.status, 4);
    assert.equal(jsonError(one).code, 'FO_SIGNER_THRESHOLD');
    await ok(dir, 'sign', 'hello.forgepkg', '--key', 'second.key', '--cert', 'second.pem');
    const two = JSON.parse(await ok(dir, 'verify', 'hello.forgepkg', '--trust', 'trust', '--policy', 'policy.json', '--json')) as { accepted: unknown[] };
    assert.equal(two.accepted.length, 2);
  });

  it('signs with a bare key that the trust store lists in keys/', async () => {
    const dir = await workspace();
    await ok(dir, 'sign', 'hello.forgepkg', '--key', 'publisher.key');
    const untrusted = await cli(dir, 'verify', 'hello.forgepkg', '--trust', 'trust');
    assert.equal(untrusted.status, 4);
    await mkdir(join(dir, 'trust', 'keys'));
    await copyFile(join(dir, 'publisher.pub'), join(dir, 'trust', 'keys', 'release-bot.pub'));
    assert.match(await ok(dir, 'verify', 'hello.forgepkg', '--trust', 'trust'), /publisher: release-bot/);
  });

  it('reads the trust store and policy from the configuration, relative to its file', async () => {
    const dir = await workspace();
    await ok(dir, 'sign', 'hello.forgepkg', '--key', 'publisher.key', '--cert', 'publisher.pem', '--chain', 'inter.pem');
    await writeFile(join(dir, 'policy.json'), JSON.stringify({ version: 1, publishers: ['Someone Else'] }));
    await writeFile(join(dir, 'plugin-manager.yaml'), 'plugin_manager:\n  security:\n    trust_store: trust\n    signer_policy: policy.json\n');
    const refused = await cli(join(dir, 'src'), 'verify', join(dir, 'hello.forgepkg'), '--config', join(dir, 'plugin-manager.yaml'), '--json');
    assert.equal(refused.status, 4, refused.stderr);
    assert.equal(jsonError(refused).code, 'FO_SIGNER_NOT_ALLOWED');
  });

  it('refuses to sign with a key that does not match the certificate (exit 3)', async () => {
    const dir = await workspace();
    const run = await cli(dir, 'sign', 'hello.forgepkg', '--key', 'inter.key', '--cert', 'publisher.pem');
    assert.equal(run.status, 3);
    assert.match(run.stderr, /FO_KEY_MISMATCH/);
  });
});

describe('forge verify accepts chains made by OpenSSL', () => {
  const CONFIG = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[v3_inter]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[v3_leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[v3_server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
`;

  function openssl(cwd: string, ...args: string[]): string {
    const run = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
    assert.equal(run.status, 0, `openssl ${args.join(' ')}: ${run.stderr}`);
    return run.stdout;
  }

  /** A key (KEYGEN args) and a certificate for it signed by ISSUER with the extension section. */
  function issue(cwd: string, name: string, subject: string, keyArgs: string[], issuer: string, section: string, serial: string): void {
    openssl(cwd, 'genpkey', ...keyArgs, '-out', `${name}.key`);
    openssl(cwd, 'req', '-new', '-key', `${name}.key`, '-subj', subject, '-config', 'openssl.cnf', '-out', `${name}.csr`);
    openssl(cwd, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.pem`, '-CAkey', `${issuer}.key`, '-set_serial', serial, '-days', '30', '-extfile', 'openssl.cnf', '-extensions', section, '-out', `${name}.pem`);
  }

  async function opensslPki(): Promise<string> {
    const dir = await workspace();
    await writeFile(join(dir, 'openssl.cnf'), CONFIG);
    openssl(dir, 'req', '-x509', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'oroot.key', '-out', 'oroot.pem', '-days', '30', '-subj', '/O=OpenSSL Test/CN=OpenSSL Root CA', '-config', 'openssl.cnf', '-extensions', 'v3_root');
    issue(dir, 'ointer', '/CN=OpenSSL Intermediate CA', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'], 'oroot', 'v3_inter', '0x1001');
    issue(dir, 'oleaf', '/CN=OpenSSL Publisher', ['-algorithm', 'ed25519'], 'ointer', 'v3_leaf', '0x2002');
    await mkdir(join(dir, 'otrust', 'roots'), { recursive: true });
    await copyFile(join(dir, 'oroot.pem'), join(dir, 'otrust', 'roots', 'openssl-root.pem'));
    return dir;
  }

  it('verifies a package signed with an openssl req/x509 chain (RSA root, P-384 intermediate, Ed25519 publisher)', async (t) => {
    if (!requireTool(t, 'openssl', ['version'])) return;
    const dir = await opensslPki();
    await ok(dir, 'sign', 'hello.forgepkg', '--key', 'oleaf.key', '--cert', 'oleaf.pem', '--chain', 'ointer.pem');
    const result = JSON.parse(await ok(dir, 'verify', 'hello.forgepkg', '--trust', 'otrust', '--json')) as { identity: { publisher: string }; accepted: { serial: string; chain: string[] }[] };
    assert.equal(result.identity.publisher, 'OpenSSL Publisher');
    assert.equal(result.accepted[0]?.serial, '2002');
    assert.deepEqual(result.accepted[0]?.chain, ['CN=OpenSSL Publisher', 'CN=OpenSSL Intermediate CA', 'O=OpenSSL Test, CN=OpenSSL Root CA']);
    // OpenSSL agrees the chain is valid.
    assert.match(openssl(dir, 'verify', '-x509_strict', '-CAfile', 'oroot.pem', '-untrusted', 'ointer.pem', 'oleaf.pem'), /oleaf\.pem: OK/);
  });

  it('refuses an OpenSSL chain that breaks pathlen with exit 5 FO_CHAIN_PATH_LENGTH, as openssl verify does', async (t) => {
    if (!requireTool(t, 'openssl', ['version'])) return;
    const dir = await opensslPki();
    issue(dir, 'osecond', '/CN=OpenSSL Second CA', ['-algorithm', 'ed25519'], 'ointer', 'v3_inter', '0x3003');
    issue(dir, 'odeep', '/CN=OpenSSL Deep Publisher', ['-algorithm', 'ed25519'], 'osecond', 'v3_leaf', '0x4004');
    await writeFile(join(dir, 'chain.pem'), `${await readFile(join(dir, 'osecond.pem'), 'utf8')}${await readFile(join(dir, 'ointer.pem'), 'utf8')}`);
    await ok(dir, 'sign', 'hello.forgepkg', '--key', 'odeep.key', '--cert', 'odeep.pem', '--chain', 'chain.pem');
    const run = await cli(dir, 'verify', 'hello.forgepkg', '--trust', 'otrust', '--json');
    assert.equal(run.status, 5, run.stderr);
    assert.equal(jsonError(run).code, 'FO_CHAIN_PATH_LENGTH');
    const check = spawnSync('openssl', ['verify', '-CAfile', 'oroot.pem', '-untrusted', 'chain.pem', 'odeep.pem'], { cwd: dir, encoding: 'utf8' });
    assert.notEqual(check.status, 0);
    assert.match(`${check.stdout}${check.stderr}`, /path length constraint exceeded/);
  });

  it('refuses to sign with an OpenSSL certificate made for TLS, not code signing (exit 3)', async (t) => {
    if (!requireTool(t, 'openssl', ['version'])) return;
    const dir = await opensslPki();
    issue(dir, 'oserver', '/CN=www.example.com', ['-algorithm', 'ed25519'], 'ointer', 'v3_server', '0x5005');
    const run = await cli(dir, 'sign', 'hello.forgepkg', '--key', 'oserver.key', '--cert', 'oserver.pem', '--chain', 'ointer.pem');
    assert.equal(run.status, 3, run.stderr);
    assert.match(run.stderr, /FO_SIGN_CERTIFICATE: .*codeSigning/);
  });
});
