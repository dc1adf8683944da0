import { resolve } from 'node:path';
import { DEFAULT_ISSUED_DAYS, encodePem, importPublicKey, issueCertificate, loadCertificateAuthority, readSmallFile, writeNewFile } from '@forgeone/plugin-manager/signing';
import { ForgeError } from '@forgeone/common';
import { JSON_FLAG, defineCommand } from '../../command.js';
import { sanitizeForTerminal, toSafeJson } from '../../terminal.js';
import { requiredFlag, wholeNumber } from './options.js';
import { text } from '../../help-text.js';

/** `forge ca issue --ca DIR --pub FILE --name PUBLISHER [--days N] [--intermediate [--path-len N]] --out FILE` */
export const caIssue = defineCommand({
  path: ['ca', 'issue'],
  summary: 'Issue a publisher (code-signing) certificate or an intermediate CA for a public key.',
  description: text`
    A publisher certificate is not a CA, may only sign (keyUsage digitalSignature) and lists the codeSigning
    extended key usage; PUBLISHER becomes the plugin identity's publisher. With --intermediate, the
    certificate is a CA (keyCertSign); make a CA directory of it (ca.pem, ca.key, and chain.pem holding
    the certificates above it) to issue from it. Validity ends no later than the issuing CA's.
  `,
  flags: [
    { name: 'ca', type: 'string', value: 'DIR', description: 'The issuing CA directory (ca.pem, ca.key, optional chain.pem).', required: true },
    { name: 'pub', type: 'string', value: 'FILE', description: 'The subject\'s public key (PEM), e.g. from forge keygen.', required: true },
    { name: 'name', type: 'string', value: 'PUBLISHER', description: 'The subject\'s common name: the publisher, or the intermediate CA\'s name.', required: true },
    { name: 'out', short: 'o', type: 'string', value: 'FILE', description: 'Where to write the certificate (PEM); must not exist.', required: true },
    { name: 'days', type: 'string', value: 'N', description: `Validity in days (default: ${DEFAULT_ISSUED_DAYS}).` },
    { name: 'intermediate', type: 'boolean', description: 'Issue an intermediate CA instead of a publisher certificate.' },
    { name: 'path-len', type: 'string', value: 'N', description: 'With --intermediate: most CAs allowed below it (default: one less than the issuer\'s, if it has a limit).' },
    JSON_FLAG,
  ],
  args: [],
  examples: [
    'forge ca issue --ca acme-root --pub publisher.pub --name "ACME Plugins" --out publisher.pem',
    'forge ca issue --ca acme-root --pub inter.pub --name "ACME Signing CA" --intermediate --path-len 0 --out inter.pem',
  ],
  async run({ flags }, io) {
    const days = wholeNumber('days', flags.days, 1, 36_500);
    const pathLen = wholeNumber('path-len', flags['path-len'], 0, 16);
    if (pathLen !== undefined && !flags.intermediate) {
      throw new ForgeError('FO_CLI_FLAG_VALUE', '--path-len applies only with --intermediate', { details: { flag: 'path-len' } });
    }
    const ca = await loadCertificateAuthority(resolve(io.cwd, requiredFlag('ca', flags.ca)));
    const pubFile = resolve(io.cwd, requiredFlag('pub', flags.pub));
    const publicKey = importPublicKey(await readSmallFile(pubFile), pubFile);
    const { certificate, clamped } = issueCertificate(ca, {
      publicKey,
      name: requiredFlag('name', flags.name),
      intermediate: flags.intermediate,
      ...(days === undefined ? {} : { days }),
      ...(pathLen === undefined ? {} : { pathLen }),
    });
    const out = resolve(io.cwd, requiredFlag('out', flags.out));
    await writeNewFile(out, encodePem('CERTIFICATE', certificate.der));
    const summary = {
      certificate: out,
      subject: certificate.subject.text,
      issuer: certificate.issuer.text,
      serial: certificate.serial,
      fingerprint: certificate.fingerprint,
      kind: flags.intermediate ? 'intermediate' : 'publisher',
      pathLen: certificate.basicConstraints?.pathLen ?? null,
      notAfter: new Date(certificate.notAfter).toISOString(),
      clamped,
    };
    if (flags.json) {
      io.stdout.write(toSafeJson(summary));
      return;
    }
    const note = clamped ? ' (shortened to end with the issuing CA)' : '';
    io.stderr.write(`issued ${summary.kind} certificate "${sanitizeForTerminal(summary.subject)}" serial ${summary.serial}, valid until ${summary.notAfter}${note}\n`);
    io.stdout.write(`${sanitizeForTerminal(out)}\n`);
  },
});
