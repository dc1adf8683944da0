import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ForgeError } from '@forgeone/common';
import { ERRNO } from './abi.js';
import { WasiErrno } from './errno.js';
import { errnoFor, hasUnknownRights, rightsOf } from './marshal.js';
import { WasiExit } from './outcome.js';

function nodeError(code: string): Error {
  return Object.assign(new Error(`${code}: failed`), { code, errno: -1, syscall: 'open' });
}

describe('WASI errno mapping', () => {
  it('returns the errno of a refusal and of a host file-system error of the same name', () => {
    assert.equal(errnoFor(new WasiErrno(ERRNO.ENOTCAPABLE)), ERRNO.ENOTCAPABLE);
    assert.equal(errnoFor(nodeError('ENOENT')), ERRNO.ENOENT);
    assert.equal(errnoFor(nodeError('EOPNOTSUPP')), ERRNO.ENOTSUP);
    assert.equal(errnoFor(nodeError('EWEIRD')), ERRNO.EIO);
  });

  it('lets a proc_exit unwind, a ForgeError and a stack overflow pass through untouched', () => {
    for (const error of [new WasiExit(3), new ForgeError('FO_WASI_CALL_DENIED', 'x'), new RangeError('Maximum call stack size exceeded')]) {
      assert.throws(() => errnoFor(error), (thrown: unknown) => thrown === error);
    }
  });

  it('turns anything else into FO_INTERNAL_UNEXPECTED rather than a misleading errno', () => {
    assert.throws(() => errnoFor(new TypeError('bug')), (error: unknown) => ForgeError.is(error, 'FO_INTERNAL_UNEXPECTED'));
  });

  it('reads guest rights, dropping and detecting bits preview1 does not define', () => {
    assert.equal(rightsOf(-1n), (1 << 30) - 1);
    assert.equal(hasUnknownRights(1n << 40n), true);
    assert.equal(hasUnknownRights(5n), false);
  });
});
