/**
 * The measurements of one worker thread: latency histograms, counters and gauges, handed out as
 * plain snapshots for the coordinator. `record` and `count` run once per message, so they do a
 * map lookup and an array write and nothing else.
 */

import type { Histogram } from 'hdr-histogram-js';

import { FleetbenchError } from '../errors.js';
import {
  createAccumulatingHistogram,
  createMergeHistogram,
  createRecordingHistogram,
  decodeHistogram,
  encodeHistogram,
  MAX_VALUE_US,
  OUT_OF_RANGE_COUNTER,
} from './histogram.js';
import type { HistogramKey, MetricsSnapshot } from './types.js';

/** Options of {@link MetricsRecorder}. */
export interface MetricsRecorderOptions {
  /**
   * Start of the first interval and of the total, `process.hrtime.bigint()` in ns. Pass the
   * run's common start instant so every worker's snapshots line up. Default: now.
   */
  startNs?: bigint;
}

/**
 * Records one thread's measurements. Create it inside the thread that uses it (the wasm module
 * is loaded per thread) and call {@link MetricsRecorder.destroy} when done, or its histograms'
 * wasm memory stays allocated until the thread exits.
 */
export class MetricsRecorder {
  /** Recording histograms of the open interval (wasm, 32-bit counts). */
  private readonly interval = new Map<HistogramKey, Histogram>();
  /** Every closed interval added together (wasm, 64-bit counts). */
  private readonly closed = new Map<HistogramKey, Histogram>();
  private readonly intervalCounters = new Map<string, number>();
  private readonly closedCounters = new Map<string, number>();
  private readonly gauges = new Map<string, number>();
  private readonly startNs: bigint;
  private intervalStartNs: bigint;
  private destroyed = false;

  /** Creates a recorder; loads the wasm module into this thread on first use. */
  constructor(options: MetricsRecorderOptions = {}) {
    this.startNs = options.startNs ?? process.hrtime.bigint();
    this.intervalStartNs = this.startNs;
  }

  /**
   * Records one latency. Values are rounded to whole µs; a value below 0 (or NaN) is recorded as
   * 0 and one above an hour as an hour, each counted under `metrics.outOfRange`, so the
   * histogram's count still equals the number of events.
   *
   * @param valueUs the latency in microseconds.
   */
  record(name: HistogramKey, valueUs: number): void {
    const histogram = this.interval.get(name) ?? this.open(name);
    let value = Math.round(valueUs);
    if (!(value >= 0 && value <= MAX_VALUE_US)) {
      value = value > MAX_VALUE_US ? MAX_VALUE_US : 0;
      this.count(OUT_OF_RANGE_COUNTER);
    }
    histogram.recordValue(value);
  }

  /**
   * Adds `n` to a counter (see `Counters` in types.ts for the well-known keys).
   *
   * @param n amount to add. Default 1.
   */
  count(key: string, n = 1): void {
    this.intervalCounters.set(key, (this.intervalCounters.get(key) ?? 0) + n);
  }

  /** Sets a gauge to its current value (for example `devices.connected`). */
  gauge(key: string, value: number): void {
    this.gauges.set(key, value);
  }

  /**
   * The measurements since the previous `takeInterval` (or the start), then starts a new
   * interval. Histograms without values are left out; every counter ever touched is present,
   * zero if it did not move, so a time series has stable columns.
   *
   * @param nowNs end of the interval, `process.hrtime.bigint()` in ns.
   */
  takeInterval(nowNs: bigint): MetricsSnapshot {
    this.assertUsable();
    const histograms: MetricsSnapshot['histograms'] = {};
    for (const [name, histogram] of this.interval) {
      if (histogram.totalCount === 0) continue;
      histograms[name] = encodeHistogram(histogram);
      this.closedHistogram(name).add(histogram);
      histogram.reset();
    }

    const counters: Record<string, number> = {};
    for (const [key, n] of this.intervalCounters) {
      counters[key] = n;
      this.closedCounters.set(key, (this.closedCounters.get(key) ?? 0) + n);
      this.intervalCounters.set(key, 0);
    }

    const snapshot = this.snapshot(this.intervalStartNs, nowNs, counters, histograms);
    this.intervalStartNs = nowNs;
    return snapshot;
  }

  /**
   * Everything since the start, including the open interval, which stays open: a later
   * `takeInterval` still reports it.
   *
   * @param nowNs end of the stretch, `process.hrtime.bigint()` in ns.
   */
  total(nowNs: bigint): MetricsSnapshot {
    this.assertUsable();
    const histograms: MetricsSnapshot['histograms'] = {};
    for (const name of new Set([...this.closed.keys(), ...this.interval.keys()])) {
      const encoded = this.encodeTotal(name);
      if (encoded !== undefined) histograms[name] = encoded;
    }

    const counters: Record<string, number> = {};
    for (const [key, n] of this.closedCounters) counters[key] = n;
    for (const [key, n] of this.intervalCounters) counters[key] = (counters[key] ?? 0) + n;

    return this.snapshot(this.startNs, nowNs, counters, histograms);
  }

  /** Frees the histograms' wasm memory. Idempotent; the recorder is unusable afterwards. */
  destroy(): void {
    this.destroyed = true;
    for (const histogram of [...this.interval.values(), ...this.closed.values()]) {
      histogram.destroy();
    }
    this.interval.clear();
    this.closed.clear();
  }

  /** First value of a metric: its histogram is created here, off the steady-state path. */
  private open(name: HistogramKey): Histogram {
    this.assertUsable();
    const histogram = createRecordingHistogram();
    this.interval.set(name, histogram);
    return histogram;
  }

  private closedHistogram(name: HistogramKey): Histogram {
    let histogram = this.closed.get(name);
    if (histogram === undefined) {
      histogram = createAccumulatingHistogram();
      this.closed.set(name, histogram);
    }
    return histogram;
  }

  /**
   * Encodes closed + open without touching either. The sum is built in a JavaScript histogram
   * (by decoding both) because a wasm histogram cannot be added to a JavaScript one and a
   * temporary wasm one would need its own `destroy()` on every path.
   */
  private encodeTotal(name: HistogramKey): string | undefined {
    const parts = [this.closed.get(name), this.interval.get(name)].filter(
      (h): h is Histogram => h !== undefined && h.totalCount > 0,
    );
    if (parts.length === 0) return undefined;
    if (parts.length === 1) return encodeHistogram(parts[0] as Histogram);

    const sum = createMergeHistogram();
    for (const part of parts) sum.add(decodeHistogram(encodeHistogram(part)));
    return encodeHistogram(sum);
  }

  private snapshot(
    startNs: bigint,
    endNs: bigint,
    counters: Record<string, number>,
    histograms: MetricsSnapshot['histograms'],
  ): MetricsSnapshot {
    return {
      startNs: startNs.toString(),
      endNs: endNs.toString(),
      counters,
      gauges: Object.fromEntries(this.gauges),
      histograms,
    };
  }

  private assertUsable(): void {
    if (this.destroyed) {
      throw new FleetbenchError('E_INTERNAL', 'MetricsRecorder used after destroy()');
    }
  }
}
