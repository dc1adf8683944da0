import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createJsonLogger } from './json-logger.js';

function capture(): { stream: Writable & { write(chunk: string): boolean }; lines: () => Record<string, unknown>[]; raw: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString('utf8');
      done();
    },
  });
  return { stream, raw: () => text, lines: () => text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('the JSON-lines logger', () => {
  it('writes one JSON object per line at or above telemetry.log_level, with level names, ISO times, base fields and child fields', () => {
    const out = capture();
    const logger = createJsonLogger({ log_level: 'warn' }, { destination: out.stream, base: { service: 'forge-test' } });
    logger.info('dropped');
    logger.warn('kept', { count: 2 });
    logger.child({ plugin: { id: 'p', publisher: 'Acme', name: 'p', version: '1.0.0', digest: 'sha256:ab' } }).error('from a plugin');
    const lines = out.lines();
    assert.equal(lines.length, 2);
    assert.equal(lines[0]?.['level'], 'warn');
    assert.equal(lines[0]?.['msg'], 'kept');
    assert.equal(lines[0]?.['count'], 2);
    assert.equal(lines[0]?.['service'], 'forge-test');
    assert.match(String(lines[0]?.['time']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(lines[1]?.['plugin'], { id: 'p', publisher: 'Acme', name: 'p', version: '1.0.0', digest: 'sha256:ab' });
  });

  it('never writes a key twice: a field named like pid, msg, a base or a child field is written as field_<name>', () => {
    const out = capture();
    const logger = createJsonLogger({ log_level: 'info' }, { destination: out.stream, base: { service: 'forge-test' } });
    logger.warn('took over', { pid: 7, service: 'forged' });
    logger.child({ plugin: { id: 'p' } }).info('from a plugin', { plugin: { id: 'Trusted' }, msg: 'forged' });
    const raw = out.raw().split('\n').filter((line) => line !== '');
    assert.equal((raw[0]?.match(/"pid":/g) ?? []).length, 1);
    assert.equal((raw[1]?.match(/"plugin":/g) ?? []).length, 1);
    const [first, second] = out.lines();
    assert.equal(first?.['pid'], process.pid);
    assert.equal(first?.['field_pid'], 7);
    assert.equal(first?.['service'], 'forge-test');
    assert.equal(first?.['field_service'], 'forged');
    assert.deepEqual(second?.['plugin'], { id: 'p' });
    assert.deepEqual(second?.['field_plugin'], { id: 'Trusted' });
    assert.equal(second?.['msg'], 'from a plugin');
    assert.equal(second?.['field_msg'], 'forged');
  });

  it('keeps a hostile message on its own line: newlines and quotes cannot forge a record', () => {
    const out = capture();
    const logger = createJsonLogger({ log_level: 'info' }, { destination: out.stream });
    logger.info('x"}\n{"level":"error","msg":"forged","plugin":{"publisher":"Trusted"}}');
    assert.equal(out.raw().split('\n').filter((line) => line !== '').length, 1);
    assert.equal(out.lines()[0]?.['level'], 'info');
    assert.equal(out.lines()[0]?.['plugin'], undefined);
  });

  it('writes nothing at log_level silent', () => {
    const out = capture();
    const logger = createJsonLogger({ log_level: 'silent' }, { destination: out.stream });
    logger.error('not even this');
    assert.equal(out.raw(), '');
  });
});
