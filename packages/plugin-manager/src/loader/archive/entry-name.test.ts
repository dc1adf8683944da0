import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NameRegistry, collisionKey, entryNameProblem } from './entry-name.js';

describe('entryNameProblem', () => {
  for (const name of ['manifest.json', 'plugin.wasm', 'assets/img/logo.png', 'attestations/a.sigstore.json', '\u00e9t\u00e9', 'a..b', '.hidden', 'x'.repeat(255)]) {
    it(`accepts ${JSON.stringify(name.length > 40 ? `${name.slice(0, 10)}…` : name)}`, () => {
      assert.equal(entryNameProblem(name), undefined);
    });
  }

  for (const [name, code] of [
    ['', 'FO_PACKAGE_BAD_PATH'],
    ['x'.repeat(256), 'FO_PACKAGE_BAD_PATH'],
    ['\u00e9'.repeat(128), 'FO_PACKAGE_BAD_PATH'],
    ['/abs', 'FO_PACKAGE_ABSOLUTE_PATH'],
    ['/../x', 'FO_PACKAGE_ABSOLUTE_PATH'],
    ['..', 'FO_PACKAGE_PATH_TRAVERSAL'],
    ['a/..', 'FO_PACKAGE_PATH_TRAVERSAL'],
    ['a//../b', 'FO_PACKAGE_PATH_TRAVERSAL'],
    ['a\0b', 'FO_PACKAGE_BAD_PATH'],
    ['a\u007fb', 'FO_PACKAGE_BAD_PATH'],
    ['a\u0085b', 'FO_PACKAGE_BAD_PATH'],
    ['a\\b', 'FO_PACKAGE_BAD_PATH'],
    ['a/', 'FO_PACKAGE_BAD_PATH'],
    ['a//b', 'FO_PACKAGE_BAD_PATH'],
    ['./a', 'FO_PACKAGE_BAD_PATH'],
    ['a/.', 'FO_PACKAGE_BAD_PATH'],
    ['a\uDC00', 'FO_PACKAGE_NAME_ENCODING'],
  ] as const) {
    it(`refuses ${JSON.stringify(name.length > 40 ? `${name.slice(0, 10)}…` : name)} as ${code}`, () => {
      assert.equal(entryNameProblem(name)?.code, code);
    });
  }
});

describe('NameRegistry', () => {
  it('accepts distinct names and sibling files under one directory', () => {
    const names = new NameRegistry();
    for (const name of ['a/b', 'a/c', 'ab', 'a.b/c']) assert.equal(names.add(name), undefined);
  });

  it('reports names equal after NFC normalisation and lower-casing, with the earlier name', () => {
    const names = new NameRegistry();
    assert.equal(names.add('Caf\u00e9/X'), undefined);
    assert.deepEqual(names.add('cafe\u0301/x')?.earlier, 'Caf\u00e9/X');
  });

  it('reports a file that another name needs as a directory, in either order', () => {
    const fileFirst = new NameRegistry();
    fileFirst.add('a/b');
    assert.equal(fileFirst.add('A/b/c')?.earlier, 'a/b');
    const directoryFirst = new NameRegistry();
    directoryFirst.add('a/b/c');
    assert.equal(directoryFirst.add('a/B')?.earlier, 'a/b/c');
  });

  it('keys the dotted capital I together with its lower-case form', () => {
    assert.equal(collisionKey('\u0130'), collisionKey('\u0130'.toLowerCase()));
  });
});
