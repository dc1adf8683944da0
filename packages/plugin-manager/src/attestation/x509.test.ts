import assert from 'node:assert/strict';
import { X509Certificate, createPublicKey } from 'node:crypto';
import { describe, it } from 'node:test';
import { ForgeError } from '@forgeone/common';
import { throwsCode } from '@forgeone/common/testing';
import { createRootCa, issueCertificate } from './ca.js';
import { generateKeyPair } from './crypto.js';
import { DerError, der, readSingle, timeValue } from './der.js';
import { OID } from './oid.js';
import { certificatesFromPem, encodePem } from './pem.js';
import { NOW, makeIssued, makeRoot } from './test-support/pki.js';
import { parseCertificate, publisherOf, serialHex, verifyCertificateSignature } from './x509.js';

/** Asserts that parsing `bytes` as a certificate fails with FO_CERT_INVALID; returns the error. */
function refusedAsCertificate(bytes: Buffer): ForgeError {
  return throwsCode(() => parseCertificate(bytes, 'test certificate'), 'FO_CERT_INVALID');
}

describe('X.509 issuing and parsing', () => {
  const root = createRootCa({ name: 'Parse Root', now: NOW, pathLen: 2 });
  const intermediate = issueCertificate({ certificate: root.certificate, key: root.key, chain: [] }, {
    publicKey: generateKeyPair('ecdsa-p256').publicKey,
    name: 'Parse Intermediate',
    intermediate: true,
    now: NOW,
  }).certificate;

  it('writes certificates that Node parses to the same serial, names, validity and key', () => {
    const node = new X509Certificate(root.certificate.der);
    assert.equal(serialHex(Buffer.from(node.serialNumber, 'hex')), root.certificate.serial);
    assert.equal(node.subject, 'CN=Parse Root');
    assert.equal(node.issuer, 'CN=Parse Root');
    assert.equal(Date.parse(node.validFrom), root.certificate.notBefore);
    assert.equal(Date.parse(node.validTo), root.certificate.notAfter);
    assert.equal(node.ca, true);
    assert.ok(createPublicKey({ key: root.certificate.spki, format: 'der', type: 'spki' }).equals(node.publicKey));
    assert.equal(node.verify(node.publicKey), true);
  });

  it('reads basicConstraints, pathLen, keyUsage, extKeyUsage and key identifiers back', () => {
    assert.deepEqual(root.certificate.basicConstraints, { ca: true, pathLen: 2 });
    assert.deepEqual([...(root.certificate.keyUsage ?? [])].sort(), ['cRLSign', 'keyCertSign']);
    assert.equal(root.certificate.extKeyUsage, undefined);
    assert.deepEqual(intermediate.basicConstraints, { ca: true, pathLen: 1 });
    assert.ok(intermediate.authorityKeyId?.equals(root.certificate.subjectKeyId ?? Buffer.alloc(0)));
    const leaf = issueCertificate({ certificate: root.certificate, key: root.key, chain: [] }, { publicKey: generateKeyPair('ed25519').publicKey, name: 'Publisher', now: NOW }).certificate;
    assert.deepEqual(leaf.basicConstraints, { ca: false, pathLen: undefined });
    assert.deepEqual([...(leaf.keyUsage ?? [])], ['digitalSignature']);
    assert.deepEqual(leaf.extKeyUsage, [OID.codeSigning]);
    assert.equal(publisherOf(leaf), 'Publisher');
  });

  it('agrees with Node on which issuer signed a certificate (Ed25519 root, ECDSA child)', () => {
    const node = new X509Certificate(intermediate.der);
    const rootNode = new X509Certificate(root.certificate.der);
    assert.equal(node.checkIssued(rootNode), true);
    assert.equal(node.verify(rootNode.publicKey), true);
    assert.equal(verifyCertificateSignature(intermediate, root.key.publicKey), true);
    assert.equal(verifyCertificateSignature(intermediate, generateKeyPair('ed25519').publicKey), false);
    // An Ed25519 signature never verifies under an ECDSA key, whatever the bytes.
    assert.equal(verifyCertificateSignature(root.certificate, generateKeyPair('ecdsa-p256').publicKey), false);
  });

  it('round-trips certificates through PEM', () => {
    const pem = `subject=CN = x\n${encodePem('CERTIFICATE', root.certificate.der)}${encodePem('CERTIFICATE', intermediate.der)}`;
    const blocks = certificatesFromPem(pem, 'chain.pem');
    assert.equal(blocks.length, 2);
    assert.ok(blocks[1]?.equals(intermediate.der));
    throwsCode(() => certificatesFromPem('no certificates here', 'x.pem'), 'FO_CERT_INVALID');
  });

  it('clamps an issued certificate to end with its CA', () => {
    const shortRoot = createRootCa({ name: 'Short', now: NOW, days: 10 });
    const issued = issueCertificate({ certificate: shortRoot.certificate, key: shortRoot.key, chain: [] }, { publicKey: generateKeyPair('ed25519').publicKey, name: 'P', days: 365, now: NOW });
    assert.equal(issued.clamped, true);
    assert.equal(issued.certificate.notAfter, shortRoot.certificate.notAfter);
  });

  it('refuses to issue an intermediate below a CA whose pathLen is 0 with FO_CA_INVALID', () => {
    const strict = createRootCa({ name: 'Strict', now: NOW, pathLen: 0 });
    assert.throws(
      () => issueCertificate({ certificate: strict.certificate, key: strict.key, chain: [] }, { publicKey: generateKeyPair('ed25519').publicKey, name: 'I', intermediate: true, now: NOW }),
      (error: unknown) => ForgeError.is(error, 'FO_CA_INVALID') && /pathLen 0/.test(error.message),
    );
    const leaf = makeIssued(makeRoot(), 'Leaf', false);
    assert.throws(
      () => issueCertificate({ certificate: leaf.certificate, key: leaf.key, chain: [] }, { publicKey: generateKeyPair('ed25519').publicKey, name: 'X', now: NOW }),
      (error: unknown) => ForgeError.is(error, 'FO_CA_INVALID') && /not a CA/.test(error.message),
    );
  });
});

