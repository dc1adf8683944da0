/**
 * A marketplace for tests: a repository, a mirror of its public/ directory served over
 * real HTTP on 127.0.0.1 (the attacker's copy: tests alter it), and clients pinned to
 * the repository's root.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MarketplaceClient, type MarketplaceClientOptions } from '../client.js';
import type { Publication } from '../index-edit.js';
import { initRepository, REPOSITORY_LAYOUT, type RepositoryExpiry } from '../repository.js';
import { serveDirectory, type ServingDirectory } from '../serve.js';

export const DAY = 24 * 3_600_000;

/** A test marketplace. */
export interface TestMarketplace {
  readonly dir: string;
  readonly repo: string;
  readonly rootFile: string;
  /** The served copy of public/. */
  readonly mirror: string;
  readonly served: ServingDirectory;
  /** Copies the repository's public/ over the mirror (what a publish to a CDN does). */
  sync(): Promise<void>;
  /** A file of the mirror's metadata/ directory. */
  metadata(name: string): string;
  /** A client with its own cache (a second client gets a fresh cache). */
  client(options?: Partial<MarketplaceClientOptions> & { readonly cache?: string }): MarketplaceClient;
  close(): Promise<void>;
}

/** Makes a repository, publishes it to the mirror and serves the mirror. */
export async function testMarketplace(options: { readonly now?: number; readonly expiry?: Partial<RepositoryExpiry> } = {}): Promise<TestMarketplace> {
  const dir = await mkdtemp(join(tmpdir(), 'forge-market-'));
  const repo = join(dir, 'repo');
  const mirror = join(dir, 'mirror');
  const init = await initRepository(repo, { ...(options.now === undefined ? {} : { now: options.now }), ...(options.expiry === undefined ? {} : { expiry: options.expiry }) });
  const sync = () => cp(join(repo, REPOSITORY_LAYOUT.published), mirror, { recursive: true, force: true });
  await sync();
  const served = await serveDirectory(mirror);
  return {
    dir,
    repo,
    rootFile: init.rootFile,
    mirror,
    served,
    sync,
    metadata: (name) => join(mirror, 'metadata', name),
    client: (extra = {}) =>
      new MarketplaceClient({ url: served.url, trustedRoot: init.rootFile, cacheDirectory: join(dir, extra.cache ?? 'cache'), ...extra }),
    close: async () => {
      await served.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A publication of `name` at `version` with a made-up digest. */
export function publication(name: string, version: string, extra: Partial<Omit<Publication, 'version'>> = {}): Publication {
  const digest = `sha256:${Buffer.from(`${name}@${version}`).toString('hex').padEnd(64, '0').slice(0, 64)}`;
  return {
    name,
    publisher: 'ACME Plugins',
    description: `${name} does things`,
    keywords: [],
    ...extra,
    version: {
      version,
      digest,
      oci: `registry.example.org/plugins/${name}:${version}`,
      permissions: { filesystem: [], network: [], allowed_hosts: [], syscalls: [], volumes: [] },
      published: '2026-01-01T00:00:00Z',
    },
  };
}

/** Replaces a JSON file's contents with `edit` of its parse. */
export async function editJson(file: string, edit: (value: { signed: Record<string, unknown>; signatures: unknown[] }) => unknown): Promise<void> {
  const value = JSON.parse(await readFile(file, 'utf8')) as { signed: Record<string, unknown>; signatures: unknown[] };
  await writeFile(file, JSON.stringify(edit(value)));
}
