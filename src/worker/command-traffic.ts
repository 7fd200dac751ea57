/**
 * Commands: controller clients publish commands to receiver devices, each receiver answers on
 * its response topic, and the controller times the whole round trip (`commandRoundtrip`).
 * Receivers are split among a group's controllers (receiver k to controller k mod C); a
 * controller commands only receivers that are subscribed, as the shared board says, wherever
 * their worker runs. Every command is accounted for at its controller by sequence number, per
 * receiver: `commands.<kind>` and `commands.qos<q>.<kind>` (q the lower QoS of the two legs),
 * with the same kinds and identity as `messages.`. A controller's own state is in
 * command-controller.ts, the topics and identities of commands in command-topics.ts.
 */

import type { DeviceConnection } from '../client/device-connection.js';
import type { FleetIdentities } from '../fleet/fleet-identities.js';
import type { MetricsRecorder } from '../metrics/recorder.js';
import type { AccountingKind } from '../metrics/stream-ledger.js';
import { COMMAND_HEADER_BYTES } from '../scenario/group-behaviour.js';
import type { Plan } from '../scenario/plan.js';
import { RunBoard } from './board.js';
import { CommandController, groupQos } from './command-controller.js';
import { CommandTopics } from './command-topics.js';
import type { FailureLog } from './failures.js';
import { headerOf, jsonValues } from './payload.js';
import { valuesOf, type Device } from './slice-device.js';
import { subscribeCounted } from './subscribe.js';

type Kind = AccountingKind | 'failed';

export class CommandTraffic {
  /** Commands and responses published and not acknowledged yet. */
  unacked = 0;
  /** Commands sent whose response has not come yet. */
  outstanding = 0;
  private readonly controllers = new Map<Device, CommandController>();
  private readonly board: RunBoard;
  private readonly topics: CommandTopics;
  private paused = true;

  constructor(
    private readonly plan: Plan,
    board: SharedArrayBuffer,
    identities: FleetIdentities,
    private readonly metrics: { recorder: MetricsRecorder; failures: FailureLog },
    private readonly lateAfterMs: number,
  ) {
    this.board = new RunBoard(board);
    this.topics = new CommandTopics(plan, identities);
  }

  private get recorder(): MetricsRecorder {
    return this.metrics.recorder;
  }

  private count(kind: Kind, qos: number, n = 1): void {
    this.recorder.count(`commands.${kind}`, n);
    this.recorder.count(`commands.qos${qos}.${kind}`, n);
  }

  /** Commands go out (a phase with traffic). */
  resume(nowMs: number): void {
    this.paused = false;
    for (const run of this.controllers.values()) if (run.online) run.schedule.resume(nowMs);
  }

  /** Commands stop (a phase without traffic). */
  pause(): void {
    this.paused = true;
    for (const run of this.controllers.values()) run.schedule.pause();
  }

  /** Sends the commands due by `nowMs`. */
  advance(nowMs: number): void {
    if (this.paused) return;
    for (const run of this.controllers.values()) {
      if (!run.online) continue;
      run.schedule.advance(
        nowMs,
        () => this.send(run),
        (n) => this.recorder.count('commands.skipped', n),
      );
    }
  }

  /** A controller connected: it subscribes to its responses, then commands on its schedule. */
  async startController(
    device: Device,
    conn: DeviceConnection,
    nowMs: () => number,
  ): Promise<void> {
    const run = this.controllers.get(device) ?? this.newController(device);
    conn.onMessage((_topic, payload, retained) => this.response(run, payload, retained));
    const filters = new Map<string, 0 | 1 | 2>();
    for (const gi of device.group.plan.traffic?.controller?.receivers ?? []) {
      const filter = this.topics.responseFilter(gi, device.identity.clientId);
      if (filter === undefined) continue;
      const qos = Math.max(filters.get(filter) ?? 0, groupQos(this.plan, gi)) as 0 | 1 | 2;
      filters.set(filter, qos);
    }
    for (const [filter, qos] of filters) {
      const ok = await subscribeCounted(
        conn,
        [filter],
        qos,
        device.identity.deviceId,
        this.metrics,
      );
      if (!ok || device.conn !== conn) return;
    }
    run.online = true;
    if (!this.paused) run.schedule.resume(nowMs());
  }

  private newController(device: Device): CommandController {
    const run = new CommandController(device, this.plan, this.lateAfterMs);
    this.controllers.set(device, run);
    return run;
  }

  /** One command of a controller to its next subscribed receiver. */
  private send(run: CommandController): void {
    const { device } = run;
    const conn = device.conn;
    if (conn === null) return;
    const receiver = run.nextReceiver(this.board);
    if (receiver === undefined) {
      this.recorder.count('commands.noReceiver');
      return;
    }
    const group = device.group;
    const seq = device.seq++ >>> 0;
    const header = group.payload.header(COMMAND_HEADER_BYTES);
    header.writeUInt32BE(seq, 0);
    header.writeUInt32BE(receiver.ordinal, 4);
    header.writeBigUInt64BE(process.hrtime.bigint(), 8);
    header.writeUInt32BE(device.ordinal, 16);
    const payload = group.payload.finish(header, () =>
      jsonValues({ ...valuesOf(device), seq, ts: Date.now() }),
    );
    const stream = run.streamOf(receiver.ordinal);
    stream.ledger.sent(seq);
    stream.words.set(seq, receiver.word);
    this.outstanding++;
    this.count('published', run.qos);
    this.publish(device, conn, this.topics.command(receiver.ordinal), payload, (err) => {
      if (err) {
        this.count('failed', run.qos);
        if (stream.ledger.failed(seq)) this.outstanding--;
        stream.words.delete(seq);
        return;
      }
      stream.ledger.completed(seq);
      if ((group.plan.traffic?.qos ?? 0) > 0) this.recorder.count('commands.acked');
    });
  }

