/**
 * Key pairs and X.509 certificates for a local test PKI: a self-signed CA, a broker (server)
 * certificate and device (client) certificates, all as PEM strings.
 *
 * A CA is loaded once into a {@link CertificateAuthority} whose signing key is already imported,
 * so minting many device certificates from it costs one signature each and no re-parsing.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import {
  createPrivateKey,
  type KeyObject,
  randomBytes,
  webcrypto,
  X509Certificate,
} from 'node:crypto';

import { FleetbenchError } from '../errors.js';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

/**
 * Key algorithm of a generated key pair.
 * - `ec`: NIST P-256, signatures ECDSA with SHA-256 (small, fast handshakes; the default).
 * - `rsa`: 2048-bit modulus, signatures RSASSA-PKCS1-v1_5 with SHA-256.
 */
export type KeyAlgorithm = 'ec' | 'rsa';

/** RSA modulus sizes fleetbench generates, bits. */
export const RSA_BITS = [2048, 3072, 4096] as const;
/** An RSA modulus size, bits (see {@link RSA_BITS}). */
export type RsaBits = (typeof RSA_BITS)[number];

/** A certificate and its private key, both PEM (the key unencrypted PKCS#8). */
export interface PemBundle {
  /** The certificate, PEM, ending in a newline. */
  certPem: string;
  /** The private key, unencrypted PKCS#8 PEM (`BEGIN PRIVATE KEY`), ending in a newline. */
  keyPem: string;
}

/** Validity period of a new certificate. */
export interface ValidityOptions {
  /**
   * First instant the certificate is valid. Default: 5 minutes before now, so a broker whose
   * clock is slightly behind does not reject a certificate minted a moment ago.
   */
  notBefore?: Date;
  /**
   * Last instant the certificate is valid. Default: `notBefore` plus the kind's default
   * lifetime (CA 3650 days, server and device 825 days). Set it in the past, together with an
   * earlier `notBefore`, to make an expired certificate.
   */
  notAfter?: Date;
}

/** A CA ready to sign: its certificate and an imported signing key. Build with `loadCa`. */
export interface CertificateAuthority {
  /** The CA certificate, PEM. */
  certPem: string;
  /** Algorithm of the CA key; it decides the signature algorithm of everything it issues. */
  algorithm: KeyAlgorithm;
  /** @internal Parsed CA certificate (issuer name and key identifier for issued certs). */
  readonly cert: x509.X509Certificate;
  /** @internal Non-extractable WebCrypto signing key. */
  readonly signingKey: CryptoKey;
}

/** Options of {@link createCa}. */
export interface CreateCaOptions extends ValidityOptions {
  /** Common name of the CA. Default `'fleetbench local CA'`. */
  commonName?: string;
  /** Key algorithm. Default `'ec'`. */
  algorithm?: KeyAlgorithm;
  /** RSA modulus of an `rsa` key, bits. Default 2048. */
  rsaBits?: RsaBits;
}

/** Options of {@link issueServerCert}. */
export interface ServerCertOptions extends ValidityOptions {
  /** Common name. Default `'localhost'`. */
  commonName?: string;
  /** DNS names for the subjectAltName. Default `['localhost']`. */
  dnsNames?: string[];
  /** IPv4 / IPv6 addresses for the subjectAltName. Default `['127.0.0.1', '::1']`. */
  ipAddresses?: string[];
  /** Key algorithm of the new key. Default: the CA's algorithm. */
  algorithm?: KeyAlgorithm;
  /** RSA modulus of an `rsa` key, bits. Default 2048. */
  rsaBits?: RsaBits;
}

/** Options of {@link issueDeviceCert}. */
export interface DeviceCertOptions extends ValidityOptions {
  /**
   * Device id, written as the subject common name. Brokers that map the certificate to the
   * username (Mosquitto `use_identity_as_username`) see exactly this string. Required.
   */
  deviceId: string;
  /** Key algorithm of the new key. Default: the CA's algorithm. */
  algorithm?: KeyAlgorithm;
  /** RSA modulus of an `rsa` key, bits. Default 2048. */
  rsaBits?: RsaBits;
}

const DAY_MS = 86_400_000;
const CLOCK_SKEW_MS = 5 * 60_000;
const CA_LIFETIME_DAYS = 3650;
/** Default lifetime of a device or server certificate, days. */
export const LEAF_LIFETIME_DAYS = 825;

const KEY_GEN_PARAMS = {
  ec: { name: 'ECDSA', namedCurve: 'P-256' },
  rsa: {
    name: 'RSASSA-PKCS1-v1_5',
    modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: 'SHA-256',
  },
} as const;

const SIGNING_PARAMS = {
  ec: { name: 'ECDSA', hash: 'SHA-256' },
  rsa: { name: 'RSASSA-PKCS1-v1_5' },
} as const;

