/**
 * Checks before any device connects, each failing with one clear error instead of a report
 * full of identical failures: enough open files for the fleet, and a target that answers,
 * speaks TLS and presents a certificate the configured CA vouches for.
 */

import { readFile } from 'node:fs/promises';
import { groupConnectOptions } from '../client/connect-options.js';
import { probeTarget, type ProbeOutcome } from '../client/probe.js';
import { FleetbenchError } from '../errors.js';
import type { Plan } from '../scenario/plan.js';
import type { IdentityMaterial } from '../worker/protocol.js';

/** Open files fleetbench needs besides the device sockets (threads, files, pipes), estimated. */
export const OPEN_FILES_MARGIN = 100;

/** The soft and hard open-file limits of this process, or null where they cannot be read. */
export interface OpenFileLimit {
  soft: number;
  hard: number;
}

/** Reads the open-file limit from /proc/self/limits (Linux); null elsewhere. */
export async function readOpenFileLimit(): Promise<OpenFileLimit | null> {
  const text = await readFile('/proc/self/limits', 'utf8').catch(() => null);
  const m = text === null ? null : /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  if (m === null) return null;
  const value = (v: string | undefined) => (v === 'unlimited' ? Infinity : Number(v));
  return { soft: value(m[1]), hard: value(m[2]) };
}

/**
 * Fails when the fleet cannot fit in this process's open-file limit: one socket per device,
 * two with the embedded broker (its side of each connection is in this process too).
 *
 * @throws FleetbenchError `E_LIMIT` with the numbers and the fix.
 */
export function checkOpenFiles(plan: Plan, limit: OpenFileLimit | null): void {
  if (limit === null) return;
  const perDevice = plan.target.kind === 'embedded' ? 2 : 1;
  const devices = plan.shard.devices;
  const needed = devices * perDevice + OPEN_FILES_MARGIN;
  if (needed <= limit.soft) return;
  const sockets =
    perDevice === 2
      ? `${devices} device sockets, as many on the embedded broker's side`
      : `${devices} device sockets`;
  const raise =
    needed <= limit.hard
      ? `raise the soft limit: ulimit -n ${limit.hard}`
      : `raise the hard limit (${limit.hard}; limits.conf, or LimitNOFILE= for a service)`;
  throw new FleetbenchError(
    'E_LIMIT',
    `${devices} devices${plan.shard.count > 1 ? ' (this shard)' : ''} need about ${needed} ` +
      `open files (${sockets} and ` +
      `~${OPEN_FILES_MARGIN} for fleetbench) but this process may open ${limit.soft} ` +
      '(ulimit -n)',
    {
      hint:
        `${raise}, or split the fleet across processes: --local-shards ` +
        `${Math.ceil(devices / Math.max(1, limit.soft - OPEN_FILES_MARGIN))} on this machine, or ` +
        '--shard i/n on several machines (README "Sharded runs")' +
        (perDevice === 2 ? '; a separate broker also halves the need' : ''),
    },
  );
}

/**
 * Probes a URL target with the identity of the first group expected to be accepted (a plain
 * TCP connect when every group is expected to be refused).
 *
 * @throws FleetbenchError `E_TARGET` naming the target, what failed, and the fix.
 */
export async function preflightTarget(plan: Plan, identities: IdentityMaterial[]): Promise<void> {
  if (plan.target.kind !== 'url') return;
  const index = plan.groups.findIndex((g) => g.expect === 'accept');
  const options = groupConnectOptions(plan, identities[index]);
  const outcome = await probeTarget(options, {
    timeoutMs: plan.mqtt.connectTimeoutMs,
    tcpOnly: index < 0,
  });
  if (!outcome.ok) throw targetError(plan, outcome, index);
}

const CERT_CODE = /CERT|SELF_SIGNED|UNABLE_TO_|DEPTH_ZERO|ALTNAME/;
const ALERT_CODE = /ALERT/;
/** No TLS version, cipher, group or signature algorithm in common (an alert, or found locally). */
const TLS_PARAMETERS_CODE = new RegExp(
  [
    'PROTOCOL_VERSION',
    'UNSUPPORTED_PROTOCOL',
    'NO_PROTOCOLS_AVAILABLE',
    'HANDSHAKE_FAILURE',
    'INSUFFICIENT_SECURITY',
    'NO_SHARED_',
    'NO_CIPHERS_AVAILABLE',
    'NO_SUITABLE_',
  ].join('|'),
);

