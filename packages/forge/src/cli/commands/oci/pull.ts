import { rename, rm, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ForgeError, fromFsError } from '@forgeone/common';
import { planFromRegistry, pullArtifact, reassemble, writeLayout, type PlannedPlugin } from '@forgeone/plugin-manager';
import { packageLimitsFromConfig } from '@forgeone/plugin-manager/signing';
import { CONFIG_FLAG, JSON_FLAG, defineCommand } from '../../command.js';
import { loadCliConfig } from '../../config.js';
import { text } from '../../help-text.js';
import { uploadProgress } from '../../progress.js';
import { sanitizeForTerminal, toSafeJson } from '../../terminal.js';
import { PLAIN_HTTP_FLAG, REGISTRY_CONFIG_FLAG, REGISTRY_HELP, clientFor } from './registry.js';

/** Writes `bytes` to `file` through a temporary file and a rename: a failed pull never leaves a partial file. */
async function writeAtomically(file: string, bytes: Uint8Array): Promise<void> {
  const temp = `${file}.${process.pid}.partial`;
  try {
    await writeFile(temp, bytes, { mode: 0o644 });
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw fromFsError(error, 'write the package', file);
  }
}

/** `forge pull REF (-o FILE | --to DIR) [--allow-unsigned] [--json]` */
export const ociPull = defineCommand({
  path: ['pull'],
  summary: 'Pull a package from an OCI registry and write it as a .forgepkg, or mirror it into an OCI image layout.',
  description: `${text`
    Fetches the plugin's manifest (checked against the digest when REF pins one), its layer (hashed while
    it streams and refused past package_limits.max_package_size) and every signature referrer, and writes
    the package with its attestations/ back together. The file is written only once everything checked
    out. Pulling does not verify signatures against your trust store: forge verify and forge install do,
    exactly as for any local file. A plugin without signature referrers is refused (exit 4) unless
    --allow-unsigned is given.

    With --to DIR instead of -o, the plugin and every dependency it needs are mirrored as they are
    (manifest, config, layer, signature manifests and bundles, every digest checked) into the OCI image
    layout DIR (created when absent; other entries kept), for forge install oci:DIR:TAG to install
    offline, or skopeo, oras or a registry to take from there. Dependencies are chosen as forge install
    REF chooses them (the newest semver tag in range of each sibling repository), whatever this machine
    has installed. In index.json every plugin is listed under NAME:VERSION, and the one pulled also under
    the reference's tag (replacing what that tag named before), each with its name and version as
    annotations (io.forgeone.plugin.name, io.forgeone.plugin.version); nothing is written until all of
    them are pulled.
  `}\n\n${REGISTRY_HELP}`,
  flags: [
    { name: 'output', short: 'o', type: 'string', value: 'FILE', description: 'Where to write the package.' },
    { name: 'to', type: 'string', value: 'DIR', description: 'Mirror the artifact into this OCI image layout instead.' },
    { name: 'allow-unsigned', type: 'boolean', description: 'Accept a plugin that has no signature referrer.' },
    REGISTRY_CONFIG_FLAG,
    PLAIN_HTTP_FLAG,
    JSON_FLAG,
    CONFIG_FLAG,
  ],
  args: [{ name: 'REF', description: 'host[:port]/repository[:tag][@sha256:<digest>].', required: true }],
  examples: ['forge pull ghcr.io/acme/hello:1.0.0 -o hello-1.0.0.forgepkg', 'forge pull localhost:5000/hello@sha256:… -o hello.forgepkg --json', 'forge pull ghcr.io/acme/hello:1.0.0 --to mirror/'],
  async run({ flags, args }, io) {
    if ((flags.output === undefined) === (flags.to === undefined)) {
      throw new ForgeError('FO_CLI_MISSING_ARGUMENT', 'forge pull needs exactly one of -o FILE and --to DIR', { details: { flags: ['output', 'to'] } });
    }
    const { config } = await loadCliConfig(io, flags.config);
    const { ref, client } = await clientFor(io, args.REF, flags);
    const progress = uploadProgress(io, `pulling ${args.REF}`, 'received', flags.json);
    const options = {
      limits: packageLimitsFromConfig(config.package_limits),
      requireSignatures: !flags['allow-unsigned'],
      onProgress: (received: number, total: number) => progress.update(received, total),
    };
    if (flags.to !== undefined) {
      let plan: PlannedPlugin[];
      try {
        // Every dependency, installed here or not: the layout is for a machine that has none.
        plan = await planFromRegistry(client, ref, () => Promise.resolve(undefined), options);
      } finally {
        progress.done();
      }
      const root = plan[plan.length - 1] as PlannedPlugin;
      const dir = resolve(io.cwd, flags.to);
      const listed = plan.map((planned) => ({ artifact: planned.artifact, refName: `${planned.name}:${planned.version}`, plugin: { name: planned.name, version: planned.version } }));
      const tagged = ref.tag === undefined ? [] : [{ ...(listed[listed.length - 1] as (typeof listed)[number]), refName: ref.tag }];
      await writeLayout(dir, [...listed, ...tagged]);
      const dependencies = plan.slice(0, -1).map((planned) => ({ name: planned.name, version: planned.version, reference: planned.reference, digest: planned.artifact.manifest.digest, refName: `${planned.name}:${planned.version}` }));
      const signatures = root.artifact.signatures.map((signature) => signature.file);
      if (flags.json) io.stdout.write(toSafeJson({ layout: dir, digest: root.artifact.manifest.digest, tag: ref.tag ?? null, signatures, dependencies }));
      else {
        const lines = [`mirrored ${sanitizeForTerminal(args.REF)} into ${dir}`, `  manifest: ${root.artifact.manifest.digest}`, `  signatures: ${signatures.length}`];
        for (const entry of dependencies) lines.push(`  dependency ${sanitizeForTerminal(entry.name)} ${sanitizeForTerminal(entry.version)} as ${sanitizeForTerminal(entry.refName)} (${entry.digest})`);
        io.stdout.write(`${lines.join('\n')}\n`);
      }
      return;
    }
    let artifact;
    try {
      artifact = await pullArtifact(client, ref, options);
    } finally {
      progress.done();
    }
    const signatures = artifact.signatures.map((signature) => signature.file);
    const file = resolve(io.cwd, flags.output ?? '');
    const result = { bytes: reassemble(artifact), digest: artifact.manifest.digest, signatures };
    await writeAtomically(file, result.bytes);
    if (flags.json) {
      io.stdout.write(toSafeJson({ file, digest: result.digest, size: result.bytes.length, signatures: result.signatures }));
      return;
    }
    io.stdout.write(`${[`pulled ${sanitizeForTerminal(args.REF)} to ${file}`, `  manifest: ${result.digest}`, `  signatures: ${result.signatures.length}`].join('\n')}\n`);
  },
});
