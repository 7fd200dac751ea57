/**
 * The run as a metrics endpoint sees it: the workers' interval snapshots added up as they
 * arrive (counters summed, each worker's latest gauges, HDR histograms folded into cumulative
 * buckets), the phase, and each worker's latest self-monitoring. Its counters only grow, and
 * after the run they equal the report's, because they are the same snapshots the report's
 * time series adds up.
 */

import type { MetricFamily, Sample } from '../metrics/exposition.js';
import { busyShare, saturationReasons, type WorkerHealth } from '../metrics/health.js';
import {
  addToBuckets,
  counterName,
  emptyBuckets,
  LATENCY_BOUNDS_US,
  snake,
  type BucketCounts,
} from '../metrics/metric-families.js';
import { HISTOGRAM_NAMES, type HistogramName } from '../metrics/types.js';
import type { Plan } from '../scenario/plan.js';
import { runSteps, type RunStage, type WorkerMessage } from '../worker/protocol.js';

/** The stage before the workers start: certificates, preflight, preparation. */
export const STARTING_STAGE = 'starting';

/** HELP texts; a histogram added later without one is still served, with a generic text. */
const HISTOGRAM_HELP: Readonly<Partial<Record<HistogramName, string>>> = {
  connect: 'Device connect, socket start to CONNACK',
  tcp: 'TCP connect',
  tls: 'TLS handshake, TCP connected to handshake done',
  tlsFull: 'TLS handshakes that were full (no session resumed)',
  tlsResumed: 'TLS handshakes that resumed a session',
  connack: 'CONNECT sent to CONNACK received',
  suback: 'SUBSCRIBE sent to SUBACK received',
  puback: 'QoS 1 PUBLISH sent to PUBACK received',
  pubcomp: 'QoS 2 PUBLISH sent to PUBCOMP received',
  roundtrip: 'PUBLISH sent to the same message received back',
  roundtripCorrected: 'Open model: scheduled instant of a PUBLISH to received back',
  scheduleLag: 'Open model: scheduled instant of a PUBLISH to sent',
  reconnect: 'Reconnect after a drop, socket start to CONNACK',
  downtime: 'Connection dropped to CONNACK of its reconnect',
  commandRoundtrip: 'Command sent by a controller to its response received',
  fanIn: 'Message published to received by a wildcard monitor',
};

const SEEDED_COUNTERS = [
  'connect.attempted',
  'connect.ok',
  'connection.lost',
  'messages.published',
  'messages.received',
];

/** Collects what a metrics endpoint serves; feed it every worker message of the run. */
export class LiveMetrics {
  private readonly counters = new Map<string, number>();
  private readonly gaugesOf = new Map<number, Record<string, number>>();
  private readonly buckets = new Map<HistogramName, BucketCounts>();
  private readonly healthOf = new Map<number, WorkerHealth>();
  private readonly saturatedIntervals = new Map<number, number>();
  private readonly stages: RunStage[];
  private stageOf: () => RunStage = () => STARTING_STAGE;
  private startNs: bigint | null = null;
  private endNs: bigint | null = null;

  /** Labels of the `fleetbench_run_info` sample: scenario, shard and, once known, run id. */
  private readonly labels: Record<string, string>;

  constructor(private readonly plan: Plan) {
    const { index, count } = plan.shard;
    this.labels = { scenario: plan.name, shard: `${index}/${count}` };
    this.stages = [STARTING_STAGE, ...runSteps(plan)];
    // The main families exist from the first scrape, so a dashboard's panels do too.
    for (const key of SEEDED_COUNTERS) this.counters.set(key, 0);
  }

  /** The run's id, shared by all its shards (known once the run resolves it). */
  setRunId(id: string): void {
    this.labels.run_id = id;
  }

  /**
   * The run has started.
   *
   * @param startNs the common start instant, `process.hrtime.bigint()` ns.
   * @param stage the run's current stage (the slowest worker's).
   */
  begin(startNs: bigint, stage: () => RunStage): void {
    this.startNs = startNs;
    this.stageOf = stage;
  }

  /** The run has ended: the stage and the elapsed time stop where they are. */
  end(): void {
    const stage = this.stageOf();
    this.stageOf = () => stage;
    this.endNs ??= process.hrtime.bigint();
  }

  accept(m: WorkerMessage): void {
    if (m.type !== 'snapshot') return;
    for (const [key, n] of Object.entries(m.snapshot.counters)) {
      this.counters.set(key, (this.counters.get(key) ?? 0) + n);
    }
    this.gaugesOf.set(m.workerId, m.snapshot.gauges);
    for (const [name, encoded] of Object.entries(m.snapshot.histograms)) {
      const key = name as HistogramName;
      const into = this.buckets.get(key) ?? emptyBuckets();
      this.buckets.set(key, into);
      addToBuckets(into, encoded);
    }
    this.healthOf.set(m.workerId, m.health);
    if (saturationReasons(m.health).length > 0) {
      this.saturatedIntervals.set(m.workerId, (this.saturatedIntervals.get(m.workerId) ?? 0) + 1);
    }
  }

