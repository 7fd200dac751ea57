/**
 * Message accounting against Mosquitto 2: at QoS 1 and 2 on a healthy broker every message
 * published arrives exactly once, and the report says so; through a storm, every message is
 * accounted for as received, failed or interrupted, and none is lost.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ReportDocument } from '../../src/report/document.js';
import { mosquittoSuite } from '../helpers/mosquitto-suite.js';
import { counter, histogramCount, runScenario } from '../helpers/run.js';

const DEVICES = 100;

function scenario(target: string, qos: number, extra: Record<string, unknown> = {}) {
  return {
    name: `accounting-qos${qos}`,
    target,
    devices: DEVICES,
    workers: 2,
    connect: { ratePerSec: 400 },
    // Lateness is not what this test is about: a loaded machine may take over a second.
    traffic: { qos, intervalMs: 200, payloadBytes: 40, lateAfterMs: 60_000 },
    durationSec: 1.5,
    drainMs: 3000,
    ...extra,
  };
}

/** published = first arrivals + failed + interrupted + lost: no message unaccounted for. */
function assertEveryMessageAccounted(report: ReportDocument, qos: number): void {
  const q = (kind: string) => counter(report, `messages.qos${qos}.${kind}`);
  const first = q('received') - q('duplicated') - q('unmatched');
  const failed = counter(report, 'messages.failed');
  assert.equal(q('published'), counter(report, 'messages.published'));
  assert.equal(q('published'), first + failed + q('interrupted') + q('lost'));
}

describe('message accounting against Mosquitto 2', async () => {
  const suite = await mosquittoSuite();
  const skip = suite.skip;

  for (const qos of [1, 2]) {
    test(`QoS ${qos} on a healthy broker: every message exactly once`, { skip }, async () => {
      const { report } = await runScenario(scenario(suite.broker.url, qos), suite.pki.dir);
      const q = (kind: string) => counter(report, `messages.qos${qos}.${kind}`);
      assert.ok(q('published') >= DEVICES * 5, `published ${q('published')}`);
      assert.equal(q('received'), q('published'));
      for (const kind of ['lost', 'duplicated', 'outOfOrder', 'interrupted', 'unmatched']) {
        assert.equal(q(kind), 0, kind);
      }
      assert.equal(counter(report, 'messages.acked'), q('published'));
      assert.equal(histogramCount(report, qos === 1 ? 'puback' : 'pubcomp'), q('published'));
      assert.deepEqual(report.accounting, { errors: [], notes: [] });
      assertEveryMessageAccounted(report, qos);
    });
  }

  test(
    'QoS 1 through a storm: nothing lost, the rest failed or interrupted',
    { skip },
    async () => {
      const storm = scenario(suite.broker.url, 1, {
        traffic: { qos: 1, intervalMs: 50, payloadBytes: 40 },
        reconnect: { initialDelayMs: 100, maxDelayMs: 500 },
        phases: [
          { name: 'up', type: 'ramp' },
          { name: 'before', type: 'steady', durationSec: 1 },
          { name: 'outage', type: 'storm' },
          { name: 'after', type: 'steady', durationSec: 1 },
        ],
      });
      const { report } = await runScenario(storm, suite.pki.dir);
      assert.equal(counter(report, 'reconnect.ok'), DEVICES);
      assert.equal(counter(report, 'messages.qos1.lost'), 0);
      assert.equal(counter(report, 'messages.qos1.duplicated'), 0);
      assertEveryMessageAccounted(report, 1);
      assert.deepEqual(report.accounting?.errors, []);
    },
  );
});
