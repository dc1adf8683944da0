/**
 * Registry credentials: the docker-style config.json (`auths` keyed by registry host,
 * each with a base64 `auth` of `user:password` or `username`/`password`), `forge login`
 * writing it (mode 0600, atomically, other keys kept), and the WWW-Authenticate
 * challenges (Basic, Bearer) the client answers. Credential helpers (`credsStore`) are
 * not run: executing a program named by a config file is not something a plugin host
 * does behind the operator's back.
 */
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ForgeError, fromFsError } from '@forgeone/common';

/** A user name and password (or identity token) for one registry. */
export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** A parsed WWW-Authenticate challenge. */
export interface Challenge {
  /** `basic` or `bearer` (lower case). */
  readonly scheme: string;
  /** Its parameters (realm, service, scope...), names in lower case. */
  readonly params: Readonly<Record<string, string>>;
}

/** Largest config.json read, in bytes: a credentials file is a few KiB. */
const MAX_CONFIG = 1024 * 1024;

/**
 * Parses one WWW-Authenticate header (RFC 7235: `scheme k="v", k2=v2`). Only the
 * first challenge is used; registries send one.
 */
export function parseChallenge(header: string): Challenge | undefined {
  const match = /^\s*([A-Za-z][A-Za-z0-9_-]*)\s*(.*)$/s.exec(header);
  if (match === null) return undefined;
  const params: Record<string, string> = {};
  const pattern = /([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/gy;
  const rest = match[2] ?? '';
  pattern.lastIndex = 0;
  for (let found = pattern.exec(rest); found !== null && found[0] !== ''; found = pattern.exec(rest)) {
    const name = (found[1] ?? '').toLowerCase();
    params[name] = found[2] !== undefined ? found[2].replace(/\\(.)/g, '$1') : (found[3] ?? '');
  }
  return { scheme: (match[1] ?? '').toLowerCase(), params };
}

/** The `Authorization` value for Basic. */
export function basicAuthorization(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')}`;
}

/** The keys config.json may use for `registry`: the host, and Docker Hub's historical URL. */
function configKeys(registry: string): string[] {
  const keys = [registry, `https://${registry}`, `http://${registry}`];
  if (registry === 'registry-1.docker.io' || registry === 'docker.io') keys.push('https://index.docker.io/v1/', 'docker.io');
  return keys;
}

async function readConfig(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    const bytes = await readFile(path);
    if (bytes.length > MAX_CONFIG) throw new ForgeError('FO_OCI_TOO_LARGE', `${path}: expected at most ${MAX_CONFIG} bytes, found ${bytes.length}`, { details: { path } });
    text = bytes.toString('utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    if (error instanceof ForgeError) throw error;
    throw fromFsError(error, 'read the registry credentials', path);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ForgeError('FO_CONFIG_SYNTAX', `${path}: expected a JSON object (docker config.json), found invalid JSON`, { details: { path }, cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ForgeError('FO_CONFIG_INVALID', `${path}: expected a JSON object (docker config.json)`, { details: { path } });
  }
  return parsed as Record<string, unknown>;
}

/**
 * The credentials config.json at `path` holds for `registry`, or undefined (no file,
 * no entry). An entry that is present but malformed is an error, not a silent anonymous pull.
 * @throws ForgeError FO_CONFIG_INVALID, FO_OCI_TOO_LARGE, FO_IO_*
 */
export async function loadCredentials(path: string, registry: string): Promise<Credentials | undefined> {
  const config = await readConfig(path);
  const auths = config['auths'];
  if (auths === undefined) return undefined;
  if (typeof auths !== 'object' || auths === null) throw new ForgeError('FO_CONFIG_INVALID', `${path}: expected "auths" to be an object`, { details: { path } });
  for (const key of configKeys(registry)) {
    const entry = (auths as Record<string, unknown>)[key];
    if (entry === undefined) continue;
    const fields = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    if (typeof fields['auth'] === 'string' && fields['auth'] !== '') {
      const decoded = Buffer.from(fields['auth'], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon <= 0) throw new ForgeError('FO_CONFIG_INVALID', `${path}: auths[${JSON.stringify(key)}].auth: expected base64 of "user:password"`, { details: { path, registry } });
      return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
    if (typeof fields['username'] === 'string' && typeof fields['password'] === 'string') return { username: fields['username'], password: fields['password'] };
    throw new ForgeError('FO_CONFIG_INVALID', `${path}: auths[${JSON.stringify(key)}]: expected "auth" or "username" and "password"`, { details: { path, registry } });
  }
  return undefined;
}

/**
 * Stores `credentials` for `registry` in config.json at `path` (created 0600 in a 0700
 * directory when absent), keeping every other key. Written to a temporary file and
 * renamed, so a crash leaves the old file or the new one.
 * @throws ForgeError FO_CONFIG_INVALID, FO_IO_*
 */
export async function saveCredentials(path: string, registry: string, credentials: Credentials): Promise<void> {
  const config = await readConfig(path);
  const auths = typeof config['auths'] === 'object' && config['auths'] !== null ? { ...(config['auths'] as Record<string, unknown>) } : {};
  auths[registry] = { auth: Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64') };
  const temp = `${path}.${process.pid}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writeFile(temp, `${JSON.stringify({ ...config, auths }, null, '\t')}\n`, { mode: 0o600 });
    // SECURITY: writeFile's mode is masked by the umask only when creating; chmod makes 0600 certain.
    await chmod(temp, 0o600);
    await rename(temp, path);
  } catch (error) {
    throw fromFsError(error, 'write the registry credentials', path);
  }
}
