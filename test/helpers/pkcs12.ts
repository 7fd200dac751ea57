/**
 * PKCS#12 files for the import tests, written by the openssl command line the way users make
 * them for MQTT.fx or JMeter (`.ci/run` installs it): OpenSSL 3's default (AES-256-CBC,
 * PBKDF2 with HMAC-SHA256) or `-legacy` (RC2-40 and 3DES, SHA-1 MAC, as older tools wrote).
 */

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Options of {@link writePkcs12}. */
export interface Pkcs12Options {
  /** Write the pre-OpenSSL-3 encryption (`-legacy`). Default false. */
  legacy?: boolean;
  /** Certificates to add to the file (a CA), PEM file. Default: none. */
  chainFile?: string;
}

/** Writes `out` from a PEM certificate and key, protected by `passphrase` (may be empty). */
export async function writePkcs12(
  certFile: string,
  keyFile: string,
  out: string,
  passphrase: string,
  o: Pkcs12Options = {},
): Promise<void> {
  const args = ['pkcs12', '-export', '-inkey', keyFile, '-in', certFile, '-out', out];
  if (o.chainFile !== undefined) args.push('-certfile', o.chainFile);
  if (o.legacy === true) args.push('-legacy');
  // The passphrase through the environment: never on a command line others can read.
  args.push('-passout', 'env:FLEETBENCH_TEST_P12_PASS');
  await run('openssl', args, { env: { ...process.env, FLEETBENCH_TEST_P12_PASS: passphrase } });
}
