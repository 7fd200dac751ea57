/**
 * The metrics endpoint on a real run through the CLI (`run --metrics-port 0`, embedded
 * broker): scraped over HTTP during the run and after it, each text checked by the Prometheus
 * project's own parsers, and its figures held against the run's final report: counters never
 * go down, the whole fleet shows as connected during the hold, and the last scrape equals the
 * report. Then the endpoint's refusals and HTTP behaviour.
 */

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';

import { startMetricsEndpoint } from '../../src/coordinator/metrics-endpoint.js';
import { FleetbenchError } from '../../src/errors.js';
import type { ReportDocument } from '../../src/report/document.js';
import { runCli, startCli } from '../helpers/cli.js';
import {
  parseExpositions,
  parserMissing,
  type Parsed,
  type ParsedFamily,
  type ParsedSample,
} from '../helpers/prometheus-parser.js';

const DEVICES = 120;
const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;' +
  'q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

interface Scrape {
  contentType: string;
  text: string;
}

async function scrape(url: string, accept?: string): Promise<Scrape> {
  const res = await fetch(url, { headers: accept === undefined ? {} : { accept } });
  assert.equal(res.status, 200);
  return { contentType: res.headers.get('content-type') ?? '', text: await res.text() };
}

/** The value of one sample; `labels` must match exactly those given. */
function value(families: ParsedFamily[], sample: string, labels: Record<string, string> = {}) {
  const found = families
    .flatMap((f) => f.samples)
    .find((s) => s.name === sample && sameLabels(s, labels));
  return found?.value ?? assert.fail(`no sample ${sample} ${JSON.stringify(labels)}`);
}

function sameLabels(s: ParsedSample, labels: Record<string, string>): boolean {
  const keys = Object.keys(s.labels);
  return keys.length === Object.keys(labels).length && keys.every((k) => s.labels[k] === labels[k]);
}

function phaseOf(families: ParsedFamily[]): string {
  const phase = families.find((f) => f.name === 'fleetbench_phase');
  const on = phase?.samples.find((s) => s.value === 1);
  return on?.labels.fleetbench_phase ?? assert.fail('no phase set');
}

/** Every counter and histogram sample, keyed by name and labels. */
function cumulative(families: ParsedFamily[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of families) {
    if (f.type !== 'counter' && f.type !== 'histogram') continue;
    for (const s of f.samples) out.set(`${s.name}${JSON.stringify(s.labels)}`, s.value);
  }
  return out;
}

