/**
 * Writing text into a record's bytes without Buffer#write's per-call costs. Buffer's
 * `utf8Write` and `latin1Write` are `write(text, offset, encoding)` without the encoding
 * lookup and argument checks (present in every supported Node, not in the type
 * definitions); the plain method is the fallback. Both the log's thread (encoding
 * records) and the chain (filling prev and hash) write this way.
 */
interface FastWrites {
  utf8Write?: (text: string, offset: number) => number;
  latin1Write?: (text: string, offset: number) => number;
}
const { utf8Write, latin1Write } = Buffer.prototype as unknown as FastWrites;

/** Writes `text` as UTF-8 at `offset`; returns the bytes written. */
export function writeUtf8(buf: Buffer, text: string, offset: number): number {
  return utf8Write === undefined ? buf.write(text, offset, 'utf8') : utf8Write.call(buf, text, offset);
}

/** Writes `text` (every character below U+0100) one byte per character at `offset`; returns the bytes written. */
export function writeLatin1(buf: Buffer, text: string, offset: number): number {
  return latin1Write === undefined ? buf.write(text, offset, 'latin1') : latin1Write.call(buf, text, offset);
}
