import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fromFsError } from '@forgeone/common';
import { certificatesFromPem, importPrivateKey, packageLimitsFromConfig, readSmallFile, signPackage, writeNewFile } from '@forgeone/plugin-manager/signing';
import { CONFIG_FLAG, JSON_FLAG, defineCommand } from '../../command.js';
import { loadCliConfig } from '../../config.js';
import { sanitizeForTerminal, toSafeJson } from '../../terminal.js';
import { requiredFlag } from '../ca/options.js';
import { text } from '../../help-text.js';

/** `forge sign PKG --key KEY [--cert CERT] [--chain FILE] [--out FILE]` */
export const sign = defineCommand({
  path: ['sign'],
  summary: 'Sign a package: add attestations/<keyid>.sigstore.json (Sigstore bundle, DSSE, in-toto).',
  description: text`
    Signs an in-toto statement naming every file of the package with its sha256, the manifest digest, name,
    version, ABI and permissions. With --cert, the bundle carries the publisher certificate (and --chain
    intermediates); without it, a hint naming the key, which verifiers must list in their trust store's keys/.
    Other signatures in the package are kept; signing again with the same key replaces its own. The package
    is rewritten in place (atomically) unless --out is given. Prints the package path to stdout.
  `,
  flags: [
    { name: 'key', type: 'string', value: 'KEY', description: 'The private key (PEM), e.g. from forge keygen.', required: true },
    { name: 'cert', type: 'string', value: 'CERT', description: 'The publisher certificate (PEM) for the key, e.g. from forge ca issue.' },
    { name: 'chain', type: 'string', value: 'FILE', description: 'Intermediate CA certificates (PEM), the certificate\'s issuer first.' },
    { name: 'out', short: 'o', type: 'string', value: 'FILE', description: 'Write the signed package here instead of over PKG.' },
    JSON_FLAG,
    CONFIG_FLAG,
  ],
  args: [{ name: 'PKG', description: 'The .forgepkg to sign.', required: true }],
  examples: [
    'forge sign hello-1.0.0.forgepkg --key publisher.key --cert publisher.pem --chain intermediate.pem',
    'forge sign hello-1.0.0.forgepkg --key ci.key',
  ],
  async run({ flags, args }, io) {
    const { config } = await loadCliConfig(io, flags.config);
    const file = resolve(io.cwd, args.PKG);
    const bytes = await readFile(file).catch((error: unknown) => {
      throw fromFsError(error, 'read the package', file);
    });
    const keyFile = resolve(io.cwd, requiredFlag('key', flags.key));
    const key = importPrivateKey(await readSmallFile(keyFile), keyFile);
    const pem = async (name: string | undefined): Promise<Buffer[] | undefined> => {
      if (name === undefined) return undefined;
      const path = resolve(io.cwd, name);
      return certificatesFromPem((await readSmallFile(path)).toString('latin1'), path);
    };
    const certificates = await pem(flags.cert);
    const chain = await pem(flags.chain);
    const signed = await signPackage(bytes, {
      key,
      limits: packageLimitsFromConfig(config.package_limits),
      // A --cert file may hold the chain after the leaf, as many CAs hand it out.
      ...(certificates === undefined ? {} : { certificate: certificates[0] as Buffer }),
      ...(certificates === undefined && chain === undefined ? {} : { chain: [...(certificates?.slice(1) ?? []), ...(chain ?? [])] }),
    });
    const out = flags.out === undefined ? file : resolve(io.cwd, flags.out);
    await writeNewFile(out, signed.bytes, { overwrite: true });
    const { contents } = signed;
    if (flags.json) {
      io.stdout.write(
        toSafeJson({
          file: out,
          attestation: signed.attestation,
          keyid: signed.keyid,
          replaced: signed.replaced,
          signatures: contents.attestations.length,
          digest: contents.digest,
        }),
      );
      return;
    }
    io.stderr.write(
      `signed ${sanitizeForTerminal(contents.manifest.name)} ${contents.manifest.version} with key ${signed.keyid}${signed.replaced ? ' (replacing its earlier signature)' : ''}: ${contents.attestations.length} signature${contents.attestations.length === 1 ? '' : 's'} now\n`,
    );
    io.stdout.write(`${sanitizeForTerminal(out)}\n`);
  },
});
