/**
 * The scenario file's schema: every key, its unit and its default. Unknown keys are errors.
 * This is the one validator for scenario files and CLI overrides alike.
 */

import { z } from 'zod';
import { GroupBehaviourFields } from './group-schema.js';
import { PhaseSchema, ReconnectSchema } from './phase-schema.js';
import { CapacitySchema } from './capacity-schema.js';
import { TransportSchema, WebSocketSchema } from './transport-schema.js';

const positiveInt = () => z.int().positive();
const fileName = () => z.string().min(1);

const IDENTITY_DEFAULTS = {
  deviceId: 'device-{i:05}',
  clientId: '{deviceId}',
  username: '{deviceId}',
  firstIndex: 1,
  contexts: 'keep',
} as const;

/** Column names of a foreign device CSV; each names a column of its header line. */
const ColumnsSchema = z.strictObject({
  /** The device id (and certificate CN). Default `device_id`. */
  deviceId: z.string().min(1).optional(),
  /** MQTT client id. Default `client_id`; absent from the file: the `clientId` template. */
  clientId: z.string().min(1).optional(),
  /** MQTT username. Default `username`; absent from the file: the `username` template. */
  username: z.string().min(1).optional(),
  /** Certificate file (PEM). Default `cert`. */
  cert: z.string().min(1).optional(),
  /** Private key file (PEM). Default `key`. */
  key: z.string().min(1).optional(),
  /** PKCS#12 file, instead of `cert` and `key` in a row. Default `pkcs12`. */
  pkcs12: z.string().min(1).optional(),
});

/** Run-time minting from a CA key. */
const MintSchema = z.strictObject({
  /** The CA's private key (PEM; encrypted: see `passphraseEnv`). Required. */
  caKey: fileName(),
  /** The CA certificate that signs (PEM). Default: `identity.ca`. */
  ca: fileName().optional(),
  /** Lifetime of the minted certificates, days, from 5 minutes before the run. Default 30. */
  validityDays: z.int().positive().max(3650).default(30),
});

/**
 * The identity keys with no defaults: what a group overrides. A group that sets `cert` must not
 * also reset `deviceId` to its default, so the defaults live only in {@link IdentitySchema}.
 */
const IdentityFields = z.strictObject({
  /** CA certificate (PEM) that signed the broker's certificate. Default: certs/root_ca.crt. */
  ca: fileName().optional(),
  /** Device certificate (PEM) shared by the fleet. Default: certs/common.crt. */
  cert: fileName().optional(),
  /** The device certificate's private key (PEM). Default: certs/common.key. */
  key: fileName().optional(),
  /**
   * Device manifest (CSV, as `certs init --devices` writes): a certificate and key per device,
   * and its device id, client id and username, which then replace the templates below.
   * Excludes `cert` and `key`. Default: none (every device shares `cert`).
   */
  manifest: fileName().optional(),
  /**
   * Foreign manifest column names, when a device CSV does not use ours: e.g.
   * `{ deviceId: 'Device Number', cert: certificate, key: private_key }`. Only with
   * `manifest`. Default: `device_id`, `client_id`, `username`, `cert`, `key`, `pkcs12`.
   */
  columns: ColumnsSchema.optional(),
  /**
   * Run-time minting: each worker signs its devices' certificates in memory with this CA
   * while the run starts (CN = device id, EC P-256 keys); no files are written. Excludes
   * `cert`, `key`, `manifest`, `platform` and `pkcs12`. Default: none.
   */
  mint: MintSchema.optional(),
  /**
   * A platform's certificate download (ActorCloud and the like): the directory holding
   * `root_ca.crt`, `common.crt` and `common.key` (or its parent, with `common_certs/` in it).
   * `root_ca.crt` becomes the default `ca`; every device shares `common.crt`, which need not
   * chain to it. Excludes `cert`, `key`, `manifest`, `mint` and `pkcs12`. Default: none.
   */
  platform: fileName().optional(),
  /**
   * A PKCS#12 file (.p12/.pfx) with the certificate and key every device shares, as MQTT.fx
   * and JMeter use; its passphrase from `passphraseEnv` or `passphraseFile`. Excludes `cert`,
   * `key`, `manifest`, `mint` and `platform`. Default: none.
   */
  pkcs12: fileName().optional(),
  /**
   * Environment variable holding the passphrase of the PKCS#12 files, of an encrypted key or
   * of the minting CA key. Never written to a report. Default: none (no passphrase).
   */
  passphraseEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
    .optional(),
  /** File holding that passphrase (its first line). Excludes `passphraseEnv`. Default: none. */
  passphraseFile: fileName().optional(),
  /**
   * Per-device secure contexts (~32 KB each) after the handshake: `keep` them for reconnects
   * (default), or `release` them and rebuild one (~1 ms of CPU) when the device reconnects.
   */
  contexts: z.enum(['keep', 'release']).optional(),
  /** Device id template; `{i}` is the device number, `{i:05}` zero-padded. */
  deviceId: z.string().min(1).optional(),
  /** MQTT client id template; may use `{i}` and `{deviceId}`. */
  clientId: z.string().min(1).optional(),
  /** MQTT username template; may use `{i}`, `{deviceId}`, `{clientId}`. */
  username: z.string().min(1).optional(),
  /** Number of the first device. Default 1. */
  firstIndex: z.int().nonnegative().optional(),
});

