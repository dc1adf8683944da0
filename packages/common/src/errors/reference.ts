import { ERROR_AREAS } from './catalog.js';
import type { ErrorSpec } from './spec.js';
import { ERROR_KINDS, ERROR_KIND_MEANING, EXIT_CODES, HTTP_STATUS } from './kinds.js';

/**
 * Renders docs/reference/errors.md from the catalog. The file is generated
 * (`npm run gen:reference`) and a test fails when it drifts from the catalog.
 */
export function renderErrorReference(): string {
  const lines: string[] = [
    '# Error codes',
    '',
    '<!-- Generated from packages/common/src/errors by `npm run gen:reference`. Do not edit. -->',
    '',
    'Every failure ForgeOne reports on purpose carries a stable code `FO_<AREA>_<REASON>` and a kind.',
    'Codes are never reused or renamed. The kind decides the `forge` exit status and the daemon\'s HTTP status.',
    '',
    '## Kinds',
    '',
    '| kind | exit status | HTTP status | meaning |',
    '| --- | --- | --- | --- |',
  ];
  for (const kind of ERROR_KINDS) {
    lines.push(`| \`${kind}\` | ${EXIT_CODES[kind]} | ${HTTP_STATUS[kind]} | ${ERROR_KIND_MEANING[kind]} |`);
  }
  for (const area of ERROR_AREAS) {
    if (Object.keys(area.codes).length === 0) continue;
    lines.push('', `## ${area.title}`, '', '| code | kind | meaning |', '| --- | --- | --- |');
    for (const [code, spec] of Object.entries(area.codes as Readonly<Record<string, ErrorSpec>>)) {
      lines.push(`| \`${code}\` | \`${spec.kind}\` | ${spec.summary.replaceAll('|', '\\|')} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}
