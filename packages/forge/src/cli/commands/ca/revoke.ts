import { resolve } from 'node:path';
import { ForgeError } from '@forgeone/common';
import { createRevocationList, loadCertificateAuthority, parseRevocationList, readSmallFile, revocationEntries, writeNewFile, type RevocationEntries } from '@forgeone/plugin-manager/signing';
import { JSON_FLAG, defineCommand } from '../../command.js';
import { sanitizeForTerminal, toSafeJson } from '../../terminal.js';
import { requiredFlag, wholeNumber } from './options.js';
import { text } from '../../help-text.js';

const DAY = 86_400_000;

/** `forge ca revoke --ca DIR --out FILE [--serial HEX]... [--key-id HEX]... [--digest sha256:HEX]...` */
export const caRevoke = defineCommand({
  path: ['ca', 'revoke'],
  summary: 'Write a signed revocation list naming certificate serials, key ids or package digests.',
  description: text`
    The list is signed with the root CA's key and takes effect when copied to a trust store as
    revocations.json. When FILE exists, its entries are kept (after checking it was signed by this
    CA) and the new ones added. Serials are hex, as forge ca issue and openssl x509 -serial print them;
    key ids are what forge keygen prints; digests are package content digests (forge inspect).
  `,
  flags: [
    { name: 'ca', type: 'string', value: 'DIR', description: 'The root CA directory whose key signs the list.', required: true },
    { name: 'out', short: 'o', type: 'string', value: 'FILE', description: 'The revocation list to write or extend.', required: true },
    { name: 'serial', type: 'strings', value: 'HEX', description: 'Revoke the certificate with this serial.' },
    { name: 'key-id', type: 'strings', value: 'HEX', description: 'Revoke the signing key with this id.' },
    { name: 'digest', type: 'strings', value: 'sha256:HEX', description: 'Revoke the package with this content digest.' },
    { name: 'next-update', type: 'string', value: 'DAYS', description: 'Days until the list goes stale and verification fails closed (default: never).' },
    JSON_FLAG,
  ],
  args: [],
  examples: ['forge ca revoke --ca acme-root --serial 5f1c0a9e... --out trust/revocations.json'],
  async run({ flags }, io) {
    const nextUpdateDays = wholeNumber('next-update', flags['next-update'], 1, 36_500);
    const ca = await loadCertificateAuthority(resolve(io.cwd, requiredFlag('ca', flags.ca)));
    if (!ca.certificate.subject.der.equals(ca.certificate.issuer.der)) {
      throw new ForgeError('FO_CA_INVALID', `CA "${ca.certificate.subject.text}" is not a root; trust stores check revocation lists against their roots`, {
        details: { ca: ca.certificate.subject.text },
      });
    }
    const out = resolve(io.cwd, requiredFlag('out', flags.out));
    let existing: RevocationEntries = { serials: [], key_ids: [], digests: [] };
    const previous = await readSmallFile(out).catch((error: unknown) => {
      if (ForgeError.is(error, 'FO_IO_NOT_FOUND')) return undefined;
      throw error;
    });
    if (previous !== undefined) existing = revocationEntries(parseRevocationList(previous.toString('utf8'), [ca.certificate], () => ca.key.publicKey, out));
    const added: RevocationEntries = { serials: flags.serial, key_ids: flags['key-id'].map((id) => id.toLowerCase()), digests: flags.digest };
    if (added.serials.length + added.key_ids.length + added.digests.length === 0 && previous === undefined) {
      throw new ForgeError('FO_CLI_MISSING_ARGUMENT', 'forge ca revoke needs at least one --serial, --key-id or --digest to start a list', { details: {} });
    }
    const now = Date.now();
    const text = createRevocationList(
      {
        serials: [...existing.serials, ...added.serials],
        key_ids: [...existing.key_ids, ...added.key_ids],
        digests: [...existing.digests, ...added.digests],
      },
      ca.key,
      now,
      nextUpdateDays === undefined ? undefined : now + nextUpdateDays * DAY,
    );
    await writeNewFile(out, text, { overwrite: true });
    const list = parseRevocationList(text, [ca.certificate], () => ca.key.publicKey, out);
    const summary = { file: out, serials: [...list.serials], keyIds: [...list.keyIds], digests: [...list.digests], signer: list.signer };
    if (flags.json) {
      io.stdout.write(toSafeJson(summary));
      return;
    }
    io.stderr.write(
      `revocation list signed by "${sanitizeForTerminal(list.signer)}": ${list.serials.size} serials, ${list.keyIds.size} key ids, ${list.digests.size} digests; copy it to the trust store as revocations.json\n`,
    );
    io.stdout.write(`${sanitizeForTerminal(out)}\n`);
  },
});
