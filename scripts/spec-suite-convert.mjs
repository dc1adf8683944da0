// Converts one .wast file with wabt's wast2json for scripts/spec-suite.mjs, tolerating
// syntax newer than the installed wabt: when wast2json stops at a top-level command it
// cannot parse (`module definition`, a GC type, an i64 offset past 2^32, ...), that
// command is blanked out (a module becomes an empty `(module)`, so later assertions
// still name the module they named, and fail alike in both worlds) and the file is
// converted again. Blanking keeps every line where it was, so reported lines are the
// suite's own.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Most commands dropped from one file before it counts as not converted. */
const MAX_DROPPED = 400;

/**
 * The top-level forms of a .wast text: [start, end) offsets and first and last lines
 * (1-based). Strings, line comments and nested block comments are skipped.
 */
export function topLevelForms(text) {
  const forms = [];
  let depth = 0;
  let line = 1;
  let start = 0;
  let startLine = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === '\n') line += 1;
    else if (c === ';' && text[i + 1] === ';') {
      while (i < text.length && text[i] !== '\n') i += 1;
      line += 1;
    } else if (c === '(' && text[i + 1] === ';') {
      let nest = 1;
      for (i += 2; i < text.length && nest > 0; i += 1) {
        if (text[i] === '\n') line += 1;
        else if (text[i] === '(' && text[i + 1] === ';') (nest += 1), (i += 1);
        else if (text[i] === ';' && text[i + 1] === ')') (nest -= 1), (i += 1);
      }
      i -= 1;
    } else if (c === '"') {
      for (i += 1; i < text.length && text[i] !== '"'; i += 1) {
        if (text[i] === '\\') i += 1;
        else if (text[i] === '\n') line += 1;
      }
    } else if (c === '(') {
      if (depth === 0) (start = i), (startLine = line);
      depth += 1;
    } else if (c === ')') {
      depth -= 1;
      if (depth === 0) forms.push({ start, end: i + 1, startLine, endLine: line });
    }
  }
  return forms;
}

/** The form blanked out: an empty module for a module command, spaces otherwise; newlines kept. */
function blank(form) {
  const newlines = form.replace(/[^\n]/g, '');
  return /^\(\s*module\b/.test(form) ? `(module)${newlines}` : newlines;
}

/**
 * Converts `path` into `dir`/out.json.
 * @returns { commands, dropped: [{ line, reason }] } or { error } when the file cannot be converted
 */
export function convert(path, dir) {
  let text = readFileSync(path, 'utf8');
  const dropped = [];
  for (;;) {
    const run = wast2json(text, dir);
    if (run.status === 0) return { commands: JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')).commands, dropped };
    if (dropped.length >= MAX_DROPPED) return { error: `more than ${MAX_DROPPED} commands wast2json cannot convert` };
    const first = run.stderr.split('\n')[0] ?? '';
    const at = /:(\d+):\d+: error: (.*)/.exec(first);
    const forms = topLevelForms(text);
    // A located error names its command; a crash (wabt asserts or segfaults on some newer syntax) is bisected.
    const form = at === null ? firstFailing(text, forms, dir) : forms.find((f) => f.startLine <= Number(at[1]) && Number(at[1]) <= f.endLine);
    if (form === undefined) return { error: first || `wast2json exited with ${run.status ?? run.signal}` };
    dropped.push({ line: form.startLine, reason: at === null ? 'wast2json crashes on it' : at[2] });
    text = text.slice(0, form.start) + blank(text.slice(form.start, form.end)) + text.slice(form.end);
  }
}

function wast2json(text, dir) {
  const source = join(dir, 'in.wast');
  writeFileSync(source, text);
  const run = spawnSync('wast2json', ['--enable-all', '--no-check', source, '-o', join(dir, 'out.json')], { encoding: 'utf8' });
  if (run.error !== undefined) throw new Error(`wast2json: ${run.error.message} (install wabt)`);
  return run;
}

/** The first form such that the text up to its end fails to convert (binary search over prefixes). */
function firstFailing(text, forms, dir) {
  let lo = 0;
  let hi = forms.length - 1;
  if (hi < 0 || wast2json(text.slice(0, forms[hi].end), dir).status === 0) return undefined;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (wast2json(text.slice(0, forms[mid].end), dir).status === 0) lo = mid + 1;
    else hi = mid;
  }
  return forms[lo];
}
