/**
 * Every example in scenarios/ runs against Mosquitto 2 at small scale (the fleet and the
 * steady/hold phases cut down by overrides, as `--devices` and `--duration` would), its own
 * thresholds are judged (those on counts pass), and its accounting is exact.
 */

import assert from 'node:assert/strict';
import { mkdtemp, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { runLoadTest } from '../../src/coordinator/run-load-test.js';
import type { ReportDocument } from '../../src/report/document.js';
import { loadScenario } from '../../src/scenario/load.js';
import { mosquittoSuite } from '../helpers/mosquitto-suite.js';
import { counter, histogramCount } from '../helpers/run.js';

const SCENARIOS = fileURLToPath(new URL('../../../scenarios/', import.meta.url));
const DEVICES = 60;

async function runExample(name: string, target: string, certsDir: string): Promise<ReportDocument> {
  const plan = await loadScenario(path.join(SCENARIOS, `${name}.yaml`), {
    certsDir,
    overrides: { target, devices: DEVICES, durationSec: 1, workers: 2 },
  });
  const outDir = await mkdtemp(path.join(os.tmpdir(), `fleetbench-${name}-`));
  const { report } = await runLoadTest({ plan, certsDir, outDir });
  return report;
}

/**
 * What every example must show: all connected, its thresholds judged and those on counts met,
 * nothing lost. A latency threshold is the user's SLO for their broker, not a fact of this
 * shared machine: it is judged, but a loaded CI host may miss it.
 */
function assertHealthy(report: ReportDocument): void {
  assert.equal(report.partial, null);
  assert.equal(counter(report, 'connect.ok'), DEVICES);
  const verdicts = report.thresholds ?? [];
  assert.ok(verdicts.length > 0, 'every example has thresholds, and they were judged');
  const failed = verdicts.filter((t) => !t.ok && t.unit !== 'ms');
  assert.deepEqual(failed, [], 'every threshold of the example on a count or rate holds');
  assert.deepEqual(report.accounting?.errors ?? [], []);
  assert.equal(counter(report, 'messages.lost'), 0);
}

describe('the example scenarios against Mosquitto 2', async () => {
  const suite = await mosquittoSuite();
  const skip = suite.skip;
  const run = (name: string) => runExample(name, suite.broker.url, suite.pki.dir);

  test('every example is covered here', async () => {
    const files = (await readdir(SCENARIOS)).filter((f) => f.endsWith('.yaml')).sort();
    assert.deepEqual(files, [
      'capacity.yaml',
      'command-roundtrip.yaml',
      'connect-storm.yaml',
      'quickstart.yaml',
      'reconnect-storm.yaml',
      'telemetry-soak.yaml',
    ]);
  });

  test(
    'quickstart: own-topic round trips at QoS 1, every message back once',
    { skip },
    async () => {
      const report = await run('quickstart');
      assertHealthy(report);
      // How many publishes fit in the cut-down second depends on the machine's load; that
      // every one of them came back once does not.
      const published = counter(report, 'messages.published');
      assert.ok(published > 0, `published ${published}`);
      assert.equal(counter(report, 'messages.received'), published);
    },
  );

  test('connect-storm: a ramping connect rate, no traffic', { skip }, async () => {
    const report = await run('connect-storm');
    assertHealthy(report);
    assert.equal(counter(report, 'messages.published'), 0);
    assert.deepEqual(
      report.phases?.map((p) => p.name),
      ['dawn', 'connected'],
    );
  });

  test('telemetry-soak: the open model at its rate, both latencies kept', { skip }, async () => {
    const report = await run('telemetry-soak');
    assertHealthy(report);
    const published = counter(report, 'messages.qos1.published');
    // 500/s over the 1 s soak (the ramp has no traffic).
    assert.ok(published >= 490 && published <= 510, `published ${published}`);
    assert.equal(counter(report, 'messages.qos1.received'), published);
    assert.equal(report.metrics.latency.roundtripCorrected?.count, published);
  });

  test(
    'reconnect-storm: every device dropped, every device back, then a ramp-down',
    { skip },
    async () => {
      const report = await run('reconnect-storm');
      assertHealthy(report);
      assert.equal(counter(report, 'storm.dropped'), DEVICES);
      assert.equal(counter(report, 'reconnect.ok'), DEVICES);
      const down = report.phases?.find((p) => p.name === 'down');
      assert.equal(down?.metrics.gauges['devices.connected'], 0);
    },
  );

  test(
    'command-roundtrip: every command answered once, the monitor counts fan-in and each will',
    { skip },
    async () => {
      const report = await run('command-roundtrip');
      assertHealthy(report);
      const n = (key: string) => counter(report, key);
      // 100 commands/s from the controller through the ramp, two 1 s steady phases and a storm.
      const sent = n('commands.qos1.published');
      assert.ok(sent >= 150, `commands sent ${sent}`);
      assert.equal(n('commands.published'), sent);
      // Exact: each command answered once, or cut short because its receiver's connection ended.
      for (const kind of ['lost', 'duplicated', 'unmatched', 'failed']) {
        assert.equal(n(`commands.${kind}`), 0, `commands.${kind}`);
      }
      assert.equal(n('commands.received') + n('commands.interrupted'), sent);
      assert.equal(histogramCount(report, 'commandRoundtrip'), n('commands.received'));
      assert.equal(n('commands.responded'), n('commands.received'));
      // The groups: 1 controller, 1 monitor, 29 receivers and 29 sensors (with wills).
      const groups = report.options.groups as { name: string; behaviour: string }[];
      assert.deepEqual(
        groups.map((g) => `${g.name}:${g.behaviour}`),
        ['backend:controller', 'monitor:monitor', 'actuators:commands', 'sensors:telemetry'],
      );
      // The storm dropped only the sensors, and every one's will reached the monitor.
      assert.equal(n('storm.dropped'), 29);
      assert.equal(n('wills.received'), 29);
      assert.equal(n('groups.monitor.wills.received'), 29);
      // Fan-in: the sensors' telemetry reached the monitor, never more often than it was sent.
      const fanIn = n('fanIn.received');
      assert.ok(fanIn > 0 && fanIn <= n('messages.published'), `fan-in ${fanIn}`);
      assert.equal(histogramCount(report, 'fanIn'), fanIn);
      const storm = report.phases?.find((p) => p.name === 'outage');
      assert.equal(storm?.metrics.counters['reconnect.ok'], 29);
    },
  );

  test(
    'capacity: connect-rate steps until the SLO breaks, each step in the report',
    { skip },
    async () => {
      const report = await run('capacity');
      assert.equal(report.partial, null);
      const c = report.capacity ?? assert.fail('no capacity result');
      assert.deepEqual(c.slo, ['connect.p99 < 500ms', 'connect.failed.rate < 1%']);
      assert.ok(c.steps.length >= 1);
      assert.deepEqual(
        c.steps.map((s) => s.ratePerSec),
        [50, 100, 200, 400, 800, 1600].slice(0, c.steps.length),
      );
      // Every step but the last was sustained; the search ended at the last one or at the top.
      assert.ok(c.steps.slice(0, -1).every((s) => s.verdict === 'sustained'));
      assert.notEqual(c.steps.at(-1)?.verdict, 'stopped');
      for (const s of c.steps) {
        // At most the fleet (60 here), the step's rate for its second otherwise.
        assert.equal(s.devices, Math.min(DEVICES, s.ratePerSec), `step ${s.step}`);
        assert.equal(s.failedRate, 0, `step ${s.step}: the broker refused nothing`);
      }
      assert.deepEqual(
        report.phases?.map((p) => p.name),
        c.steps.map((s) => `step${s.step}`),
      );
      // Its threshold on the result was judged (whether a loaded host sustains 50/s is not ours).
      assert.deepEqual(
        report.thresholds?.map((t) => t.expression),
        ['capacity.sustainedRatePerSec >= 50'],
      );
    },
  );
});
