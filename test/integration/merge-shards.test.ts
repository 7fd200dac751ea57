/**
 * `fleetbench merge` on two shards of one run: shards 0/2 and 1/2 of one fleet run at the same
 * time against one Mosquitto, each writing its own report, merged by the CLI.
 */

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { mergeEncoded, summarize } from '../../src/metrics/merge.js';
import type { ReportDocument } from '../../src/report/document.js';
import { runCli } from '../helpers/cli.js';
import { mosquittoSuite } from '../helpers/mosquitto-suite.js';
import { runScenario } from '../helpers/run.js';

const SHARD_DEVICES = 60;

function scenario(target: string, name = 'shards'): Record<string, unknown> {
  return {
    name,
    target,
    devices: 2 * SHARD_DEVICES,
    workers: 1,
    identity: { deviceId: 'device-{i:05}' },
    connect: { ratePerSec: 200, maxInFlight: 20 },
    traffic: { qos: 1, intervalMs: 250, payloadBytes: 64 },
    durationSec: 2,
    drainMs: 2000,
  };
}

describe('merge of two shard reports', async () => {
  const suite = await mosquittoSuite();
  let dir: string;
  let files: string[];
  let reports: ReportDocument[];

  before(async () => {
    if (suite.skip) return;
    dir = await mkdtemp(path.join(os.tmpdir(), 'fleetbench-merge-'));
    const target = suite.broker.url;
    const runs = await Promise.all(
      [0, 1].map((index) =>
        runScenario(scenario(target), suite.pki.dir, undefined, {
          shard: { index, count: 2 },
          runId: 'merge-test',
        }),
      ),
    );
    files = runs.map((r) => r.reportPath);
    reports = runs.map((r) => r.report);
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('the merged report holds both shards exactly', { skip: suite.skip }, async () => {
    const out = path.join(dir, 'merged.json');
    const r = await runCli(['merge', ...files, '-o', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`merged 2 reports into ${out.replace(/[.]/g, '\\.')}`));
    assert.match(r.stdout, /merged from 2 shard reports: .*\(60\),\s+.*\(60\)/s);
    const merged = JSON.parse(await readFile(out, 'utf8')) as ReportDocument;

    assert.equal(merged.options.devices, 2 * SHARD_DEVICES);
    assert.equal(merged.metrics.counters['connect.ok'], 2 * SHARD_DEVICES);
    for (const key of Object.keys(merged.metrics.counters)) {
      const sum = reports.reduce((n, rep) => n + (rep.metrics.counters[key] ?? 0), 0);
      assert.equal(merged.metrics.counters[key], sum, key);
    }
    const published = merged.metrics.counters['messages.published'] ?? 0;
    assert.equal(merged.metrics.counters['messages.received'], published);
    for (const name of ['connect', 'tls', 'roundtrip'] as const) {
      const parts = reports.map((rep) => rep.metrics.histograms[name] ?? '');
      assert.deepEqual(merged.metrics.latency[name], summarize(mergeEncoded(parts)), name);
      const counts = reports.reduce((n, rep) => n + (rep.metrics.latency[name]?.count ?? 0), 0);
      assert.equal(merged.metrics.latency[name]?.count, counts);
    }

    // Aligned on the wall clock, the two fleets were connected at the same time.
    const series = merged.timeSeries ?? assert.fail('no time series');
    const peak = Math.max(...series.intervals.map((i) => i.gauges['devices.connected'] ?? 0));
    assert.equal(peak, 2 * SHARD_DEVICES);
    const again = series.intervals.reduce((n, i) => n + (i.counters['messages.received'] ?? 0), 0);
    assert.equal(again, merged.metrics.counters['messages.received']);
    assert.deepEqual(
      merged.mergedFrom?.map((m) => m.devices),
      [SHARD_DEVICES, SHARD_DEVICES],
    );
    assert.deepEqual(merged.run?.shards, [0, 1]);
    assert.equal(merged.run?.id, 'merge-test');
  });

  test('refuses another scenario and an existing output file', { skip: suite.skip }, async () => {
    const other = await runScenario(
      { ...scenario(suite.broker.url, 'other'), durationSec: 0.5 },
      suite.pki.dir,
      undefined,
      { shard: { index: 1, count: 2 }, runId: 'merge-test' },
    );
    const r = await runCli([
      'merge',
      files[0] ?? '',
      other.reportPath,
      '-o',
      path.join(dir, 'x.json'),
    ]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cannot merge: .* is a report of scenario "other"/);

    const existing = await runCli(['merge', ...files, '-o', files[0] ?? '']);
    assert.equal(existing.code, 4);
    assert.match(existing.stderr, /exists; fleetbench never overwrites it/);
  });
});
