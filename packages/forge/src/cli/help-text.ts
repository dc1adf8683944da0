/**
 * `text`: a tag for the long help of a command, written as an indented template
 * literal in the command's spec. The first and last line breaks and the indentation
 * common to every non-blank line are removed, so the text reads in the source as it
 * prints:
 *
 * ```ts
 * description: text`
 *   First paragraph, wrapped by hand
 *   at about 100 columns.
 *
 *   Second paragraph.
 * `,
 * ```
 */
export function text(strings: TemplateStringsArray, ...values: readonly unknown[]): string {
  const raw = strings.reduce((out, part, index) => `${out}${part}${index < values.length ? String(values[index]) : ''}`, '');
  const lines = raw.replace(/^\n/, '').replace(/\n[ \t]*$/, '').split('\n');
  const indents = lines.filter((line) => line.trim() !== '').map((line) => /^[ \t]*/.exec(line)?.[0].length ?? 0);
  const common = indents.length === 0 ? 0 : Math.min(...indents);
  return lines.map((line) => line.slice(common).trimEnd()).join('\n');
}
