/**
 * The shapes of measurements that cross threads, processes and reports. Plain, cloneable data
 * only: a worker's interval snapshot, a shard's report and a merged report use the same form.
 */

/** Latency histograms, all recorded in microseconds. */
export const HISTOGRAM_NAMES = [
  'connect', // socket start → CONNACK received (the whole device connect)
  'tcp', // socket start → TCP connected
  'tls', // TCP connected → TLS handshake done (first connects)
  'tlsFull', // the same, for every full handshake (connects and reconnects)
  'tlsResumed', // the same, for every handshake that resumed the device's own session
  'websocket', // TLS (or TCP) done → WebSocket upgrade answered (wss and ws only)
  'connack', // CONNECT sent → CONNACK received
  'suback', // SUBSCRIBE sent → SUBACK received
  'puback', // PUBLISH (QoS 1) sent → PUBACK received
  'pubcomp', // PUBLISH (QoS 2) sent → PUBCOMP received
  'roundtrip', // PUBLISH sent → the same message received back
  'roundtripCorrected', // open model: the PUBLISH's scheduled instant → received back
  'scheduleLag', // open model: a PUBLISH's scheduled instant → actually sent
  'connectLag', // ramp connect's planned instant → actually started (in-flight cap, busy worker)
  'reconnect', // socket start → CONNACK of a reconnect after a drop
  'downtime', // connection dropped → CONNACK of its reconnect (the device's outage)
  'commandRoundtrip', // controller's command sent → receiver's response back at the controller
  'fanIn', // a device's PUBLISH sent → received by a wildcard monitor
] as const;

export type HistogramName = (typeof HISTOGRAM_NAMES)[number];

/** A monitor group's own fan-in histogram, `groups.<name>.fanIn`, beside the run's `fanIn`. */
export type GroupHistogramName = `groups.${string}.fanIn`;

/** Every key a snapshot's histograms may have. */
export type HistogramKey = HistogramName | GroupHistogramName;

/**
 * Counters, keyed by dotted names, summed when merged. Well-known keys:
 * `connect.attempted`, `connect.ok`, `connect.failed.tcp`, `connect.failed.tls`,
 * `connect.failed.timeout`, `connect.failed.refused.<code>`, `connect.failed.other`,
 * `connection.lost`, `messages.published`, `messages.acked`, `messages.received`,
 * `messages.failed`, `subscribe.ok`, `subscribe.failed`, `storm.dropped`, `reconnect.attempted`,
 * `reconnect.ok`, `reconnect.failed.<category>`, `reconnect.gaveUp`, `tls.full`, `tls.resumed`,
 * `tls.protocol.<TLSv1_2|TLSv1_3>`, `tls.cipher.<OpenSSL name>`, `tls.group.<group>`.
 */
export type Counters = Record<string, number>;

/** A set of measurements over one stretch of time from one or more sources. */
export interface MetricsSnapshot {
  /** Start of the stretch, `process.hrtime.bigint()` as a decimal string (ns). */
  startNs: string;
  /** End of the stretch, same clock. */
  endNs: string;
  counters: Counters;
  /**
   * Gauges sampled at `endNs` (for example `devices.connected`); summed across sources
   * that cover the same instant, replaced by the later value across time.
   */
  gauges: Record<string, number>;
  /** Histograms in hdr-histogram-js's compressed base64 encoding, keyed by metric name. */
  histograms: Partial<Record<HistogramName, string>> & Record<GroupHistogramName, string>;
}
