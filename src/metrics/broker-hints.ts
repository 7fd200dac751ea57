/**
 * What the measurements say about the broker's setup, as report warnings: replies held by
 * Nagle's algorithm, and SYNs dropped by a full listen backlog. The harness sees
 * only the wire, so each hint names the pattern it saw and the setting that usually causes it.
 */

import { summarize } from './merge.js';
import type { HistogramName, MetricsSnapshot } from './types.js';

/** Fewer values than this say nothing about a median. */
const MIN_COUNT = 20;
/**
 * Linux's delayed-ACK timer is 40 ms: a median in this band (ms) is one small write held by
 * Nagle's algorithm until the peer's delayed ACK, not the broker's processing.
 */
const DELAYED_ACK_BAND_MS = [36, 48] as const;

/** Replies a broker writes small, right after other data the client has not yet ACKed. */
const NAGLE_PRONE: readonly { name: HistogramName; what: string }[] = [
  { name: 'connack', what: 'CONNACK' },
  { name: 'suback', what: 'SUBACK' },
  { name: 'puback', what: 'PUBACK' },
  { name: 'pubcomp', what: 'PUBCOMP' },
  { name: 'roundtrip', what: 'round-trip' },
];

/**
 * Hints about the broker from a run's merged measurements, one sentence each; empty when
 * nothing stands out.
 *
 * @throws FleetbenchError `E_REPORT` when a histogram is not a valid encoding.
 */
export function brokerHints(metrics: MetricsSnapshot): string[] {
  const hints: string[] = [];
  const [low, high] = DELAYED_ACK_BAND_MS;
  for (const { name, what } of NAGLE_PRONE) {
    const encoded = metrics.histograms[name];
    if (encoded === undefined) continue;
    const s = summarize(encoded);
    const p50Ms = s.p50Us / 1000;
    if (s.count < MIN_COUNT || p50Ms < low || p50Ms > high) continue;
    hints.push(
      `broker hint: the ${what} median is ${p50Ms.toFixed(1)} ms, next to the 40 ms ` +
        `delayed-ACK timer: the broker most likely has Nagle's algorithm on (Mosquitto: ` +
        `set_tcp_nodelay true; EMQX: tcp_options nodelay = true); ` +
        `fleetbench itself sets TCP_NODELAY`,
    );
  }
  const syn = synRetransmitHint(metrics);
  if (syn !== null) hints.push(syn);
  return hints;
}

/** Linux retransmits an unanswered SYN after 1 s (then 3 s, 7 s ...), ms. */
const SYN_RETRANSMIT_MS = 1000;
/** A median TCP connect under this (ms) means the slow tail is drops, not a slow network. */
const FAST_TCP_MEDIAN_MS = 100;

/**
 * A tail of TCP connects at a second or more while the median is fast: SYNs were dropped and
 * retransmitted, which on loopback means the broker's listen backlog overflowed.
 */
function synRetransmitHint(metrics: MetricsSnapshot): string | null {
  const encoded = metrics.histograms.tcp;
  if (encoded === undefined) return null;
  const s = summarize(encoded);
  if (s.count < MIN_COUNT || s.p50Us / 1000 >= FAST_TCP_MEDIAN_MS) return null;
  const share =
    s.p99Us / 1000 >= SYN_RETRANSMIT_MS
      ? '1%'
      : s.p999Us / 1000 >= SYN_RETRANSMIT_MS
        ? '0.1%'
        : null;
  if (share === null) return null;
  return (
    `broker hint: ${share} or more of TCP connects took over ${SYN_RETRANSMIT_MS / 1000} s ` +
    `(median ${(s.p50Us / 1000).toFixed(1)} ms, p99 ${(s.p99Us / 1000).toFixed(0)} ms): ` +
    `SYNs were ` +
    `dropped and retransmitted, most likely because the broker's listen backlog overflowed ` +
    `(Mosquitto's is 100); lower connect.maxInFlight or raise the broker's backlog ` +
    `(net.core.somaxconn)`
  );
}