function targetError(
  plan: Plan,
  outcome: Extract<ProbeOutcome, { ok: false }>,
  groupIndex: number,
): FleetbenchError {
  const t = plan.target;
  const where = `${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
  const file = plan.file === null ? 'the scenario' : plan.file;
  const setting = `target (${file}, or --target)`;
  const code = outcome.message.includes(outcome.code) ? '' : ` (${outcome.code})`;
  const why = `${outcome.message}${code}`;
  const error = (message: string, hint: string) =>
    new FleetbenchError('E_TARGET', message, { hint });

  if (outcome.stage === 'dns') {
    return error(
      `cannot resolve the target host "${t.host}" (${outcome.code})`,
      `check the host name in ${setting}`,
    );
  }
  if (outcome.stage === 'tcp') {
    return outcome.code === 'ECONNREFUSED'
      ? error(
          `nothing accepts connections at ${where} (ECONNREFUSED)`,
          `start the broker, or fix the host and port in ${setting}`,
        )
      : error(
          `cannot reach ${where}: ${why}`,
          `check the host and port in ${setting}, and any firewall on the way`,
        );
  }
  if (outcome.stage === 'transport' || outcome.stage === 'websocket') {
    return transportError(plan, outcome, where, setting);
  }
  const group = plan.groups[groupIndex];
  const identity =
    plan.groups.length > 1 || group?.name !== 'fleet'
      ? `groups[${groupIndex}].identity`
      : 'identity';
  if (CERT_CODE.test(outcome.code)) {
    return error(
      `the broker's certificate at ${where} is not trusted: ${why}`,
      `${identity}.ca (${group?.identity.caFile ?? 'the CA file'}) must hold the CA that ` +
        'signed the broker certificate; for a host-name mismatch set tls.servername',
    );
  }
  if (TLS_PARAMETERS_CODE.test(outcome.code)) {
    return error(
      `the broker at ${where} and this scenario have no TLS parameters in common: ${why}`,
      `compare the broker's TLS versions and ciphers with tls.minVersion / tls.maxVersion ` +
        `(${plan.tls.minVersion}-${plan.tls.maxVersion}), tls.ciphers (TLS 1.2), ` +
        `tls.ciphersuites (TLS 1.3), tls.ecdhCurve and tls.sigalgs in ${file}; ` +
        'a broker that gets no client certificate it accepts may also answer handshake failure',
    );
  }
  if (ALERT_CODE.test(outcome.code)) {
    return error(
      `the broker at ${where} refused the TLS handshake: ${why}`,
      `the broker does not accept the device certificate ${identity}.cert ` +
        `(${group?.identity.certFile ?? 'the certificate file'}): check it is signed by a CA ` +
        'the broker trusts, or mark the group expect: refuse',
    );
  }
  const closed =
    outcome.code === 'ECONNRESET'
      ? 'the connection was closed during the TLS handshake (ECONNRESET)'
      : why;
  return error(
    `${where} does not speak TLS: ${closed}`,
    `is it a plain MQTT port (usually 1883)? Give the broker's TLS port (usually 8883) in ` +
      `${setting}; mqtt:// (or ws://) connects without TLS`,
  );
}

/** A port of another transport, or a WebSocket upgrade the broker refused. */
function transportError(
  plan: Plan,
  outcome: Extract<ProbeOutcome, { ok: false }>,
  where: string,
  setting: string,
): FleetbenchError {
  const t = plan.target;
  const error = (message: string, hint: string) =>
    new FleetbenchError('E_TARGET', message, { hint });
  if (outcome.code === 'SPEAKS_TLS') {
    const scheme = t.protocol === 'ws' ? 'wss' : 'mqtts';
    return error(
      `${where} speaks TLS, but the target is ${t.protocol}:// (no TLS)`,
      `connect with ${scheme}://${where}${t.path ?? ''} in ${setting}, or give the broker's ` +
        'plain port (usually 1883) to measure without TLS',
    );
  }
  if (outcome.code === 'SPEAKS_HTTP') {
    return error(
      `${where} is a WebSocket listener (it answered in HTTP), but the target is ` +
        `${t.protocol}:// (MQTT straight over TLS)`,
      `connect with wss://${where}/mqtt in ${setting} (or set transport: wss), or give the ` +
        "broker's MQTT-over-TLS port (usually 8883)",
    );
  }
  const why = outcome.message;
  return error(
    `the WebSocket upgrade at ${t.protocol}://${where}${t.path ?? ''} failed: ${why}`,
    `check the path (websocket.path or the URL's; /mqtt on EMQX, HiveMQ and Mosquitto) and ` +
      `that the port is the broker's WebSocket listener in ${setting}; a port of MQTT ` +
      `straight over TLS takes mqtts://`,
  );
}
