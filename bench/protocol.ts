/**
 * What crosses between the bench (parent) and a probe (a child process that runs one client
 * kind, so its process CPU time is its own). Plain JSON over the fork IPC channel.
 */

/** The clients the bench puts side by side. */
export const CLIENT_KINDS = ['bare-tls', 'mqttjs', 'fleetbench'] as const;

/**
 * `bare-tls`: node:tls with one shared secure context and hand-written MQTT packets (the Node
 * floor); `mqttjs`: plain MQTT.js given the same secure context; `fleetbench`: fleetbench's own
 * client path (src/client) with its metrics recorder.
 */
export type ClientKind = (typeof CLIENT_KINDS)[number];

/** A broker listener on loopback. */
export interface BenchTarget {
  host: string;
  port: number;
}

/** Certificate files of the shared device identity (paths; the probe reads them). */
export interface BenchIdentity {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** Highest TLS version the clients offer. */
  maxVersion: 'TLSv1.2' | 'TLSv1.3';
}

/** Connect `connections` devices, spread round-robin over `targets`, then hold them. */
export interface ConnectProbeSpec {
  probe: 'connect';
  client: ClientKind;
  targets: BenchTarget[];
  identity: BenchIdentity;
  connections: number;
  /** Connects without CONNACK at once (Mosquitto's listen backlog is 100). */
  inFlight: number;
  /** Per connect, ms. */
  timeoutMs: number;
  /** How long the held connections settle before memory is read, ms. */
  settleMs: number;
}

/** Publishers and wildcard subscribers on one broker, QoS 1, paced. */
export interface FanoutProbeSpec {
  probe: 'fanout';
  client: ClientKind;
  target: BenchTarget;
  identity: BenchIdentity;
  publishers: number;
  subscribers: number;
  /** Publishes per second across all publishers. */
  publishRatePerSec: number;
  durationMs: number;
  payloadBytes: number;
}

/** One device, one message at a time to its own topic and back, QoS 1. */
export interface RoundtripProbeSpec {
  probe: 'roundtrip';
  client: ClientKind;
  target: BenchTarget;
  identity: BenchIdentity;
  count: number;
  payloadBytes: number;
}

/**
 * Connect `connections` devices and keep each one's TLS session, close them, then reconnect
 * every device with its own session (resumed handshake) and the same cached secure context.
 */
export interface ReconnectProbeSpec extends Omit<ConnectProbeSpec, 'probe' | 'settleMs'> {
  probe: 'reconnect';
}

export type ProbeSpec =
  ConnectProbeSpec | FanoutProbeSpec | RoundtripProbeSpec | ReconnectProbeSpec;

/** Result of a connect probe. CPU is the probe process's own, over the connect phase only. */
export interface ConnectProbeResult {
  connected: number;
  failed: number;
  /** First failure message, if any. */
  firstError: string | null;
  wallMs: number;
  cpuUs: number;
  /** RSS and V8 heap used after a full GC, before connecting and while holding, bytes. */
  rssBeforeBytes: number;
  rssHeldBytes: number;
  heapBeforeBytes: number;
  heapHeldBytes: number;
  /** V8 heap committed, and memory outside it (Buffers, native objects), bytes. */
  heapTotalBeforeBytes: number;
  heapTotalHeldBytes: number;
  externalBeforeBytes: number;
  externalHeldBytes: number;
}

/** Result of a fan-out probe; CPU and wall time from the first publish to the drain's end. */
export interface FanoutProbeResult {
  published: number;
  /** Messages the subscribers received (published × subscribers when none was lost). */
  received: number;
  expected: number;
  wallMs: number;
  cpuUs: number;
  /** Round trips recorded (fleetbench: into its HDR recorder; baselines: counted only). */
  recorded: number;
}

/** Result of a round-trip probe, µs. */
export interface RoundtripProbeResult {
  count: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  meanUs: number;
}

/** Result of a reconnect probe; CPU is over the reconnects only. */
export interface ReconnectProbeResult {
  reconnected: number;
  /** Reconnects whose TLS handshake resumed the device's session. */
  resumed: number;
  failed: number;
  firstError: string | null;
  cpuUs: number;
  wallMs: number;
}

export type ProbeResult =
  ConnectProbeResult | FanoutProbeResult | RoundtripProbeResult | ReconnectProbeResult;

/** Probe → bench. `ready`: set up, waiting for `go`; `measured`: the measured phase ended. */
export type ProbeMessage =
  | { type: 'ready' }
  | { type: 'measured' }
  | { type: 'result'; result: ProbeResult }
  | { type: 'error'; message: string };

/** Bench → probe. */
export type BenchMessage = { type: 'spec'; spec: ProbeSpec } | { type: 'go' };