/** How each device proves who it is. Paths are relative to the scenario file. */
export const IdentitySchema = IdentityFields.transform((id) => ({
  ...id,
  deviceId: id.deviceId ?? IDENTITY_DEFAULTS.deviceId,
  clientId: id.clientId ?? IDENTITY_DEFAULTS.clientId,
  username: id.username ?? IDENTITY_DEFAULTS.username,
  firstIndex: id.firstIndex ?? IDENTITY_DEFAULTS.firstIndex,
  contexts: id.contexts ?? IDENTITY_DEFAULTS.contexts,
}));

/**
 * A group of devices: a share of the fleet with its own identity (overriding the top-level
 * `identity` key by key) and what the broker is expected to do with it.
 */
export const GroupSchema = z.strictObject({
  /** Group name, used in counters and reports. */
  name: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1-32 of A-Z a-z 0-9 _ -'),
  /** Devices in the group. Give this or `share`. */
  devices: positiveInt().optional(),
  /** Share of the fleet's devices (0..1], apportioned after the fixed counts. */
  share: z.number().positive().max(1).optional(),
  /** Identity settings that differ from the top-level `identity`. */
  identity: IdentityFields.optional(),
  /**
   * `accept` (default): the broker should let these devices in. `refuse`: a negative group
   * (say, a certificate from another CA); its refusals are expected, its acceptances findings.
   */
  expect: z.enum(['accept', 'refuse']).default('accept'),
  /**
   * Topic template the group's devices publish to instead of their own `traffic.topic` (they
   * still subscribe to their own). For authorisation tests: `fleet/device-00001/telemetry`
   * makes every device of the group publish under another device's id, which an ACL should
   * refuse. Same placeholders as `traffic.topic`. Default: none (publish to the own topic).
   */
  publishTopic: z.string().min(1).optional(),
  ...GroupBehaviourFields,
});

const TlsVersion = z.enum(['TLSv1.2', 'TLSv1.3'], {
  error: 'must be TLSv1.2 or TLSv1.3 (TLS 1.0 and 1.1 are off in OpenSSL 3)',
});

