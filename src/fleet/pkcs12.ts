/**
 * PKCS#12 (.p12/.pfx) files, as MQTT.fx, JMeter and Java keystores hold device identities:
 * decoded into the PEM certificate, chain and key the rest of fleetbench works with. Node's
 * tls accepts `pfx`, but the preflight needs the certificate itself, and OpenSSL 3 no longer
 * reads the RC2-40 files older tools (and `openssl pkcs12 -legacy`) write; node-forge reads
 * both those and the AES / PBKDF2-SHA256 ones OpenSSL 3 writes. This is node-forge's home.
 */

import forge from 'node-forge';

import { toPem } from './der.js';

/** What a PKCS#12 file holds, as PEM. */
export interface Pkcs12Identity {
  /** The device certificate (the one whose key is in the file), then the other certificates. */
  certPem: string;
  /** The private key, unencrypted PKCS#8 PEM. Never logged. */
  keyPem: string;
}

/** Why a PKCS#12 file could not be decoded; the message never holds key material. */
export class Pkcs12Error extends Error {
  constructor(
    readonly reason: 'unparsable' | 'bad-passphrase' | 'no-key' | 'no-certificate',
    message: string,
  ) {
    super(message);
    this.name = 'Pkcs12Error';
  }
}

const { oids } = forge.pki;

/**
 * Decodes a PKCS#12 file's bytes with its passphrase (`''` when it has none), checking its
 * MAC. The certificate whose local key id matches the key's comes first.
 * @throws Pkcs12Error
 */
export function decodePkcs12(bytes: Uint8Array, passphrase: string): Pkcs12Identity {
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    const asn1 = forge.asn1.fromDer(forge.util.createBuffer(Buffer.from(bytes).toString('binary')));
    p12 = forge.pkcs12.pkcs12FromAsn1(asn1, true, passphrase);
  } catch (err) {
    const message = err instanceof Error ? err.message : '';
    // forge says "MAC could not be verified" or "wrong password?" for a wrong passphrase.
    if (/password|MAC/i.test(message)) {
      throw new Pkcs12Error('bad-passphrase', 'cannot be opened with the given passphrase');
    }
    throw new Pkcs12Error('unparsable', 'is not a readable PKCS#12 file');
  }
  const bags = p12.safeContents.flatMap((c) => c.safeBags);
  const keyBag = bags.find((b) => b.type === oids.pkcs8ShroudedKeyBag || b.type === oids.keyBag);
  if (keyBag === undefined) throw new Pkcs12Error('no-key', 'holds no private key');
  const certBags = bags.filter((b) => b.type === oids.certBag);
  if (certBags.length === 0) throw new Pkcs12Error('no-certificate', 'holds no certificate');

  const keyId = localKeyId(keyBag);
  const leafFirst = [...certBags].sort(
    (a, b) => Number(localKeyId(b) === keyId) - Number(localKeyId(a) === keyId),
  );
  return {
    certPem: leafFirst.map((b) => toPem(bagDer(b, 'certificate'), 'CERTIFICATE')).join(''),
    keyPem: toPem(bagDer(keyBag, 'key'), 'PRIVATE KEY'),
  };
}

/** The DER of a bag's content: forge keeps the ASN.1 of what it cannot model (EC keys). */
function bagDer(bag: forge.pkcs12.Bag, what: 'key' | 'certificate'): Buffer {
  let asn1: forge.asn1.Asn1 | undefined = bag.asn1;
  if (asn1 === undefined && what === 'key' && bag.key) {
    asn1 = forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(bag.key));
  }
  if (asn1 === undefined && what === 'certificate' && bag.cert) {
    asn1 = forge.pki.certificateToAsn1(bag.cert);
  }
  if (asn1 === undefined) {
    const reason = what === 'key' ? 'no-key' : 'no-certificate';
    throw new Pkcs12Error(reason, `holds a ${what} that cannot be read`);
  }
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}

function localKeyId(bag: forge.pkcs12.Bag): string {
  const id = (bag.attributes as Record<string, unknown[] | undefined>).localKeyId?.[0];
  return typeof id === 'string' ? Buffer.from(id, 'binary').toString('hex') : '';
}
