/**
 * Phases against Mosquitto 2: a ramp, steady traffic, a storm that drops every connection
 * (or a share of them) and their reconnect by backoff, and a ramp-down; with the per-phase
 * metrics in the report. A hundred-odd devices, a few seconds each.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ReportDocument } from '../../src/report/document.js';
import { mosquittoSuite } from '../helpers/mosquitto-suite.js';
import { counter, histogramCount, runScenario } from '../helpers/run.js';

const DEVICES = 120;

function stormScenario(target: string, share: number): Record<string, unknown> {
  return {
    name: 'phases',
    target,
    devices: DEVICES,
    workers: 2,
    connect: { ratePerSec: 400, maxInFlight: 64 },
    traffic: { qos: 1, intervalMs: 250, payloadBytes: 32 },
    reconnect: { initialDelayMs: 100, maxDelayMs: 1000, jitter: 0.5, maxAttempts: 20 },
    phases: [
      { name: 'up', type: 'ramp' },
      { name: 'before', type: 'steady', durationSec: 1 },
      { name: 'outage', type: 'storm', share, maxDurationSec: 20 },
      { name: 'after', type: 'steady', durationSec: 1 },
      { name: 'down', type: 'ramp-down', ratePerSec: 400 },
    ],
    drainMs: 2000,
  };
}

function phase(report: ReportDocument, name: string) {
  const p = report.phases?.find((ph) => ph.name === name);
  return p ?? assert.fail(`no phase ${name} in the report`);
}

function phaseCounter(report: ReportDocument, name: string, key: string): number {
  return phase(report, name).metrics.counters[key] ?? 0;
}

describe('phases against Mosquitto 2', async () => {
  const suite = await mosquittoSuite();
  const skip = suite.skip;

  test('a storm drops every connection and every device reconnects', { skip }, async () => {
    const { report } = await runScenario(stormScenario(suite.broker.url, 1), suite.pki.dir);
    assert.equal(report.partial, null);
    assert.deepEqual(
      report.phases?.map((p) => [p.name, p.type]),
      [
        ['up', 'ramp'],
        ['before', 'steady'],
        ['outage', 'storm'],
        ['after', 'steady'],
        ['down', 'ramp-down'],
      ],
    );

    // The ramp connected the fleet; the storm dropped it and brought every device back.
    assert.equal(counter(report, 'connect.ok'), DEVICES);
    assert.equal(phaseCounter(report, 'up', 'connect.ok'), DEVICES);
    assert.equal(phaseCounter(report, 'outage', 'storm.dropped'), DEVICES);
    assert.equal(phaseCounter(report, 'outage', 'reconnect.ok'), DEVICES);
    assert.equal(counter(report, 'reconnect.ok'), DEVICES);
    assert.equal(counter(report, 'reconnect.gaveUp'), 0);
    assert.equal(histogramCount(report, 'reconnect'), DEVICES);
    assert.equal(histogramCount(report, 'downtime'), DEVICES);
    // A backoff of at least 50 ms (100 ms less half of it at most) lies in every outage.
    assert.ok((report.metrics.latency.downtime?.minUs ?? 0) >= 50_000);
    assert.equal(counter(report, 'connection.lost'), 0, 'drops by the storm are not losses');

    // Traffic went on after the storm: every device re-subscribed and got its messages back.
    assert.equal(counter(report, 'subscribe.ok'), 2 * DEVICES);
    assert.ok(phaseCounter(report, 'after', 'messages.received') >= DEVICES * 3);
    const published = counter(report, 'messages.published');
    const acked = counter(report, 'messages.acked');
    assert.equal(acked + counter(report, 'messages.failed'), published);

    // The ramp-down disconnected everyone; phases follow each other in time.
    assert.equal(phase(report, 'down').metrics.gauges['devices.connected'], 0);
    const phases = report.phases ?? [];
    for (let i = 1; i < phases.length; i++) {
      const prev = phases[i - 1];
      const cur = phases[i];
      assert.ok(prev && cur && cur.startMs >= prev.startMs, `${cur?.name} after ${prev?.name}`);
    }
    const before = phase(report, 'before');
    assert.ok(before.durationMs >= 1000 && before.durationMs < 2500, `${before.durationMs} ms`);
    // The run's totals are the sum of its phases.
    const sum = phases.reduce((n, p) => n + (p.metrics.counters['messages.received'] ?? 0), 0);
    assert.equal(sum, counter(report, 'messages.received'));
  });

  test('a storm of a share drops that share of each worker', { skip }, async () => {
    const { report } = await runScenario(stormScenario(suite.broker.url, 0.25), suite.pki.dir);
    assert.equal(counter(report, 'storm.dropped'), DEVICES / 4);
    assert.equal(counter(report, 'reconnect.ok'), DEVICES / 4);
    assert.equal(phase(report, 'after').metrics.gauges['devices.connected'], DEVICES);
  });
});