export const TlsSchema = z.strictObject({
  /** Lowest TLS version offered. Default TLSv1.2. */
  minVersion: TlsVersion.default('TLSv1.2'),
  /** Highest TLS version offered. Default TLSv1.3. */
  maxVersion: TlsVersion.default('TLSv1.3'),
  /** SNI and the name checked in the broker's certificate. Default: the target host. */
  servername: z.string().min(1).optional(),
  /** Skip the host name check of the broker's certificate (printed as a warning). */
  insecure: z.boolean().default(false),
  /**
   * TLS 1.2 ciphers offered, an OpenSSL cipher list (`ECDHE-ECDSA-AES128-GCM-SHA256:...`).
   * Default: Node's list.
   */
  ciphers: z.string().min(1).optional(),
  /** TLS 1.3 cipher suites offered (`TLS_AES_128_GCM_SHA256:...`). Default: Node's list. */
  ciphersuites: z.string().min(1).optional(),
  /** Key-exchange groups offered, in order (`X25519:P-256`), Node's `ecdhCurve`. Default auto. */
  ecdhCurve: z.string().min(1).optional(),
  /**
   * Signature algorithms offered (`ecdsa_secp256r1_sha256:rsa_pss_rsae_sha256`), Node's
   * `sigalgs`. Default: OpenSSL's list.
   */
  sigalgs: z.string().min(1).optional(),
  /**
   * Each device keeps the TLS session the broker issues it and offers it when it reconnects,
   * so a reconnect is a resumed (abbreviated) handshake. A session is never shared between
   * devices. Default true.
   */
  sessionResumption: z.boolean().default(true),
});

export const MqttSchema = z.strictObject({
  /** MQTT protocol version: 3.1.1 or 5. Default 3.1.1 (the embedded broker speaks only it). */
  version: z
    .union([z.literal(5), z.literal('5'), z.literal('3.1.1'), z.literal(4)], {
      error: 'must be 3.1.1 or 5',
    })
    .default('3.1.1')
    .transform((v): 4 | 5 => (v === 5 || v === '5' ? 5 : 4)),
  /** Keep-alive interval in seconds. Default 60. */
  keepaliveSec: z.int().min(0).max(65535).default(60),
  /** Clean session (3.1.1) or clean start (5). Default true. */
  cleanSession: z.boolean().default(true),
  /** Time allowed from socket start to CONNACK, ms. Default 10000. */
  connectTimeoutMs: positiveInt().default(10_000),
});

export const ConnectSchema = z.strictObject({
  /** New connections started per second across the fleet. Default 100. */
  ratePerSec: z.number().positive().max(1_000_000).default(100),
  /**
   * Most connects in flight (started, no CONNACK yet) across the fleet. Default 64:
   * Mosquitto's listen backlog is 100, and past it the kernel drops SYNs.
   */
  maxInFlight: positiveInt().default(64),
  /**
   * Local addresses the devices' sockets bind to, device k taking address k mod n: a list, or
   * a range `127.0.0.2-127.0.0.9`. Each address has its own ephemeral ports (about 28,000
   * here), so a pool takes a fleet past one address's. Default: the system's choice.
   */
  sourceAddresses: z
    .union([z.string().min(1), z.array(z.string().min(1)).min(1).max(256)])
    .optional(),
});

export const TrafficSchema = z.strictObject({
  /**
   * `closed`: each device publishes every `intervalMs`. `open`: publishes arrive across the
   * fleet at `ratePerSec` whatever the broker's pace, each on one connected device in turn;
   * latency is then also measured from the scheduled instant. Default closed.
   */
  model: z.enum(['closed', 'open']).default('closed'),
  /** Open model: publishes per second across the fleet. */
  ratePerSec: z.number().positive().max(10_000_000).optional(),
  /**
   * Open model: a publish more than this behind its scheduled instant is skipped (counted
   * under `schedule.skipped`) rather than sent, ms. Default 5000.
   */
  maxLagMs: positiveInt().max(3_600_000).default(5000),
  /** Topic each device publishes to and subscribes to; may use `{deviceId}`, `{clientId}`. */
  topic: z.string().min(1).default('fleetbench/{clientId}/telemetry'),
  /** QoS of the publishes and the subscription. Default 1. */
  qos: z
    .union([z.literal(0), z.literal(1), z.literal(2)], { error: 'must be 0, 1 or 2' })
    .default(1),
  /** Closed model: interval between one device's publishes, ms. Default 1000. */
  intervalMs: positiveInt().default(1000),
  /**
   * Payload size in bytes: at least 16 (sequence number, device, send instant), 24 in the
   * open model (plus the scheduled instant). Default 64.
   */
  payloadBytes: z.int().min(16).max(268_435_455).default(64),
  /**
   * A message that arrives more than this after it was sent counts as late (`messages.late`);
   * it is still delivered. ms. Default 1000.
   */
  lateAfterMs: positiveInt().max(3_600_000).default(1000),
});

