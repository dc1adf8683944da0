import type { FieldDoc, SchemaDoc } from './schema.js';

/**
 * Renders the fields of an object schema as Markdown tables, one table per nested
 * object, for the generated references in docs/reference/.
 *
 * @param root the key path shown for the top level (e.g. `plugin_manager`)
 */
export function renderSchemaTables(doc: SchemaDoc, root: string): string {
  const sections: string[] = [];
  walk(doc, root, sections);
  return sections.join('\n');
}

function walk(doc: SchemaDoc, path: string, sections: string[]): void {
  if (doc.type === 'array') {
    walk(doc.item, `${path}[]`, sections);
    return;
  }
  if (doc.type === 'record') {
    walk(doc.value, `${path}.<name>`, sections);
    return;
  }
  if (doc.type !== 'object') return;
  const rows = doc.fields.map((field) => row(field));
  sections.push(`### \`${path}\`\n\n| key | accepts | default | meaning |\n| --- | --- | --- | --- |\n${rows.join('\n')}\n`);
  for (const field of doc.fields) walk(field.schema, `${path}.${field.key}`, sections);
}

function row(field: FieldDoc): string {
  const accepts = field.schema.type === 'object' ? 'a table (below)' : field.schema.expected;
  const fallback = field.required ? 'required' : (field.default ?? 'absent');
  const shownDefault = field.schema.type === 'object' && field.default !== undefined ? 'all defaults' : fallback;
  return `| \`${field.key}\` | ${cell(accepts)} | ${cell(shownDefault)} | ${cell(field.description)} |`;
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}
