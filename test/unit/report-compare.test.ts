import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { FleetbenchError } from '../../src/errors.js';
import { MetricsRecorder } from '../../src/metrics/recorder.js';
import { baseSpread, compareReports } from '../../src/report/compare.js';
import { COMPARISON_WIDTH, renderComparison } from '../../src/report/compare-table.js';
import { evaluateRule, parseFailOn } from '../../src/report/fail-on.js';
import type { ReportDocument } from '../../src/report/document.js';
import { sampleReport, sampleSnapshot } from './report-fixture.js';

/** A report whose round trips are all `roundtripUs` (and 200 clean connects). */
function reportWithRoundtrip(roundtripUs: number, extra: Record<string, number> = {}) {
  const metrics = sampleSnapshot();
  const r = new MetricsRecorder({ startNs: 0n });
  try {
    for (let i = 0; i < 1000; i++) r.record('roundtrip', roundtripUs);
    metrics.histograms.roundtrip = r.total(1n).histograms.roundtrip;
  } finally {
    r.destroy();
  }
  Object.assign(metrics.counters, extra);
  return sampleReport({ metrics });
}

function row(c: ReturnType<typeof compareReports>, path: string) {
  return c.rows.find((r) => r.path === path) ?? assert.fail(`no row ${path}`);
}

describe('compareReports', () => {
  it('compares a report with itself: every change zero, nothing marked, no rule trips', () => {
    const report = sampleReport();
    const c = compareReports([report], report, {
      failOn: ['roundtrip.p99>+0%', 'connect.p99>+0ms'],
    });
    assert.ok(c.rows.length > 40, `rows: ${c.rows.length}`);
    for (const r of c.rows) {
      if (r.candidate === null) continue;
      assert.equal(r.change, 0, r.path);
      assert.equal(r.verdict, 'same', r.path);
    }
    assert.deepEqual(c.warnings, []);
    assert.equal(c.failed, false);
    assert.ok(c.rules.every((r) => !r.tripped && r.actual === r.limit));
  });

  it('marks a slower round trip worse and trips a relative rule on it', () => {
    const base = reportWithRoundtrip(10_000);
    const candidate = reportWithRoundtrip(12_000);
    const c = compareReports([base], candidate, {
      failOn: ['roundtrip.p99>+10%', 'roundtrip.p99>+3ms', 'roundtrip.p99>50ms'],
    });
    const p99 = row(c, 'roundtrip.p99');
    assert.equal(p99.verdict, 'worse');
    assert.ok(Math.abs((p99.change ?? 0) - 2000) < 20, `change ${p99.change}`);
    assert.ok(Math.abs((p99.relativeChange ?? 0) - 0.2) < 0.005);
    assert.deepEqual(
      c.rules.map((r) => r.tripped),
      [true, false, false],
    );
    assert.equal(c.failed, true);

    // The other way round the same change is better, and nothing trips.
    const back = compareReports([candidate], base, { failOn: ['roundtrip.p99>+10%'] });
    assert.equal(row(back, 'roundtrip.p99').verdict, 'better');
    assert.equal(back.failed, false);
  });

  it('marks failures worse, and new failures against a clean base', () => {
    const base = sampleReport();
    const candidate = reportWithRoundtrip(1000, {
      'connect.attempted': 220,
      'connect.failed.tls': 20,
    });
    const c = compareReports([base], candidate, { failOn: ['connect.failed.rate>1%'] });
    assert.equal(row(c, 'connect.failed').verdict, 'worse');
    assert.equal(row(c, 'connect.failed.tls').verdict, 'worse');
    assert.equal(row(c, 'connect.failed.tls').base?.mean, 0);
    assert.equal(row(c, 'connect.failed.tls').relativeChange, null);
    assert.equal(c.rules[0]?.tripped, true);
    assert.ok(Math.abs((c.rules[0]?.actual ?? 0) - 20 / 220) < 1e-12);
  });

  it('holds a candidate against the spread of several bases, so noise is not a regression', () => {
    const bases = [10_000, 11_000, 12_000].map((us) => reportWithRoundtrip(us));
    const inside = compareReports(bases, reportWithRoundtrip(11_500), {
      failOn: ['roundtrip.p99>+5%'],
    });
    assert.equal(row(inside, 'roundtrip.p99').verdict, 'within-noise');
    // The rule is held against the top of the band (12 ms + 5%), not the mean.
    assert.equal(inside.failed, false);

    const outside = compareReports(bases, reportWithRoundtrip(13_000), {
      failOn: ['roundtrip.p99>+5%'],
    });
    assert.equal(row(outside, 'roundtrip.p99').verdict, 'worse');
    assert.equal(outside.failed, true);

    const sd = compareReports(bases, reportWithRoundtrip(12_900), { spread: { sd: 2 } });
    // mean 11 ms, sd 1 ms: 12.9 ms is inside mean ± 2 sd although above the range.
    assert.equal(row(sd, 'roundtrip.p99').verdict, 'within-noise');
  });

  it('does not mark changes within the tolerance of a single base', () => {
    const c = compareReports([reportWithRoundtrip(10_000)], reportWithRoundtrip(10_300));
    assert.equal(row(c, 'roundtrip.p99').verdict, 'within-noise');
    const strict = compareReports([reportWithRoundtrip(10_000)], reportWithRoundtrip(10_300), {
      tolerance: 0,
    });
    assert.equal(row(strict, 'roundtrip.p99').verdict, 'worse');
  });

  it('warns when scenarios, fleet sizes or tool versions differ, or a report is partial', () => {
    const base = sampleReport();
    const candidate: ReportDocument = {
      ...sampleReport({ partial: { reason: 'interrupted', phase: 'traffic' } }),
      scenario: { name: 'soak', file: null, sha256: null },
      tool: { name: 'fleetbench', version: '0.2.0' },
    };
    candidate.options = { ...candidate.options, devices: 500 };
    const c = compareReports([base], candidate, {
      labels: { bases: ['a.json'], candidate: 'b.json' },
    });
    const text = c.warnings.join('\n');
    assert.match(text, /scenarios differ \(a\.json: quickstart, b\.json: soak\)/);
    assert.match(text, /fleet sizes differ \(a\.json: 200, b\.json: 500\)/);
    assert.match(
      text,
      /tool versions differ \(a\.json: fleetbench 0\.1\.0, b\.json: fleetbench 0\.2\.0\)/,
    );
    assert.match(text, /b\.json is partial \(interrupted\)/);
  });

  it('adds a row for a rule on a metric the listing leaves out', () => {
    const report = sampleReport();
    const c = compareReports([report], report, { failOn: ['roundtrip.p99.99>+1%'] });
    assert.equal(row(c, 'roundtrip.p99.99').verdict, 'same');
  });
});

