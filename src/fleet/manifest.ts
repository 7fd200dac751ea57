/**
 * The device manifest: one CSV row per device with its id, MQTT client id and username and
 * the paths of its certificate and key. `certs init --devices` writes one; a scenario's
 * `identity.manifest` reads it. Paths in the file are relative to the file, so a certificate
 * directory can be moved or copied to another machine as a whole.
 */

import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';

import { FleetbenchError } from '../errors.js';

/** One device of a manifest, with absolute paths once read. */
export interface ManifestDevice {
  deviceId: string;
  clientId: string;
  username: string;
  /** Certificate file (PEM). Absolute after {@link readManifest}. */
  certFile: string;
  /** Private key file (PEM). Absolute after {@link readManifest}. */
  keyFile: string;
}

/** The CSV columns, in order; the first line of a manifest names them. */
export const MANIFEST_COLUMNS = ['device_id', 'client_id', 'username', 'cert', 'key'] as const;

/** The manifest text for `devices`, their paths made relative to the manifest's directory. */
export function formatManifest(manifestFile: string, devices: readonly ManifestDevice[]): string {
  const base = dirname(resolve(manifestFile));
  const rel = (p: string) => (isAbsolute(p) ? relative(base, p) : p).split(sep).join('/');
  return stringify(
    devices.map((d) => [d.deviceId, d.clientId, d.username, rel(d.certFile), rel(d.keyFile)]),
    { header: true, columns: [...MANIFEST_COLUMNS] },
  );
}

/**
 * Reads a manifest. Every problem (a missing column, an empty cell, a repeated device or client
 * id) is collected and thrown together as FleetbenchError `E_CERTS`, each with its line.
 * @param setting The setting that named the file, for messages. Default `identity.manifest`.
 */
export async function readManifest(
  file: string,
  setting = 'identity.manifest',
): Promise<ManifestDevice[]> {
  const abs = resolve(file);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw manifestError(abs, setting, [`${abs} cannot be read (${code})`], err);
  }
  return parseManifest(text, abs, setting);
}

/** Parses manifest text; see {@link readManifest}. Relative paths resolve against `file`. */
export function parseManifest(text: string, file: string, setting: string): ManifestDevice[] {
  let records: string[][];
  try {
    records = parse(text, { skip_empty_lines: true, trim: true, relax_column_count: true });
  } catch (err) {
    throw manifestError(file, setting, [`${file}: ${(err as Error).message}`], err);
  }
  const header = records[0] ?? [];
  const at = MANIFEST_COLUMNS.map((c) => header.indexOf(c));
  const missing = MANIFEST_COLUMNS.filter((_, i) => at[i] === -1);
  if (missing.length > 0) {
    const problem = `${file} line 1 must name the columns ${MANIFEST_COLUMNS.join(',')} (missing ${missing.join(', ')})`;
    throw manifestError(file, setting, [problem]);
  }

  const base = dirname(file);
  const problems: string[] = [];
  const devices: ManifestDevice[] = [];
  const seen = { deviceId: new Map<string, number>(), clientId: new Map<string, number>() };
  records.slice(1).forEach((row, i) => {
    const line = i + 2;
    const cell = (k: number) => row[at[k] ?? -1] ?? '';
    const d: ManifestDevice = {
      deviceId: cell(0),
      clientId: cell(1),
      username: cell(2),
      certFile: resolve(base, cell(3)),
      keyFile: resolve(base, cell(4)),
    };
    const empty = MANIFEST_COLUMNS.filter((_, k) => cell(k) === '' && k !== 2);
    if (empty.length > 0) problems.push(`${file} line ${line}: empty ${empty.join(', ')}`);
    for (const key of ['deviceId', 'clientId'] as const) {
      const first = seen[key].get(d[key]);
      if (first !== undefined) {
        problems.push(`${file} line ${line}: ${key} "${d[key]}" repeats line ${first}`);
      } else seen[key].set(d[key], line);
    }
    devices.push(d);
  });
  if (devices.length === 0) problems.push(`${file} lists no devices`);
  if (problems.length > 0) throw manifestError(file, setting, problems.slice(0, 20));
  return devices;
}

function manifestError(
  file: string,
  setting: string,
  problems: string[],
  cause?: unknown,
): FleetbenchError {
  return new FleetbenchError('E_CERTS', `${setting}: device manifest ${file} is not usable`, {
    problems,
    hint:
      `a manifest is CSV with the header ${MANIFEST_COLUMNS.join(',')}; ` +
      '`fleetbench certs init --devices N` writes one',
    cause,
  });
}
