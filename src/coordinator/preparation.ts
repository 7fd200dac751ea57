/**
 * The start barrier: every worker first prepares its devices (their secure contexts) and says
 * so; only then does the coordinator fix the common start instant. Preparation can take
 * seconds for a large fleet with a certificate per device, and must not eat into the ramp.
 */

import { FleetbenchError } from '../errors.js';
import type { PreparationStats, PreparedMessage } from '../worker/protocol.js';
import type { RunningTask } from './pool.js';

/** The workers' preparation, added up: what the report shows under `preparation`. */
export interface PreparationSummary {
  /** Per-device secure contexts built, all workers. */
  contexts: number;
  /** Device certificates minted in memory, all workers (`identity.mint`). */
  minted: number;
  /** Wall time until the last worker was ready, ms. */
  wallMs: number;
  /** CPU the workers reported, ms (each counts its whole process: an upper bound). */
  cpuMs: number;
  /** Devices whose identity could not be prepared. */
  failed: number;
  /** The first few of those. */
  problems: string[];
}

/** Collects the workers' `prepared` messages. */
export class PreparationBarrier {
  private readonly stats = new Map<number, PreparationStats>();
  private readonly startedNs = process.hrtime.bigint();
  private wake: (() => void) | null = null;

  constructor(private readonly workers: number) {}

  accept(m: PreparedMessage): void {
    this.stats.set(m.workerId, m.preparation);
    if (this.stats.size >= this.workers) this.wake?.();
  }

  /**
   * Resolves when every worker has prepared, or earlier when one of them ended (it failed) or
   * `signal` aborted: the caller then starts the rest, which stop as they are told.
   */
  async wait(tasks: RunningTask[], signal?: AbortSignal): Promise<PreparationSummary> {
    if (this.stats.size < this.workers && signal?.aborted !== true) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        signal?.addEventListener('abort', () => resolve(), { once: true });
        for (const t of tasks)
          t.result.then(
            () => resolve(),
            () => resolve(),
          );
      });
    }
    const all = [...this.stats.values()];
    return {
      contexts: all.reduce((n, s) => n + s.contexts, 0),
      minted: all.reduce((n, s) => n + s.minted, 0),
      wallMs: Number(process.hrtime.bigint() - this.startedNs) / 1e6,
      cpuMs: all.reduce((n, s) => n + s.cpuMs, 0),
      failed: all.reduce((n, s) => n + s.failed, 0),
      problems: all.flatMap((s) => s.problems).slice(0, 10),
    };
  }
}

/** The setup error for devices whose certificate or key would not load. */
export function preparationError(p: PreparationSummary): FleetbenchError {
  return new FleetbenchError(
    'E_CERTS',
    `${p.failed} device${p.failed === 1 ? '' : 's'} could not load their certificate and key; ` +
      'no device was connected',
    {
      problems: p.problems,
      hint:
        'fix or regenerate the files the manifest names ' +
        '(`fleetbench certs init --devices N --force` writes a new set)',
    },
  );
}

/** One line for the log: what the preparation did and what it cost, before the start. */
export function describePreparation(p: PreparationSummary, workers: number): string {
  const minted = p.minted > 0 ? `, ${p.minted} of them minted in memory` : '';
  return (
    `prepared ${p.contexts} per-device identities${minted} in ${(p.wallMs / 1000).toFixed(1)} s ` +
    `on ${workers} workers (${(p.cpuMs / 1000).toFixed(1)} s CPU), before the start`
  );
}
