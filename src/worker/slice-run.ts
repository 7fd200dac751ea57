/**
 * One worker's slice of the fleet, run along the plan's phases: each phase in turn (ramp,
 * steady, hold, storm, ramp-down) until its duration or end condition, then drain and
 * disconnect. Timers are coalesced into one tick per worker. It never prints: it sends
 * snapshots and stage changes over its port, and returns its totals and per-phase metrics.
 *
 * Phases run on each worker's own clock: a phase with an end condition (a ramp's last
 * connect, a storm's last reconnect) ends in each worker when its own devices are done, so
 * workers may enter the next phase a little apart.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import type { MessagePort } from 'node:worker_threads';
import type { FleetIdentities } from '../fleet/fleet-identities.js';
import { mergeSnapshots } from '../metrics/merge.js';
import { MetricsRecorder } from '../metrics/recorder.js';
import type { MetricsSnapshot } from '../metrics/types.js';
import type { PhasePlan, Plan } from '../scenario/plan.js';
import { rampOffsetMs, workerShare } from '../scenario/phases.js';
import { startAlignedTicker } from './aligned-ticker.js';
import { RunBoard } from './board.js';
import { FailureLog } from './failures.js';
import {
  runSteps,
  type CoordinatorMessage,
  type PhaseResult,
  type RunStage,
  type WorkerResult,
  type WorkerTask,
} from './protocol.js';
import { SelfMonitor } from './self-monitor.js';
import type { Device } from './slice-device.js';
import { SliceDevices } from './slice-devices.js';

/** The worker's tick: due connects start and due publishes go out at this granularity. */
const TICK_MS = 5;
/**
 * The longest tick of a hold without traffic, ms. Waking every 5 ms to find nothing due was
 * most of a holding worker's CPU (a V8 profile of 5,000 devices held: 2% of a core).
 */
const IDLE_TICK_MS = 50;

export class SliceRun {
  private readonly plan: Plan;
  private readonly port: MessagePort;
  private readonly startNs: bigint;
  private readonly recorder: MetricsRecorder;
  private readonly failures = new FailureLog();
  private readonly fleet: SliceDevices;
  private readonly monitor: SelfMonitor;
  private readonly steps: RunStage[];
  private stage: RunStage;
  private stoppedBy: string | null = null;
  /** Index of the phase whose metrics the intervals go to. */
  private phaseIndex = 0;
  private phaseStartNs: bigint;
  private phaseMetrics: MetricsSnapshot | null = null;
  private readonly phaseResults: PhaseResult[] = [];

  /**
   * @param startNs The common start instant the coordinator sent once every worker prepared.
   * @param identities This worker's devices' identities, prepared.
   */
  constructor(
    private readonly task: WorkerTask,
    startNs: bigint,
    identities: FleetIdentities,
  ) {
    this.plan = task.plan;
    this.port = task.port;
    this.startNs = startNs;
    this.phaseStartNs = this.startNs;
    this.recorder = new MetricsRecorder({ startNs: this.startNs });
    this.monitor = new SelfMonitor(task.workerId);
    const nowMs = () => this.nowMs();
    this.fleet = new SliceDevices(task, startNs, identities, this.recorder, this.failures, nowMs);
    this.steps = runSteps(this.plan);
    this.stage = this.steps[0] ?? 'drain';
  }

  /** Milliseconds since the common start instant. */
  private nowMs(): number {
    return Number(process.hrtime.bigint() - this.startNs) / 1e6;
  }

  private setStage(stage: RunStage): void {
    this.stage = stage;
    const step = this.steps.indexOf(stage);
    this.port.postMessage({ type: 'stage', workerId: this.task.workerId, step, stage });
  }