/**
 * Generates a fresh, extractable key pair for signing.
 * @param algorithm Key algorithm. Default `'ec'` (P-256).
 * @param rsaBits RSA modulus, bits. Default 2048.
 */
export async function generateKeyPair(
  algorithm: KeyAlgorithm = 'ec',
  rsaBits: RsaBits = 2048,
): Promise<CryptoKeyPair> {
  const params =
    algorithm === 'rsa' ? { ...KEY_GEN_PARAMS.rsa, modulusLength: rsaBits } : KEY_GEN_PARAMS.ec;
  return webcrypto.subtle.generateKey(params, true, ['sign', 'verify']);
}

/**
 * Creates a self-signed CA (basicConstraints CA:true, keyUsage keyCertSign and cRLSign).
 * @returns The CA's PEM bundle and a {@link CertificateAuthority} ready to issue certificates.
 */
export async function createCa(
  options: CreateCaOptions = {},
): Promise<PemBundle & { ca: CertificateAuthority }> {
  const algorithm = options.algorithm ?? 'ec';
  const keys = await generateKeyPair(algorithm, options.rsaBits);

  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: [{ CN: [options.commonName ?? 'fleetbench local CA'] }],
      keys,
      serialNumber: randomSerial(),
      ...validity(options, CA_LIFETIME_DAYS),
      signingAlgorithm: SIGNING_PARAMS[algorithm],
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
      ],
    },
    webcrypto,
  );

  const certPem = toPem(cert);
  return {
    certPem,
    keyPem: await exportKeyPem(keys.privateKey),
    ca: { certPem, algorithm, cert, signingKey: keys.privateKey },
  };
}

/**
 * Loads a CA from PEM so it can issue certificates. The key may be PKCS#8, PKCS#1 (RSA) or
 * SEC1 (EC, P-256 only). Throws FleetbenchError `E_CERTS` when the certificate is not a CA, the
 * key does not match it, or the key type is unsupported. No key material appears in messages.
 * @param certPem CA certificate, PEM.
 * @param keyPem CA private key, PEM, unencrypted unless `passphrase` is given.
 * @param passphrase Passphrase of an encrypted key. Default: none.
 */
export async function loadCa(
  certPem: string,
  keyPem: string,
  passphrase?: string,
): Promise<CertificateAuthority> {
  const { key, algorithm } = checkCaPair(certPem, keyPem, passphrase);
  const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
  const signingKey = await webcrypto.subtle.importKey(
    'pkcs8',
    pkcs8,
    KEY_GEN_PARAMS[algorithm],
    false,
    ['sign'],
  );
  return { certPem, algorithm, cert: new x509.X509Certificate(certPem), signingKey };
}

/** A CA certificate and key that passed {@link checkCaPair}. */
export interface CheckedCaPair {
  cert: X509Certificate;
  key: KeyObject;
  algorithm: KeyAlgorithm;
}

/**
 * Parses a CA certificate and its key and checks that they belong together. Throws
 * FleetbenchError `E_CERTS` as {@link loadCa} does; no key material appears in messages.
 */
export function checkCaPair(certPem: string, keyPem: string, passphrase?: string): CheckedCaPair {
  let cert: X509Certificate;
  let key: KeyObject;
  try {
    cert = new X509Certificate(certPem);
    key = createPrivateKey({ key: keyPem, format: 'pem', passphrase });
  } catch (err) {
    throw caError('the CA certificate or key cannot be parsed', err);
  }
  if (!cert.ca) throw caError('the CA certificate is not a CA (basicConstraints CA:false)');
  if (!cert.checkPrivateKey(key)) throw caError('the CA key does not match its certificate');
  return { cert, key, algorithm: keyAlgorithmOf(key) };
}

/**
 * Issues a broker certificate: subjectAltName with the given DNS names and IP addresses,
 * extendedKeyUsage serverAuth, signed by `ca`.
 */
export async function issueServerCert(
  ca: CertificateAuthority,
  options: ServerCertOptions = {},
): Promise<PemBundle> {
  const names: x509.JsonGeneralName[] = [
    ...(options.dnsNames ?? ['localhost']).map((value) => ({ type: 'dns' as const, value })),
    ...(options.ipAddresses ?? ['127.0.0.1', '::1']).map((value) => ({
      type: 'ip' as const,
      value,
    })),
  ];
  return issueLeaf(ca, {
    commonName: options.commonName ?? 'localhost',
    algorithm: options.algorithm ?? ca.algorithm,
    ...(options.rsaBits === undefined ? {} : { rsaBits: options.rsaBits }),
    usage: x509.ExtendedKeyUsage.serverAuth,
    extraExtensions: [new x509.SubjectAlternativeNameExtension(names)],
    validity: options,
  });
}