describe('metrics endpoint on a real run', async () => {
  const skip = (await parserMissing()) ?? false;
  let dir: string;
  const during: Scrape[] = [];
  let duringText: Scrape;
  let final: Scrape;
  let finalText: Scrape;
  let report: ReportDocument;
  /** Every scrape parsed once: those during the run, the final one, then the two texts. */
  let parsed: Parsed[];
  const familiesOf = (p: Parsed | undefined) =>
    p !== undefined && 'families' in p ? p.families : assert.fail(JSON.stringify(p));

  before(async () => {
    if (skip !== false) return;
    dir = await mkdtemp(path.join(os.tmpdir(), 'fleetbench-metrics-'));
    const scenarioFile = path.join(dir, 'metrics.json');
    const scenario = {
      name: 'metrics',
      devices: DEVICES,
      workers: 2,
      connect: { ratePerSec: 400, maxInFlight: 64 },
      traffic: { qos: 1, intervalMs: 250, payloadBytes: 32 },
      phases: [
        { name: 'up', type: 'ramp' },
        { name: 'hold', type: 'hold', durationSec: 3 },
        { name: 'busy', type: 'steady', durationSec: 2 },
      ],
      drainMs: 2000,
    };
    await writeFile(scenarioFile, JSON.stringify(scenario));
    const cli = startCli(
      [
        ...['run', scenarioFile, '--json', '--quiet', '--out', path.join(dir, 'reports')],
        ...['--certs', path.join(dir, 'certs'), '--metrics-port', '0', '--metrics-linger', '2'],
      ],
      { cwd: dir },
    );
    await cli.waitForStderr(/metrics endpoint: http:\/\/127\.0\.0\.1:\d+\/metrics/);
    const url = /metrics endpoint: (http:\S+)/.exec(cli.stderr())?.[1] ?? '';
    const lingering = () => /serving the final figures/.test(cli.stderr());
    // Bounded: the run takes a few seconds; 300 scrapes at 100 ms is 30 s and more.
    for (let i = 0; i < 300 && !lingering() && cli.child.exitCode === null; i++) {
      during.push(await scrape(url, PROMETHEUS_ACCEPT));
      if (i === 10) duringText = await scrape(url);
      await sleep(100);
    }
    final = await scrape(url, PROMETHEUS_ACCEPT);
    finalText = await scrape(url, 'text/plain');
    const exit = await cli.exited(30_000);
    assert.equal(exit.code, 0, exit.stderr);
    report = JSON.parse(exit.stdout) as ReportDocument;
    parsed = await parseExpositions([
      ...[...during, final].map((s) => ({ format: 'openmetrics' as const, text: s.text })),
      ...[duringText, finalText].map((s) => ({ format: 'prometheus' as const, text: s.text })),
    ]);
  });
  after(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  test('every scrape is valid OpenMetrics or Prometheus text, by content type', { skip }, () => {
    assert.ok(during.length >= 5, `scrapes during the run: ${during.length}`);
    for (const s of [...during, final]) {
      assert.equal(s.contentType, 'application/openmetrics-text; version=1.0.0; charset=utf-8');
      assert.ok(s.text.endsWith('# EOF\n'));
    }
    for (const s of [duringText, finalText]) {
      assert.equal(s.contentType, 'text/plain; version=0.0.4; charset=utf-8');
      assert.ok(!s.text.includes('# EOF'));
    }
    assert.equal(parsed.length, during.length + 3);
    parsed.forEach((p, i) => assert.ok(!('error' in p), `scrape ${i}: ${JSON.stringify(p)}`));
  });

  test('counters only grow; the fleet is connected during the hold', { skip }, () => {
    const scrapes = parsed.slice(0, during.length).map(familiesOf);
    let previous = new Map<string, number>();
    for (const families of scrapes) {
      const now = cumulative(families);
      for (const [key, v] of previous) {
        assert.ok((now.get(key) ?? -1) >= v, `${key} went from ${v} to ${now.get(key)}`);
      }
      previous = now;
    }

    const hold = scrapes.filter((f) => phaseOf(f) === 'hold');
    assert.ok(hold.length > 0, 'some scrapes during the hold');
    const holdStart = value(hold[0] ?? [], 'fleetbench_run_elapsed_seconds');
    // A worker's gauge is as of its last snapshot (once a second): one interval into the hold
    // every worker has reported its whole share connected.
    const settled = hold.filter(
      (f) => value(f, 'fleetbench_run_elapsed_seconds') >= holdStart + 1.2,
    );
    assert.ok(settled.length > 0, 'scrapes a second into the hold');
    for (const f of hold) assert.ok(value(f, 'fleetbench_devices_connected') <= DEVICES);
    for (const f of settled) assert.equal(value(f, 'fleetbench_devices_connected'), DEVICES);
    assert.ok(
      scrapes.some(
        (f) => phaseOf(f) === 'busy' && value(f, 'fleetbench_messages_received_total') > 0,
      ),
      'messages counted live, before the end',
    );
  });

  test('after the run the endpoint equals the report', { skip }, () => {
    const families = familiesOf(parsed[during.length]);
    const c = report.metrics.counters;
    assert.equal(phaseOf(families), 'done');
    assert.equal(value(families, 'fleetbench_devices'), DEVICES);
    assert.equal(value(families, 'fleetbench_devices_connected'), 0);
    assert.equal(value(families, 'fleetbench_connects_total'), c['connect.ok']);
    assert.equal(value(families, 'fleetbench_connects_total'), DEVICES);
    assert.equal(value(families, 'fleetbench_connect_attempts_total'), c['connect.attempted']);
    const published = value(families, 'fleetbench_messages_published_total');
    assert.equal(published, c['messages.published']);
    assert.ok(published > 0);
    assert.equal(value(families, 'fleetbench_messages_received_total'), c['messages.received']);
    const latency = report.metrics.latency as Record<string, { count: number; meanUs: number }>;
    for (const [name, family] of [
      ['connect', 'fleetbench_connect_seconds'],
      ['roundtrip', 'fleetbench_roundtrip_seconds'],
    ] as const) {
      const count = value(families, `${family}_count`);
      assert.equal(count, latency[name]?.count, `${family}_count`);
      assert.equal(value(families, `${family}_bucket`, { le: '+Inf' }), count);
      const meanUs = (value(families, `${family}_sum`) / count) * 1e6;
      const want = latency[name]?.meanUs ?? 0;
      assert.ok(Math.abs(meanUs - want) <= want * 0.01, `${family} mean ${meanUs} vs ${want}`);
    }
    const kinds = families.find((f) => f.name === 'fleetbench_connect_seconds');
    assert.equal(kinds?.unit, 'seconds');
    const workers = families.find((f) => f.name === 'fleetbench_worker_busy_ratio');
    assert.deepEqual(
      workers?.samples.map((s) => s.labels.worker),
      ['0', '1'],
    );
    const saturated = value(families, 'fleetbench_load_generator_saturated');
    assert.ok(saturated === 0 || saturated === 1);

    // The Prometheus text says the same under its own naming (counters typed with _total).
    const prom = familiesOf(parsed[during.length + 2]);
    assert.equal(value(prom, 'fleetbench_connects_total'), DEVICES);
    const info = prom.find((f) => f.name === 'fleetbench_run_info')?.samples[0]?.labels;
    assert.equal(info?.scenario, 'metrics');
    assert.equal(info?.shard, '0/1');
    assert.equal(info?.run_id, report.run?.id);
  });
});

describe('metrics endpoint: refusals and HTTP', () => {
  test('non-loopback addresses are refused with the fix', async () => {
    for (const host of ['0.0.0.0', '::', '10.1.2.3', '192.168.0.1', 'example.com', '']) {
      await assert.rejects(
        startMetricsEndpoint({ host, port: 0, families: () => [] }),
        (err: unknown) =>
          err instanceof FleetbenchError &&
          err.code === 'E_USAGE' &&
          err.message.includes('loopback') &&
          (err.hint ?? '').includes('127.0.0.1'),
        host,
      );
    }
    const cli = await runCli([
      ...['run', path.resolve(import.meta.dirname, '../../../scenarios/quickstart.yaml')],
      ...['--dry-run', '--metrics-port', '9464', '--metrics-host', '0.0.0.0'],
    ]);
    assert.equal(cli.code, 2, cli.stderr);
    assert.match(cli.stderr, /--metrics-host must be a loopback address \(got "0\.0\.0\.0"\)/);
  });

  test('serves /metrics on loopback (v4 and v6); 404, 405, HEAD; a taken port', async () => {
    const families = () => [
      { name: 'fleetbench_devices', type: 'gauge' as const, help: 'd', samples: [{ value: 3 }] },
    ];
    for (const host of ['127.0.0.1', '::1', 'localhost']) {
      const endpoint = await startMetricsEndpoint({ host, port: 0, families });
      try {
        assert.ok(endpoint.port > 0);
        const ok = await fetch(endpoint.url);
        assert.equal(
          await ok.text(),
          '# TYPE fleetbench_devices gauge\n# HELP fleetbench_devices d\nfleetbench_devices 3\n',
        );
        const base = endpoint.url.replace(/\/metrics$/, '');
        assert.equal((await fetch(`${base}/`)).status, 404);
        const post = await fetch(endpoint.url, { method: 'POST' });
        assert.equal(post.status, 405);
        assert.equal(post.headers.get('allow'), 'GET, HEAD');
        const head = await fetch(endpoint.url, { method: 'HEAD' });
        assert.equal(head.status, 200);
        assert.equal(await head.text(), '');
      } finally {
        await endpoint.close();
      }
    }
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      await assert.rejects(
        startMetricsEndpoint({ port, families }),
        (err: unknown) => err instanceof FleetbenchError && err.code === 'E_OUTPUT',
      );
    } finally {
      taken.close();
    }
  });
});
