/**
 * Which IP addresses are public. forge.http_request connects to a non-public address
 * only when the operator granted that exact host (see http-request.ts), so that a
 * plugin allowed `*.example.com` cannot reach the host's loopback services, the cloud
 * metadata endpoint (169.254.169.254) or the private network through a name that
 * resolves there.
 *
 * Ranges follow the IANA special-purpose registries (RFC 6890 and successors). The
 * classification fails closed: anything that does not parse is `reserved`, and for
 * IPv6 only global unicast space (2000::/3) can be public. IPv4 embedded in IPv6
 * (IPv4-mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) is judged by
 * the IPv4 address it carries.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** Why an address is not public. */
export type AddressRange =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'shared'
  | 'link-local'
  | 'unique-local'
  | 'multicast'
  | 'documentation'
  | 'benchmarking'
  | 'reserved';

/** [first address as u32, prefix length, range]. */
const IPV4_RANGES: readonly (readonly [number, number, AddressRange])[] = [
  [ipv4(0, 0, 0, 0), 8, 'unspecified'],
  [ipv4(10, 0, 0, 0), 8, 'private'],
  [ipv4(100, 64, 0, 0), 10, 'shared'],
  [ipv4(127, 0, 0, 0), 8, 'loopback'],
  [ipv4(169, 254, 0, 0), 16, 'link-local'],
  [ipv4(172, 16, 0, 0), 12, 'private'],
  [ipv4(192, 0, 0, 0), 24, 'reserved'],
  [ipv4(192, 0, 2, 0), 24, 'documentation'],
  [ipv4(192, 88, 99, 0), 24, 'reserved'],
  [ipv4(192, 168, 0, 0), 16, 'private'],
  [ipv4(198, 18, 0, 0), 15, 'benchmarking'],
  [ipv4(198, 51, 100, 0), 24, 'documentation'],
  [ipv4(203, 0, 113, 0), 24, 'documentation'],
  [ipv4(224, 0, 0, 0), 4, 'multicast'],
  [ipv4(240, 0, 0, 0), 4, 'reserved'],
];

function ipv4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

function inPrefix(value: number, base: number, bits: number): boolean {
  if (bits === 0) return true;
  const mask = bits === 32 ? 0xffff_ffff : (0xffff_ffff << (32 - bits)) >>> 0;
  return ((value & mask) >>> 0) === base;
}

function classifyIpv4(value: number): AddressRange | undefined {
  for (const [base, bits, range] of IPV4_RANGES) if (inPrefix(value, base, bits)) return range;
  return undefined;
}

/** The 16 bytes of an IPv6 address (without brackets or zone), or undefined. */
function parseIpv6(text: string): Uint8Array | undefined {
  let body = text;
  let tail: number[] = [];
  // An embedded IPv4 address in the last 32 bits: a.b.c.d becomes two 16-bit groups.
  const lastColon = body.lastIndexOf(':');
  const last = body.slice(lastColon + 1);
  if (last.includes('.')) {
    if (!isIPv4(last)) return undefined;
    const [a, b, c, d] = last.split('.').map(Number) as [number, number, number, number];
    tail = [(a << 8) | b, (c << 8) | d];
    // Drop the IPv4 part and the colon before it, but keep a `::` that precedes it.
    body = body.slice(0, lastColon + 1);
    if (body.endsWith(':') && !body.endsWith('::')) body = body.slice(0, -1);
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string | undefined): number[] | undefined => {
    if (part === undefined || part === '') return [];
    const out: number[] = [];
    for (const group of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
      out.push(parseInt(group, 16));
    }
    return out;
  };
  const head = groups(halves[0]);
  const rest = halves.length === 2 ? groups(halves[1]) : [];
  if (head === undefined || rest === undefined) return undefined;
  const explicit = [...head, ...rest, ...tail];
  if (halves.length === 1 ? explicit.length !== 8 : explicit.length > 7) return undefined;
  const words = [...head, ...new Array<number>(8 - explicit.length).fill(0), ...rest, ...tail];
  const out = new Uint8Array(16);
  words.forEach((word, index) => {
    out[index * 2] = word >> 8;
    out[index * 2 + 1] = word & 0xff;
  });
  return out;
}

