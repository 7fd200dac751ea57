/**
 * The bench's figures, each with its value per client kind, the ratio of fleetbench to the
 * baseline measured in the same run, and the target for it. Pure: results in, rows out.
 */

import type { ProbeOutcome } from './run-probe.js';
import type {
  ClientKind,
  ConnectProbeResult,
  FanoutProbeResult,
  ReconnectProbeResult,
  RoundtripProbeResult,
} from './protocol.js';

/** Every probe outcome of one bench run, by part and client kind, one per round. */
export interface BenchResults {
  connect: Partial<Record<ClientKind, ProbeOutcome<ConnectProbeResult>[]>>;
  reconnect: Partial<Record<ClientKind, ProbeOutcome<ReconnectProbeResult>[]>>;
  fanout: Partial<Record<ClientKind, ProbeOutcome<FanoutProbeResult>[]>>;
  roundtrip: Partial<Record<ClientKind, ProbeOutcome<RoundtripProbeResult>[]>>;
}

/** One row of the bench table. */
export interface BenchFigure {
  /** Stable key, e.g. `connect.clientCpuMs`. */
  id: string;
  label: string;
  unit: string;
  /** The figure per client kind (only the kinds that ran): the median over the rounds. */
  values: Partial<Record<ClientKind, number>>;
  /** fleetbench's value over the baseline's, or null when either is missing. */
  ratio: number | null;
  /** The baseline the ratio divides by. */
  baseline: ClientKind | null;
  /** The target as a person reads it, in the figure's unit, e.g. `<= 1.1x bare`. */
  target: string;
  /** Whether fleetbench met the target; null when it could not be judged. */
  met: boolean | null;
}

type Rule = { kind: 'ratio-max' | 'abs-min' | 'abs-max'; limit: number };

function figure(
  id: string,
  label: string,
  unit: string,
  values: Partial<Record<ClientKind, number>>,
  rule: Rule | null,
): BenchFigure {
  const fb = values.fleetbench;
  const base = values['bare-tls'];
  const ratio = fb !== undefined && base !== undefined && base > 0 ? fb / base : null;
  let met: boolean | null = null;
  let target = '-';
  if (rule?.kind === 'ratio-max') {
    target = `<= ${rule.limit}x bare`;
    met = ratio === null ? null : ratio <= rule.limit;
  } else if (rule?.kind === 'abs-min') {
    target = `>= ${rule.limit.toLocaleString('en-US')}`;
    met = fb === undefined ? null : fb >= rule.limit;
  } else if (rule?.kind === 'abs-max') {
    target = `<= ${rule.limit}`;
    met = fb === undefined ? null : fb <= rule.limit;
  }
  return {
    id,
    label,
    unit,
    values,
    ratio,
    baseline: ratio === null ? null : 'bare-tls',
    target,
    met,
  };
}

