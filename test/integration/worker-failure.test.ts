/**
 * A worker thread that throws or runs out of memory, in a real run of the CLI: the failure is
 * reported with its cause, the other worker stops, the report is written as partial with the
 * failed worker's numbers from its snapshots, and the exit code is 1. The fault is injected
 * through the test-only FLEETBENCH_TEST_WORKER_FAULT (src/worker/test-fault.ts).
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ReportDocument } from '../../src/report/document.js';
import { parseTestFault } from '../../src/worker/test-fault.js';
import { onlyReport, runCliWith, useCliWorkspace } from '../helpers/cli.js';

const SCENARIO = {
  name: 'workerfault',
  devices: 80,
  workers: 2,
  connect: { ratePerSec: 400, maxInFlight: 32 },
  traffic: { qos: 1, intervalMs: 250, payloadBytes: 32 },
  durationSec: 120,
};

const ws = useCliWorkspace('workerfault');

async function runWithFault(fault: string, name: string, extra: string[] = []) {
  const { args, out } = await ws.runArgs(SCENARIO, name);
  const env = { FLEETBENCH_TEST_WORKER_FAULT: fault };
  const exit = await runCliWith([...args, ...extra], { env }, 90_000);
  return { exit, report: await onlyReport(out) };
}

/** What both kinds of failure must leave: a partial report with both workers' numbers. */
function assertPartialWithEverything(report: ReportDocument): void {
  assert.equal(report.partial?.reason, 'worker-failed');
  assert.equal(report.partial?.phase, 'steady');
  // Worker 1's connects come from its interval snapshots: nothing of the ramp is lost.
  assert.equal(report.metrics.counters['connect.ok'], 80);
  assert.ok((report.metrics.counters['messages.received'] ?? 0) > 0);
  assert.equal(report.warnings.filter((w) => w.startsWith('worker failed: worker 1 ')).length, 1);
}

describe('a worker that fails mid-run', () => {
  test('throws: the cause is shown, the other worker stops, partial report, exit 1', async () => {
    const { exit, report } = await runWithFault('throw:1:1500', 'throw');

    assert.equal(exit.code, 1, exit.stderr);
    assert.match(exit.stderr, /worker 1 failed: Error: injected test fault in worker 1 /);
    assert.match(exit.stderr, /stopping the other workers/);
    assert.match(exit.stderr, /fleetbench: the run was cut short: worker 1 failed/);
    assert.match(exit.stdout, /PARTIAL: stopped \(worker-failed\) during steady/);
    assertPartialWithEverything(report);
    // The worker that did not fail stopped cleanly: its devices disconnected.
    assert.ok(report.warnings.every((w) => !/ended at once/.test(w)));
  });

  test('runs out of memory: reported as such, partial report, exit 1', async () => {
    const { exit, report } = await runWithFault('oom:1:1500', 'oom', ['--worker-heap-mb', '64']);

    assert.equal(exit.code, 1, exit.stderr);
    assert.match(exit.stderr, /worker 1 ran out of memory \(ERR_WORKER_OUT_OF_MEMORY/);
    assert.match(exit.stderr, /hint: a worker out of memory needs a larger --worker-heap-mb/);
    assertPartialWithEverything(report);
  });
});

describe('the test fault hook', () => {
  test('acts only on its exact format', () => {
    assert.deepEqual(parseTestFault('oom:1:1500'), { mode: 'oom', workerId: 1, afterMs: 1500 });
    for (const value of [undefined, '', '1', 'throw', 'throw:1', 'crash:1:5', ' throw:1:5']) {
      assert.equal(parseTestFault(value), undefined, String(value));
    }
  });
});
