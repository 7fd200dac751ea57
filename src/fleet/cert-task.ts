/**
 * The worker side of bulk certificate work (see cert-pool.ts): a task mints and writes a
 * bucket of device certificates, or checks a chunk of a manifest's devices. A worker keeps its
 * minter and its parsed CA between tasks, so the CA is parsed once per thread, not per task.
 */

import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

import {
  type Anchors,
  checkDevice,
  type CheckScope,
  parseAnchors,
  type ProblemClass,
} from './device-check.js';
import { DeviceMinter } from './mint.js';
import { decodePkcs12, Pkcs12Error } from './pkcs12.js';
import type { KeyAlgorithm, RsaBits } from './pki.js';

/** Mint a bucket of devices into one directory. Plain data: it crosses to a worker thread. */
export interface MintTask {
  kind: 'mint';
  caCertPem: string;
  /** The CA key, PEM. Only ever held in memory of the threads that sign. */
  caKeyPem: string;
  algorithm: KeyAlgorithm;
  /** RSA modulus of `rsa` device keys, bits. Default 2048. */
  rsaBits?: RsaBits;
  /** Directory of the bucket; created, must not exist yet. */
  dir: string;
  /** The devices: id (the CN) and the base name of its two files. */
  devices: { deviceId: string; fileName: string }[];
  /** Validity period, ms since the epoch. Default: pki.ts's defaults. */
  notBeforeMs?: number;
  notAfterMs?: number;
}

/** What a {@link MintTask} wrote: the files of each device, in task order, and the serials. */
export interface MintResult {
  files: { certFile: string; keyFile: string; serialHex: string }[];
}

/** Check a chunk of devices' certificates and keys. */
export interface CheckTask {
  kind: 'check';
  caPem: string;
  /** With `pkcs12`, `certFile` is a PKCS#12 file holding both (and `keyFile` the same). */
  devices: { deviceId: string; certFile: string; keyFile: string; pkcs12?: boolean }[];
  scope: CheckScope;
  /** Passphrase of the PKCS#12 files. Default: none (`''`). */
  passphrase?: string;
  /** The instant validity is judged at, ms since the epoch. */
  nowMs: number;
}

/** Problems found by a {@link CheckTask}, by class: a count and the first few examples. */
export interface CheckResult {
  checked: number;
  problems: Partial<Record<ProblemClass, { count: number; examples: string[] }>>;
}

/** Examples kept per problem class and task. */
export const EXAMPLES_PER_CLASS = 3;

let minter: { key: string; minter: DeviceMinter } | undefined;
let anchors: { pem: string; anchors: Anchors } | undefined;

/** Runs one task in a worker thread. */
export default function certTask(task: MintTask | CheckTask): MintResult | CheckResult {
  return task.kind === 'mint' ? mint(task) : check(task);
}

function check(task: CheckTask): CheckResult {
  if (anchors?.pem !== task.caPem) anchors = { pem: task.caPem, anchors: parseAnchors(task.caPem) };
  const result: CheckResult = { checked: 0, problems: {} };
  const now = new Date(task.nowMs);
  for (const d of task.devices) {
    result.checked++;
    let found: { problem: ProblemClass; detail: string } | null;
    try {
      const pem = readDevicePem(d, task.passphrase ?? '');
      found =
        'problem' in pem ? pem : checkDevice(pem.cert, pem.key, anchors.anchors, task.scope, now);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      found = { problem: 'unreadable', detail: `cannot be read (${code})` };
    }
    if (found === null) continue;
    const entry = (result.problems[found.problem] ??= { count: 0, examples: [] });
    entry.count++;
    if (entry.examples.length < EXAMPLES_PER_CLASS) {
      entry.examples.push(`device ${d.deviceId}: ${d.certFile} ${found.detail}`);
    }
  }
  return result;
}

/** A device's PEM texts, from its two files or decoded from its PKCS#12 file. */
function readDevicePem(
  d: CheckTask['devices'][number],
  passphrase: string,
): { cert: string; key: string } | { problem: ProblemClass; detail: string } {
  if (d.pkcs12 !== true) {
    return { cert: readFileSync(d.certFile, 'utf8'), key: readFileSync(d.keyFile, 'utf8') };
  }
  const bytes = readFileSync(d.certFile);
  try {
    const p12 = decodePkcs12(bytes, passphrase);
    return { cert: p12.certPem, key: p12.keyPem };
  } catch (err) {
    if (!(err instanceof Pkcs12Error)) throw err;
    const problem = err.reason === 'bad-passphrase' ? 'bad-passphrase' : 'unparsable-pkcs12';
    return { problem, detail: err.message };
  }
}

function mint(task: MintTask): MintResult {
  const cacheKey = `${task.caCertPem}${task.algorithm}`;
  if (minter?.key !== cacheKey) {
    minter = {
      key: cacheKey,
      minter: new DeviceMinter(task.caCertPem, task.caKeyPem, task.algorithm),
    };
  }
  const validity = {
    notBefore: task.notBeforeMs === undefined ? undefined : new Date(task.notBeforeMs),
    notAfter: task.notAfterMs === undefined ? undefined : new Date(task.notAfterMs),
  };
  mkdirSync(task.dir, { recursive: false, mode: 0o755 });
  const files = task.devices.map((d) => {
    const minted = minter!.minter.mint(d.deviceId, { ...validity, rsaBits: task.rsaBits });
    const certFile = join(task.dir, `${d.fileName}.crt`);
    const keyFile = join(task.dir, `${d.fileName}.key`);
    writeNew(keyFile, minted.keyPem, 0o600);
    writeNew(certFile, minted.certPem, 0o644);
    return { certFile, keyFile, serialHex: minted.serialHex };
  });
  return { files };
}

/**
 * Creates a file that must not exist, with its final mode from the start. No fsync per file:
 * the bucket lives in a staging directory that only becomes the device set once complete.
 */
function writeNew(path: string, data: string, mode: number): void {
  const fd = openSync(path, 'wx', mode);
  try {
    writeSync(fd, data);
  } finally {
    closeSync(fd);
  }
}
