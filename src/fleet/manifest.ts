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
import { DEFAULT_COLUMNS as DEFAULT_MANIFEST_COLUMNS } from '../scenario/identity-plan.js';
import type { ManifestColumns } from '../scenario/plan.js';

/** One device of a manifest, with absolute paths once read. */
export interface ManifestDevice {
  deviceId: string;
  clientId: string;
  username: string;
  /** Certificate file (PEM), or the PKCS#12 file. Absolute after {@link readManifest}. */
  certFile: string;
  /** Private key file (PEM), or the PKCS#12 file again. Absolute after {@link readManifest}. */
  keyFile: string;
  /** True when `certFile` is a PKCS#12 file holding both the certificate and the key. */
  pkcs12?: boolean;
}

/** The CSV columns `certs init` writes, in order; the first line of a manifest names them. */
export const MANIFEST_COLUMNS = ['device_id', 'client_id', 'username', 'cert', 'key'] as const;

/** How a manifest's columns are named (a foreign CSV maps its own), and what fills gaps. */
export interface ManifestOptions {
  /** The setting that named the file, for messages. Default `identity.manifest`. */
  setting?: string;
  /**
   * Column names. Default: ours (`device_id`, `client_id`, `username`, `cert`, `key`,
   * `pkcs12`).
   */
  columns?: ManifestColumns;
  /** True for the names the scenario gave: each must then be in the header. Default false. */
  columnsGiven?: boolean;
  /**
   * Client id and username of a device when the file has no such column; given the row's
   * device id and device number. Default: the device id.
   */
  fill?: (deviceId: string, index: number) => { clientId: string; username: string };
  /** Device number of the first row (for `fill`). Default 1. */
  firstIndex?: number;
}

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
 * id) is collected and thrown together as FleetbenchError `E_CERTS`, each naming the file, the
 * row and the column.
 */
export async function readManifest(
  file: string,
  options: ManifestOptions | string = {},
): Promise<ManifestDevice[]> {
  const o = typeof options === 'string' ? { setting: options } : options;
  const setting = o.setting ?? 'identity.manifest';
  const abs = resolve(file);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw manifestError(abs, setting, [`${abs} cannot be read (${code})`], err);
  }
  return parseManifest(text, abs, o);
}

