import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fromFsError } from '@forgeone/common';
import { pushPackage } from '@forgeone/plugin-manager';
import { packageLimitsFromConfig } from '@forgeone/plugin-manager/signing';
import { CONFIG_FLAG, JSON_FLAG, defineCommand } from '../../command.js';
import { loadCliConfig } from '../../config.js';
import { badFlagValue } from '../../flag-value.js';
import { text } from '../../help-text.js';
import { uploadProgress } from '../../progress.js';
import { toSafeJson } from '../../terminal.js';
import { PLAIN_HTTP_FLAG, REGISTRY_CONFIG_FLAG, REGISTRY_HELP, clientFor } from './registry.js';

/** `forge push PKG REF [--chunk-size BYTES] [--mount-from REPO] [--json]` */
export const ociPush = defineCommand({
  path: ['push'],
  summary: 'Push a package to an OCI registry, its signatures as referrer artifacts.',
  description: `${text`
    Reads PKG under the package limits, then pushes it as an OCI artifact (artifactType
    application/vnd.forgeone.plugin.v1): the empty config and one layer holding the package without
    attestations/. Each attestations/<name>.sigstore.json goes up as its own artifact whose subject is the
    plugin's manifest, found through the referrers API or, on registries without it, the sha256-<hex> tag.
    Blobs the repository already has are not sent again. Prints the pinned reference (…@sha256:…).
  `}\n\n${REGISTRY_HELP}`,
  flags: [
    { name: 'chunk-size', type: 'string', value: 'BYTES', description: 'Upload blobs larger than BYTES in chunks of BYTES (default: one request per blob).' },
    { name: 'mount-from', type: 'string', value: 'REPO', description: 'Mount blobs from another repository of the same registry when it has them.' },
    REGISTRY_CONFIG_FLAG,
    PLAIN_HTTP_FLAG,
    JSON_FLAG,
    CONFIG_FLAG,
  ],
  args: [
    { name: 'PKG', description: 'The .forgepkg to push.', required: true },
    { name: 'REF', description: 'Where to push it: host[:port]/repository:tag.', required: true },
  ],
  examples: ['forge push hello-1.0.0.forgepkg ghcr.io/acme/hello:1.0.0', 'forge push hello-1.0.0.forgepkg localhost:5000/hello:1.0.0 --json'],
  async run({ flags, args }, io) {
    const { config } = await loadCliConfig(io, flags.config);
    let chunkSize: number | undefined;
    if (flags['chunk-size'] !== undefined) {
      chunkSize = Number(flags['chunk-size']);
      if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) {
        throw badFlagValue('chunk-size', 'a positive whole number of bytes', flags['chunk-size']);
      }
    }
    const file = resolve(io.cwd, args.PKG);
    const bytes = await readFile(file).catch((error: unknown) => {
      throw fromFsError(error, 'read the package', file);
    });
    const { ref, client } = await clientFor(io, args.REF, flags);
    const progress = uploadProgress(io, `pushing ${args.PKG}`, 'sent', flags.json);
    let result;
    try {
      result = await pushPackage(client, ref, bytes, {
        limits: packageLimitsFromConfig(config.package_limits),
        onProgress: (sent, total) => progress.update(sent, total),
        ...(chunkSize === undefined ? {} : { chunkSize }),
        ...(flags['mount-from'] === undefined ? {} : { mountFrom: flags['mount-from'] }),
      });
    } finally {
      progress.done();
    }
    if (flags.json) {
      io.stdout.write(toSafeJson(result));
      return;
    }
    io.stdout.write(`${[`pushed ${result.reference}`, `  layer: ${result.layer.digest} (${result.layer.size} bytes, ${result.layer.outcome})`, `  signatures: ${result.signatures.length}`].join('\n')}\n`);
  },
});