/**
 * Issues a device (client) certificate: CN = device id, extendedKeyUsage clientAuth, signed by
 * `ca`. Throws FleetbenchError `E_CERTS` for an empty device id.
 */
export async function issueDeviceCert(
  ca: CertificateAuthority,
  options: DeviceCertOptions,
): Promise<PemBundle> {
  if (options.deviceId.length === 0) {
    throw new FleetbenchError('E_CERTS', 'device id must be a non-empty string (got "")');
  }
  return issueLeaf(ca, {
    commonName: options.deviceId,
    algorithm: options.algorithm ?? ca.algorithm,
    ...(options.rsaBits === undefined ? {} : { rsaBits: options.rsaBits }),
    usage: x509.ExtendedKeyUsage.clientAuth,
    extraExtensions: [],
    validity: options,
  });
}

interface LeafSpec {
  commonName: string;
  algorithm: KeyAlgorithm;
  rsaBits?: RsaBits;
  usage: x509.ExtendedKeyUsage;
  extraExtensions: x509.Extension[];
  validity: ValidityOptions;
}

async function issueLeaf(ca: CertificateAuthority, spec: LeafSpec): Promise<PemBundle> {
  const keys = await generateKeyPair(spec.algorithm, spec.rsaBits);

  // keyEncipherment only matters for RSA key transport in TLS 1.2; an EC key cannot do it.
  const keyUsage =
    spec.algorithm === 'rsa'
      ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment
      : x509.KeyUsageFlags.digitalSignature;

  const cert = await x509.X509CertificateGenerator.create(
    {
      // A JSON name, not a string: a device id may contain ',' or '=' that DN syntax would split.
      subject: [{ CN: [spec.commonName] }],
      issuer: ca.cert.subjectName,
      publicKey: keys.publicKey,
      signingKey: ca.signingKey,
      serialNumber: randomSerial(),
      ...validity(spec.validity, LEAF_LIFETIME_DAYS),
      signingAlgorithm: SIGNING_PARAMS[ca.algorithm],
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(keyUsage, true),
        new x509.ExtendedKeyUsageExtension([spec.usage]),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
        await x509.AuthorityKeyIdentifierExtension.create(ca.cert.publicKey, false, webcrypto),
        ...spec.extraExtensions,
      ],
    },
    webcrypto,
  );

  return { certPem: toPem(cert), keyPem: await exportKeyPem(keys.privateKey) };
}

/**
 * 16 random bytes with the top bit cleared: RFC 5280 wants a positive serial of at most
 * 20 octets, and unpredictable serials keep two runs' certificates from colliding.
 */
function randomSerial(): string {
  return randomSerialBytes().toString('hex');
}

/** The bytes of a random positive 16-byte serial number (see `randomSerial`). */
export function randomSerialBytes(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return bytes;
}

/**
 * The validity period of a new certificate: the given instants, or the defaults of
 * {@link ValidityOptions}. Throws FleetbenchError `E_CERTS` when it ends before it starts.
 * @param lifetimeDays Lifetime when `notAfter` is not given, days.
 */
export function validity(
  options: ValidityOptions,
  lifetimeDays: number,
): Required<ValidityOptions> {
  const notBefore = options.notBefore ?? new Date(Date.now() - CLOCK_SKEW_MS);
  const notAfter = options.notAfter ?? new Date(notBefore.getTime() + lifetimeDays * DAY_MS);
  if (notAfter.getTime() <= notBefore.getTime()) {
    throw new FleetbenchError(
      'E_CERTS',
      `certificate notAfter must be later than notBefore ` +
        `(got ${notBefore.toISOString()} .. ${notAfter.toISOString()})`,
    );
  }
  return { notBefore, notAfter };
}

function keyAlgorithmOf(key: KeyObject): KeyAlgorithm {
  if (key.asymmetricKeyType === 'rsa') return 'rsa';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    return 'ec';
  }
  const curve = key.asymmetricKeyDetails?.namedCurve;
  throw caError(
    `the CA key type ${key.asymmetricKeyType ?? 'unknown'}${curve ? ` (${curve})` : ''} ` +
      'is not supported; use an EC P-256 or RSA key',
  );
}

function caError(message: string, cause?: unknown): FleetbenchError {
  return new FleetbenchError('E_CERTS', `cannot load CA: ${message}`, {
    hint:
      'give a CA certificate with its matching private key, or create one with ' +
      '`fleetbench certs init`',
    cause,
  });
}

function toPem(cert: x509.X509Certificate): string {
  return `${cert.toString('pem')}\n`;
}

async function exportKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return `${x509.PemConverter.encode(der, 'PRIVATE KEY')}\n`;
}
