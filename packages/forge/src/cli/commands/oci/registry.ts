/**
 * What the OCI commands share: where registry credentials live (a docker-style
 * config.json), the flags that choose it and plain HTTP, and a client for a reference.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { OciClient, loadCredentials, parseReference, type OciReference } from '@forgeone/plugin-manager';
import type { CliIo } from '../../command.js';
import { text } from '../../help-text.js';

/** `--registry-config FILE`. */
export const REGISTRY_CONFIG_FLAG = {
  name: 'registry-config',
  type: 'string',
  value: 'FILE',
  description: 'Registry credentials, a docker config.json (default: $DOCKER_CONFIG/config.json, else ~/.docker/config.json).',
} as const;

/** `--plain-http`. */
export const PLAIN_HTTP_FLAG = {
  name: 'plain-http',
  type: 'boolean',
  description: 'Talk to the registry over http:// (the default only for localhost and 127.0.0.0/8).',
} as const;

/** Help paragraph on references and credentials. */
export const REGISTRY_HELP = text`
  REF is host[:port]/repository[:tag][@sha256:<digest>]; the registry host is always explicit. Credentials
  come from the docker config.json (auths with "auth" or "username"/"password"; forge login writes it);
  credential helpers are not run. See docs/distribution.md.
`;

/** The config.json path: the flag, else $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
export function registryConfigPath(io: CliIo, flag: string | undefined): string {
  if (flag !== undefined) return resolve(io.cwd, flag);
  const dir = io.env['DOCKER_CONFIG'];
  if (dir !== undefined && dir !== '') return join(resolve(io.cwd, dir), 'config.json');
  return join(io.env['HOME'] ?? homedir(), '.docker', 'config.json');
}

/** The parsed reference and a client for its registry with the configured credentials. */
export async function clientFor(io: CliIo, reference: string, flags: { readonly 'registry-config': string | undefined; readonly 'plain-http': boolean }): Promise<{ ref: OciReference; client: OciClient }> {
  const ref = parseReference(reference);
  const credentials = await loadCredentials(registryConfigPath(io, flags['registry-config']), ref.registry);
  const client = new OciClient({
    registry: ref.registry,
    ...(flags['plain-http'] ? { plainHttp: true } : {}),
    ...(credentials === undefined ? {} : { credentials }),
  });
  return { ref, client };
}

/**
 * True when `argument` of forge install names a registry reference rather than a file:
 * no file exists at that path, it does not end in .forgepkg, and it parses as a reference.
 */
export function isReferenceArgument(io: CliIo, argument: string): boolean {
  if (argument.endsWith('.forgepkg') || existsSync(resolve(io.cwd, argument))) return false;
  try {
    parseReference(argument);
    return true;
  } catch {
    return false;
  }
}