describe('DER strictness', () => {
  const good = makeRoot('Strict DER').certificate.der;

  it('refuses a truncated certificate', () => {
    assert.match(refusedAsCertificate(good.subarray(0, good.length - 1)).message, /claims \d+ bytes/);
  });

  it('refuses trailing bytes after the certificate', () => {
    assert.match(refusedAsCertificate(Buffer.concat([good, Buffer.from([0])])).message, /follow the element/);
  });

  it('refuses indefinite and non-minimal lengths', () => {
    const indefinite = Buffer.from(good);
    indefinite[1] = 0x80;
    assert.match(refusedAsCertificate(indefinite).message, /indefinite|not minimally|claims/);
    const body = good.subarray(4); // good starts 30 82 hh ll
    const padded = Buffer.concat([Buffer.from([0x30, 0x83, 0x00]), good.subarray(2, 4), body]);
    assert.match(refusedAsCertificate(padded).message, /not minimally encoded/);
  });

  it('refuses a signature algorithm that differs between the TBS and the outer structure', () => {
    const tbs = parseCertificate(good, 'x').tbs;
    const tampered = der.sequence(tbs, der.sequence(der.oid(OID.ecdsaWithSha256)), der.bitString(Buffer.alloc(64)));
    assert.match(refusedAsCertificate(tampered).message, /signatureAlgorithm differs/);
  });

  it('reads UTCTime and GeneralizedTime and refuses impossible dates', () => {
    assert.equal(timeValue(readSingle(der.time(Date.UTC(2049, 11, 31, 23, 59, 59))), 't'), Date.UTC(2049, 11, 31, 23, 59, 59));
    assert.equal(timeValue(readSingle(der.time(Date.UTC(2050, 0, 1))), 't'), Date.UTC(2050, 0, 1));
    assert.equal(der.time(Date.UTC(2050, 0, 1))[0], 0x18);
    const bad = Buffer.concat([Buffer.from([0x17, 13]), Buffer.from('250231000000Z', 'latin1')]);
    assert.throws(() => timeValue(readSingle(bad), 't'), DerError);
  });

  it('signs ECDSA P-256 certificates with ecdsa-with-SHA256 and Ed25519 ones with Ed25519', () => {
    assert.equal(makeRoot('P-256', { algorithm: 'ecdsa-p256' }).certificate.signatureAlgorithm, OID.ecdsaWithSha256);
    assert.equal(makeRoot('Ed25519').certificate.signatureAlgorithm, OID.ed25519);
  });
});
