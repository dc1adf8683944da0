import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../test-support/repo.js';
import {
  ERROR_AREAS,
  ERROR_CATALOG,
  ERROR_KINDS,
  EXIT_CODES,
  ForgeError,
  HTTP_STATUS,
  fromFsError,
  isErrorCode,
  renderErrorReference,
  toForgeError,
  type ErrorCode,
} from './index.js';

// Compile-time: every code has the FO_<AREA>_<REASON> shape.
type ShapeCheck = ErrorCode extends `FO_${string}_${string}` ? true : false;
const shapeCheck: ShapeCheck = true;

describe('error catalog', () => {
  it('names every code FO_<AREA>_<REASON> in upper case', () => {
    assert.equal(shapeCheck, true);
    for (const code of Object.keys(ERROR_CATALOG)) assert.match(code, /^FO_[A-Z0-9]+_[A-Z0-9_]+$/, code);
  });

  it('gives every code a known kind and a one-line summary ending in a full stop', () => {
    for (const [code, spec] of Object.entries(ERROR_CATALOG)) {
      assert.ok((ERROR_KINDS as readonly string[]).includes(spec.kind), `${code} has unknown kind ${spec.kind}`);
      assert.match(spec.summary, /^[A-Za-z`].*\.$/s, `${code} summary`);
      assert.ok(!spec.summary.includes('\n'), `${code} summary is one line`);
    }
  });

  it('never defines one code in two areas', () => {
    const total = ERROR_AREAS.reduce((sum, area) => sum + Object.keys(area.codes).length, 0);
    assert.equal(total, Object.keys(ERROR_CATALOG).length);
  });

  it('keeps every code in the file that owns its prefix: codes/<file>.ts defines exactly its area\'s codes, each FO_<PREFIX>_ of one area', () => {
    const codesDir = join(repoRoot(), 'packages/common/src/errors/codes');
    assert.deepEqual(
      readdirSync(codesDir).filter((name) => name.endsWith('.ts')).map((name) => name.slice(0, -3)).sort(),
      ERROR_AREAS.map((area) => area.file).sort(),
      'every file under codes/ is one area',
    );
    const owner = new Map<string, string>();
    for (const area of ERROR_AREAS) {
      assert.ok((area.prefixes as readonly string[]).includes(area.file.toUpperCase()), `codes/${area.file}.ts owns FO_${area.file.toUpperCase()}_`);
      for (const prefix of area.prefixes) {
        assert.equal(owner.get(prefix), undefined, `FO_${prefix}_ is claimed by codes/${owner.get(prefix) ?? ''}.ts and codes/${area.file}.ts`);
        owner.set(prefix, area.file);
      }
    }
    for (const area of ERROR_AREAS) {
      const text = readFileSync(join(codesDir, `${area.file}.ts`), 'utf8');
      const defined = [...text.matchAll(/^ {2}(FO_[A-Z0-9_]+): \{/gm)].map((match) => match[1] ?? '');
      assert.deepEqual(defined, Object.keys(area.codes), `codes/${area.file}.ts defines the codes of its area`);
      for (const code of defined) {
        const prefix = code.split('_')[1] ?? '';
        assert.equal(owner.get(prefix), area.file, `${code} is in codes/${area.file}.ts but FO_${prefix}_ belongs in codes/${owner.get(prefix) ?? `${prefix.toLowerCase()}`}.ts`);
      }
    }
  });

  it('maps every kind to a distinct exit status and to an HTTP status', () => {
    assert.deepEqual(Object.keys(EXIT_CODES).sort(), [...ERROR_KINDS].sort());
    assert.deepEqual(Object.keys(HTTP_STATUS).sort(), [...ERROR_KINDS].sort());
    assert.equal(new Set(Object.values(EXIT_CODES)).size, ERROR_KINDS.length);
    assert.ok(!Object.values(EXIT_CODES).includes(0));
  });

  it('agrees with docs/reference/errors.md (run npm run gen:reference after changing it)', () => {
    const onDisk = readFileSync(join(repoRoot(), 'docs/reference/errors.md'), 'utf8');
    assert.equal(onDisk, renderErrorReference());
    for (const code of Object.keys(ERROR_CATALOG)) assert.ok(onDisk.includes(`\`${code}\``), code);
  });

  it('recognises catalog codes and nothing else', () => {
    assert.equal(isErrorCode('FO_CONFIG_INVALID'), true);
    assert.equal(isErrorCode('FO_NOPE_NOPE'), false);
    assert.equal(isErrorCode('toString'), false);
    assert.equal(isErrorCode(42), false);
  });
});

describe('ForgeError', () => {
  it('takes its kind from the catalog', () => {
    const error = new ForgeError('FO_CONFIG_INVALID', 'bad');
    assert.equal(error.kind, 'invalid');
    assert.equal(error.name, 'ForgeError');
    assert.ok(error instanceof Error);
  });

  it('round-trips through JSON across a thread boundary', () => {
    const error = new ForgeError('FO_PACKAGE_SYMLINK', 'no links', { details: { entry: 'a' } });
    const copy = ForgeError.fromJSON(JSON.parse(JSON.stringify(error)));
    assert.deepEqual(copy.toJSON(), error.toJSON());
    assert.equal(copy.kind, 'invalid');
  });

  it('turns an unknown code from JSON into FO_INTERNAL_UNEXPECTED', () => {
    const copy = ForgeError.fromJSON({ code: 'FO_MADE_UP', message: 'x' });
    assert.equal(copy.code, 'FO_INTERNAL_UNEXPECTED');
    assert.match(copy.message, /unrecognised error: x/);
  });

  it('wraps foreign errors as FO_INTERNAL_UNEXPECTED and passes ForgeErrors through', () => {
    const original = new ForgeError('FO_IO_EXISTS', 'x');
    assert.equal(toForgeError(original), original);
    const wrapped = toForgeError(new RangeError('boom'));
    assert.equal(wrapped.code, 'FO_INTERNAL_UNEXPECTED');
    assert.ok(wrapped.cause instanceof RangeError);
  });

  it('gives an operating-system refusal (EACCES, EPERM) the kind permission, apart from the policy kind denied', () => {
    for (const errno of ['EACCES', 'EPERM']) {
      const error = fromFsError(Object.assign(new Error('x'), { code: errno }), 'create the directory', '/var/lib/x');
      assert.deepEqual([error.code, error.kind, error.details], ['FO_IO_PERMISSION', 'permission', { path: '/var/lib/x', errno }]);
      assert.match(error.message, /cannot create the directory: permission denied on \/var\/lib\/x/);
    }
    // A file the host cannot open is the operator's to fix, not the client's: 500, not 403.
    assert.deepEqual([EXIT_CODES.permission, HTTP_STATUS.permission], [11, 500]);
    assert.deepEqual([EXIT_CODES.denied, HTTP_STATUS.denied], [4, 403]);
  });

  it('maps file-system errno codes to IO codes naming the path', () => {
    const enoent = Object.assign(new Error('x'), { code: 'ENOENT' });
    const eacces = Object.assign(new Error('x'), { code: 'EACCES' });
    const eio = Object.assign(new Error('disk on fire'), { code: 'EIO' });
    assert.equal(fromFsError(enoent, 'read', '/a').code, 'FO_IO_NOT_FOUND');
    assert.equal(fromFsError(eacces, 'read', '/a').code, 'FO_IO_PERMISSION');
    const io = fromFsError(eio, 'read the file', '/a');
    assert.equal(io.code, 'FO_IO_FAILED');
    assert.match(io.message, /cannot read the file \(\/a\): disk on fire/);
    assert.deepEqual(io.details, { path: '/a', errno: 'EIO' });
  });

  it('names a full disk and a read-only file system instead of passing ENOSPC or EROFS through as FO_IO_FAILED', () => {
    const full = fromFsError(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }), 'write the state', '/s/state.json');
    assert.equal(full.code, 'FO_IO_NO_SPACE');
    assert.match(full.message, /cannot write the state: no space left on the file system holding \/s\/state\.json \(ENOSPC\)/);
    assert.deepEqual(full.details, { path: '/s/state.json', errno: 'ENOSPC' });
    assert.equal(fromFsError(Object.assign(new Error('quota'), { code: 'EDQUOT' }), 'write', '/q').code, 'FO_IO_NO_SPACE');
    const readOnly = fromFsError(Object.assign(new Error('EROFS'), { code: 'EROFS' }), 'create the lock', '/s/.store/lock');
    assert.equal(readOnly.code, 'FO_IO_READ_ONLY');
    assert.match(readOnly.message, /cannot create the lock: \/s\/\.store\/lock is on a read-only file system/);
  });
});