  /** Runs the slice to the end (or until stopped) and returns its totals. */
  async execute(): Promise<WorkerResult> {
    this.port.on('message', (m: CoordinatorMessage) => {
      if (m.type === 'stop') this.stoppedBy ??= m.reason;
    });
    // Snapshots on the run's common grid, so every worker's intervals line up in the time series.
    const snapshots = startAlignedTicker(this.startNs, this.task.snapshotIntervalMs, () =>
      this.sendSnapshot(),
    );
    try {
      const wait = -this.nowMs();
      if (wait > 0) await sleep(wait);
      for (let i = 0; i < this.plan.phases.length && this.stoppedBy === null; i++) {
        await this.runPhase(i);
      }
      this.setStage('drain');
      await this.drain();
      await this.meetOtherWorkers();
      // What has not arrived by now is lost (interrupted, if the run was stopped early); the
      // disconnect below must not excuse it.
      this.fleet.traffic?.closeLedgers(this.fleet.devices, this.stoppedBy !== null);
      this.setStage('disconnect');
      await this.fleet.disconnectAll();
      await this.settleLateConnects();
      this.setStage('done');
    } finally {
      snapshots.stop();
    }
    this.closePhase();
    this.monitor.stop();
    const result: WorkerResult = {
      workerId: this.task.workerId,
      total: this.recorder.total(process.hrtime.bigint()),
      phases: this.phaseResults,
      failures: this.failures.list(),
      stoppedBy: this.stoppedBy,
      stage: this.stage,
    };
    this.port.close();
    this.recorder.destroy();
    return result;
  }

  /** Closes the open interval, sends it, and adds it to the current phase's metrics. */
  private sendSnapshot(): void {
    this.recorder.gauge('devices.connected', this.fleet.connectedCount);
    const snapshot = this.recorder.takeInterval(process.hrtime.bigint());
    const failures = this.failures.list();
    const health = this.monitor.sample();
    const { workerId } = this.task;
    this.port.postMessage({ type: 'snapshot', workerId, snapshot, failures, health });
    this.phaseMetrics =
      this.phaseMetrics === null
        ? snapshot
        : mergeSnapshots([this.phaseMetrics, snapshot], { gauges: 'latest' });
  }

  /** Ends the current phase's metrics at this instant (closing the open interval). */
  private closePhase(): void {
    this.sendSnapshot();
    const endNs = process.hrtime.bigint();
    const metrics = this.phaseMetrics as MetricsSnapshot;
    metrics.startNs = String(this.phaseStartNs);
    metrics.endNs = String(endNs);
    this.phaseResults.push({ index: this.phaseIndex, metrics });
    this.phaseMetrics = null;
    this.phaseStartNs = endNs;
  }

  private async runPhase(index: number): Promise<void> {
    const phase = this.plan.phases[index];
    if (phase === undefined) return;
    if (index > 0) this.closePhase();
    this.phaseIndex = index;
    this.setStage(phase.name);
    const startMs = this.nowMs();
    this.setPublishing(phase, startMs);
    const done = this.beginPhase(phase, startMs);
    // A tick that comes late (a loaded machine) must not send what is due after a timed
    // phase's end: the phase's traffic is what its duration says.
    const timed = phase.type === 'steady' || phase.type === 'hold';
    const endMs = timed ? startMs + phase.durationSec * 1000 : Infinity;
    while (this.stoppedBy === null) {
      const now = this.nowMs();
      this.fleet.startDueConnects(now);
      this.fleet.traffic?.advance(Math.min(now, endMs));
      if (done(now)) return;
      await sleep(phase.type === 'hold' ? this.holdTickMs(now, endMs) : TICK_MS);
    }
  }

  /** The next tick of a hold: 5 ms while publishing, else until the next connect or the end. */
  private holdTickMs(nowMs: number, endMs: number): number {
    if (this.fleet.traffic?.publishing === true) return TICK_MS;
    const next = Math.min(this.fleet.connects.peekMs(), endMs);
    return Math.min(IDLE_TICK_MS, Math.max(TICK_MS, next - nowMs));
  }

  private setPublishing(phase: PhasePlan, nowMs: number): void {
    if (phase.traffic) this.fleet.traffic?.resume(nowMs);
    else this.fleet.traffic?.pause();
  }

