/**
 * The fields of an X.509 certificate that fleet work reads, taken straight from the DER: the
 * signed part and its signature, issuer and subject names as encoded, validity, the public
 * key, the common name and the subject key identifier. A few µs per certificate, against
 * ~140 µs for Node's X509Certificate (which computes fingerprints and text forms we don't use).
 */

import { children, content, DerError, readOid, readTime, readTlv, Tag, whole } from './der.js';

/** What {@link readCertFields} extracts. Byte fields are views into the given buffer. */
export interface CertFields {
  /** The whole tbsCertificate element: the bytes the signature covers. */
  tbs: Uint8Array;
  /** Dotted OID of the signature algorithm, e.g. `1.2.840.10045.4.3.2` (ecdsa-with-SHA256). */
  signatureAlgorithm: string;
  /** The signature value (the BIT STRING's bytes after the unused-bits octet). */
  signature: Uint8Array;
  /** The issuer Name element, as encoded. */
  issuer: Uint8Array;
  /** The subject Name element, as encoded. */
  subject: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  /** The SubjectPublicKeyInfo element, as encoded. */
  spki: Uint8Array;
  /** The subjectPublicKey bits (for EC: the uncompressed point `04 || x || y`). */
  publicKey: Uint8Array;
  /** The first common name (2.5.4.3) of the subject; undefined when there is none. */
  commonName: string | undefined;
  /** The subject key identifier extension's key id; undefined when absent. */
  subjectKeyId: Uint8Array | undefined;
}

const OID_CN = '2.5.4.3';
const OID_SKI = '2.5.29.14';

/**
 * Reads a DER certificate's fields. Throws DerError when the bytes are not a certificate
 * this reader understands; callers then fall back to Node's X509Certificate.
 */
export function readCertFields(der: Uint8Array): CertFields {
  const cert = readTlv(der, 0);
  const [tbs, sigAlg, sig] = children(der, cert);
  if (!tbs || !sigAlg || !sig || sig.tag !== Tag.bitString) throw new DerError('not a certificate');
  const parts = children(der, tbs);
  const v = parts[0]?.tag === 0xa0 ? 1 : 0;
  const [, , issuer, validity, subject, spki] = parts.slice(v);
  if (!issuer || !validity || !subject || !spki) throw new DerError('short tbsCertificate');
  const [notBefore, notAfter] = children(der, validity);
  const keyBits = children(der, spki)[1];
  const algOid = children(der, sigAlg)[0];
  if (!notBefore || !notAfter || keyBits?.tag !== Tag.bitString || !algOid) {
    throw new DerError('bad certificate');
  }
  const extensions = parts.find((p) => p.tag === 0xa3);
  return {
    tbs: whole(der, tbs),
    signatureAlgorithm: readOid(der, algOid),
    signature: content(der, sig).subarray(1),
    issuer: whole(der, issuer),
    subject: whole(der, subject),
    notBefore: readTime(der, notBefore),
    notAfter: readTime(der, notAfter),
    spki: whole(der, spki),
    publicKey: content(der, keyBits).subarray(1),
    commonName: findCommonName(der, subject),
    subjectKeyId: extensions ? findSubjectKeyId(der, extensions) : undefined,
  };
}

/** The subjectPublicKey bits of a DER SubjectPublicKeyInfo. Throws DerError if malformed. */
export function spkiKeyBits(spki: Uint8Array): Uint8Array {
  const bits = children(spki, readTlv(spki, 0))[1];
  if (bits?.tag !== Tag.bitString) throw new DerError('bad SubjectPublicKeyInfo');
  return content(spki, bits).subarray(1);
}

function findCommonName(der: Uint8Array, name: ReturnType<typeof readTlv>): string | undefined {
  for (const rdn of children(der, name)) {
    for (const attr of children(der, rdn)) {
      const [type, value] = children(der, attr);
      if (type && value && readOid(der, type) === OID_CN) {
        return Buffer.from(content(der, value)).toString('utf8');
      }
    }
  }
  return undefined;
}

function findSubjectKeyId(
  der: Uint8Array,
  wrapper: ReturnType<typeof readTlv>,
): Uint8Array | undefined {
  const list = children(der, wrapper)[0];
  if (!list) return undefined;
  for (const ext of children(der, list)) {
    const parts = children(der, ext);
    const id = parts[0];
    const value = parts[parts.length - 1];
    if (id && value && readOid(der, id) === OID_SKI) {
      const inner = readTlv(der, value.start, value.end);
      return content(der, inner);
    }
  }
  return undefined;
}
