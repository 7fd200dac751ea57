/**
 * The bench's command-line flags: parsed with node:util, every value checked, every problem
 * reported at once with the flag it belongs to.
 */

import { parseArgs } from 'node:util';
import { FleetbenchError } from '../src/errors.js';
import { CLIENT_KINDS, type ClientKind } from './protocol.js';

/** The parts of the bench, in the order they run. */
export const BENCH_PARTS = ['connect', 'reconnect', 'fanout', 'roundtrip'] as const;
export type BenchPart = (typeof BENCH_PARTS)[number];

/** Everything a bench run is sized by. */
export interface BenchOptions {
  /** Devices connected and held per client kind and round. Default 1500. */
  connections: number;
  /** Connects in flight at once (below Mosquitto's listen backlog of 100). Default 32. */
  inFlight: number;
  /** Most devices per Mosquitto; more connections start more Mosquittos. Default 9000. */
  perBroker: number;
  /** Fan-out publishers. Default 100. */
  publishers: number;
  /** Fan-out subscribers on `bench/fanout/#`. Default 100. */
  subscribers: number;
  /** Fan-out publishes per second, all publishers together. Default 1000. */
  publishRatePerSec: number;
  /** Fan-out publishing time, s. Default 3. */
  fanoutSec: number;
  /** Idle round trips measured per client kind. Default 1000. */
  roundtrips: number;
  /** Rounds; each figure is the median over them. Default 3. */
  rounds: number;
  /** Highest TLS version offered (`--tls-max 1.2` measures TLS 1.2). Default TLS 1.3. */
  tlsMax: 'TLSv1.2' | 'TLSv1.3';
  /** Client kinds to run. Default all. */
  clients: ClientKind[];
  /** Parts to run. Default all. */
  parts: BenchPart[];
  /** Where the JSON is written. Default `reports`. */
  outDir: string;
  /** Print the JSON document instead of the table. */
  json: boolean;
  /** Directory for each probe's V8 CPU profile; null: no profiles. Default null. */
  profileDir: string | null;
}

const USAGE =
  'usage: npm run bench -- [--rounds 3] [--connections 1500] [--in-flight 32] ' +
  '[--per-broker 9000] [--publishers 100] [--subscribers 100] [--publish-rate 1000] ' +
  '[--fanout-sec 3] [--roundtrips 1000] [--clients bare-tls,mqttjs,fleetbench] ' +
  '[--parts connect,reconnect,fanout,roundtrip] [--tls-max 1.3] [--out reports] [--json] ' +
  '[--profile DIR]';

const INTEGERS = {
  connections: { flag: 'connections', def: 1500, max: 19_900 },
  inFlight: { flag: 'in-flight', def: 32, max: 99 },
  perBroker: { flag: 'per-broker', def: 9000, max: 19_000 },
  publishers: { flag: 'publishers', def: 100, max: 5000 },
  subscribers: { flag: 'subscribers', def: 100, max: 5000 },
  publishRatePerSec: { flag: 'publish-rate', def: 1000, max: 100_000 },
  fanoutSec: { flag: 'fanout-sec', def: 3, max: 600 },
  roundtrips: { flag: 'roundtrips', def: 1000, max: 1_000_000 },
  rounds: { flag: 'rounds', def: 3, max: 100 },
} as const;

type IntegerKey = keyof typeof INTEGERS;

/**
 * Parses the bench's flags.
 *
 * @throws FleetbenchError `E_USAGE` listing every bad flag.
 */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const stringFlags = Object.fromEntries(
    Object.values(INTEGERS).map((i) => [i.flag, { type: 'string' as const }]),
  );
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        ...stringFlags,
        clients: { type: 'string' },
        parts: { type: 'string' },
        out: { type: 'string' },
        json: { type: 'boolean' },
        'tls-max': { type: 'string' },
        profile: { type: 'string' },
      },
      strict: true,
    }).values;
  } catch (err) {
    throw new FleetbenchError('E_USAGE', (err as Error).message, { hint: USAGE });
  }

  const problems: string[] = [];
  const ints = {} as Record<IntegerKey, number>;
  for (const [key, spec] of Object.entries(INTEGERS) as [
    IntegerKey,
    (typeof INTEGERS)[IntegerKey],
  ][]) {
    const raw = values[spec.flag];
    const n = typeof raw === 'string' ? Number(raw) : spec.def;
    if (!Number.isInteger(n) || n < 1 || n > spec.max) {
      problems.push(`--${spec.flag} must be an integer from 1 to ${spec.max} (got ${String(raw)})`);
    }
    ints[key] = n;
  }
  const tlsRaw = values['tls-max'];
  if (tlsRaw !== undefined && tlsRaw !== '1.2' && tlsRaw !== '1.3') {
    problems.push(`--tls-max must be 1.2 or 1.3 (got ${String(tlsRaw)})`);
  }
  const clients = listFlag(values.clients, CLIENT_KINDS, 'clients', problems);
  const parts = listFlag(values.parts, BENCH_PARTS, 'parts', problems);
  if (problems.length > 0) {
    throw new FleetbenchError('E_USAGE', `bad bench option(s)`, { problems, hint: USAGE });
  }
  return {
    ...ints,
    clients,
    parts,
    outDir: typeof values.out === 'string' ? values.out : 'reports',
    json: values.json === true,
    tlsMax: tlsRaw === '1.2' ? 'TLSv1.2' : 'TLSv1.3',
    profileDir: typeof values.profile === 'string' ? values.profile : null,
  };
}

function listFlag<T extends string>(
  raw: string | boolean | undefined,
  allowed: readonly T[],
  flag: string,
  problems: string[],
): T[] {
  if (typeof raw !== 'string') return [...allowed];
  const items = raw.split(',').map((s) => s.trim());
  const bad = items.filter((s) => !(allowed as readonly string[]).includes(s));
  if (bad.length > 0 || items.length === 0) {
    problems.push(`--${flag} takes a comma-separated list of ${allowed.join(', ')} (got ${raw})`);
  }
  // Keep the canonical order whatever order the flag lists them in.
  return allowed.filter((a) => items.includes(a));
}
