/**
 * The kernel's TCP counters per phase: read when the run starts and when the first worker
 * enters each later step, so a phase's listen overflows and SYN retransmits are told apart
 * from the run's (a storm's SYN drops from the ramp's).
 */

import type { WorkerMessage } from '../worker/protocol.js';
import { readTcpCounters, tcpCountersDelta, type TcpCounters } from './kernel-counters.js';

export class PhaseKernelCounters {
  /** Readings by run step (phase index, then drain, ...): when its first worker entered it. */
  private readonly readings = new Map<number, Promise<TcpCounters | null>>();

  /** @param enabled false for targets off loopback, where the counters say nothing */
  constructor(private readonly enabled: boolean) {
    if (enabled) this.readings.set(0, readTcpCounters());
  }

  /** Follows the workers' stage messages. */
  accept(m: WorkerMessage): void {
    if (!this.enabled || m.type !== 'stage' || this.readings.has(m.step)) return;
    this.readings.set(m.step, readTcpCounters());
  }

  /**
   * Each phase's counters: from the first worker entering it to the first entering the next;
   * the last phase's run to now (its drain and disconnect, as its metrics do). Null for a phase
   * never entered; an empty list when disabled.
   */
  async perPhase(phases: number): Promise<(TcpCounters | null)[]> {
    if (!this.enabled) return [];
    const now = readTcpCounters();
    const out: (TcpCounters | null)[] = [];
    for (let i = 0; i < phases; i++) {
      const from = await (this.readings.get(i) ?? null);
      const to = await (i === phases - 1 ? now : (this.readings.get(i + 1) ?? now));
      out.push(from === null || to === null ? null : tcpCountersDelta(from, to));
    }
    return out;
  }
}
