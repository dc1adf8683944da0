import { resolve } from 'node:path';
import { generateKeyPair, writeKeyPair } from '@forgeone/plugin-manager/signing';
import { JSON_FLAG, defineCommand } from '../../command.js';
import { sanitizeForTerminal, toSafeJson } from '../../terminal.js';
import { ALGORITHM_FLAG, algorithm, requiredFlag } from '../ca/options.js';
import { text } from '../../help-text.js';

/** `forge keygen [--algorithm ed25519|ecdsa-p256] --out PREFIX` */
export const keygen = defineCommand({
  path: ['keygen'],
  summary: 'Generate a signing key pair: PREFIX.key (private, mode 0600) and PREFIX.pub.',
  description: text`
    PREFIX.key is a PKCS#8 PEM private key created with mode 0600; PREFIX.pub is its SPKI PEM public key.
    Neither file may exist already. Prints the key id (sha256 of the public key) to stdout: it names
    the attestation a package gets when signed with this key, and the key in revocation lists.
  `,
  flags: [
    { name: 'out', short: 'o', type: 'string', value: 'PREFIX', description: 'Path prefix of the two files to write.', required: true },
    ALGORITHM_FLAG,
    JSON_FLAG,
  ],
  args: [],
  examples: ['forge keygen --out publisher', 'forge keygen --algorithm ecdsa-p256 --out keys/ci'],
  async run({ flags }, io) {
    const key = generateKeyPair(algorithm(flags.algorithm));
    const files = await writeKeyPair(resolve(io.cwd, requiredFlag('out', flags.out)), key);
    if (flags.json) {
      io.stdout.write(toSafeJson({ privateKey: files.privateKeyFile, publicKey: files.publicKeyFile, keyid: key.publicKey.keyid, algorithm: key.algorithm }));
      return;
    }
    io.stderr.write(`wrote ${sanitizeForTerminal(files.privateKeyFile)} (private, mode 0600) and ${sanitizeForTerminal(files.publicKeyFile)}; keep the private key secret\n`);
    io.stdout.write(`${key.publicKey.keyid}\n`);
  },
});