/** The median of the finite values; undefined when there is none. */
export function median(values: readonly number[]): number | undefined {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? sorted[mid]
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** A figure per kind: `f` of each round's outcome, then the median over the rounds. */
function per<R>(
  outcomes: Partial<Record<ClientKind, R[]>>,
  f: (r: R) => number | null,
): Partial<Record<ClientKind, number>> {
  const out: Partial<Record<ClientKind, number>> = {};
  for (const [kind, rounds] of Object.entries(outcomes) as [ClientKind, R[]][]) {
    const v = median(rounds.map(f).filter((x): x is number => x !== null));
    if (v !== undefined) out[kind] = v;
  }
  return out;
}

function connectFigures(c: BenchResults['connect']): BenchFigure[] {
  const n = (o: ProbeOutcome<ConnectProbeResult>) => Math.max(1, o.result.connected);
  const clientCpu = per(c, (o) => o.result.cpuUs / 1000 / n(o));
  const brokerCpu = per(c, (o) => (o.brokerCpuUs > 0 ? o.brokerCpuUs / 1000 / n(o) : null));
  const overBroker = per(c, (o) => (o.brokerCpuUs > 0 ? o.result.cpuUs / o.brokerCpuUs : null));
  return [
    figure('connect.clientCpuMs', 'CPU per mTLS connect', 'ms', clientCpu, {
      kind: 'ratio-max',
      limit: 1.1,
    }),
    figure('connect.brokerCpuMs', 'Mosquitto CPU per connect', 'ms', brokerCpu, null),
    figure('connect.clientOverBroker', 'client / Mosquitto CPU', 'x', overBroker, {
      kind: 'abs-max',
      limit: 1,
    }),
    figure(
      'held.rssKB',
      'RSS per held connection',
      'KB',
      per(c, (o) => (o.result.rssHeldBytes - o.result.rssBeforeBytes) / 1024 / n(o)),
      { kind: 'ratio-max', limit: 1.1 },
    ),
    figure(
      'held.heapKB',
      'JS heap per held connection',
      'KB',
      per(c, (o) => (o.result.heapHeldBytes - o.result.heapBeforeBytes) / 1024 / n(o)),
      null,
    ),
  ];
}

function reconnectFigures(r: BenchResults['reconnect']): BenchFigure[] {
  const n = (o: ProbeOutcome<ReconnectProbeResult>) => Math.max(1, o.result.reconnected);
  return [
    figure(
      'reconnect.clientCpuMs',
      'CPU per resumed reconnect',
      'ms',
      per(r, (o) => o.result.cpuUs / 1000 / n(o)),
      { kind: 'abs-max', limit: 0.5 },
    ),
    figure(
      'reconnect.brokerCpuMs',
      'Mosquitto CPU per reconnect',
      'ms',
      per(r, (o) => (o.brokerCpuUs > 0 ? o.brokerCpuUs / 1000 / n(o) : null)),
      null,
    ),
    figure(
      'reconnect.resumedShare',
      'reconnects resumed',
      '%',
      per(r, (o) => (100 * o.result.resumed) / n(o)),
      null,
    ),
  ];
}

function messageFigures(r: BenchResults): BenchFigure[] {
  const out: BenchFigure[] = [];
  if (Object.keys(r.fanout).length > 0) {
    out.push(
      figure(
        'fanout.receivedPerCoreSec',
        'received per harness core',
        'msg/s',
        per(r.fanout, (o) =>
          o.result.cpuUs > 0 ? o.result.received / (o.result.cpuUs / 1e6) : null,
        ),
        { kind: 'abs-min', limit: 100_000 },
      ),
      figure(
        'fanout.harnessCores',
        'harness cores busy',
        'cores',
        per(r.fanout, (o) => o.result.cpuUs / 1000 / o.result.wallMs),
        null,
      ),
      figure(
        'fanout.brokerUsPerMsg',
        'Mosquitto CPU per message',
        'us',
        per(r.fanout, (o) =>
          o.brokerCpuUs > 0 ? o.brokerCpuUs / Math.max(1, o.result.received) : null,
        ),
        null,
      ),
      figure(
        'fanout.lost',
        'fan-out messages lost',
        'msgs',
        per(r.fanout, (o) => o.result.expected - o.result.received),
        null,
      ),
    );
  }
  const rt = r.roundtrip;
  if (Object.keys(rt).length > 0) {
    const p50 = per(rt, (o) => o.result.p50Us / 1000);
    out.push(figure('roundtrip.p50Ms', 'idle round trip p50', 'ms', p50, null));
    out.push(
      figure(
        'roundtrip.p99Ms',
        'idle round trip p99',
        'ms',
        per(rt, (o) => o.result.p99Us / 1000),
        null,
      ),
    );
    const floor = p50['bare-tls'];
    const added: Partial<Record<ClientKind, number>> = {};
    for (const kind of ['mqttjs', 'fleetbench'] as const) {
      const v = p50[kind];
      if (v !== undefined && floor !== undefined) added[kind] = v - floor;
    }
    const f = figure('roundtrip.addedMs', 'round trip added', 'ms', added, {
      kind: 'abs-max',
      limit: 0.1,
    });
    out.push({ ...f, ratio: null, baseline: null });
  }
  return out;
}

/** All figures of a bench run, in table order. */
export function benchFigures(results: BenchResults): BenchFigure[] {
  const out = Object.keys(results.connect).length > 0 ? connectFigures(results.connect) : [];
  const re = Object.keys(results.reconnect).length > 0 ? reconnectFigures(results.reconnect) : [];
  return [...out, ...re, ...messageFigures(results)];
}
