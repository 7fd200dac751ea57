/**
 * The preflight of one device's certificate and key, as a broker would judge them, in a few
 * tens of µs: the certificate's fields read straight from the DER (cert-fields.ts), its
 * signature checked against the CA with one `crypto.verify`, and the key matched to it by
 * deriving the public point from the private scalar (ECDH) instead of parsing the key with
 * OpenSSL's PEM decoder (~450 µs here). Anything unusual (RSA keys, encrypted keys,
 * intermediates, other signature algorithms) takes Node's full X509Certificate path instead.
 */

import { createECDH, createPrivateKey, type KeyObject, verify, X509Certificate } from 'node:crypto';

import { type CertFields, readCertFields } from './cert-fields.js';
import { children, content, readOid, readTlv, pemBlocks, Tag } from './der.js';

/** Why a device's identity is unusable. Each class is counted in the preflight's report. */
export type ProblemClass =
  | 'unreadable'
  | 'unparsable-certificate'
  | 'unparsable-key'
  | 'unparsable-pkcs12'
  | 'bad-passphrase'
  | 'key-mismatch'
  | 'not-yet-valid'
  | 'expired'
  | 'not-signed-by-ca';

/** The trust anchors a check verifies against, parsed once per thread. */
export interface Anchors {
  certs: { subject: Buffer; publicKey: KeyObject; x509: X509Certificate }[];
}

/** What the check skips: a negative group's certificates are meant to fail some of it. */
export interface CheckScope {
  /** Check the validity period. */
  validity: boolean;
  /** Check the chain to the anchors. */
  chain: boolean;
}

const SIGNATURE_HASHES: Record<string, string> = {
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
};
const CURVES: Record<string, string> = {
  '1.2.840.10045.3.1.7': 'prime256v1',
  '1.3.132.0.34': 'secp384r1',
  '1.3.132.0.35': 'secp521r1',
};
const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';

/** Parses the CA file's certificates into anchors. Throws when it holds none. */
export function parseAnchors(caPem: string): Anchors {
  const certs = pemBlocks(caPem, 'CERTIFICATE').map((der) => {
    const x509 = new X509Certificate(der);
    return { subject: Buffer.from(readCertFields(der).subject), publicKey: x509.publicKey, x509 };
  });
  if (certs.length === 0) throw new Error('no CA certificate');
  return { certs };
}

/** Checks one device's certificate and key texts; null when they are usable. */
export function checkDevice(
  certText: string,
  keyText: string,
  anchors: Anchors,
  scope: CheckScope,
  now: Date,
): { problem: ProblemClass; detail: string } | null {
  const blocks = pemBlocks(certText, 'CERTIFICATE');
  const leaf = blocks[0];
  let fields: CertFields;
  try {
    if (leaf === undefined) throw new Error('no PEM certificate');
    fields = readCertFields(leaf);
  } catch {
    return { problem: 'unparsable-certificate', detail: 'holds no parsable PEM certificate' };
  }
  const keyMatch = matchKey(leaf, fields, keyText);
  if (keyMatch !== null) return keyMatch;
  if (scope.validity && now < fields.notBefore) {
    return {
      problem: 'not-yet-valid',
      detail: `not valid until ${fields.notBefore.toISOString()}`,
    };
  }
  if (scope.validity && now > fields.notAfter) {
    return { problem: 'expired', detail: `expired on ${fields.notAfter.toISOString()}` };
  }
  if (scope.chain && !chainsToAnchor(leaf, fields, blocks.slice(1), anchors)) {
    return { problem: 'not-signed-by-ca', detail: 'is not signed by the CA' };
  }
  return null;
}

function matchKey(
  leaf: Buffer,
  fields: CertFields,
  keyText: string,
): { problem: ProblemClass; detail: string } | null {
  const fast = ecScalarMatches(keyText, fields.publicKey);
  if (fast === true) return null;
  if (fast === false)
    return { problem: 'key-mismatch', detail: 'the key is not the certificate’s' };
  let key: KeyObject;
  try {
    key = createPrivateKey(keyText);
  } catch {
    return { problem: 'unparsable-key', detail: 'holds no parsable unencrypted private key' };
  }
  const cert = new X509Certificate(leaf);
  return cert.checkPrivateKey(key)
    ? null
    : { problem: 'key-mismatch', detail: 'the key is not the certificate’s' };
}

/**
 * For an unencrypted PKCS#8 EC key: whether its scalar gives the certificate's public point.
 * Undefined when the key is of another form, for the slow path to judge.
 */
function ecScalarMatches(keyText: string, certPoint: Uint8Array): boolean | undefined {
  const der = pemBlocks(keyText, 'PRIVATE KEY')[0];
  if (der === undefined) return undefined;
  try {
    const [version, algorithm, wrapped] = children(der, readTlv(der, 0));
    if (version?.tag !== Tag.integer || algorithm === undefined || wrapped === undefined) {
      return undefined;
    }
    const [algOid, curveOid] = children(der, algorithm);
    if (algOid === undefined || readOid(der, algOid) !== OID_EC_PUBLIC_KEY || !curveOid) {
      return undefined;
    }
    const curve = CURVES[readOid(der, curveOid)];
    const ecKey = readTlv(der, wrapped.start, wrapped.end);
    const scalar = children(der, ecKey)[1];
    if (curve === undefined || scalar?.tag !== Tag.octetString) return undefined;
    const ecdh = createECDH(curve);
    ecdh.setPrivateKey(content(der, scalar));
    return ecdh.getPublicKey().equals(certPoint);
  } catch {
    return undefined;
  }
}

function chainsToAnchor(
  leaf: Buffer,
  fields: CertFields,
  intermediates: Buffer[],
  anchors: Anchors,
): boolean {
  const hash = SIGNATURE_HASHES[fields.signatureAlgorithm];
  const direct = anchors.certs.find((a) => a.subject.equals(fields.issuer));
  if (direct !== undefined && hash !== undefined && intermediates.length === 0) {
    try {
      return verify(hash, fields.tbs, direct.publicKey, fields.signature);
    } catch {
      return false;
    }
  }
  return slowChain(new X509Certificate(leaf), intermediates, anchors);
}

/** Up the chain through the file's intermediates with Node's X509Certificate. */
function slowChain(leaf: X509Certificate, intermediates: Buffer[], anchors: Anchors): boolean {
  const pool = intermediates.map((der) => new X509Certificate(der));
  let current = leaf;
  for (let depth = 0; depth < 8; depth++) {
    const issued = (ca: X509Certificate) => current.checkIssued(ca) && current.verify(ca.publicKey);
    if (anchors.certs.some((a) => issued(a.x509))) return true;
    const next = pool.find(issued);
    if (next === undefined) return false;
    current = next;
  }
  return false;
}
