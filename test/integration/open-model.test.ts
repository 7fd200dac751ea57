/**
 * The open model against Mosquitto 2: publishes arrive at the fleet's rate whatever the
 * broker's pace, and with the worker's send path stalled on purpose, latency measured from
 * the schedule includes the stall (coordinated omission corrected) while latency from the
 * actual send does not; the late sends are counted.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { percentileDistribution } from '../../src/metrics/merge.js';
import type { ReportDocument } from '../../src/report/document.js';
import { TEST_FAULT_ENV } from '../../src/worker/test-fault.js';
import { mosquittoSuite } from '../helpers/mosquitto-suite.js';
import { counter, histogramCount, runScenario } from '../helpers/run.js';

// Long enough that a loaded host's own delays (hundreds of ms) do not look like the stall.
const STALL_MS = 2000;

function openScenario(target: string): Record<string, unknown> {
  return {
    name: 'open-model',
    target,
    devices: 20,
    workers: 1,
    connect: { ratePerSec: 200 },
    traffic: { model: 'open', ratePerSec: 100, qos: 1, payloadBytes: 32 },
    phases: [
      { name: 'up', type: 'ramp', traffic: false },
      { name: 'steady', type: 'steady', durationSec: 3 },
    ],
    drainMs: 3000,
  };
}

/** Values of a histogram at or above `minUs`. */
function countAtLeast(
  report: ReportDocument,
  name: 'roundtrip' | 'roundtripCorrected',
  minUs: number,
) {
  const encoded = report.metrics.histograms[name] ?? assert.fail(`no ${name} histogram`);
  const points = percentileDistribution(encoded, 20);
  const below = points.filter((p) => p.valueUs < minUs).at(-1)?.totalCount ?? 0;
  return histogramCount(report, name) - below;
}

describe('open model against Mosquitto 2', async () => {
  const suite = await mosquittoSuite();
  const skip = suite.skip;

  test('publishes follow the arrival rate; both latencies are kept', { skip }, async () => {
    const { report } = await runScenario(openScenario(suite.broker.url), suite.pki.dir);
    const published = counter(report, 'messages.published');
    // 100/s over the 3 s steady phase, within a tick or two either side.
    assert.ok(published >= 295 && published <= 305, `published ${published}`);
    assert.equal(counter(report, 'messages.received'), published);
    assert.equal(histogramCount(report, 'roundtripCorrected'), published);
    assert.equal(histogramCount(report, 'scheduleLag'), published);
    assert.equal(counter(report, 'schedule.skipped'), 0);
    assert.equal(counter(report, 'schedule.noDevice'), 0, 'no publish was due in the ramp');
  });

  test(
    'a stalled send path: corrected latency includes the stall, raw does not',
    { skip },
    async () => {
      // The worker's thread blocks for 2 s, 1 s into the steady phase.
      process.env[TEST_FAULT_ENV] = `stall:0:1000:${STALL_MS}`;
      let report: ReportDocument;
      try {
        ({ report } = await runScenario(openScenario(suite.broker.url), suite.pki.dir));
      } finally {
        delete process.env[TEST_FAULT_ENV];
      }
      // Every publish due during the stall is still sent, late, and none is skipped.
      const published = counter(report, 'messages.published');
      assert.ok(published >= 295, `published ${published}`);
      assert.equal(counter(report, 'messages.received'), published);
      assert.ok(
        counter(report, 'schedule.late') >= 150,
        `late ${counter(report, 'schedule.late')}`,
      );
      assert.ok((report.metrics.latency.scheduleLag?.maxUs ?? 0) >= STALL_MS * 1000 * 0.9);

      // About 200 publishes were due in the stall; half of them waited at least half of it.
      const half = (STALL_MS / 2) * 1000;
      const corrected = countAtLeast(report, 'roundtripCorrected', half);
      const raw = countAtLeast(report, 'roundtrip', half);
      assert.ok(corrected >= 80, `corrected values >= ${half} us: ${corrected}`);
      // Only messages already in flight when the thread blocked can show it in raw latency.
      assert.ok(raw <= 10, `raw values >= ${half} us: ${raw}`);
      const c = report.metrics.latency.roundtripCorrected?.maxUs ?? 0;
      assert.ok(c >= STALL_MS * 1000 * 0.9, `corrected max ${c} us`);
    },
  );
});
