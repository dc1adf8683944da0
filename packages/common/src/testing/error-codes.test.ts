import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ForgeError } from '../errors/forge-error.js';
import { codeOf, codeOfSync, forgeErrorOf, forgeErrorOfSync, hasCode, rejectsWithCode, throwsCode } from './error-codes.js';

const denied = (): never => {
  throw new ForgeError('FO_TRUST_DENIED', 'policy says no', { details: { call: 'forge.log' } });
};
const broken = (): never => {
  throw new TypeError('x is not a function');
};
const fine = (): number => 1;

/** The message of the assertion `run` fails with. */
async function assertionMessage(run: () => unknown): Promise<string> {
  try {
    await run();
  } catch (error) {
    assert.ok(error instanceof assert.AssertionError, `expected an AssertionError, found ${String(error)}`);
    return error.message;
  }
  assert.fail('expected the helper to fail the test');
}

describe('the error-code assertions for tests', () => {
  it('read the code a promise or a function fails with, or ok', async () => {
    assert.equal(await codeOf(Promise.reject(new ForgeError('FO_TRUST_DENIED', 'no'))), 'FO_TRUST_DENIED');
    assert.equal(await codeOf(() => Promise.resolve().then(denied)), 'FO_TRUST_DENIED');
    assert.equal(await codeOf(denied), 'FO_TRUST_DENIED', 'a synchronous throw counts');
    assert.equal(await codeOf(Promise.resolve(1)), 'ok');
    assert.equal(codeOfSync(denied), 'FO_TRUST_DENIED');
    assert.equal(codeOfSync(fine), 'ok');
    assert.equal((await forgeErrorOf(denied))?.details['call'], 'forge.log');
    assert.equal(forgeErrorOfSync(fine), undefined);
  });

  it('fail the test on an error that is not a ForgeError, naming it', async () => {
    assert.equal(await assertionMessage(() => codeOf(broken)), 'expected a ForgeError, found TypeError: x is not a function');
    assert.equal(await assertionMessage(() => codeOfSync(broken)), 'expected a ForgeError, found TypeError: x is not a function');
  });

  it('refuse to treat a function that returns a promise as synchronous', async () => {
    assert.match(await assertionMessage(() => codeOfSync(() => Promise.resolve().then(denied))), /returned a promise: use forgeErrorOf/);
  });

  it('return the error of the expected code, and otherwise say what was found', async () => {
    assert.equal((await rejectsWithCode(denied, 'FO_TRUST_DENIED')).message, 'policy says no');
    assert.equal(throwsCode(denied, 'FO_TRUST_DENIED').details['call'], 'forge.log');
    assert.match(await assertionMessage(() => rejectsWithCode(denied, 'FO_ABI_BAD_POINTER')), /^expected FO_ABI_BAD_POINTER, found FO_TRUST_DENIED: policy says no/);
    assert.equal(await assertionMessage(() => rejectsWithCode(Promise.resolve(), 'FO_ABI_BAD_POINTER')), 'expected FO_ABI_BAD_POINTER, but it succeeded');
    assert.equal(await assertionMessage(() => throwsCode(fine, 'FO_ABI_BAD_POINTER')), 'expected FO_ABI_BAD_POINTER, but it succeeded');
    assert.equal(await assertionMessage(() => throwsCode(broken, 'FO_ABI_BAD_POINTER')), 'expected a ForgeError, found TypeError: x is not a function');
    assert.equal(await assertionMessage(() => throwsCode(fine, 'FO_ABI_BAD_POINTER', 'case 3')), 'case 3: expected FO_ABI_BAD_POINTER, but it succeeded');
    assert.match(await assertionMessage(() => rejectsWithCode(denied, 'FO_ABI_BAD_POINTER', 'case 4')), /^case 4: expected FO_ABI_BAD_POINTER, found FO_TRUST_DENIED/);
  });

  it('validate an error for assert.throws by code and details, saying what differs', async () => {
    assert.throws(denied, hasCode('FO_TRUST_DENIED', { call: 'forge.log' }));
    assert.match(await assertionMessage(() => assert.throws(denied, hasCode('FO_TRUST_DENIED', { call: 'forge.echo' }))), /^details\.call of FO_TRUST_DENIED: policy says no/);
    assert.match(await assertionMessage(() => assert.throws(denied, hasCode('FO_ABI_BAD_POINTER'))), /^expected FO_ABI_BAD_POINTER, found FO_TRUST_DENIED/);
  });
});