export const ThresholdSchema = z.strictObject({
  /** The rule: `<metric path> <op> <value>[unit]`. */
  expression: z.string().min(1),
  /** Evaluate against this phase's metrics. Default: the whole run's. */
  phase: z.string().min(1).optional(),
  /** Stop the run as soon as the running totals break the rule. Default false. */
  abortOnFail: z.boolean().default(false),
  /** With `abortOnFail`: evaluate only after this many seconds. Default 0. */
  delayAbortEvalSec: z.number().nonnegative().max(86_400).default(0),
});

export const ScenarioSchema = z.strictObject({
  /** Scenario name, used in report file names. */
  name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 . _ -'),
  description: z.string().optional(),
  /** Broker URL, mqtts://host:port. Absent: the embedded broker on loopback. */
  target: z.string().min(1).optional(),
  /**
   * Several brokers (the nodes of a cluster), instead of `target`: device k connects to
   * `targets[k mod n]`. All must use the same scheme. Default: none.
   */
  targets: z.array(z.string().min(1)).min(2).max(64).optional(),
  /** `tls`, `wss`, `tcp` or `ws`; see transport-schema.ts. Default: the target's scheme. */
  transport: TransportSchema.optional(),
  /** WebSocket settings of `wss` and `ws` targets. */
  websocket: WebSocketSchema.prefault({}),
  /** Number of devices in the fleet. */
  devices: positiveInt().max(10_000_000),
  /** Worker threads. Default: the number of cores. */
  workers: positiveInt().max(256).optional(),
  identity: IdentitySchema.prefault({}),
  /** Groups partitioning the fleet. Default: one group `fleet` with every device. */
  groups: z.array(GroupSchema).min(1).max(64).optional(),
  tls: TlsSchema.prefault({}),
  mqtt: MqttSchema.prefault({}),
  connect: ConnectSchema.prefault({}),
  /** Own-topic round-trip traffic. `false` for a connect-only run. */
  traffic: z.union([TrafficSchema, z.literal(false)]).prefault({}),
  /**
   * Rules checked at the end of the run, k6 style (`connect.p99 < 500ms`); one that fails
   * makes the run exit with code 3. A rule, or an object with `phase` (check that phase's
   * metrics), `abortOnFail` (stop the run as soon as the running totals break it) and
   * `delayAbortEvalSec` (not before this many seconds). Default: none.
   */
  thresholds: z
    .array(z.union([z.string().min(1), ThresholdSchema]))
    .max(100)
    .optional(),
  /**
   * The run's phases, in order. Default: a `ramp` at `connect.ratePerSec`, then `steady`
   * (or `hold` with `traffic: false`) for `durationSec`.
   */
  phases: z.array(PhaseSchema).min(1).max(100).optional(),
  /**
   * How devices whose connection dropped come back. Default: they do not (each drop is counted
   * under `connection.lost`), except those a `storm` phase drops, which use this policy's
   * defaults. `false` is the same as leaving it out.
   */
  reconnect: z.union([ReconnectSchema, z.literal(false)]).optional(),
  /** A capacity search instead of phases (see capacity.ts). Default: none. */
  capacity: CapacitySchema.optional(),
  /**
   * Traffic time after the last device's planned connect, s; with `phases`, the default length
   * of a `steady` or `hold` phase. Default 10.
   */
  durationSec: z
    .number()
    .nonnegative()
    .max(7 * 24 * 3600)
    .default(10),
  /** Wait for messages in flight after the last publish, ms. Default 2000. */
  drainMs: z.int().nonnegative().max(600_000).default(2000),
});

/** A scenario as written (before defaults). */
export type ScenarioInput = z.input<typeof ScenarioSchema>;
/** A validated scenario with defaults applied. */
export type Scenario = z.output<typeof ScenarioSchema>;
