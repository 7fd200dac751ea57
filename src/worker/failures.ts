/** Failure samples: counted by category, code and message; the first device kept as example. */

import type { FailureCategory, FailureSample } from './protocol.js';

/** Distinct messages kept per worker; beyond it failures are still counted, not sampled. */
const MAX_SAMPLES = 50;

export class FailureLog {
  private readonly samples = new Map<string, FailureSample>();

  add(category: FailureCategory, message: string, deviceId: string, code?: number): void {
    const key = `${category}|${code ?? ''}|${message}`;
    const found = this.samples.get(key);
    if (found) {
      found.count++;
      return;
    }
    if (this.samples.size >= MAX_SAMPLES) return;
    const sample: FailureSample = { category, message, deviceId, count: 1 };
    if (code !== undefined) sample.code = code;
    this.samples.set(key, sample);
  }

  list(): FailureSample[] {
    return [...this.samples.values()];
  }
}

/** Merges failure samples from several workers, adding counts of the same failure. */
export function mergeFailures(lists: FailureSample[][]): FailureSample[] {
  const out = new Map<string, FailureSample>();
  for (const list of lists) {
    for (const s of list) {
      const key = `${s.category}|${s.code ?? ''}|${s.message}`;
      const found = out.get(key);
      if (found) found.count += s.count;
      else out.set(key, { ...s });
    }
  }
  return [...out.values()].sort((a, b) => b.count - a.count);
}
