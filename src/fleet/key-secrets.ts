/**
 * The secrets around key material: a passphrase read from the environment or a file (its
 * value never leaves the process's memory: not in a plan, a message or a report), and the
 * file mode of a private key, which only its owner should be able to read.
 */

import { readFile, stat } from 'node:fs/promises';

import { FleetbenchError } from '../errors.js';
import type { PassphraseSource } from '../scenario/plan.js';

/**
 * The passphrase named by a scenario: the variable's value, or the file's first line (a
 * trailing newline is not part of it). Undefined when none is configured.
 * @param setting The identity's setting path, e.g. `groups[1].identity`, for messages.
 * @param labels How to name the two settings in messages. Default: under `setting`.
 * @throws FleetbenchError `E_CERTS` when the variable is unset or the file unreadable.
 */
export async function readPassphrase(
  source: PassphraseSource | null,
  setting: string,
  labels = { env: `${setting}.passphraseEnv`, file: `${setting}.passphraseFile` },
): Promise<string | undefined> {
  if (source === null) return undefined;
  if ('env' in source) {
    const value = process.env[source.env];
    if (value === undefined) {
      throw new FleetbenchError(
        'E_CERTS',
        `${labels.env}: the environment variable ${source.env} is not set`,
        { hint: `export ${source.env}=... (the passphrase) before the run, or use passphraseFile` },
      );
    }
    return value;
  }
  let text: string;
  try {
    text = await readFile(source.file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new FleetbenchError(
      'E_CERTS',
      `${labels.file}: ${source.file} cannot be read (${code})`,
      { hint: 'point it at a file holding the passphrase on its first line (mode 0600)' },
    );
  }
  return text.split(/\r?\n/)[0] ?? '';
}

/**
 * Whether a private key's file can be read by others than its owner (any group or other
 * permission bit): a message naming the file, its mode and the fix, or null when it is
 * private. Nothing when the file cannot be stat'ed: reading it reports that.
 */
export async function keyFileExposure(file: string, label: string): Promise<string | null> {
  let mode: number;
  try {
    mode = (await stat(file)).mode & 0o777;
  } catch {
    return null;
  }
  if ((mode & 0o077) === 0) return null;
  const octal = mode.toString(8).padStart(4, '0');
  return (
    `${label}: ${file} holds a private key but has mode ${octal} (others can read it); ` +
    `chmod 600 ${file}`
  );
}

/**
 * Refuses a CA key that others can read: whoever reads it can mint any device's identity.
 * @throws FleetbenchError `E_CERTS`
 */
export async function assertPrivateKeyFile(file: string, label: string): Promise<void> {
  const exposed = await keyFileExposure(file, label);
  if (exposed === null) return;
  throw new FleetbenchError('E_CERTS', exposed, {
    hint:
      "a CA key signs any device's certificate: make it readable by its owner only " +
      `(chmod 600 ${file})`,
  });
}
