import { resolve } from 'node:path';
import { limitsSchema, manifestSchema } from '@forgeone/plugin-manager';
import { packageLimitsFromConfig, readPackage, sha256Digest, type PackageInMemory } from '@forgeone/plugin-manager/signing';
import { readFile } from 'node:fs/promises';
import { fromFsError } from '@forgeone/common';
import { CONFIG_FLAG, JSON_FLAG, defineCommand } from '../../command.js';
import { loadCliConfig } from '../../config.js';
import { sanitizeForTerminal, toSafeJson } from '../../terminal.js';
import { text } from '../../help-text.js';

interface SignatureSummary {
  readonly path: string;
  readonly sha256: string;
  readonly mediaType: string | null;
}

/** Reads the media type of each attestation, without verifying anything. */
function signatures(contents: PackageInMemory): SignatureSummary[] {
  return contents.attestations.map((file) => {
    let mediaType: string | null = null;
    try {
      const parsed = JSON.parse(contents.read(file.path)?.toString('utf8') ?? '') as { mediaType?: unknown };
      if (typeof parsed.mediaType === 'string') mediaType = parsed.mediaType;
    } catch {
      mediaType = null;
    }
    return { path: file.path, sha256: file.sha256, mediaType };
  });
}

function list(values: readonly string[]): string {
  return values.length === 0 ? '(none)' : values.map(sanitizeForTerminal).join(', ');
}

/** `forge inspect FILE [--json]` */
export const inspect = defineCommand({
  path: ['inspect'],
  summary: 'Show a package\'s manifest, every file with its sha256, and the signatures present.',
  description: text`
    Reads the package under the configured package limits and checks its structure (the same
    checks as installing), but does not verify signatures: use forge verify for that.
  `,
  flags: [JSON_FLAG, CONFIG_FLAG],
  args: [{ name: 'FILE', description: 'The .forgepkg to inspect.', required: true }],
  examples: ['forge inspect sample.forgepkg', 'forge inspect sample.forgepkg --json | jq .files'],
  async run({ flags, args }, io) {
    const { config } = await loadCliConfig(io, flags.config);
    const file = resolve(io.cwd, args.FILE);
    const bytes = await readFile(file).catch((error: unknown) => {
      throw fromFsError(error, 'read the package', file);
    });
    const contents = await readPackage(bytes, packageLimitsFromConfig(config.package_limits));
    const { manifest } = contents;
    const sigs = signatures(contents);
    if (flags.json) {
      io.stdout.write(
        toSafeJson({
          file,
          size: bytes.length,
          fileDigest: sha256Digest(bytes),
          digest: contents.digest,
          manifestDigest: contents.manifestDigest,
          manifest: manifestSchema.encode(manifest),
          files: contents.files,
          signatures: sigs,
        }),
      );
      return;
    }
    const p = manifest.permissions;
    const lines = [
      `${sanitizeForTerminal(manifest.name)} ${manifest.version} (${manifest.abi})`,
      ...(manifest.description === undefined ? [] : [`  ${sanitizeForTerminal(manifest.description)}`]),
      ...(manifest.author === undefined ? [] : [`  author:  ${sanitizeForTerminal(manifest.author)}`]),
      ...(manifest.license === undefined ? [] : [`  license: ${sanitizeForTerminal(manifest.license)}`]),
      '',
      `content digest:  ${contents.digest}`,
      `manifest digest: ${contents.manifestDigest}`,
      `package file:    ${sha256Digest(bytes)} (${bytes.length} bytes)`,
      `entry module:    ${manifest.entry}`,
      '',
      'Permissions:',
      `  filesystem:    ${list(p.filesystem)}`,
      `  network:       ${list(p.network)}`,
      `  allowed_hosts: ${list(p.allowed_hosts)}`,
      `  syscalls:      ${list(p.syscalls)}`,
      `  volumes:       ${list(p.volumes.map((v) => `${v.name} at ${v.path} (${v.mode})`))}`,
      `  threads:       ${p.threads === true ? 'yes (shared memory and atomic waits)' : 'no'}`,
      `Dependencies:    ${list(Object.entries(manifest.dependencies).map(([name, range]) => `${name} ${range}`))}`,
      `Entry points:    ${list(Object.entries(manifest.entry_points).map(([step, name]) => `${step}=${name}`))}`,
      `Limits:          ${list(Object.entries(limitsSchema.encode(manifest.limits) as Record<string, unknown>).map(([k, v]) => `${k}=${String(v)}`))}`,
      '',
      `Files (${contents.files.length}):`,
      ...contents.files.map((entry) => `  ${entry.sha256}  ${String(entry.size).padStart(9)}  ${sanitizeForTerminal(entry.path)}`),
      '',
      sigs.length === 0 ? 'Signatures: none' : `Signatures (${sigs.length}, not verified here; use forge verify):`,
      ...sigs.map((sig) => `  ${sanitizeForTerminal(sig.path)}  ${sanitizeForTerminal(sig.mediaType ?? '(not a Sigstore bundle)')}`),
    ];
    io.stdout.write(`${lines.join('\n')}\n`);
  },
});
