/**
 * The plan: a validated scenario with every file resolved, the target parsed and all units
 * fixed. It is plain data, so a slice of it can be sent to a worker thread as it is.
 */

import type { Scenario } from './schema.js';

/** Where the load goes. */
export interface TargetPlan {
  /** `embedded` when fleetbench starts its own broker; the URL is filled in at start. */
  kind: 'embedded' | 'url';
  protocol: 'mqtts' | 'mqtt';
  host: string;
  port: number;
}

/** Identity files resolved to absolute paths, and the identity templates. */
export interface IdentityPlan {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** True when the files are the default layout that `certs init` writes. */
  defaultFiles: boolean;
  deviceId: string;
  clientId: string;
  username: string;
  firstIndex: number;
}

/** A group of devices: a contiguous range of the fleet's connect order. */
export interface GroupPlan {
  name: string;
  /** Position of its first device in the fleet's connect order, 0-based. */
  firstOrdinal: number;
  devices: number;
  identity: IdentityPlan;
  expect: 'accept' | 'refuse';
}

export interface Plan {
  /** The scenario file, absolute; `null` for a scenario built in code. */
  file: string | null;
  /** SHA-256 of the file's bytes, hex; `null` for a scenario built in code. */
  sha256: string | null;
  name: string;
  description: string | undefined;
  target: TargetPlan;
  devices: number;
  workers: number;
  /** The top-level identity (the default of every group). */
  identity: IdentityPlan;
  /** The groups, in connect order; together exactly `devices` devices. */
  groups: GroupPlan[];
  tls: Scenario['tls'];
  mqtt: Scenario['mqtt'];
  connect: Scenario['connect'];
  traffic: Scenario['traffic'];
  durationSec: number;
  drainMs: number;
}

/** Milliseconds from the run's start to the last device's planned connect. */
export function rampDurationMs(plan: Plan): number {
  return ((plan.devices - 1) / plan.connect.ratePerSec) * 1000;
}

/** One line per stage of the run, printed before it starts. */
export function describePlan(plan: Plan): string[] {
  const t = plan.target;
  const where =
    t.kind === 'embedded' ? 'embedded broker on loopback' : `${t.protocol}://${t.host}:${t.port}`;
  const rampSec = (rampDurationMs(plan) / 1000).toFixed(1);
  const lines = [
    `scenario ${plan.name}: ${plan.devices} devices, ${plan.workers} workers, target ${where}`,
    ...plan.groups.map(
      (g) =>
        `  group ${g.name}: ${g.devices} devices, certificate ${g.identity.certFile}` +
        (g.expect === 'refuse' ? ' (expected to be refused)' : ''),
    ),
    `  ramp: connect ${plan.devices} devices at ${plan.connect.ratePerSec}/s ` +
      `(~${rampSec} s, at most ${plan.connect.maxInFlight} in flight)`,
  ];
  if (plan.traffic !== false) {
    const tr = plan.traffic;
    lines.push(
      `  traffic: each device publishes ${tr.payloadBytes} B at QoS ${tr.qos} every ` +
        `${tr.intervalMs} ms to ${tr.topic} and receives it back, for ${plan.durationSec} s`,
      `  drain: ${plan.drainMs} ms, then disconnect`,
    );
  } else {
    lines.push(`  hold: ${plan.durationSec} s connected, then disconnect`);
  }
  return lines;
}
