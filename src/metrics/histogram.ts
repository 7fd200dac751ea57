/**
 * The one place that knows how fleetbench configures hdr-histogram-js: the value range, the
 * precision, the count width, and which implementation records and which one merges.
 *
 * Recording uses the WebAssembly implementation: measured on this machine (AMD EPYC, Node 20.20,
 * 10 million values spread over 1 µs .. 3 s), `recordValue` costs about 28 ns in wasm against
 * about 140 ns in the JavaScript implementation, and neither allocates per record. Merging and
 * summarising use the JavaScript implementation: it runs off the hot path, needs no `destroy()`
 * (so an exception cannot leak wasm memory), and its 64-bit counts cannot overflow when many
 * workers or shards are added together.
 */

import {
  build,
  decodeFromCompressedBase64,
  encodeIntoCompressedBase64,
  initWebAssemblySync,
  JsHistogram,
} from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';

import { FleetbenchError } from '../errors.js';

/** Smallest value told apart from zero, µs. */
export const LOWEST_VALUE_US = 1;

/**
 * Largest value recorded, µs (one hour). Larger values are recorded as this value and counted
 * under {@link OUT_OF_RANGE_COUNTER}, so a histogram's count still equals its events.
 */
export const MAX_VALUE_US = 3_600_000_000;

/** Significant decimal digits kept for every value: 3, so each value is within 0.1%. */
export const SIGNIFICANT_DIGITS = 3;

/** Counter of values outside 0 .. {@link MAX_VALUE_US} that were clamped before recording. */
export const OUT_OF_RANGE_COUNTER = 'metrics.outOfRange';

const RANGE = {
  lowestDiscernibleValue: LOWEST_VALUE_US,
  highestTrackableValue: MAX_VALUE_US,
  numberOfSignificantValueDigits: SIGNIFICANT_DIGITS,
} as const;

/**
 * Loads the WebAssembly module into this thread if it is not loaded yet. Module state is per
 * thread, so every worker must do this once; the synchronous form (about 20 ms, once) keeps
 * recorder construction synchronous and impossible to forget.
 */
export function ensureWebAssembly(): void {
  initWebAssemblySync();
}

/**
 * A fixed-range wasm histogram for the hot path (32-bit counts, no auto-resize, so recording
 * never allocates). The caller must `destroy()` it.
 */
export function createRecordingHistogram(): Histogram {
  ensureWebAssembly();
  return build({ ...RANGE, bitBucketSize: 32, autoResize: false, useWebAssembly: true });
}

/**
 * A wasm histogram with 64-bit counts that accumulates recording histograms of one thread over
 * a whole run. The caller must `destroy()` it.
 */
export function createAccumulatingHistogram(): Histogram {
  ensureWebAssembly();
  return build({ ...RANGE, bitBucketSize: 64, autoResize: true, useWebAssembly: true });
}

/**
 * A JavaScript histogram with 64-bit counts (exact up to 2^53 per value) for merging. It grows
 * to take histograms recorded with a wider range, so nothing is ever dropped.
 */
export function createMergeHistogram(): JsHistogram {
  const histogram = build({ ...RANGE, bitBucketSize: 64, autoResize: true });
  return asJsHistogram(histogram);
}

/** Encodes a histogram in the HdrHistogram V2 compressed base64 form. */
export function encodeHistogram(histogram: Histogram): string {
  return encodeIntoCompressedBase64(histogram);
}

/**
 * Decodes a compressed base64 histogram into a JavaScript histogram with 64-bit counts.
 *
 * @throws FleetbenchError `E_REPORT` when the text is not an encoded HdrHistogram.
 */
export function decodeHistogram(encoded: string): JsHistogram {
  try {
    return asJsHistogram(decodeFromCompressedBase64(encoded, 64, false));
  } catch (err) {
    const head = encoded.length > 24 ? `${encoded.slice(0, 24)}...` : encoded;
    throw new FleetbenchError('E_REPORT', `not a valid encoded HdrHistogram: "${head}"`, {
      hint: 'histograms must be HdrHistogram V2 compressed base64, as fleetbench writes them',
      cause: err,
    });
  }
}

function asJsHistogram(histogram: Histogram): JsHistogram {
  if (histogram instanceof JsHistogram) return histogram;
  histogram.destroy();
  throw new FleetbenchError('E_INTERNAL', 'hdr-histogram-js returned a non-JavaScript histogram');
}
