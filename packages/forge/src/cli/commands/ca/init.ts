import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fromFsError } from '@forgeone/common';
import { CA_FILES, DEFAULT_ROOT_DAYS, createRootCa, encodePem, privateKeyPem, writeNewFile } from '@forgeone/plugin-manager/signing';
import { JSON_FLAG, defineCommand } from '../../command.js';
import { sanitizeForTerminal, toSafeJson } from '../../terminal.js';
import { ALGORITHM_FLAG, algorithm, requiredFlag, wholeNumber } from './options.js';

/** `forge ca init --out DIR [--name NAME] [--days N]` */
export const caInit = defineCommand({
  path: ['ca', 'init'],
  summary: 'Create a self-signed root CA for signing publisher certificates.',
  description:
    `Writes DIR/${CA_FILES.certificate} (the root certificate: basicConstraints CA, keyUsage keyCertSign and cRLSign)\n` +
    `and DIR/${CA_FILES.key} (its private key, mode 0600). Neither may exist already. Copy ${CA_FILES.certificate} into\n` +
    "a trust store's roots/ to trust everything the CA issues; keep ca.key offline.",
  flags: [
    { name: 'out', short: 'o', type: 'string', value: 'DIR', description: 'The CA directory to create.', required: true },
    { name: 'name', type: 'string', value: 'NAME', description: 'The CA\'s common name (default: "ForgeOne Root CA").' },
    { name: 'days', type: 'string', value: 'N', description: `Validity in days (default: ${DEFAULT_ROOT_DAYS}).` },
    { name: 'path-len', type: 'string', value: 'N', description: 'Most intermediate CAs allowed below the root (default: no limit).' },
    ALGORITHM_FLAG,
    JSON_FLAG,
  ],
  args: [],
  examples: ['forge ca init --out acme-root --name "ACME Root CA"'],
  async run({ flags }, io) {
    const days = wholeNumber('days', flags.days, 1, 36_500);
    const pathLen = wholeNumber('path-len', flags['path-len'], 0, 16);
    const dir = resolve(io.cwd, requiredFlag('out', flags.out));
    const { key, certificate } = createRootCa({
      name: flags.name ?? 'ForgeOne Root CA',
      algorithm: algorithm(flags.algorithm),
      ...(days === undefined ? {} : { days }),
      ...(pathLen === undefined ? {} : { pathLen }),
    });
    await mkdir(dir, { recursive: true, mode: 0o700 }).catch((error: unknown) => {
      throw fromFsError(error, 'create the CA directory', dir);
    });
    const keyFile = join(dir, CA_FILES.key);
    const certificateFile = join(dir, CA_FILES.certificate);
    await writeNewFile(keyFile, privateKeyPem(key), { mode: 0o600 });
    await writeNewFile(certificateFile, encodePem('CERTIFICATE', certificate.der));
    const summary = {
      dir,
      certificate: certificateFile,
      key: keyFile,
      subject: certificate.subject.text,
      serial: certificate.serial,
      fingerprint: certificate.fingerprint,
      notAfter: new Date(certificate.notAfter).toISOString(),
    };
    if (flags.json) {
      io.stdout.write(toSafeJson(summary));
      return;
    }
    io.stderr.write(`created root CA "${sanitizeForTerminal(summary.subject)}" valid until ${summary.notAfter}; its key is ${sanitizeForTerminal(keyFile)} (mode 0600)\n`);
    io.stdout.write(`${sanitizeForTerminal(certificateFile)}\n`);
  },
});
