/**
 * Capacity search: the search stops at the first step that is not sustained and says why.
 * These tests assert which steps ran and their verdicts, never how fast anything was: the
 * SLOs are either impossible (1 µs) or far from anything a loaded host reaches, the failures
 * come from the broker's own connection limit, and a step that fails while the shared host
 * delays the harness may be called `saturated` instead (that is the verdict's purpose).
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import type { CapacityResult } from '../../src/report/capacity.js';
import type { ReportDocument } from '../../src/report/document.js';
import { renderHtml } from '../../src/report/html.js';
import { resolveMetric } from '../../src/report/metric-path.js';
import { renderSummary } from '../../src/report/table.js';
import { TEST_FAULT_ENV } from '../../src/worker/test-fault.js';
import { mosquittoSuite } from '../helpers/mosquitto-suite.js';
import { makeTestPki, type TestPki } from '../helpers/pki.js';
import { counter, runScenario } from '../helpers/run.js';

function search(target: string, capacity: Record<string, unknown>, extra = {}) {
  return {
    name: 'capacity-test',
    target,
    devices: 200,
    workers: 2,
    traffic: false,
    capacity: { mode: 'connect', stepDurationSec: 0.5, minAchievedShare: 0.1, ...capacity },
    ...extra,
  };
}

function capacityOf(report: ReportDocument): CapacityResult {
  return report.capacity ?? assert.fail('the report has no capacity result');
}

describe('capacity search against Mosquitto 2', async () => {
  const suite = await mosquittoSuite();
  const skip = suite.skip;

  test(
    'an SLO no step can meet: no sustained rate, only the first step ran',
    { skip },
    async () => {
      const scenario = search(suite.broker.url, {
        startRatePerSec: 40,
        maxRatePerSec: 320,
        slo: ['connect.p99 < 1us'],
      });
      const { report } = await runScenario(scenario, suite.pki.dir);
      const c = capacityOf(report);
      assert.equal(c.steps.length, 1);
      assert.equal(c.sustainedRatePerSec, null);
      assert.match(c.summary, /^no sustained rate/);
      const verdict = c.steps[0]?.verdict;
      assert.ok(verdict === 'slo-broken' || verdict === 'saturated', verdict);
      if (verdict === 'slo-broken') {
        assert.equal(c.limitedBy, 'broker');
        assert.match(c.summary, /at 40\/s \(step 1\) connect\.p99 < 1us broke/);
      }
      assert.equal(counter(report, 'connect.ok'), 20, 'the one step connected its 20 devices');
      assert.equal(resolveMetric(report, 'capacity.sustainedRatePerSec').value, null);
      assert.equal(resolveMetric(report, 'capacity.steps').value, 1);
      assert.match(renderSummary(report), /result: no sustained rate/);
    },
  );

  test('a generous SLO: every step sustained, the ceiling not reached', { skip }, async () => {
    const scenario = search(suite.broker.url, {
      startRatePerSec: 20,
      stepRatePerSec: 20,
      maxRatePerSec: 60,
      slo: ['connect.p99 < 20s', 'connect.failed.rate < 1%'],
    });
    const { report } = await runScenario(scenario, suite.pki.dir);
    const c = capacityOf(report);
    assert.deepEqual(
      c.steps.map((s) => [s.ratePerSec, s.devices, s.verdict]),
      [
        [20, 10, 'sustained'],
        [40, 20, 'sustained'],
        [60, 30, 'sustained'],
      ],
    );
    assert.equal(c.sustainedRatePerSec, 60);
    assert.equal(c.ceilingReached, false);
    assert.equal(c.limitedBy, 'max-rate');
    assert.match(c.summary, /the ceiling was not reached/);
    // Every step is a phase of the report, with its own counters and kernel counters.
    assert.deepEqual(
      report.phases?.map((p) => [p.name, p.metrics.counters['connect.ok']]),
      [
        ['step1', 10],
        ['step2', 20],
        ['step3', 30],
      ],
    );
    assert.ok(report.phases?.every((p) => p.kernel !== undefined));
    assert.equal(counter(report, 'connect.ok'), 60);
    assert.equal(resolveMetric(report, 'capacity.sustainedRatePerSec').value, 60);
    assert.equal(resolveMetric(report, 'capacity.ceilingReached').value, 0);
    assert.match(renderHtml(report), /Capacity search \(connect\)/);
  });
});

describe('capacity search: a broker limit, a saturated load generator', () => {
  let pki: TestPki | undefined;
  let limited: EmbeddedBroker | undefined;
  before(async () => {
    pki = await makeTestPki();
    // A broker that holds 25 connections and closes the rest at once, as max_connections does.
    limited = await startEmbeddedBroker({
      ...{ caFile: pki.layout.caCert, certFile: pki.layout.serverCert },
      ...{ keyFile: pki.layout.serverKey, maxConnections: 25 },
    });
  });
  after(async () => {
    await limited?.close();
    await pki?.cleanup();
  });
  const url = () => `mqtts://127.0.0.1:${limited?.port ?? 0}`;
  const dir = () => pki?.dir ?? assert.fail('no PKI');

  test('a failure-rate SLO broken by a broker with a low connection limit', async () => {
    const scenario = search(url(), {
      startRatePerSec: 40,
      factor: 2,
      maxRatePerSec: 320,
      slo: ['connect.p99 < 20s', 'connect.failed.rate < 1%'],
    });
    const { report } = await runScenario(scenario, dir());
    const c = capacityOf(report);
    assert.deepEqual(
      c.steps.map((s) => s.ratePerSec),
      [40, 80],
      'the search stops at the step the broker refused',
    );
    assert.equal(c.steps[0]?.verdict, 'sustained');
    assert.equal(c.sustainedRatePerSec, 40);
    const second = c.steps[1] ?? assert.fail('no second step');
    // About 15 of the 40 are refused (a connection closing as the next arrives may free a slot).
    assert.ok((second.failedRate ?? 0) >= 0.25, `failed ${second.failedRate}`);
    assert.ok((report.phases?.[1]?.metrics.counters['connect.ok'] ?? 40) <= 30);
    assert.ok(second.verdict === 'slo-broken' || second.verdict === 'saturated');
    if (second.verdict === 'slo-broken') {
      assert.equal(c.ceilingReached, true);
      assert.match(second.reason, /connect\.failed\.rate < 1% broke \(\d+\.\d+%\)/);
      assert.match(c.summary, /^sustained 40\/s .*at 80\/s \(step 2\)/);
    }
  });

  test('a step with the load generator stalled is "saturated", not the broker', async () => {
    // Worker 0's thread blocks for 3 s early in the first step's measured second, so it is
    // stalled for most of the step and every corrected round trip after carries the stall.
    process.env[TEST_FAULT_ENV] = 'stall:0:200:3000';
    try {
      const scenario = search(
        url(),
        {
          mode: 'publish',
          startRatePerSec: 50,
          maxRatePerSec: 200,
          stepDurationSec: 1,
          slo: ['roundtripCorrected.p99 < 500ms'],
        },
        { devices: 10, traffic: { qos: 1, payloadBytes: 32 }, drainMs: 500 },
      );
      const { report } = await runScenario(scenario, dir());
      const c = capacityOf(report);
      assert.equal(c.steps.length, 1, 'the stalled step ends the search');
      assert.equal(c.sustainedRatePerSec, null);
      // The stall is counted in the interval it ends in, whichever of the worker's timers runs
      // first after it (test/unit/capacity-saturation.test.ts forces the worse order).
      const first = c.steps[0] ?? assert.fail('no step');
      assert.equal(first.verdict, 'saturated', `${first.verdict}: ${first.reason}`);
      assert.match(first.reason, /worker 0 for \d+% of the step/);
      assert.equal(c.limitedBy, 'load-generator');
      assert.match(c.summary, /load generator was saturated/);
      assert.deepEqual(
        report.phases?.map((p) => p.name),
        ['step1-connect', 'step1-measure'],
      );
    } finally {
      delete process.env[TEST_FAULT_ENV];
    }
  });

  test('publish throughput: steps sustained up to the highest rate tried', async () => {
    const scenario = search(
      url(),
      {
        mode: 'publish',
        startRatePerSec: 20,
        maxRatePerSec: 40,
        stepDurationSec: 1,
        slo: ['roundtripCorrected.p99 < 20s', 'messages.lost == 0'],
      },
      { devices: 10, traffic: { qos: 1, payloadBytes: 32 }, drainMs: 500 },
    );
    const { report } = await runScenario(scenario, dir());
    const c = capacityOf(report);
    assert.deepEqual(
      c.steps.map((s) => [s.ratePerSec, s.verdict]),
      [
        [20, 'sustained'],
        [40, 'sustained'],
      ],
    );
    assert.equal(c.limitedBy, 'max-rate');
    const measured = report.phases?.filter((p) => p.name.endsWith('-measure')) ?? [];
    assert.equal(measured.length, 2);
    for (const p of measured) {
      assert.equal(
        p.metrics.counters['messages.received'],
        p.metrics.counters['messages.published'],
      );
    }
  });
});