/** Parses manifest text; see {@link readManifest}. Relative paths resolve against `file`. */
export function parseManifest(
  text: string,
  file: string,
  options: ManifestOptions | string = {},
): ManifestDevice[] {
  const o = typeof options === 'string' ? { setting: options } : options;
  const setting = o.setting ?? 'identity.manifest';
  let records: { record: string[]; info: { lines: number } }[];
  try {
    // Spreadsheets write a BOM, and in many locales `;` between cells.
    records = parse(text, {
      bom: true,
      delimiter: [',', ';', '\t'],
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      trim: true,
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (err) {
    throw manifestError(file, setting, [`${file}: ${(err as Error).message}`], err);
  }
  const header = records[0]?.record ?? [];
  const at = columnIndexes(header, file, setting, o);
  const base = dirname(file);
  const problems: string[] = [];
  const devices: ManifestDevice[] = [];
  const seen = { deviceId: new Map<string, number>(), clientId: new Map<string, number>() };
  records.slice(1).forEach(({ record, info }, i) => {
    const where = `${file} row ${i + 1} (line ${info.lines})`;
    const d = readRow(record, at, base, (o.firstIndex ?? 1) + i, o.fill);
    problems.push(...d.problems.map((p) => `${where}, ${p}`));
    for (const key of ['deviceId', 'clientId'] as const) {
      const first = seen[key].get(d.device[key]);
      if (first !== undefined && d.device[key] !== '') {
        problems.push(`${where}: ${key} "${d.device[key]}" repeats row ${first}`);
      } else seen[key].set(d.device[key], i + 1);
    }
    devices.push(d.device);
  });
  if (devices.length === 0) problems.push(`${file} lists no devices`);
  if (problems.length > 0) throw manifestError(file, setting, problems.slice(0, 20), undefined, o);
  return devices;
}

type ColumnAt = Record<keyof ManifestColumns, { name: string; index: number }>;

/** Where each column is in the header; throws when a needed one is missing. */
function columnIndexes(
  header: string[],
  file: string,
  setting: string,
  o: ManifestOptions,
): ColumnAt {
  const names = o.columns ?? DEFAULT_MANIFEST_COLUMNS;
  const keys = Object.keys(names) as (keyof ManifestColumns)[];
  const at = Object.fromEntries(
    keys.map((k) => [k, { name: names[k], index: header.indexOf(names[k]) }]),
  ) as ColumnAt;
  const required: (keyof ManifestColumns)[] = ['deviceId'];
  if (at.pkcs12.index === -1) required.push('cert', 'key');
  if (o.columnsGiven === true) {
    const named = o.columns ?? DEFAULT_MANIFEST_COLUMNS;
    required.push(
      ...(Object.keys(named) as (keyof ManifestColumns)[]).filter(
        (k) => named[k] !== DEFAULT_MANIFEST_COLUMNS[k] && !required.includes(k),
      ),
    );
  }
  const missing = required.filter((k) => at[k].index === -1);
  if (missing.length > 0) {
    const list = missing.map(
      (k) => `"${at[k].name}" (${setting.replace(/manifest$/, 'columns')}.${k})`,
    );
    const problem =
      `${file} line 1 has no column ${list.join(', ')}; its columns are ` +
      header.map((h) => `"${h}"`).join(', ');
    throw manifestError(file, setting, [problem], undefined, o);
  }
  return at;
}

function readRow(
  record: string[],
  at: ColumnAt,
  base: string,
  index: number,
  fill: ManifestOptions['fill'],
): { device: ManifestDevice; problems: string[] } {
  const cell = (k: keyof ManifestColumns) => record[at[k].index] ?? '';
  const problems: string[] = [];
  const need = (k: keyof ManifestColumns) => {
    if (at[k].index !== -1 && cell(k) === '') problems.push(`column "${at[k].name}": empty`);
  };
  const deviceId = cell('deviceId');
  need('deviceId');
  const filled = fill?.(deviceId, index) ?? { clientId: deviceId, username: deviceId };
  const p12 = at.pkcs12.index === -1 ? '' : cell('pkcs12');
  if (p12 === '') {
    need('cert');
    need('key');
    if (at.cert.index === -1) problems.push(`column "${at.pkcs12.name}": empty`);
  }
  const device: ManifestDevice = {
    deviceId,
    clientId: at.clientId.index === -1 ? filled.clientId : cell('clientId'),
    username: at.username.index === -1 ? filled.username : cell('username'),
    certFile: resolve(base, p12 === '' ? cell('cert') : p12),
    keyFile: resolve(base, p12 === '' ? cell('key') : p12),
    ...(p12 === '' ? {} : { pkcs12: true }),
  };
  if (at.clientId.index !== -1) need('clientId');
  return { device, problems };
}

function manifestError(
  file: string,
  setting: string,
  problems: string[],
  cause?: unknown,
  o: ManifestOptions = {},
): FleetbenchError {
  const mapped = o.columnsGiven === true;
  const columns = setting.replace(/manifest$/, 'columns');
  return new FleetbenchError('E_CERTS', `${setting}: device manifest ${file} is not usable`, {
    problems,
    hint: mapped
      ? `fix the rows above, or ${columns} to name the file's own columns`
      : `a manifest is CSV with the header ${MANIFEST_COLUMNS.join(',')} (or a pkcs12 column ` +
        `instead of cert,key; client_id and username optional); for other column names set ` +
        `${columns}; \`fleetbench certs init --devices N\` writes one`,
    cause,
  });
}
