/**
 * Progress of a run as the coordinator sees it: worker snapshots merged per tick into rates,
 * the connected count and the round-trip p99 of the last interval.
 */

import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

import { HealthTracker } from '../metrics/health.js';
import { mergeSnapshots, summarize } from '../metrics/merge.js';
import type { MetricsSnapshot } from '../metrics/types.js';
import type { Plan } from '../scenario/plan.js';
import { runSteps, type RunStage, type WorkerMessage } from '../worker/protocol.js';

/** One progress line's worth of figures. */
export interface RunProgress {
  elapsedSec: number;
  /** The phase (or drain, disconnect, done) of the slowest worker. */
  stage: RunStage;
  devices: number;
  connected: number;
  connectsPerSec: number;
  publishedPerSec: number;
  receivedPerSec: number;
  /** Failed connects and lost connections so far. */
  errors: number;
  /** Round-trip p99 over the last interval, ms; null when none was measured. */
  roundtripP99Ms: number | null;
  /**
   * Why the load generator is saturated now (`worker 1: CPU 97% of a core > 90%`, one per
   * worker past a limit in its latest interval); empty when it is not.
   */
  saturated: string[];
  /**
   * The coordinator thread's event-loop delay over the last interval, p99, ms: how late the
   * harness's own main thread ran its timers (it relays stops and merges snapshots).
   */
  coordinatorLagMs: number;
  /** The workers' event-loop delay in their latest interval, p99, the worst worker, ms. */
  workerLagMs: number | null;
}

export class ProgressTracker {
  /** The step each worker reached: an index into `steps`. */
  private readonly stepOf = new Map<number, number>();
  private readonly steps: RunStage[];
  private readonly connectedBy = new Map<number, number>();
  private pending: MetricsSnapshot[] = [];
  /** Everything merged so far; kept only when asked for (it costs a merge per tick). */
  private running: MetricsSnapshot | null = null;
  private errors = 0;
  private lastTickNs: bigint;
  /** The workers' self-monitoring over the run. */
  readonly health = new HealthTracker();
  /** This thread's event-loop delay, reset every tick. */
  private readonly lag: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });

  constructor(
    private readonly plan: Plan,
    private readonly startNs: bigint,
    private readonly onProgress?: (p: RunProgress) => void,
    private readonly keepTotals = false,
  ) {
    this.lastTickNs = startNs;
    this.steps = runSteps(plan);
    this.lag.enable();
  }

  /** Stops measuring this thread's event-loop delay. */
  close(): void {
    this.lag.disable();
  }

  /** The phase (or later step) of the slowest worker. */
  get stage(): RunStage {
    let min = this.steps.length - 1;
    for (let w = 0; w < this.plan.workers; w++) min = Math.min(min, this.stepOf.get(w) ?? 0);
    return this.steps[min] ?? 'done';
  }

  accept(m: WorkerMessage): void {
    if (m.type === 'stage') {
      this.stepOf.set(m.workerId, Math.max(0, m.step));
      return;
    }
    this.pending.push(m.snapshot);
    this.health.add(m.health);
    this.connectedBy.set(m.workerId, m.snapshot.gauges['devices.connected'] ?? 0);
    for (const [k, v] of Object.entries(m.snapshot.counters)) {
      if (k.startsWith('connect.failed.') || k === 'connection.lost') this.errors += v;
    }
  }

  /** Everything the workers reported up to the last tick (with `keepTotals`), or null. */
  get totals(): MetricsSnapshot | null {
    return this.running;
  }

  /** Emits one progress record for the snapshots received since the last tick. */
  tick(): void {
    const now = process.hrtime.bigint();
    const seconds = Math.max(Number(now - this.lastTickNs) / 1e9, 1e-3);
    this.lastTickNs = now;
    const merged = this.pending.length > 0 ? mergeSnapshots(this.pending) : null;
    this.pending = [];
    if (this.keepTotals && merged !== null) {
      this.running = this.running === null ? merged : mergeSnapshots([this.running, merged]);
    }
    const c = merged?.counters ?? {};
    const rt = merged?.histograms.roundtrip;
    const rtSummary = rt === undefined ? null : summarize(rt);
    let connected = 0;
    for (const v of this.connectedBy.values()) connected += v;
    this.onProgress?.({
      elapsedSec: Math.max(0, Number(now - this.startNs) / 1e9),
      stage: this.stage,
      devices: this.plan.shard.devices,
      connected,
      connectsPerSec: (c['connect.ok'] ?? 0) / seconds,
      publishedPerSec: (c['messages.published'] ?? 0) / seconds,
      receivedPerSec: (c['messages.received'] ?? 0) / seconds,
      errors: this.errors,
      roundtripP99Ms: rtSummary && rtSummary.count > 0 ? rtSummary.p99Us / 1000 : null,
      saturated: this.health.currentSaturation(),
      coordinatorLagMs: this.takeLagMs(),
      workerLagMs: this.health.latestLoopDelayP99Ms(),
    });
  }

  /** The p99 event-loop delay since the last call, ms (0 when nothing was sampled). */
  private takeLagMs(): number {
    const p99 = this.lag.count > 0 ? this.lag.percentile(99) / 1e6 : 0;
    this.lag.reset();
    return Number.isFinite(p99) ? p99 : 0;
  }
}
