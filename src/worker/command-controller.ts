/**
 * One controller client of a worker, kept across its reconnects: the receivers it commands (its
 * share of its receiver groups: receiver k to controller k mod C), its command schedule, and
 * one stream of commands per receiver.
 */

import { StreamLedger } from '../metrics/stream-ledger.js';
import type { GroupPlan, Plan } from '../scenario/plan.js';
import { RunBoard } from './board.js';
import { OpenSchedule } from './open-schedule.js';
import type { Device } from './slice-device.js';

/** A controller's commands lagging more than this behind schedule are skipped, ms. */
const MAX_LAG_MS = 5000;

/** One controller→receiver stream: its ledger and the receiver's board word at each send. */
export interface CommandStream {
  ledger: StreamLedger;
  words: Map<number, number>;
}

export class CommandController {
  /** Ordinals of the receivers it commands. */
  readonly receivers: number[];
  readonly schedule: OpenSchedule;
  /** Receiver ordinal → the stream of commands to it. */
  readonly streams = new Map<number, CommandStream>();
  /** Subscribed to its responses on the current connection. */
  online = false;
  /** The lower QoS of its commands and its receivers' responses: what accounting may expect. */
  readonly qos: 0 | 1 | 2;
  private cursor = 0;

  /** @param lateAfterMs a response later than this after its command counts as late, ms */
  constructor(
    readonly device: Device,
    plan: Plan,
    private readonly lateAfterMs: number,
  ) {
    const g = device.group.plan;
    const rank = device.ordinal - g.firstOrdinal;
    const groups = g.traffic?.controller?.receivers ?? [];
    const all = groups.flatMap((gi) => ordinalsOf(plan.groups[gi]));
    this.receivers = all.filter((_, k) => k % g.devices === rank);
    const intervalMs = 1000 / (g.traffic?.controller?.ratePerSec ?? 10);
    this.schedule = new OpenSchedule(intervalMs, (rank / g.devices) * intervalMs, MAX_LAG_MS);
    const qos = Math.min(g.traffic?.qos ?? 0, ...groups.map((gi) => groupQos(plan, gi)));
    this.qos = qos as 0 | 1 | 2;
  }

  /** The next subscribed receiver, as the board says, or undefined when none is. */
  nextReceiver(board: RunBoard): { ordinal: number; word: number } | undefined {
    const n = this.receivers.length;
    for (let tries = 0; tries < n; tries++) {
      const ordinal = this.receivers[this.cursor] as number;
      this.cursor = (this.cursor + 1) % n;
      const word = board.read(ordinal);
      if (RunBoard.isOnline(word)) return { ordinal, word };
    }
    return undefined;
  }

  /** The stream of commands to the receiver with fleet ordinal `receiver`. */
  streamOf(receiver: number): CommandStream {
    let s = this.streams.get(receiver);
    if (s === undefined) {
      s = { ledger: new StreamLedger(this.lateAfterMs), words: new Map() };
      this.streams.set(receiver, s);
    }
    return s;
  }
}

/** The traffic QoS of group `group` (index in the plan), 0 when it has none. */
export function groupQos(plan: Plan, group: number): 0 | 1 | 2 {
  return plan.groups[group]?.traffic?.qos ?? 0;
}

/** The fleet ordinals of a group's devices. */
function ordinalsOf(g: GroupPlan | undefined): number[] {
  return g === undefined ? [] : Array.from({ length: g.devices }, (_, k) => g.firstOrdinal + k);
}
