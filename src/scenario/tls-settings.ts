/**
 * The scenario's `tls` settings as Node secure-context options, and their check before any
 * connection. Node takes the TLS version range, cipher lists, groups and signature algorithms
 * only from the secure context (tls.connect ignores them when given a context, as every device
 * is), so they go into every context fleetbench builds.
 */

import tls from 'node:tls';
import type { Scenario } from './schema.js';

/** The validated `tls` settings of a scenario. */
export type TlsSettings = Scenario['tls'];

/** The part of a secure context's options the scenario's `tls` settings decide. */
export type TlsContextOptions = Pick<
  tls.SecureContextOptions,
  'minVersion' | 'maxVersion' | 'ciphers' | 'ecdhCurve' | 'sigalgs'
>;

/** Node's default list, split: TLS 1.3 suites all start with `TLS_`, TLS 1.2 ciphers never. */
const DEFAULT_TLS12 = splitList(tls.DEFAULT_CIPHERS).filter((c) => !c.startsWith('TLS_'));
const DEFAULT_TLS13 = splitList(tls.DEFAULT_CIPHERS).filter((c) => c.startsWith('TLS_'));

/**
 * The secure-context options of the settings. `ciphers` (TLS 1.2) and `ciphersuites` (TLS 1.3)
 * each replace only their own version's list: Node takes both in one string, and a string
 * without TLS 1.3 suites would quietly cap the connection at TLS 1.2.
 */
export function tlsContextOptions(t: TlsSettings): TlsContextOptions {
  const custom = t.ciphers !== undefined || t.ciphersuites !== undefined;
  const tls12 = t.ciphers === undefined ? DEFAULT_TLS12 : splitList(t.ciphers);
  const tls13 = t.ciphersuites === undefined ? DEFAULT_TLS13 : splitList(t.ciphersuites);
  return {
    minVersion: t.minVersion,
    maxVersion: t.maxVersion,
    ...(custom ? { ciphers: [...tls13, ...tls12].join(':') } : {}),
    ...(t.ecdhCurve === undefined ? {} : { ecdhCurve: t.ecdhCurve }),
    ...(t.sigalgs === undefined ? {} : { sigalgs: t.sigalgs }),
  };
}

/**
 * Every problem with the `tls` settings, one line each naming the setting and the value.
 * OpenSSL skips names it does not know as long as one in a list matches, so each entry is
 * tried on its own: a typo in a cipher list is an error here, not a silently smaller list.
 */
export function checkTlsSettings(t: TlsSettings): string[] {
  const problems: string[] = [];
  if (t.minVersion === 'TLSv1.3' && t.maxVersion === 'TLSv1.2') {
    problems.push('tls.minVersion is above tls.maxVersion (got TLSv1.3 > TLSv1.2)');
  }
  if (t.ciphers !== undefined) problems.push(...checkTls12Ciphers(t.ciphers));
  if (t.ciphersuites !== undefined) problems.push(...checkTls13Suites(t.ciphersuites));
  if (t.ecdhCurve !== undefined && t.ecdhCurve !== 'auto') {
    const bad = splitList(t.ecdhCurve).filter((g) => !accepts({ ecdhCurve: g }));
    if (bad.length > 0) {
      problems.push(
        `tls.ecdhCurve names groups Node's OpenSSL does not know: ${bad.join(', ')} ` +
          '(known are X25519, P-256, P-384, P-521, X448, ffdhe2048, ...)',
      );
    }
  }
  if (t.sigalgs !== undefined) {
    const bad = splitList(t.sigalgs).filter((s) => !accepts({ sigalgs: s }));
    if (bad.length > 0) {
      problems.push(
        `tls.sigalgs names signature algorithms OpenSSL does not know: ${bad.join(', ')} ` +
          '(write them as ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256, ed25519 or ECDSA+SHA256)',
      );
    }
  }
  return problems;
}

function checkTls12Ciphers(list: string): string[] {
  const entries = splitList(list);
  const suites = entries.filter((c) => c.startsWith('TLS_'));
  if (suites.length > 0) {
    return [
      `tls.ciphers is the TLS 1.2 cipher list; TLS 1.3 suites go under tls.ciphersuites ` +
        `(got ${suites.join(', ')})`,
    ];
  }
  // `!X`, `-X`, `+X` and `@STRENGTH` modify the list; alone they match nothing.
  const named = entries.filter((c) => !/^[!+@-]/.test(c));
  const bad = named.filter((c) => !accepts({ ciphers: c, maxVersion: 'TLSv1.2' }));
  if (bad.length > 0) {
    return [
      `tls.ciphers names TLS 1.2 ciphers OpenSSL does not know: ${bad.join(', ')} ` +
        '(OpenSSL names, such as ECDHE-ECDSA-AES128-GCM-SHA256; `openssl ciphers -v` lists them)',
    ];
  }
  if (named.length === 0) return [`tls.ciphers selects no cipher (got "${list}")`];
  return [];
}

function checkTls13Suites(list: string): string[] {
  const entries = splitList(list);
  const bad = entries.filter((c) => !c.startsWith('TLS_') || !accepts({ ciphers: c }));
  if (bad.length === 0 && entries.length > 0) return [];
  const known = tls
    .getCiphers()
    .filter((c) => c.startsWith('tls_'))
    .map((c) => c.toUpperCase());
  return [
    `tls.ciphersuites names TLS 1.3 suites Node does not know: ${bad.join(', ') || '(none)'} ` +
      `(known: ${known.join(', ')})`,
  ];
}

/** Whether OpenSSL takes the option: building a context without a key costs ~0.1 ms. */
function accepts(options: tls.SecureContextOptions): boolean {
  try {
    tls.createSecureContext(options);
    return true;
  } catch {
    return false;
  }
}

function splitList(list: string): string[] {
  return list
    .split(/[:,\s]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
