/**
 * What the coordinator has heard from each worker, kept so that nothing is lost when a worker
 * never returns its result (it failed, ran out of memory, or was ended by a second Ctrl-C):
 * its interval snapshots added up and its latest failure samples.
 */

import { mergeSnapshots } from '../metrics/merge.js';
import type { MetricsSnapshot } from '../metrics/types.js';
import type { FailureSample, RunStage, WorkerMessage, WorkerResult } from '../worker/protocol.js';

/** Running totals per worker, from its `snapshot` and `stage` messages. */
export class WorkerTally {
  private readonly totals = new Map<number, MetricsSnapshot>();
  private readonly failures = new Map<number, FailureSample[]>();
  private readonly stages = new Map<number, RunStage>();

  /** @param startNs the run's start instant, `process.hrtime.bigint()` ns */
  constructor(private readonly startNs: bigint) {}

  accept(m: WorkerMessage): void {
    if (m.type === 'stage') {
      this.stages.set(m.workerId, m.stage);
      return;
    }
    const before = this.totals.get(m.workerId);
    // Consecutive intervals of one worker: counters and histograms add, gauges take the latest.
    const total =
      before === undefined
        ? m.snapshot
        : mergeSnapshots([before, m.snapshot], { gauges: 'latest' });
    this.totals.set(m.workerId, total);
    this.failures.set(m.workerId, m.failures);
  }

  /**
   * A result for a worker whose task did not return one: everything its snapshots carried,
   * which misses at most the last interval before it ended.
   */
  resultOf(workerId: number, stoppedBy: string): WorkerResult {
    const start = String(this.startNs);
    return {
      workerId,
      total: this.totals.get(workerId) ?? {
        startNs: start,
        endNs: start,
        counters: {},
        gauges: {},
        histograms: {},
      },
      // Per-phase metrics come only with a returned result; the run's totals above are whole.
      phases: [],
      failures: this.failures.get(workerId) ?? [],
      stoppedBy,
      stage: this.stages.get(workerId) ?? 'ramp',
    };
  }
}
