/**
 * Thresholds against a run: every rule against the finished report's metrics (or a phase's),
 * and the `abortOnFail` rules against the running totals while the run goes on.
 */

import type { MetricSource } from '../report/metric-path.js';
import type { MetricsSnapshot } from '../metrics/types.js';
import type { PhaseInput, ThresholdVerdict } from '../report/document.js';
import { evaluateThreshold, type ThresholdPlan } from '../scenario/thresholds.js';

/**
 * The verdict of every rule. A rule on a phase the run never reached fails with nothing
 * measured.
 * @param abortedBy the expression of the rule that stopped the run, if one did
 */
export function evaluateThresholds(
  thresholds: readonly ThresholdPlan[],
  run: MetricSource,
  phases: readonly PhaseInput[],
  abortedBy: string | null,
): ThresholdVerdict[] {
  return thresholds.map((t) => {
    const phase = t.phase === null ? run : phases.find((p) => p.name === t.phase);
    const outcome =
      phase === undefined
        ? { expression: t.expression, ok: false, actual: null, unit: t.unit, phase: t.phase }
        : evaluateThreshold(t, phase);
    return t.expression === abortedBy ? { ...outcome, aborted: true } : outcome;
  });
}

/**
 * The first `abortOnFail` rule the running totals break, or `null`.
 * @param elapsedMs time since the run's start, ms
 */
export function brokenAbortRule(
  thresholds: readonly ThresholdPlan[],
  totals: MetricsSnapshot,
  elapsedMs: number,
): ThresholdPlan | null {
  for (const t of thresholds) {
    if (!t.abortOnFail || elapsedMs < t.delayAbortEvalSec * 1000) continue;
    // Nothing measured yet is not a breach while the run goes on: wait for data.
    const outcome = evaluateThreshold(t, { metrics: totals, durationMs: elapsedMs });
    if (outcome.actual !== null && !outcome.ok) return t;
  }
  return null;
}
