/**
 * Loads one TLS identity (CA, certificate, key) from PEM files and checks it the way a broker
 * would, before any connection: so a bad file is one clear setup error instead of thousands of
 * identical handshake failures in a report.
 */
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';

import { FleetbenchError } from '../errors.js';

/** Options of {@link loadTlsIdentity}. Paths are relative to the working directory. */
export interface LoadTlsIdentityOptions {
  /** PEM file with the CA certificate(s) the device certificate must chain to. Required. */
  caFile: string;
  /** PEM file with the device certificate, optionally followed by intermediates. Required. */
  certFile: string;
  /** PEM file with the device's private key (PKCS#8, PKCS#1 or SEC1). Required. */
  keyFile: string;
  /** Passphrase of an encrypted key. Default: none (the key must be unencrypted). */
  passphrase?: string;
  /**
   * Setting path the files came from, used to name them in messages: `'identity'` makes the
   * labels `identity.ca`, `identity.cert`, `identity.key`. Default: the option names
   * `caFile`, `certFile`, `keyFile`.
   */
  settingPrefix?: string;
  /**
   * The setting that named each file, under `settingPrefix`, when not `ca`, `cert`, `key`:
   * `{ cert: 'pkcs12', key: 'pkcs12' }` labels both `identity.pkcs12`. Default: none.
   */
  settingNames?: Partial<Record<'ca' | 'cert' | 'key', string>>;
  /** File the settings were read from, e.g. `'scenarios/soak.yaml'`. Default: none. */
  source?: string;
  /**
   * Require the certificate to chain to a certificate in `caFile`. Default `true`. Set `false`
   * when `caFile` only verifies the broker and the device certificate comes from another
   * issuer (some platform downloads), or for a device meant to be refused by the broker.
   */
  checkChain?: boolean;
  /** Instant at which the validity periods are judged. Default: now. */
  now?: Date;
  /**
   * The certificate and key texts, already read (say, decoded from the PKCS#12 file that
   * `certFile` and `keyFile` then both name). Default: read from `certFile` and `keyFile`.
   */
  pem?: { cert: string; key: string };
}

/** A checked TLS identity: the files' PEM contents, as read, plus facts for reports. */
export interface TlsIdentity {
  /** Contents of `caFile` (one or more PEM certificates). */
  ca: string;
  /** Contents of `certFile` (the certificate, and intermediates if the file has them). */
  cert: string;
  /** Contents of `keyFile`, unchanged: still encrypted if it was, so pass the passphrase on. */
  key: string;
  /** Subject of the certificate on one line, e.g. `'CN=fleetbench-device'`. */
  subject: string;
  /** Last instant the certificate is valid. */
  notAfter: Date;
}

interface Labeled {
  label: string;
  path: string;
  where: string;
}

const MAX_CHAIN_DEPTH = 8;
const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Reads and checks a TLS identity: every file exists and is readable, parses, the certificate
 * matches the key, is inside its validity period, and chains to the CA. All problems are
 * collected and thrown together as one FleetbenchError `E_CERTS` (its `problems` list each
 * one with the setting and file). Messages never contain key material.
 */
export async function loadTlsIdentity(options: LoadTlsIdentityOptions): Promise<TlsIdentity> {
  const files = labelFiles(options);
  const problems: string[] = [];

  const [caText, certText, keyText] = await Promise.all([
    readLabeled(files.ca, problems),
    options.pem?.cert ?? readLabeled(files.cert, problems),
    options.pem?.key ?? readLabeled(files.key, problems),
  ]);

  const anchors = caText === undefined ? undefined : parseCerts(caText, files.ca, problems);
  const chain = certText === undefined ? undefined : parseCerts(certText, files.cert, problems);
  const key =
    keyText === undefined ? undefined : parseKey(keyText, files.key, options.passphrase, problems);
  const leaf = chain?.[0];

  if (leaf) checkValidity(leaf, files.cert, options.now ?? new Date(), problems);
  if (leaf && key && !leaf.checkPrivateKey(key)) {
    problems.push(`${fileRef(files.key)} is not the key of ${files.cert.path}${files.cert.where}`);
  }
  if (leaf && chain && anchors && (options.checkChain ?? true)) {
    checkChain(leaf, chain.slice(1), anchors, files, options.now ?? new Date(), problems);
  }

  if (problems.length > 0 || !leaf || caText === undefined || certText === undefined) {
    throw identityError(files, problems);
  }
  return {
    ca: caText,
    cert: certText,
    key: keyText ?? '',
    subject: leaf.subject.split('\n').join(', '),
    notAfter: new Date(leaf.validTo),
  };
}

function labelFiles(options: LoadTlsIdentityOptions): Record<'ca' | 'cert' | 'key', Labeled> {
  const prefix = options.settingPrefix;
  const where = options.source === undefined ? '' : ` (set in ${options.source})`;
  const make = (suffix: 'ca' | 'cert' | 'key', fallback: string, path: string): Labeled => ({
    label:
      prefix === undefined ? fallback : `${prefix}.${options.settingNames?.[suffix] ?? suffix}`,
    path: resolve(path),
    where,
  });
  return {
    ca: make('ca', 'caFile', options.caFile),
    cert: make('cert', 'certFile', options.certFile),
    key: make('key', 'keyFile', options.keyFile),
  };
}

