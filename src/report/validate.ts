/**
 * Structural checks of a parsed report: every problem found at once, each with its path, so a
 * hand-edited or truncated report is explained rather than crashing a later command.
 */

/** A parsed JSON object. */
type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Collects problems as `path: rule (got value)`. */
class Problems {
  readonly list: string[] = [];

  add(path: string, rule: string, got: unknown): void {
    this.list.push(`${path} ${rule} (got ${describe(got)})`);
  }

  object(parent: Obj, key: string, path: string): Obj | undefined {
    const value = parent[key];
    if (isObject(value)) return value;
    this.add(`${path}.${key}`, 'must be an object', value);
    return undefined;
  }

  string(parent: Obj, key: string, path: string): void {
    if (typeof parent[key] !== 'string')
      this.add(`${path}.${key}`, 'must be a string', parent[key]);
  }

  number(parent: Obj, key: string, path: string): void {
    const value = parent[key];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      this.add(`${path}.${key}`, 'must be a number', value);
    }
  }

  /** An object whose every value is of `type`. */
  record(parent: Obj, key: string, path: string, type: 'number' | 'string'): void {
    const value = this.object(parent, key, path);
    if (value === undefined) return;
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== type) this.add(`${path}.${key}.${k}`, `must be a ${type}`, v);
    }
  }

  array(parent: Obj, key: string, path: string): unknown[] | undefined {
    const value: unknown = parent[key];
    if (Array.isArray(value)) return value as unknown[];
    this.add(`${path}.${key}`, 'must be an array', value);
    return undefined;
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object' && value !== null) return 'an object';
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/**
 * Problems in the body of a format-1 report (the caller has checked `kind` and
 * `formatVersion`). Optional sections (`thresholds`, `timeSeries`) are checked only for shape.
 *
 * @returns one line per problem; empty when the report is sound.
 */
export function reportProblems(doc: Obj): string[] {
  const p = new Problems();

  const scenario = p.object(doc, 'scenario', '');
  if (scenario) p.string(scenario, 'name', '.scenario');
  const options = p.object(doc, 'options', '');
  if (options) {
    p.string(options, 'target', '.options');
    p.number(options, 'devices', '.options');
  }
  p.object(doc, 'tool', '');
  p.object(doc, 'host', '');
  p.string(doc, 'startedAt', '');
  p.string(doc, 'endedAt', '');
  p.number(doc, 'durationMs', '');
  if (doc.partial !== null) p.object(doc, 'partial', '');
  p.array(doc, 'warnings', '');
  p.array(doc, 'failures', '');

  const metrics = p.object(doc, 'metrics', '');
  if (metrics) metricsProblems(p, metrics);
  if (doc.thresholds !== undefined) p.array(doc, 'thresholds', '');
  if (doc.phases !== undefined) {
    p.array(doc, 'phases', '')?.forEach((phase, i) => {
      const at = `.phases[${i}]`;
      if (!isObject(phase)) return p.add(at, 'must be an object', phase);
      p.string(phase, 'name', at);
      p.number(phase, 'startMs', at);
      p.number(phase, 'durationMs', at);
      const metrics = p.object(phase, 'metrics', at);
      if (metrics) metricsProblems(p, metrics, `${at}.metrics`);
    });
  }
  if (doc.timeSeries !== undefined) {
    const series = p.object(doc, 'timeSeries', '');
    if (series) timeSeriesProblems(p, series);
  }

  if (doc.mergedFrom !== undefined) p.array(doc, 'mergedFrom', '');
  if (doc.run !== undefined) {
    const run = p.object(doc, 'run', '');
    if (run) runProblems(p, run);
  }

  // Paths were built with a leading dot so nested and top-level read alike; drop it.
  return p.list.map((line) => line.replace(/^\./, ''));
}

function runProblems(p: Problems, run: Obj): void {
  p.string(run, 'id', '.run');
  if (run.shard === null) return;
  const shard = p.object(run, 'shard', '.run');
  if (shard === undefined) return;
  for (const key of ['index', 'count', 'devices']) p.number(shard, key, '.run.shard');
  const { index, count } = shard;
  if (typeof index === 'number' && typeof count === 'number' && !(index >= 0 && index < count)) {
    p.add('.run.shard.index', `must be 0 to count - 1 (${count - 1})`, index);
  }
}

function timeSeriesProblems(p: Problems, series: Obj): void {
  const at = '.timeSeries';
  p.number(series, 'intervalMs', at);
  p.string(series, 'startedAt', at);
  if (typeof series.startNs !== 'string' || !/^\d+$/.test(series.startNs)) {
    p.add(`${at}.startNs`, 'must be a decimal string of nanoseconds', series.startNs);
  }
  p.array(series, 'intervals', at)?.forEach((interval, i) => {
    const path = `${at}.intervals[${i}]`;
    if (!isObject(interval)) return p.add(path, 'must be an object', interval);
    metricsProblems(p, interval, path, false);
  });
}

function metricsProblems(p: Problems, metrics: Obj, at = '.metrics', withLatency = true): void {
  for (const key of ['startNs', 'endNs']) {
    const value = metrics[key];
    if (typeof value !== 'string' || !/^\d+$/.test(value)) {
      p.add(`${at}.${key}`, 'must be a decimal string of nanoseconds', value);
    }
  }
  p.record(metrics, 'counters', at, 'number');
  p.record(metrics, 'gauges', at, 'number');
  p.record(metrics, 'histograms', at, 'string');
  if (withLatency) p.object(metrics, 'latency', at);
}