describe('--fail-on rules', () => {
  it('parses limits, changes and relative changes in the metric’s unit', () => {
    const cases: [string, string, number][] = [
      ['roundtrip.p99>+10%', 'relative', 0.1],
      ['roundtrip.p99 > +5ms', 'change', 5000],
      ['roundtrip.p99>50ms', 'limit', 50_000],
      ['roundtrip.p99>1.5s', 'limit', 1_500_000],
      ['roundtrip.p99>800', 'limit', 800],
      ['connect.failed.rate>1%', 'limit', 0.01],
      ['connect.failed.rate>0.01', 'limit', 0.01],
      ['connect.ok<-5%', 'relative', -0.05],
      ['messages.received<=-100', 'change', -100],
    ];
    for (const [text, kind, amount] of cases) {
      const rule = parseFailOn(text);
      assert.equal(rule.kind, kind, text);
      assert.ok(Math.abs(rule.amount - amount) < 1e-9, `${text}: ${rule.amount}`);
    }
  });

  it('refuses bad rules with the rule, the reason and the forms', () => {
    const bad: [string, RegExp][] = [
      ['roundtrip.p99', /is not <metric><op><value>/],
      ['roundtrip.p99>fast', /value "fast" this metric does not take/],
      ['connect.ok>5ms', /value "5ms" this metric does not take \(count\)/],
      ['roundtrip.p999>+1%', /percentile 999/],
    ];
    for (const [text, message] of bad) {
      assert.throws(
        () => parseFailOn(text),
        (err: unknown) =>
          err instanceof FleetbenchError &&
          err.code === 'E_USAGE' &&
          err.message.includes(text) &&
          message.test(err.message) &&
          (err.hint ?? '') !== '',
        text,
      );
    }
  });

  it('trips when there is nothing to judge', () => {
    const rule = parseFailOn('roundtrip.p99>+10%');
    assert.equal(evaluateRule(rule, null, 5).tripped, true);
    assert.equal(evaluateRule(rule, { low: 1, high: 1 }, null).tripped, true);
    assert.equal(
      evaluateRule(parseFailOn('roundtrip.p99<+10%'), { low: 10, high: 20 }, 10.5).tripped,
      true,
    );
  });

  it('computes the band of several bases', () => {
    const s = baseSpread([10, null, 14], { sd: 1 }) ?? assert.fail('no spread');
    assert.equal(s.mean, 12);
    assert.equal(s.min, 10);
    assert.equal(s.max, 14);
    assert.ok(Math.abs(s.sd - Math.sqrt(8)) < 1e-12);
    assert.ok(Math.abs(s.high - (12 + Math.sqrt(8))) < 1e-12);
    assert.equal(baseSpread([null], 'range'), null);
  });
});

describe('renderComparison', () => {
  it('fits 100 columns, marks worse rows and lists the rules', () => {
    const groupCounters = {
      'groups.a-very-long-group-name-for-width.connect.failed.refused.135': 3,
      'connect.attempted': 203,
    };
    const c = compareReports(
      [reportWithRoundtrip(10_000)],
      reportWithRoundtrip(25_000, groupCounters),
      {
        failOn: ['roundtrip.p99>+10%'],
      },
    );
    const text = renderComparison(c);
    for (const line of text.split('\n')) {
      assert.ok(line.length <= COMPARISON_WIDTH, `${line.length}: ${line}`);
    }
    assert.match(text, /│ roundtrip\.p99 +│ +10\.0 ms │ +25\.0 ms │ +\+15\.0 ms │ +\+150% │ WORSE/);
    assert.match(text, /TRIPPED roundtrip\.p99>\+10%: 25\.0 ms against 11\.0 ms/);
    assert.match(text, /1 of 1 rule\(s\) tripped/);
    assert.ok(!text.includes('\u001b['), 'no colour codes');
    assert.ok(renderComparison(c, { color: true }).includes('\u001b[31mWORSE'));
  });
});
