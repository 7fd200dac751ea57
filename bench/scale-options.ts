/**
 * Flags of the scale probe (`npm run bench:scale`), checked all at once like the bench's.
 */

import { parseArgs } from 'node:util';
import { FleetbenchError } from '../src/errors.js';

/** What one scale probe is sized by. */
export interface ScaleOptions {
  /** Devices held at once by all shards together. Default 100,000. */
  devices: number;
  /**
   * Most devices per process, harness shard and Mosquitto alike (each has the machine's
   * 20,000 open-file limit). Default 19,000.
   */
  perProcess: number;
  /** Connects per second of the whole fleet (each shard takes its share). Default 400. */
  ratePerSec: number;
  /** Connects without CONNACK per shard, each against its own Mosquitto (backlog 100). Default 48. */
  inFlight: number;
  /** Worker threads per shard. Default 1. */
  workers: number;
  /** Time the whole fleet stays connected once every shard has ended its ramp, s. Default 20. */
  holdSec: number;
  /** Longest the probe may take, s; past it the shards are stopped (SIGINT). Default 1500. */
  timeoutSec: number;
  /** Refuse to start when the machine would have less memory available than this, GiB. Default 4. */
  minFreeGib: number;
  /** Also run the single-process baseline (one shard's devices, one process). Default true. */
  baseline: boolean;
  /** Where the JSON is written. Default `reports`. */
  outDir: string;
}

const USAGE =
  'usage: npm run bench:scale -- [--devices 100000] [--per-process 19000] [--rate 400] ' +
  '[--in-flight 48] [--workers 1] [--hold-sec 20] [--timeout-sec 1500] [--min-free-gib 4] ' +
  '[--no-baseline] [--out reports]';

const NUMBERS = {
  devices: { flag: 'devices', def: 100_000, min: 2, max: 250_000 },
  perProcess: { flag: 'per-process', def: 19_000, min: 100, max: 19_900 },
  ratePerSec: { flag: 'rate', def: 400, min: 1, max: 20_000 },
  inFlight: { flag: 'in-flight', def: 48, min: 1, max: 99 },
  workers: { flag: 'workers', def: 1, min: 1, max: 16 },
  holdSec: { flag: 'hold-sec', def: 20, min: 1, max: 3600 },
  timeoutSec: { flag: 'timeout-sec', def: 1500, min: 10, max: 7200 },
  minFreeGib: { flag: 'min-free-gib', def: 4, min: 0, max: 1024 },
} as const;

type NumberKey = keyof typeof NUMBERS;

/**
 * Parses the scale probe's flags.
 *
 * @throws FleetbenchError `E_USAGE` listing every bad flag.
 */
export function parseScaleOptions(argv: readonly string[]): ScaleOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        ...Object.fromEntries(Object.values(NUMBERS).map((n) => [n.flag, { type: 'string' }])),
        'no-baseline': { type: 'boolean' },
        out: { type: 'string' },
      },
      strict: true,
    }).values;
  } catch (err) {
    throw new FleetbenchError('E_USAGE', (err as Error).message, { hint: USAGE });
  }
  const problems: string[] = [];
  const n = {} as Record<NumberKey, number>;
  for (const [key, spec] of Object.entries(NUMBERS) as [NumberKey, (typeof NUMBERS)[NumberKey]][]) {
    const raw = values[spec.flag];
    const v = typeof raw === 'string' ? Number(raw) : spec.def;
    if (!Number.isInteger(v) || v < spec.min || v > spec.max) {
      problems.push(
        `--${spec.flag} must be an integer from ${spec.min} to ${spec.max} (got ${String(raw)})`,
      );
    }
    n[key] = v;
  }
  if (problems.length > 0) {
    throw new FleetbenchError('E_USAGE', 'bad scale option(s)', { problems, hint: USAGE });
  }
  return {
    ...n,
    baseline: values['no-baseline'] !== true,
    outDir: typeof values.out === 'string' ? values.out : 'reports',
  };
}