  /**
   * Publishes at the device's group QoS, counted as unacknowledged until its PUBACK/PUBCOMP;
   * `done` does not run for a connection written off meanwhile.
   */
  private publish(
    device: Device,
    conn: DeviceConnection,
    topic: string,
    payload: Buffer,
    done: (err?: Error) => void,
  ): void {
    const qos = device.group.plan.traffic?.qos ?? 0;
    if (qos > 0) {
      device.unacked++;
      this.unacked++;
    }
    const gen = device.gen;
    const settled = (err?: Error) => {
      if (device.gen !== gen) return;
      if (qos > 0) {
        device.unacked--;
        this.unacked--;
      }
      done(err);
    };
    conn.publish(topic, payload, qos, settled, device.group.extras);
  }

  /** A response reached a controller: the command's round trip is complete. */
  private response(run: CommandController, payload: Buffer, retained: boolean): void {
    const now = process.hrtime.bigint();
    if (retained) {
      this.recorder.count('commands.retained');
      return;
    }
    const h = headerOf(payload);
    // A response to another controller that shares the same filter is not ours to count.
    if (h.length >= COMMAND_HEADER_BYTES && h.readUInt32BE(16) !== run.device.ordinal) return;
    this.count('received', run.qos);
    const stream = h.length < COMMAND_HEADER_BYTES ? undefined : run.streams.get(h.readUInt32BE(4));
    if (stream === undefined) {
      this.count('unmatched', run.qos);
      return;
    }
    const seq = h.readUInt32BE(0);
    const latencyUs = Number(now - h.readBigUInt64BE(8)) / 1000;
    this.recorder.record('commandRoundtrip', latencyUs);
    const arrival = stream.ledger.received(seq, latencyUs / 1000);
    if (arrival.first) {
      this.outstanding--;
      stream.words.delete(seq);
    }
    if (arrival.duplicate) this.count('duplicated', run.qos);
    if (arrival.unknown) this.count('unmatched', run.qos);
    if (arrival.outOfOrder) this.count('outOfOrder', run.qos);
    if (arrival.late) this.count('late', run.qos);
  }

  /** A receiver connected: it subscribes to its commands, then the board says it is online. */
  async startReceiver(device: Device, conn: DeviceConnection): Promise<void> {
    conn.onMessage((_topic, payload, retained) => this.command(device, payload, retained));
    const qos = device.group.plan.traffic?.qos ?? 0;
    const topic = this.topics.command(device.ordinal);
    const ok = await subscribeCounted(conn, [topic], qos, device.identity.deviceId, this.metrics);
    if (ok && device.conn === conn) this.board.online(device.ordinal);
  }

  /** A command reached its receiver: it answers on its response topic at once. */
  private command(device: Device, payload: Buffer, retained: boolean): void {
    if (retained) {
      this.recorder.count('commands.retained');
      return;
    }
    const h = headerOf(payload);
    const conn = device.conn;
    if (h.length < COMMAND_HEADER_BYTES || h.readUInt32BE(4) !== device.ordinal) {
      this.recorder.count('commands.foreign');
      return;
    }
    this.recorder.count('commands.delivered');
    if (conn === null) return;
    const group = device.group;
    const out = group.payload.header(COMMAND_HEADER_BYTES);
    h.copy(out, 0, 0, COMMAND_HEADER_BYTES);
    const controllerId = this.topics.controllerId(h.readUInt32BE(16));
    const values = { ...valuesOf(device), controllerId };
    const reply = group.payload.finish(out, () =>
      jsonValues({ ...values, seq: h.readUInt32BE(0), ts: Date.now() }),
    );
    const topic = this.topics.response(group.index, values);
    this.publish(device, conn, topic, reply, (err) =>
      this.recorder.count(err ? 'commands.responseFailed' : 'commands.responded'),
    );
  }

  /**
   * A controller's or receiver's connection ended: its publishes in flight failed; a
   * controller's commands the broker took but whose response can no longer reach it are
   * interrupted; a receiver leaves the board.
   */
  writeOff(device: Device): void {
    device.gen++;
    this.unacked -= device.unacked;
    const run = this.controllers.get(device);
    if (run === undefined) {
      device.unacked = 0;
      if (device.group.plan.behaviour === 'commands') this.board.ended(device.ordinal);
      return;
    }
    run.online = false;
    run.schedule.pause();
    if (device.unacked > 0) this.count('failed', run.qos, device.unacked);
    device.unacked = 0;
    let interrupted = 0;
    for (const s of run.streams.values()) {
      this.outstanding -= s.ledger.pendingCount;
      interrupted += s.ledger.interrupt();
      s.words.clear();
    }
    if (interrupted > 0) this.count('interrupted', run.qos, interrupted);
  }

  /**
   * The run has drained: a command still unanswered is lost, or interrupted when its receiver
   * dropped since it was sent (or the run was stopped early).
   */
  close(stoppedEarly: boolean): void {
    for (const run of this.controllers.values()) {
      if (run.device.conn === null) continue;
      for (const [receiver, s] of run.streams) {
        this.outstanding -= s.ledger.pendingCount;
        const word = this.board.read(receiver);
        const r = s.ledger.settle((seq) => stoppedEarly || s.words.get(seq) !== word);
        s.words.clear();
        if (r.lost > 0) this.count('lost', run.qos, r.lost);
        if (r.interrupted > 0) this.count('interrupted', run.qos, r.interrupted);
      }
    }
  }
}
