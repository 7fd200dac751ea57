/**
 * Parses exposition text with the Prometheus project's own Python client (Debian's
 * `python3-prometheus-client`, which `.ci/run` installs): its OpenMetrics parser is strict (it
 * rejects a missing `# EOF`, a `_total` family name, a `# UNIT` that the name does not end
 * with, unsorted or inconsistent buckets), so a text it accepts is valid for scrapers too.
 */

import { execFile } from 'node:child_process';

/** Where the parser's Python is; the Debian package installs for the system interpreter. */
export const PYTHON = process.env.FLEETBENCH_PYTHON ?? '/usr/bin/python3';

/** One parsed sample. */
export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** One parsed metric family. */
export interface ParsedFamily {
  name: string;
  type: string;
  unit: string;
  samples: ParsedSample[];
}

/** A text to parse, and the parser for it. */
export interface Exposition {
  format: 'openmetrics' | 'prometheus';
  text: string;
}

/** One text's families, or the parser's error. */
export type Parsed = { families: ParsedFamily[] } | { error: string };

const SCRIPT = `
import json, math, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families as om
from prometheus_client.parser import text_string_to_metric_families as prom
out = []
for item in json.load(sys.stdin):
    try:
        parse = om if item['format'] == 'openmetrics' else prom
        out.append({'families': [
            {'name': f.name, 'type': f.type, 'unit': getattr(f, 'unit', ''),
             'samples': [{'name': s.name, 'labels': s.labels,
                          'value': s.value if math.isfinite(s.value) else str(s.value)}
                         for s in f.samples]}
            for f in parse(item['text'])]})
    except Exception as e:
        out.append({'error': '%s: %s' % (type(e).__name__, e)})
json.dump(out, sys.stdout)
`;

/** Whether the parser can run here: null if so, else why not. */
export function parserMissing(): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(PYTHON, ['-c', 'import prometheus_client.openmetrics.parser'], (err) =>
      resolve(
        err === null
          ? null
          : `${PYTHON} with prometheus_client is missing ` +
              '(.ci/run installs python3-prometheus-client)',
      ),
    );
  });
}

/**
 * Parses each text with the parser of its format.
 *
 * @returns per text its families, or the parser's error message.
 */
export function parseExpositions(texts: readonly Exposition[]): Promise<Parsed[]> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      PYTHON,
      ['-c', SCRIPT],
      { maxBuffer: 256 * 1024 * 1024, timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err !== null) return reject(new Error(`${PYTHON} failed: ${err.message}\n${stderr}`));
        resolve(JSON.parse(stdout) as Parsed[]);
      },
    );
    child.stdin?.end(JSON.stringify(texts));
  });
}