  /** Starts a phase's actions; returns its end condition. */
  private beginPhase(phase: PhasePlan, startMs: number): (nowMs: number) => boolean {
    const { fleet } = this;
    switch (phase.type) {
      case 'steady':
      case 'hold': {
        const endMs = startMs + phase.durationSec * 1000;
        return (now) => now >= endMs;
      }
      case 'ramp': {
        const mine = this.mine(phase.devices, (d) => d.state === 'offline');
        mine.forEach((d, j) => {
          const rank = j * this.task.lanes + this.task.lane;
          fleet.planConnect(d, startMs + rampOffsetMs(phase, rank));
        });
        return () => fleet.rampPending === 0;
      }
      case 'storm': {
        const only = phase.groups;
        const online = fleet
          .onlineDevices()
          .filter((d) => only === null || only.includes(d.group.name));
        const drop = online.slice(0, Math.round(phase.share * online.length));
        for (const d of drop) fleet.drop(d);
        const endMs = startMs + phase.maxDurationSec * 1000;
        return (now) => fleet.stormWaiting.size === 0 || now >= endMs;
      }
      case 'ramp-down':
        return this.beginRampDown(phase, startMs);
    }
  }

  private beginRampDown(
    phase: Extract<PhasePlan, { type: 'ramp-down' }>,
    startMs: number,
  ): (nowMs: number) => boolean {
    const mine = this.mine(phase.devices, (d) => d.state === 'online');
    let next = 0;
    let ending = 0;
    return (now) => {
      for (; next < mine.length; next++) {
        const rank = next * this.task.lanes + this.task.lane;
        if (startMs + (rank / phase.ratePerSec) * 1000 > now) break;
        const device = mine[next] as Device;
        ending++;
        void this.fleet.disconnect(device).finally(() => ending--);
      }
      return next >= mine.length && ending === 0;
    };
  }

  /** This worker's share of a fleet-wide count, taken in ordinal order from those that fit. */
  private mine(total: number, fits: (d: Device) => boolean): Device[] {
    const n = workerShare(total, this.task.lane, this.task.lanes);
    return this.fleet.devices.filter(fits).slice(0, n);
  }

  /** Waits for messages in flight and connects under way, up to `drainMs`. */
  private async drain(): Promise<void> {
    const { fleet } = this;
    const traffic = fleet.traffic;
    const endMs = this.nowMs() + (this.stoppedBy === null ? this.plan.drainMs : 500);
    const busy = () => fleet.inFlight > 0 || (traffic !== null && traffic.busy);
    while (busy() && this.nowMs() < endMs) {
      await sleep(TICK_MS);
    }
  }

  /**
   * With monitors or controllers, waits until every worker has drained before any closes its
   * ledgers and disconnects: a worker done early would otherwise take its backend clients
   * away while the others still publish and drop devices. At most `drainMs` + 10 s (a worker
   * may have died); not at all once the run is stopped.
   */
  private async meetOtherWorkers(): Promise<void> {
    const board = new RunBoard(this.task.board);
    if (!board.used) return;
    board.drained();
    const endMs = this.nowMs() + this.plan.drainMs + 10_000;
    while (
      this.stoppedBy === null &&
      board.drainedCount < this.task.workers &&
      this.nowMs() < endMs
    ) {
      await sleep(TICK_MS);
    }
  }

  /**
   * Connects still under way finish (and are disconnected) or time out; a stopped run waits
   * at most 2 s for them, so that a Ctrl-C ends within seconds even against a stalled broker.
   */
  private async settleLateConnects(): Promise<void> {
    const waitMs = this.stoppedBy === null ? this.plan.mqtt.connectTimeoutMs + 1000 : 2000;
    const endMs = this.nowMs() + waitMs;
    while (this.fleet.inFlight > 0 && this.nowMs() < endMs) await sleep(TICK_MS);
  }
}
