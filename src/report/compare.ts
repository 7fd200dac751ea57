/**
 * Run against run: every metric of a candidate report beside one or more base reports, the
 * change, whether it is worse, and the verdict of `--fail-on` rules. Several bases are compared
 * by their spread, so a candidate inside the bases' own run-to-run noise is not a regression.
 */

import { FleetbenchError } from '../errors.js';
import type { ReportDocument } from './document.js';
import {
  evaluateRule,
  parseFailOn,
  type BaseBand,
  type FailOnRule,
  type RuleResult,
} from './fail-on.js';
import { listMetricPaths } from './metric-list.js';
import {
  parseMetricPath,
  resolveMetric,
  type MetricDirection,
  type MetricUnit,
} from './metric-path.js';

/**
 * How several bases make a band: `range` is min..max; `{ sd: k }` is mean ± k standard
 * deviations (sample standard deviation).
 */
export type SpreadRule = 'range' | { sd: number };

/** Options of {@link compareReports}. */
export interface CompareOptions {
  /** `--fail-on` rules, as text or parsed. Default none. */
  failOn?: readonly (string | FailOnRule)[];
  /** How several bases make a band. Default `range`. */
  spread?: SpreadRule;
  /**
   * With one base, a change smaller than this share of the base is not marked, since one base
   * says nothing about noise. Ignored with several bases (their spread is the band). Default 0.05.
   */
  tolerance?: number;
  /** Names of the reports in warnings and output (file paths). Default `base 1`, `candidate`. */
  labels?: { bases: readonly string[]; candidate: string };
}

/** How a metric moved. */
export type RowVerdict =
  /** exactly equal */
  | 'same'
  /** inside the bases' band (or, with one base, within the tolerance) */
  | 'within-noise'
  | 'better'
  | 'worse'
  /** moved, for a metric that is neither better nor worse either way */
  | 'changed'
  /** one side has no value */
  | 'n/a';

/** What the bases say about one metric. */
export interface BaseSpread extends BaseBand {
  /** Each base's value, in the order given; `null` where a base measured nothing. */
  values: (number | null)[];
  /** Mean of the values measured: the reference changes are taken against. */
  mean: number;
  min: number;
  max: number;
  /** Sample standard deviation; 0 for one value. */
  sd: number;
}

/** One metric, compared. */
export interface ComparisonRow {
  path: string;
  unit: MetricUnit;
  direction: MetricDirection;
  /** `null` when no base measured it. */
  base: BaseSpread | null;
  candidate: number | null;
  /** `candidate - base.mean`, in `unit`; `null` when either is missing. */
  change: number | null;
  /** `change / |base.mean|`; `null` when missing or the base is 0. */
  relativeChange: number | null;
  verdict: RowVerdict;
}

/** Which report a comparison read. */
export interface ComparedReport {
  label: string;
  scenario: string;
  startedAt: string;
  toolVersion: string;
  partial: boolean;
}

/** The result of a comparison; `--json` prints it. */
export interface Comparison {
  kind: 'fleetbench-comparison';
  formatVersion: 1;
  bases: ComparedReport[];
  candidate: ComparedReport;
  spread: SpreadRule;
  tolerance: number;
  /** Differences in setup that make the numbers less comparable. */
  warnings: string[];
  rows: ComparisonRow[];
  rules: RuleResult[];
  /** True when any rule tripped (the CLI exits 3). */
  failed: boolean;
}

/**
 * Compares a candidate report with one or more base reports. Pure: reads nothing, prints nothing.
 *
 * @throws FleetbenchError `E_USAGE` for a bad rule or no base; `E_REPORT` for a damaged histogram.
 */
export function compareReports(
  bases: readonly ReportDocument[],
  candidate: ReportDocument,
  options: CompareOptions = {},
): Comparison {
  if (bases.length === 0) {
    throw new FleetbenchError('E_USAGE', 'compare needs at least one base report', {
      hint: 'pass the base report(s) first and the candidate last',
    });
  }
  const spread = options.spread ?? 'range';
  const tolerance = options.tolerance ?? 0.05;
  const rules = (options.failOn ?? []).map((r) => (typeof r === 'string' ? parseFailOn(r) : r));
  const labels = options.labels ?? {
    bases: bases.map((_, i) => (bases.length === 1 ? 'base' : `base ${i + 1}`)),
    candidate: 'candidate',
  };

  const paths = listMetricPaths([...bases, candidate]);
  for (const r of rules) if (!paths.includes(r.metric.path)) paths.push(r.metric.path);
  const rows = paths.map((path) => compareRow(path, bases, candidate, spread, tolerance));

  const results = rules.map((rule) => {
    const row = rows.find((r) => r.path === rule.metric.path);
    return evaluateRule(rule, row?.base ?? null, row?.candidate ?? null);
  });

  return {
    kind: 'fleetbench-comparison',
    formatVersion: 1,
    bases: bases.map((b, i) => describe(b, labels.bases[i] ?? `base ${i + 1}`)),
    candidate: describe(candidate, labels.candidate),
    spread,
    tolerance,
    warnings: setupWarnings(bases, candidate, labels),
    rows,
    rules: results,
    failed: results.some((r) => r.tripped),
  };
}

