/**
 * The result of a capacity search in a report (issue 4, part 7), and how the summary table and
 * the HTML page show it: the highest rate the broker sustained and every step's figures.
 */

import type { KernelTcpCounters, ThresholdVerdict } from './document.js';

/** How a step ended. */
export type CapacityVerdict =
  /** every SLO rule held and the rate was reached */
  | 'sustained'
  /** an SLO rule broke: the broker's limit */
  | 'slo-broken'
  /** the rate was not reached (connects or publishes started too slowly) */
  | 'rate-not-reached'
  /** the load generator was saturated: the step says nothing about the broker */
  | 'saturated'
  /** the run was stopped (Ctrl-C) or a worker failed during the step */
  | 'stopped';

/** One step of the search. */
export interface CapacityStep {
  /** 1-based. */
  step: number;
  /** The rate asked for, per second. */
  ratePerSec: number;
  /** The rate reached: connects (or publishes) started per second; null when unknown. */
  achievedRatePerSec: number | null;
  /** Devices in the step's fleet. */
  devices: number;
  /** The step's length, ms. */
  durationMs: number;
  verdict: CapacityVerdict;
  /** Why, in one sentence. */
  reason: string;
  /** Each SLO rule's verdict on the step. */
  slo: ThresholdVerdict[];
  /** The step's own figures: the latency the SLO is about (ms) and failures (0..1). */
  p50Ms: number | null;
  p99Ms: number | null;
  failedRate: number | null;
  /** The load generator's saturation during the step, in words; null when it was not. */
  saturation: string | null;
  /** The kernel's TCP counters over the step (loopback targets). */
  kernel?: KernelTcpCounters;
  /** The report's phases that hold this step's metrics. */
  phases: string[];
}

/** The search's result. */
export interface CapacityResult {
  mode: 'connect' | 'publish';
  /** The latency the step figures show: `connect` or `roundtripCorrected`. */
  latency: string;
  slo: string[];
  stepDurationSec: number;
  minAchievedShare: number;
  /** The highest rate of the steps sustained in a row from the first; null when none was. */
  sustainedRatePerSec: number | null;
  /** What that step actually reached, per second. */
  achievedRatePerSec: number | null;
  /** True when a step failed because of the broker (SLO broken, rate not reached). */
  ceilingReached: boolean;
  /** What ended the search. */
  limitedBy: 'broker' | 'load-generator' | 'max-rate' | 'stopped';
  /** The result in one sentence. */
  summary: string;
  steps: CapacityStep[];
}

/** The summary table's lines for a capacity search ('' without one). */
export function capacityLines(c: CapacityResult | undefined): string[] {
  if (c === undefined) return [];
  const head = `capacity search (${c.mode}), SLO: ${c.slo.join(', ')}`;
  const rows = c.steps.map((s) => {
    const cells = [
      `  step ${s.step}`,
      `${fmt(s.ratePerSec)}/s`,
      `reached ${s.achievedRatePerSec === null ? '-' : fmt(s.achievedRatePerSec)}/s`,
      `${c.latency} p50 ${fmtMs(s.p50Ms)} p99 ${fmtMs(s.p99Ms)}`,
      `failed ${s.failedRate === null ? '-' : `${(s.failedRate * 100).toFixed(2)}%`}`,
      s.verdict.toUpperCase(),
    ];
    return `${cells.join('  ')}${s.verdict === 'sustained' ? '' : `: ${s.reason}`}`;
  });
  return [head, ...rows, `  result: ${c.summary}`];
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

function fmtMs(ms: number | null): string {
  return ms === null ? '-' : `${ms < 10 ? ms.toFixed(2) : ms.toFixed(0)} ms`;
}

/** The HTML section of a capacity search ('' without one); `esc` escapes text. */
export function capacitySection(c: CapacityResult | undefined, esc: (s: string) => string) {
  if (c === undefined) return '';
  const head = [
    'step',
    'rate /s',
    'reached /s',
    `${c.latency} p50 ms`,
    'p99 ms',
    'failed',
    'verdict',
  ];
  const rows = c.steps.map((s) =>
    [
      String(s.step),
      fmt(s.ratePerSec),
      s.achievedRatePerSec === null ? '-' : fmt(s.achievedRatePerSec),
      fmtMs(s.p50Ms).replace(' ms', ''),
      fmtMs(s.p99Ms).replace(' ms', ''),
      s.failedRate === null ? '-' : `${(s.failedRate * 100).toFixed(2)}%`,
      s.verdict === 'sustained' ? 'sustained' : `${s.verdict}: ${s.reason}`,
    ].map((cell) => `<td>${esc(cell)}</td>`),
  );
  const table =
    `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>` +
    `<tbody>${rows.map((r) => `<tr>${r.join('')}</tr>`).join('')}</tbody></table>`;
  return (
    `<section><h2>Capacity search (${esc(c.mode)})</h2>` +
    `<p class="note">SLO: ${esc(c.slo.join(', '))}; each step ${c.stepDurationSec} s.</p>` +
    `<p><strong>${esc(c.summary)}</strong></p>${table}</section>`
  );
}
