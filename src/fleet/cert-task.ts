/**
 * The worker side of bulk certificate work (see cert-pool.ts): one task mints and writes a
 * bucket of device certificates. A worker keeps its minter between tasks, so the CA key is
 * parsed once per thread, not once per bucket.
 */

import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

import { DeviceMinter } from './mint.js';
import type { KeyAlgorithm } from './pki.js';

/** Mint a bucket of devices into one directory. Plain data: it crosses to a worker thread. */
export interface MintTask {
  kind: 'mint';
  caCertPem: string;
  /** The CA key, PEM. Only ever held in memory of the threads that sign. */
  caKeyPem: string;
  algorithm: KeyAlgorithm;
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

let minter: { key: string; minter: DeviceMinter } | undefined;

/** Runs one task in a worker thread. */
export default function certTask(task: MintTask): MintResult {
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
    const minted = minter!.minter.mint(d.deviceId, validity);
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
