/**
 * A real CNCF distribution registry (Debian's docker-registry, 2.8) for the tests:
 * config.yml and storage in a temp dir, a free port on 127.0.0.1 (2.8 cannot listen on
 * port 0), optionally htpasswd (bcrypt, from apache2-utils' htpasswd) or token auth.
 * Started, waited for until /v2/ answers, stopped by the caller.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { requireTool } from '@forgeone/common/testing';

export const REGISTRY_BINARY = '/usr/bin/docker-registry';

/** A running registry. */
export interface TestRegistry {
  /** `127.0.0.1:<port>`. */
  readonly host: string;
  /** The temp dir holding config.yml and the storage. */
  readonly dir: string;
  stop(): Promise<void>;
}

/** How the registry authenticates. */
export type RegistryAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'htpasswd'; readonly username: string; readonly password: string }
  | { readonly kind: 'token'; readonly realm: string; readonly service: string; readonly issuer: string; readonly rootCertPem: string };

/** True when the test can run: docker-registry (and htpasswd when asked) are there; skips, or fails under CI. */
export function requireRegistry(t: TestContext, htpasswd = false): boolean {
  if (!requireTool(t, REGISTRY_BINARY, ['--version'])) return false;
  return !htpasswd || requireTool(t, 'htpasswd', ['-nbB', 'probe', 'probe']);
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function authSection(dir: string, auth: RegistryAuth): Promise<string> {
  if (auth.kind === 'none') return '';
  if (auth.kind === 'htpasswd') {
    const line = spawnSync('htpasswd', ['-nbB', auth.username, auth.password], { encoding: 'utf8' });
    if (line.status !== 0) throw new Error(`htpasswd failed: ${line.stderr}`);
    await writeFile(join(dir, 'htpasswd'), line.stdout.trim() + '\n');
    return `auth:\n  htpasswd:\n    realm: forge-test\n    path: ${join(dir, 'htpasswd')}\n`;
  }
  await writeFile(join(dir, 'token-root.pem'), auth.rootCertPem);
  return `auth:\n  token:\n    realm: ${auth.realm}\n    service: ${auth.service}\n    issuer: ${auth.issuer}\n    rootcertbundle: ${join(dir, 'token-root.pem')}\n`;
}

async function waitUntilUp(host: string, child: ChildProcess, log: () => string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}: ${log()}`);
    try {
      const response = await fetch(`http://${host}/v2/`);
      await response.body?.cancel();
      if (response.status === 200 || response.status === 401) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((done) => setTimeout(done, 25));
  }
  throw new Error(`docker-registry did not answer on ${host}: ${log()}`);
}

/** Starts a registry; call stop() in an after hook. */
export async function startRegistry(auth: RegistryAuth = { kind: 'none' }): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'forge-oci-registry-'));
  for (let attempt = 0; ; attempt += 1) {
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    const config = [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: ${host}`,
      await authSection(dir, auth),
    ].join('\n');
    await writeFile(join(dir, 'config.yml'), config);
    const child = spawn(REGISTRY_BINARY, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      if (stderr.length < 8192) stderr += chunk.toString('utf8');
    });
    try {
      await waitUntilUp(host, child, () => stderr);
    } catch (error) {
      child.kill('SIGKILL');
      // The port may have been taken between the probe and the start: try another.
      if (attempt < 3 && /address already in use/.test(stderr)) continue;
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
    return {
      host,
      dir,
      async stop() {
        if (child.exitCode === null) {
          const exited = new Promise((done) => child.once('exit', done));
          child.kill('SIGTERM');
          await exited;
        }
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
}

/**
 * {@link startRegistry} for a suite's `before`: undefined when the registry cannot start
 * outside CI (its tests then skip through {@link requireRegistry}); under CI the failure
 * is thrown, so the suite fails instead of skipping.
 */
export async function startRegistryIfPossible(auth: RegistryAuth = { kind: 'none' }): Promise<TestRegistry | undefined> {
  return startRegistry(auth).catch((error: unknown) => {
    if (process.env['CI'] === 'true') throw error;
    return undefined;
  });
}