function describe(report: ReportDocument, label: string): ComparedReport {
  return {
    label,
    scenario: report.scenario.name,
    startedAt: report.startedAt,
    toolVersion: report.tool.version,
    partial: report.partial !== null,
  };
}

function compareRow(
  path: string,
  bases: readonly ReportDocument[],
  candidate: ReportDocument,
  spread: SpreadRule,
  tolerance: number,
): ComparisonRow {
  const parsed = parseMetricPath(path);
  const c = resolveMetric(candidate, parsed);
  const base = baseSpread(
    bases.map((b) => resolveMetric(b, parsed).value),
    spread,
  );

  const change = base === null || c.value === null ? null : c.value - base.mean;
  const relativeChange =
    change === null || base === null || base.mean === 0 ? null : change / Math.abs(base.mean);
  const row = { path, unit: c.unit, direction: c.direction, base, candidate: c.value };
  const several = bases.length > 1;
  return {
    ...row,
    change,
    relativeChange,
    verdict: verdictOf(row, relativeChange, several, tolerance),
  };
}

/** The bases' values and band; `null` when none measured the metric. */
export function baseSpread(values: (number | null)[], spread: SpreadRule): BaseSpread | null {
  const measured = values.filter((v): v is number => v !== null);
  if (measured.length === 0) return null;
  const n = measured.length;
  const mean = measured.reduce((s, v) => s + v, 0) / n;
  const sd = n > 1 ? Math.sqrt(measured.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1)) : 0;
  const min = Math.min(...measured);
  const max = Math.max(...measured);
  const [low, high] =
    spread === 'range' ? [min, max] : [mean - spread.sd * sd, mean + spread.sd * sd];
  return { values, mean, min, max, sd, low, high };
}

function verdictOf(
  row: Pick<ComparisonRow, 'base' | 'candidate' | 'direction'>,
  relativeChange: number | null,
  several: boolean,
  tolerance: number,
): RowVerdict {
  const { base, candidate, direction } = row;
  if (base === null || candidate === null) return 'n/a';
  if (!several && candidate === base.mean) return 'same';
  if (several && candidate >= base.low && candidate <= base.high) {
    return candidate === base.mean ? 'same' : 'within-noise';
  }
  if (!several && relativeChange !== null && Math.abs(relativeChange) <= tolerance) {
    return 'within-noise';
  }

  const up = several ? candidate > base.high : candidate > base.mean;
  if (direction === 'neutral') return 'changed';
  return up === (direction === 'higher-is-better') ? 'better' : 'worse';
}

/** Setup differences between the candidate and each base, one sentence each. */
function setupWarnings(
  bases: readonly ReportDocument[],
  candidate: ReportDocument,
  labels: { bases: readonly string[]; candidate: string },
): string[] {
  const warnings: string[] = [];
  const all = [...bases, candidate];
  const allLabels = [...labels.bases, labels.candidate];
  const differ = (what: string, value: (r: ReportDocument) => string): void => {
    const values = all.map(value);
    if (new Set(values).size <= 1) return;
    const listed = values.map((v, i) => `${allLabels[i] ?? '?'}: ${v}`).join(', ');
    warnings.push(`${what} differ (${listed})`);
  };

  differ('scenarios', (r) => r.scenario.name);
  differ('scenario files', (r) => (r.scenario.sha256 ?? 'none').slice(0, 12));
  differ('fleet sizes', (r) => String(r.options.devices));
  differ('worker counts', (r) => String(r.options.workers));
  differ('tool versions', (r) => `${r.tool.name} ${r.tool.version}`);
  differ('Node.js versions', (r) => r.nodeVersion);
  differ('hosts', (r) => `${r.host.hostname} (${r.host.cpus} × ${r.host.cpuModel})`);
  // A run over another transport goes to another port (or path) of the same broker: that is
  // the comparison of what TLS costs, so only the host counts then.
  const transport = (r: ReportDocument) => {
    const t = r.options['transport'];
    return typeof t === 'string' ? t : 'tls';
  };
  const sameTransport = new Set(all.map(transport)).size <= 1;
  if (!sameTransport) {
    const listed = all.map((r, i) => `${allLabels[i] ?? '?'}: ${transport(r)}`).join(', ');
    warnings.push(`transports differ (${listed}): the difference includes what TLS costs`);
  }
  // The embedded broker listens on a new free port each run: only the other targets count.
  differ('targets', (r) => {
    if (r.options.embeddedBroker === true) return 'embedded';
    return sameTransport ? r.options.target : targetHost(r.options.target);
  });
  all.forEach((r, i) => {
    if (r.partial !== null) {
      warnings.push(
        `${allLabels[i] ?? '?'} is partial (${r.partial.reason}): it covers only what ran`,
      );
    }
  });
  return warnings;
}

function targetHost(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return url;
  }
}
