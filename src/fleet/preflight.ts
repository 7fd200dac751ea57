/**
 * The preflight of a fleet's per-device certificates, before any worker starts: every
 * certificate parses, matches its key, is inside its validity period and chains to the CA.
 * Chunks of the manifest are checked on every core; problems come back by class, each with a
 * count and the first few examples, so 100,000 devices with one bad CA give one clear error
 * instead of 100,000 handshake failures.
 */

import os from 'node:os';

import { FleetbenchError } from '../errors.js';
import { CertPool } from './cert-pool.js';
import { type CheckResult, EXAMPLES_PER_CLASS } from './cert-task.js';
import type { CheckScope, ProblemClass } from './device-check.js';
import type { ManifestDevice } from './manifest.js';

/** Devices per check task: big enough to amortise a task, small enough to share the cores. */
const CHUNK = 2000;

/** One set of devices to check, with the CA they must chain to. */
export interface PreflightSet {
  /** Setting the devices came from, e.g. `groups[1].identity.manifest`, for messages. */
  setting: string;
  caPem: string;
  devices: ManifestDevice[];
  scope: CheckScope;
  /** Passphrase of the devices' PKCS#12 files. Default: none. */
  passphrase?: string;
}

/** One class of problem across the fleet. */
export interface PreflightProblem {
  problem: ProblemClass;
  count: number;
  /** The first few, each naming the device and its certificate file. */
  examples: string[];
}

/** What {@link preflightDevices} found. */
export interface PreflightResult {
  devices: number;
  /** Wall time, ms. */
  elapsedMs: number;
  threads: number;
  /** By class, largest first; empty when every device is usable. */
  problems: PreflightProblem[];
}

/** Options of {@link preflightDevices}. */
export interface PreflightOptions {
  /** Checking threads. Default: the number of cores, at most one per chunk. */
  threads?: number;
  /** Instant the validity periods are judged at. Default: now. */
  now?: Date;
}

/** Checks every device of `sets`; never throws for a bad device (see {@link preflightError}). */
export async function preflightDevices(
  sets: PreflightSet[],
  options: PreflightOptions = {},
): Promise<PreflightResult> {
  const started = performance.now();
  const total = sets.reduce((n, s) => n + s.devices.length, 0);
  const chunks = Math.max(1, Math.ceil(total / CHUNK));
  const pool = new CertPool(Math.min(options.threads ?? os.availableParallelism(), chunks));
  const nowMs = (options.now ?? new Date()).getTime();
  try {
    const tasks: Promise<CheckResult>[] = [];
    for (const set of sets) {
      for (let at = 0; at < set.devices.length; at += CHUNK) {
        const devices = set.devices.slice(at, at + CHUNK).map((d) => ({
          deviceId: d.deviceId,
          certFile: d.certFile,
          keyFile: d.keyFile,
          ...(d.pkcs12 === true ? { pkcs12: true } : {}),
        }));
        const { caPem, scope, passphrase } = set;
        tasks.push(
          pool.check({
            kind: 'check',
            caPem,
            devices,
            scope,
            nowMs,
            ...(passphrase === undefined ? {} : { passphrase }),
          }),
        );
      }
    }
    const results = await Promise.all(tasks);
    return {
      devices: results.reduce((n, r) => n + r.checked, 0),
      elapsedMs: performance.now() - started,
      threads: pool.threads,
      problems: mergeProblems(results),
    };
  } finally {
    await pool.close();
  }
}

function mergeProblems(results: CheckResult[]): PreflightProblem[] {
  const merged = new Map<ProblemClass, PreflightProblem>();
  for (const r of results) {
    for (const [problem, found] of Object.entries(r.problems) as [
      ProblemClass,
      { count: number; examples: string[] },
    ][]) {
      const entry = merged.get(problem) ?? { problem, count: 0, examples: [] };
      entry.count += found.count;
      entry.examples.push(...found.examples.slice(0, EXAMPLES_PER_CLASS - entry.examples.length));
      merged.set(problem, entry);
    }
  }
  return [...merged.values()].sort((a, b) => b.count - a.count);
}

const ADVICE: Record<ProblemClass, string> = {
  unreadable: 'the files the manifest names must exist and be readable',
  'unparsable-certificate': 'each cert file must hold a PEM certificate',
  'unparsable-key': 'each key file must hold an unencrypted PEM private key',
  'unparsable-pkcs12': 'each PKCS#12 file must hold the device certificate and its key',
  'bad-passphrase': 'set passphraseEnv or passphraseFile to the PKCS#12 files’ passphrase',
  'key-mismatch': 'each key must be the private key of its certificate',
  'not-yet-valid': 'check the clock, or issue certificates valid from now',
  expired: 'issue new certificates (`fleetbench certs init --devices N --force`)',
  'not-signed-by-ca': 'identity.ca must be the CA that signed the device certificates',
};

/**
 * The setup error for a preflight with problems: one line per class with its count and
 * examples, and the advice for the most frequent class.
 */
export function preflightError(
  result: PreflightResult,
  outcome = 'no device was connected',
): FleetbenchError {
  const bad = result.problems.reduce((n, p) => n + p.count, 0);
  const problems = result.problems.flatMap((p) => [
    `${p.problem}: ${p.count} device${p.count === 1 ? '' : 's'}`,
    ...p.examples.map((e) => `  e.g. ${e}`),
  ]);
  const top = result.problems[0]?.problem ?? 'unreadable';
  return new FleetbenchError(
    'E_CERTS',
    `preflight: ${bad} of ${result.devices} device certificates are not usable; ${outcome}`,
    { problems, hint: ADVICE[top] },
  );
}