function fileRef(file: Labeled): string {
  return `${file.label}: ${file.path}`;
}

async function readLabeled(file: Labeled, problems: string[]): Promise<string | undefined> {
  try {
    return await readFile(file.path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EACCES' || code === 'EPERM'
          ? 'is not readable (permission denied)'
          : code === 'EISDIR'
            ? 'is a directory, not a file'
            : `cannot be read (${code ?? 'unknown error'})`;
    problems.push(`${fileRef(file)} ${why}${file.where}`);
    return undefined;
  }
}

function parseCerts(
  text: string,
  file: Labeled,
  problems: string[],
): X509Certificate[] | undefined {
  const blocks = text.match(CERT_BLOCK);
  if (!blocks) {
    const why = text.includes('PRIVATE KEY-----')
      ? 'holds a private key, not a certificate (are the cert and key settings swapped?)'
      : 'holds no PEM certificate (-----BEGIN CERTIFICATE-----)';
    problems.push(`${fileRef(file)} ${why}${file.where}`);
    return undefined;
  }
  const certs: X509Certificate[] = [];
  for (const [i, block] of blocks.entries()) {
    try {
      certs.push(new X509Certificate(block));
    } catch {
      problems.push(`${fileRef(file)} certificate #${i + 1} cannot be parsed${file.where}`);
      return undefined;
    }
  }
  return certs;
}

function parseKey(
  text: string,
  file: Labeled,
  passphrase: string | undefined,
  problems: string[],
): KeyObject | undefined {
  if (!text.includes('PRIVATE KEY-----')) {
    const why = text.includes('BEGIN CERTIFICATE')
      ? 'holds a certificate, not a private key (are the cert and key settings swapped?)'
      : 'holds no PEM private key (-----BEGIN PRIVATE KEY-----)';
    problems.push(`${fileRef(file)} ${why}${file.where}`);
    return undefined;
  }
  const encrypted = text.includes('ENCRYPTED');
  if (encrypted && passphrase === undefined) {
    problems.push(`${fileRef(file)} is encrypted and no passphrase was given${file.where}`);
    return undefined;
  }
  try {
    return createPrivateKey({ key: text, format: 'pem', passphrase });
  } catch {
    // OpenSSL's own message is not shown: it says nothing useful and we promise never to echo
    // anything derived from key bytes.
    const why = encrypted ? 'cannot be decrypted with the given passphrase' : 'cannot be parsed';
    problems.push(`${fileRef(file)} ${why}${file.where}`);
    return undefined;
  }
}

function checkValidity(cert: X509Certificate, file: Labeled, now: Date, problems: string[]): void {
  const notBefore = new Date(cert.validFrom);
  const notAfter = new Date(cert.validTo);
  const who = `certificate ${oneLine(cert.subject)}`;
  if (now < notBefore) {
    problems.push(
      `${fileRef(file)} ${who} is not valid until ${notBefore.toISOString()}${file.where}`,
    );
  } else if (now > notAfter) {
    problems.push(`${fileRef(file)} ${who} expired on ${notAfter.toISOString()}${file.where}`);
  }
}

function checkChain(
  leaf: X509Certificate,
  intermediates: X509Certificate[],
  anchors: X509Certificate[],
  files: Record<'ca' | 'cert', Labeled>,
  now: Date,
  problems: string[],
): void {
  const path = findChain(leaf, intermediates, anchors);
  if (!path) {
    problems.push(
      `${fileRef(files.cert)} certificate ${oneLine(leaf.subject)} (issuer ` +
        `${oneLine(leaf.issuer)}) is not signed by the CA in ${files.ca.path}${files.cert.where}`,
    );
    return;
  }
  for (const issuer of path.slice(1)) {
    const file = anchors.includes(issuer) ? files.ca : files.cert;
    checkValidity(issuer, file, now, problems);
  }
}

/** The path from `leaf` up to a certificate of `anchors`, or undefined if there is none. */
function findChain(
  leaf: X509Certificate,
  intermediates: X509Certificate[],
  anchors: X509Certificate[],
): X509Certificate[] | undefined {
  const path = [leaf];
  let current = leaf;
  for (let depth = 0; depth < MAX_CHAIN_DEPTH; depth++) {
    const anchor = anchors.find((ca) => isIssuedBy(current, ca));
    if (anchor) return [...path, anchor];
    const next = intermediates.find((ca) => !path.includes(ca) && isIssuedBy(current, ca));
    if (!next) return undefined;
    path.push(next);
    current = next;
  }
  return undefined;
}

/** Names alone can collide across CAs; only the signature proves who issued a certificate. */
function isIssuedBy(child: X509Certificate, issuer: X509Certificate): boolean {
  return child.checkIssued(issuer) && child.verify(issuer.publicKey);
}

function oneLine(name: string): string {
  return name.split('\n').join(', ');
}

function identityError(files: Record<'cert', Labeled>, problems: string[]): FleetbenchError {
  return new FleetbenchError(
    'E_CERTS',
    `TLS identity ${files.cert.path} is not usable (${problems.length} ` +
      `problem${problems.length === 1 ? '' : 's'})`,
    {
      problems,
      hint:
        'fix or replace the files listed above; for a local CA and device bundle run ' +
        '`fleetbench certs init`',
    },
  );
}
