/**
 * Text that came from a plugin, a package or any other untrusted source is made safe
 * before it reaches a terminal: C0 and C1 control characters (except newline and tab),
 * DEL and bidirectional overrides are replaced by visible `\u{..}` escapes, so a
 * manifest cannot move the cursor, recolour the screen, rewrite earlier lines or
 * reorder what the user reads (the "Trojan Source" trick).
 */
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/** Escapes control and bidi characters in untrusted text for a terminal. */
export function sanitizeForTerminal(text: string): string {
  return text.replace(UNSAFE, (char) => `\\u{${char.codePointAt(0)?.toString(16) ?? ''}}`);
}

/**
 * Untrusted text for one line of line-oriented output (`forge logs`, `forge events`,
 * `forge audit tail`): as {@link sanitizeForTerminal}, and newlines escaped too, so the
 * text cannot start a line that looks like another record.
 */
export function sanitizeLine(text: string): string {
  return sanitizeForTerminal(text).replace(/\n/g, '\\n');
}

const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

/**
 * JSON for stdout: indented, with C1 controls and bidi characters escaped as `\uXXXX`
 * (still valid JSON, equal after parsing), so piping it to a terminal is safe too.
 */
export function toSafeJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2).replace(JSON_UNSAFE, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
}

/** One line of JSON (no indentation, newline-terminated) for JSON Lines output, escaped as {@link toSafeJson}. */
export function toSafeJsonLine(value: unknown): string {
  return `${JSON.stringify(value).replace(JSON_UNSAFE, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
}
