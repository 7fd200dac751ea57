/**
 * Device certificates at fleet scale, with Node's own crypto: one key generation and one
 * signature per device, the DER written directly. @peculiar/x509 (the rest of pki.ts) manages
 * about 340 certificates a second on one core here; this makes several thousand, which is what
 * a fleet of 100,000 devices needs. The certificates carry the same fields as
 * `issueDeviceCert`: CN = device id, clientAuth, CA:false, key identifiers.
 */

import {
  createECDH,
  createHash,
  generateKeyPairSync,
  type KeyObject,
  sign,
  type X509Certificate,
} from 'node:crypto';

import { readCertFields, spkiKeyBits } from './cert-fields.js';
import {
  bitString,
  explicit,
  oid,
  sequence,
  Tag,
  time,
  tlv,
  toPem,
  unsignedInteger,
} from './der.js';
import {
  checkCaPair,
  type KeyAlgorithm,
  type RsaBits,
  LEAF_LIFETIME_DAYS,
  type PemBundle,
  randomSerialBytes,
  validity,
  type ValidityOptions,
} from './pki.js';
import { FleetbenchError } from '../errors.js';

/** Options of {@link DeviceMinter.mint}. */
export interface MintOptions extends ValidityOptions {
  /** Key algorithm of the device key. Default: the minter's (`ec` unless set). */
  algorithm?: KeyAlgorithm;
  /** RSA modulus of an `rsa` device key, bits. Default 2048. */
  rsaBits?: RsaBits;
  /** Serial number bytes (positive, at most 20). Default: 16 random bytes. */
  serial?: Buffer;
}

/** A minted device certificate: the PEM bundle and its serial number (hex), for a CRL. */
export interface MintedDevice extends PemBundle {
  serialHex: string;
}

const OIDS = {
  ecPublicKey: '1.2.840.10045.2.1',
  prime256v1: '1.2.840.10045.3.1.7',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  commonName: '2.5.4.3',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  crlNumber: '2.5.29.20',
} as const;

const VERSION_3 = explicit(0, tlv(Tag.integer, Buffer.from([2])));
const TRUE = tlv(Tag.boolean, Buffer.from([0xff]));
const EC_ALGORITHM = sequence(oid(OIDS.ecPublicKey), oid(OIDS.prime256v1));

/** Signs device certificates with one CA; build once, then call `mint` per device. */
export class DeviceMinter {
  /** Algorithm of the CA key: it decides the signature algorithm. */
  readonly caAlgorithm: KeyAlgorithm;
  private readonly caKey: KeyObject;
  private readonly issuer: Uint8Array;
  private readonly signatureAlgorithm: Buffer;
  private readonly fixedExtensions: Record<KeyAlgorithm, Buffer[]>;
  private readonly keyId: Buffer;

  /**
   * @param caCertPem The CA certificate, PEM.
   * @param caKeyPem Its private key, PEM (PKCS#8, PKCS#1 or SEC1).
   * @param defaultAlgorithm Device key algorithm when `mint` is not told. Default `'ec'`.
   * @throws FleetbenchError `E_CERTS` when the pair is not a usable CA.
   */
  constructor(
    caCertPem: string,
    caKeyPem: string,
    private readonly defaultAlgorithm: KeyAlgorithm = 'ec',
    passphrase?: string,
  ) {
    const pair = checkCaPair(caCertPem, caKeyPem, passphrase);
    this.caAlgorithm = pair.algorithm;
    this.caKey = pair.key;
    const fields = readCaFields(pair.cert);
    this.issuer = fields.subject;
    this.signatureAlgorithm =
      pair.algorithm === 'ec'
        ? sequence(oid(OIDS.ecdsaWithSha256))
        : sequence(oid(OIDS.sha256WithRsa), tlv(Tag.null));
    const keyId = Buffer.from(fields.subjectKeyId ?? sha1(fields.publicKey));
    this.keyId = keyId;
    const common = [
      extension(OIDS.basicConstraints, true, sequence()),
      extension(OIDS.extKeyUsage, false, sequence(oid(OIDS.clientAuth))),
      extension(OIDS.authorityKeyId, false, sequence(tlv(0x80, keyId))),
    ];
    // keyEncipherment only matters for RSA key transport in TLS 1.2; an EC key cannot do it.
    this.fixedExtensions = {
      ec: [extension(OIDS.keyUsage, true, tlv(Tag.bitString, Buffer.from([7, 0x80]))), ...common],
      rsa: [extension(OIDS.keyUsage, true, tlv(Tag.bitString, Buffer.from([5, 0xa0]))), ...common],
    };
  }