  /** Everything, as metric families in a stable order. */
  families(): MetricFamily[] {
    return [
      ...this.runFamilies(),
      ...this.gaugeFamilies(),
      ...this.counterFamilies(),
      ...this.histogramFamilies(),
      ...this.healthFamilies(),
    ];
  }

  private runFamilies(): MetricFamily[] {
    const stage = this.stageOf();
    const untilNs = this.endNs ?? process.hrtime.bigint();
    const elapsed = this.startNs === null ? 0 : Math.max(0, Number(untilNs - this.startNs) / 1e9);
    return [
      {
        name: 'fleetbench_run',
        type: 'info',
        help: 'The run: scenario, shard (index/count) and run id',
        samples: [{ labels: { ...this.labels }, value: 1 }],
      },
      {
        name: 'fleetbench_phase',
        type: 'stateset',
        help: 'The run stage: starting, a phase (the slowest worker), drain, disconnect, done',
        samples: this.stages.map((s) => ({
          labels: { fleetbench_phase: s },
          value: s === stage ? 1 : 0,
        })),
      },
      {
        name: 'fleetbench_run_elapsed_seconds',
        type: 'gauge',
        unit: 'seconds',
        help: 'Time since the common start of the devices (0 before it)',
        samples: [{ value: elapsed }],
      },
      {
        name: 'fleetbench_devices',
        type: 'gauge',
        help: 'Devices this process runs (its shard of the fleet)',
        samples: [{ value: this.plan.shard.devices }],
      },
    ];
  }

  private gaugeFamilies(): MetricFamily[] {
    const sums = new Map<string, number>();
    for (const gauges of this.gaugesOf.values()) {
      for (const [k, v] of Object.entries(gauges)) sums.set(k, (sums.get(k) ?? 0) + v);
    }
    sums.set('devices.connected', sums.get('devices.connected') ?? 0);
    return [...sums.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, value]) => ({
        name: `fleetbench_${snake(key)}`,
        type: 'gauge',
        help: key === 'devices.connected' ? 'Devices connected now' : `fleetbench gauge ${key}`,
        samples: [{ value }],
      }));
  }

  private counterFamilies(): MetricFamily[] {
    const byFamily = new Map<string, { help: string; samples: Sample[] }>();
    for (const key of [...this.counters.keys()].sort()) {
      const { family, help, labels } = counterName(key);
      const entry = byFamily.get(family) ?? { help, samples: [] };
      byFamily.set(family, entry);
      entry.samples.push({ labels, value: this.counters.get(key) ?? 0 });
    }
    return [...byFamily.entries()].map(([name, { help, samples }]) => ({
      name,
      type: 'counter',
      help,
      samples,
    }));
  }

  private histogramFamilies(): MetricFamily[] {
    const bounds = LATENCY_BOUNDS_US.map((us) => us / 1e6);
    return HISTOGRAM_NAMES.flatMap((name): MetricFamily[] => {
      const b = this.buckets.get(name);
      if (b === undefined) return [];
      return [
        {
          name: `fleetbench_${snake(name)}_seconds`,
          type: 'histogram',
          unit: 'seconds',
          help: HISTOGRAM_HELP[name] ?? `fleetbench histogram ${name}`,
          histograms: [{ bounds, counts: b.counts, count: b.count, sum: b.sumUs / 1e6 }],
        },
      ];
    });
  }

  private healthFamilies(): MetricFamily[] {
    const workers = [...this.healthOf.values()].sort((a, b) => a.workerId - b.workerId);
    const each = (value: (h: WorkerHealth) => number): Sample[] =>
      workers.map((h) => ({ labels: { worker: String(h.workerId) }, value: value(h) }));
    const saturated = (h: WorkerHealth) => (saturationReasons(h).length > 0 ? 1 : 0);
    return [
      {
        name: 'fleetbench_load_generator_saturated',
        type: 'gauge',
        help: 'Whether any worker passed a saturation limit in its latest interval (1) or not (0)',
        samples: [{ value: workers.some((h) => saturated(h) === 1) ? 1 : 0 }],
      },
      {
        name: 'fleetbench_worker_saturated',
        type: 'gauge',
        help: 'Whether the worker passed a saturation limit in its latest interval',
        samples: each(saturated),
      },
      {
        name: 'fleetbench_worker_saturated_intervals',
        type: 'counter',
        help: 'Snapshot intervals in which the worker passed a saturation limit',
        samples: each((h) => this.saturatedIntervals.get(h.workerId) ?? 0),
      },
      {
        name: 'fleetbench_worker_event_loop_delay_p99_seconds',
        type: 'gauge',
        unit: 'seconds',
        help: "The worker's event-loop delay p99 in its latest interval",
        samples: each((h) => h.loopDelayP99Ms / 1000),
      },
      {
        name: 'fleetbench_worker_busy_ratio',
        type: 'gauge',
        unit: 'ratio',
        help:
          "The worker's thread CPU (or event-loop busy share) in its latest interval, " +
          'of a core',
        samples: each(busyShare),
      },
    ];
  }
}
