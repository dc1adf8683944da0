/**
 * PEM (RFC 7468) blocks: `-----BEGIN LABEL-----`, base64 lines, `-----END LABEL-----`.
 * Text outside blocks (OpenSSL's "subject=" lines, comments) is ignored; a block
 * whose base64 is malformed or whose END label differs is refused.
 */
import { ForgeError } from '@forgeone/common';

/** One PEM block: its label (`CERTIFICATE`) and decoded bytes. */
export interface PemBlock {
  readonly label: string;
  readonly der: Buffer;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]{1,64})-----\r?\n([\s\S]*?)-----END ([A-Z0-9 ]{1,64})-----/g;
const BASE64_BODY = /^[A-Za-z0-9+/\r\n\t ]*={0,2}[\r\n\t ]*$/;

/**
 * Every PEM block in `text`, in order.
 * @throws ForgeError FO_CERT_INVALID when a block is malformed
 */
export function decodePem(text: string, source: string): PemBlock[] {
  const out: PemBlock[] = [];
  for (const match of text.matchAll(BLOCK)) {
    const [, label = '', body = '', endLabel = ''] = match;
    if (label !== endLabel || !BASE64_BODY.test(body)) {
      throw new ForgeError('FO_CERT_INVALID', `${source}: malformed PEM block "${label}" (expected base64 lines ending in -----END ${label}-----)`, {
        details: { source },
      });
    }
    out.push({ label, der: Buffer.from(body.replace(/\s+/g, ''), 'base64') });
  }
  return out;
}

/** Encodes DER bytes as one PEM block with 64-character lines. */
export function encodePem(label: string, der: Uint8Array): string {
  const base64 = Buffer.from(der).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/**
 * The DER of every CERTIFICATE block in `text`; other blocks are ignored.
 * @throws ForgeError FO_CERT_INVALID when there is none or a block is malformed
 */
export function certificatesFromPem(text: string, source: string): Buffer[] {
  const blocks = decodePem(text, source).filter((block) => block.label === 'CERTIFICATE');
  if (blocks.length === 0) {
    throw new ForgeError('FO_CERT_INVALID', `${source}: expected at least one PEM "CERTIFICATE" block, found none`, { details: { source } });
  }
  return blocks.map((block) => block.der);
}