  /**
   * Generates a key pair and a certificate for one device (CN = `deviceId`). Synchronous:
   * about 0.2 ms of CPU for an EC key and an EC CA.
   * @throws FleetbenchError `E_CERTS` for an empty device id or an inverted validity period.
   */
  mint(deviceId: string, options: MintOptions = {}): MintedDevice {
    if (deviceId.length === 0) {
      throw new FleetbenchError('E_CERTS', 'device id must be a non-empty string (got "")');
    }
    const algorithm = options.algorithm ?? this.defaultAlgorithm;
    const key = algorithm === 'ec' ? ecKey() : rsaKey(options.rsaBits ?? 2048);
    const period = validity(options, LEAF_LIFETIME_DAYS);
    const serial = options.serial ?? randomSerialBytes();

    const tbs = sequence(
      VERSION_3,
      unsignedInteger(serial),
      this.signatureAlgorithm,
      this.issuer,
      sequence(time(period.notBefore), time(period.notAfter)),
      sequence(tlv(Tag.set, sequence(oid(OIDS.commonName), tlv(Tag.utf8String, utf8(deviceId))))),
      key.spki,
      explicit(
        3,
        sequence(
          ...this.fixedExtensions[algorithm],
          extension(OIDS.subjectKeyId, false, tlv(Tag.octetString, sha1(key.publicKey))),
        ),
      ),
    );
    const signature = sign('sha256', tbs, this.caKey);
    const cert = sequence(tbs, this.signatureAlgorithm, bitString(signature));
    return {
      certPem: toPem(cert, 'CERTIFICATE'),
      keyPem: key.pkcs8Pem,
      serialHex: serial.toString('hex'),
    };
  }

  /**
   * A certificate revocation list of this CA (v2, with its key identifier and CRL number 1)
   * revoking the given serial numbers, PEM (`BEGIN X509 CRL`).
   * @param serialsHex Serial numbers, hex, as {@link MintedDevice.serialHex}.
   */
  signCrl(serialsHex: string[], options: CrlOptions = {}): string {
    const thisUpdate = options.thisUpdate ?? new Date(Date.now() - 5 * 60_000);
    const nextUpdate = options.nextUpdate ?? new Date(thisUpdate.getTime() + 30 * 86_400_000);
    const revoked = serialsHex.map((hex) =>
      sequence(unsignedInteger(Buffer.from(hex, 'hex')), time(thisUpdate)),
    );
    const tbs = sequence(
      tlv(Tag.integer, Buffer.from([1])),
      this.signatureAlgorithm,
      this.issuer,
      time(thisUpdate),
      time(nextUpdate),
      ...(revoked.length > 0 ? [sequence(...revoked)] : []),
      explicit(
        0,
        sequence(
          extension(OIDS.authorityKeyId, false, sequence(tlv(0x80, this.keyId))),
          extension(OIDS.crlNumber, false, tlv(Tag.integer, Buffer.from([1]))),
        ),
      ),
    );
    const signature = sign('sha256', tbs, this.caKey);
    return toPem(sequence(tbs, this.signatureAlgorithm, bitString(signature)), 'X509 CRL');
  }
}

export interface CrlOptions {
  /** Issue instant. Default: 5 minutes ago (a broker's clock may lag). */
  thisUpdate?: Date;
  /** When the next CRL is due; OpenSSL refuses a CRL past it. Default: 30 days later. */
  nextUpdate?: Date;
}

interface FreshKey {
  spki: Buffer;
  publicKey: Uint8Array;
  pkcs8Pem: string;
}

/**
 * A P-256 key from ECDH key generation, its DER written here. Not generateKeyPairSync: in
 * worker threads its job object can deadlock in its destructor (seen on Node 20.20 with
 * OpenSSL 3.0.19 after a few hundred keys per thread), and its PEM export costs 4× more.
 */
function ecKey(): FreshKey {
  const ecdh = createECDH('prime256v1');
  const point = ecdh.generateKeys();
  const d = ecdh.getPrivateKey();
  const scalar = d.length === 32 ? d : Buffer.concat([Buffer.alloc(32 - d.length), d]);
  const ecPrivateKey = sequence(
    tlv(Tag.integer, Buffer.from([1])),
    tlv(Tag.octetString, scalar),
    explicit(1, bitString(point)),
  );
  const pkcs8 = sequence(
    tlv(Tag.integer, Buffer.from([0])),
    EC_ALGORITHM,
    tlv(Tag.octetString, ecPrivateKey),
  );
  return {
    spki: sequence(EC_ALGORITHM, bitString(point)),
    publicKey: point,
    pkcs8Pem: toPem(pkcs8, 'PRIVATE KEY'),
  };
}

/** An RSA key: its generation (~50 ms at 2048 bits) dwarfs everything else, so no shortcuts. */
function rsaKey(bits: RsaBits): FreshKey {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const spki = Buffer.from(publicKey);
  return { spki, publicKey: spkiKeyBits(spki), pkcs8Pem: privateKey };
}

function readCaFields(cert: X509Certificate): ReturnType<typeof readCertFields> {
  try {
    return readCertFields(cert.raw);
  } catch (err) {
    throw new FleetbenchError('E_CERTS', 'cannot load CA: its certificate is not plain DER', {
      hint: 'give a CA certificate in PEM form (-----BEGIN CERTIFICATE-----)',
      cause: err,
    });
  }
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical
    ? sequence(oid(id), TRUE, tlv(Tag.octetString, value))
    : sequence(oid(id), tlv(Tag.octetString, value));
}

function sha1(bytes: Uint8Array): Buffer {
  return createHash('sha1').update(bytes).digest();
}

function utf8(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}
