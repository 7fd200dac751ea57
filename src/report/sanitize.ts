/**
 * The last check before a report leaves the process: it must be plain JSON, and it must not
 * carry a private key. Callers redact options first; this is the second line of defence.
 */

import { FleetbenchError } from '../errors.js';

/** Matches the armour line of any PEM private key: PKCS#8, encrypted, RSA, EC, OpenSSH. */
const PEM_PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;

/**
 * Walks `value` and throws at the first string that looks like a PEM private key, or the first
 * value JSON cannot represent faithfully (undefined in an array, NaN, bigint, a function, a
 * class instance). Messages name the path, never the value.
 *
 * @param path name of `value` in messages. Default `report`.
 * @throws FleetbenchError `E_INTERNAL`.
 */
export function assertJsonWithoutKeys(value: unknown, path = 'report'): void {
  switch (typeof value) {
    case 'string':
      if (PEM_PRIVATE_KEY.test(value)) {
        throw new FleetbenchError(
          'E_INTERNAL',
          `${path} looks like a PEM private key; refusing to put key material in a report`,
          { hint: 'pass file paths, not file contents, in the options given to the report' },
        );
      }
      return;
    case 'number':
      if (!Number.isFinite(value)) fail(path, `is ${value}, which JSON cannot hold`);
      return;
    case 'boolean':
      return;
    case 'object':
      if (value === null) return;
      if (Array.isArray(value)) {
        value.forEach((item, i) => assertJsonWithoutKeys(item, `${path}[${i}]`));
        return;
      }
      if (!isPlainObject(value)) fail(path, 'is not a plain object');
      for (const [key, item] of Object.entries(value)) {
        // An undefined property is dropped by JSON.stringify, which is what optional means.
        if (item !== undefined) assertJsonWithoutKeys(item, `${path}.${key}`);
      }
      return;
    default:
      fail(path, `is a ${typeof value}, which JSON cannot hold`);
  }
}

function fail(path: string, what: string): never {
  throw new FleetbenchError('E_INTERNAL', `${path} ${what}; a report holds plain JSON only`);
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Setting names whose values are secrets: passwords, passphrases, tokens, API keys. */
const SECRET_KEY = /pass(word|phrase)?$|secret|token|api[-_]?key/i;

/** What a redacted secret reads as in a report. */
export const REDACTED = '[redacted]';

/**
 * A copy of plain JSON data with the value of every setting whose name says it is a secret
 * (`password`, `passphrase`, `keyPassphrase`, `token`, `secret`, `apiKey`, ...) replaced by
 * {@link REDACTED}, at any depth. Options go through it before they enter a report.
 */
export function redactSecrets<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v: unknown) => redactSecrets(v)) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEY.test(k) && v !== undefined && v !== null ? REDACTED : redactSecrets(v);
  }
  return out as T;
}