function u32At(bytes: Uint8Array, offset: number): number {
  return (((bytes[offset] as number) << 24) | ((bytes[offset + 1] as number) << 16) | ((bytes[offset + 2] as number) << 8) | (bytes[offset + 3] as number)) >>> 0;
}

function allZero(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i += 1) if (bytes[i] !== 0) return false;
  return true;
}

function classifyIpv6(bytes: Uint8Array): AddressRange | undefined {
  const b0 = bytes[0] as number;
  const b1 = bytes[1] as number;
  if (allZero(bytes, 0, 10)) {
    // ::ffff:a.b.c.d, IPv4-mapped: what a dual-stack socket really connects to.
    if (bytes[10] === 0xff && bytes[11] === 0xff) return classifyIpv4(u32At(bytes, 12)) ?? undefined;
    if (allZero(bytes, 10, 15)) {
      if (bytes[15] === 0) return 'unspecified';
      if (bytes[15] === 1) return 'loopback';
    }
    // ::a.b.c.d (IPv4-compatible, deprecated) and the rest of ::/80.
    return 'reserved';
  }
  // 64:ff9b::/96, NAT64: the gateway connects to the embedded IPv4 address.
  if (b0 === 0x00 && b1 === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b && allZero(bytes, 4, 12)) return classifyIpv4(u32At(bytes, 12));
  // 2002::/16, 6to4: the IPv4 address is in bits 16-47.
  if (b0 === 0x20 && b1 === 0x02) return classifyIpv4(u32At(bytes, 2));
  if (b0 === 0xff) return 'multicast';
  if (b0 === 0xfe && (b1 & 0xc0) === 0x80) return 'link-local';
  if (b0 === 0xfe && (b1 & 0xc0) === 0xc0) return 'private'; // fec0::/10, deprecated site-local
  if ((b0 & 0xfe) === 0xfc) return 'unique-local';
  if (b0 === 0x20 && b1 === 0x01 && bytes[2] === 0x0d && bytes[3] === 0xb8) return 'documentation'; // 2001:db8::/32
  if (b0 === 0x3f && b1 === 0xff && ((bytes[2] as number) & 0xf0) === 0) return 'documentation'; // 3fff::/20
  if (b0 === 0x20 && b1 === 0x01 && ((bytes[2] as number) & 0xfe) === 0) return 'reserved'; // 2001::/23, IETF protocol assignments
  // Only 2000::/3 is global unicast; everything else (64:ff9b:1::/48, 100::/64, ...) is not public.
  if ((b0 & 0xe0) !== 0x20) return 'reserved';
  return undefined;
}

/**
 * Classifies an IP address.
 *
 * @param address an IPv4 dotted quad or an IPv6 address, optionally in brackets and
 *   with a zone (`fe80::1%eth0`; any zone makes it link-local)
 * @returns undefined for a public address, otherwise why it is not public; text that
 *   is not an IP address is `reserved` (fail closed)
 */
export function classifyAddress(address: string): AddressRange | undefined {
  const text = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  if (isIPv4(text)) {
    const [a, b, c, d] = text.split('.').map(Number) as [number, number, number, number];
    return classifyIpv4(ipv4(a, b, c, d));
  }
  if (!isIPv6(text)) return 'reserved';
  const zone = text.indexOf('%');
  if (zone !== -1) return 'link-local';
  const bytes = parseIpv6(text);
  return bytes === undefined ? 'reserved' : classifyIpv6(bytes);
}

/** True when `address` is an IP literal (IPv4, or IPv6 with or without brackets). */
export function isIpLiteral(host: string): boolean {
  const text = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return isIPv4(text) || isIPv6(text);
}
