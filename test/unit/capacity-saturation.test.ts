/**
 * A capacity step's share of saturated time, from a real worker self-monitor: a worker whose
 * loop is blocked for most of the step makes the step `saturated`, whichever of its timers runs
 * first after the block.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { stepSaturation } from '../../src/coordinator/capacity-step.js';
import { HealthTracker } from '../../src/metrics/health.js';
import { SelfMonitor } from '../../src/worker/self-monitor.js';

/** Blocks this thread for `ms` without spinning a core, as the test fault's stall does. */
function stall(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

describe('a capacity step with a stalled worker', () => {
  it('counts a block that ends just before a snapshot as saturated time', async () => {
    const monitor = new SelfMonitor(0);
    const tracker = new HealthTracker();
    try {
      await sleep(60);
      tracker.add(monitor.sample());
      stall(600);
      // The snapshot runs before the delay sampler's next tick (after a long block every timer
      // is due at once): the interval must still hold the block.
      const blocked = monitor.sample();
      tracker.add(blocked);
      await sleep(60);
      const after = monitor.sample();
      tracker.add(after);

      assert.ok(blocked.loopDelayMaxMs >= 500, `block read as ${blocked.loopDelayMaxMs} ms`);
      assert.ok(blocked.loopDelayP99Ms > 50, `p99 ${blocked.loopDelayP99Ms} ms`);
      assert.ok(after.loopDelayMaxMs < blocked.loopDelayMaxMs, 'the block is counted once');
      const health = tracker.summary(null);
      const w = health.workers[0] ?? assert.fail('no worker 0');
      assert.ok((w.saturatedMs ?? 0) >= blocked.intervalMs, `saturated ${w.saturatedMs} ms`);
      assert.match(stepSaturation(health) ?? '', /^the load generator was saturated: worker 0 for/);
    } finally {
      monitor.stop();
    }
  });

  it('does not call a step saturated for a short block', () => {
    const tracker = new HealthTracker();
    const calm = { loopDelayMaxMs: 3, loopUtilization: 0.2, threadCpuCores: 0.2 };
    tracker.add({ workerId: 1, intervalMs: 250, loopDelayP99Ms: 2, ...calm });
    tracker.add({ workerId: 1, intervalMs: 250, loopDelayP99Ms: 80, ...calm });
    tracker.add({ workerId: 1, intervalMs: 250, loopDelayP99Ms: 2, ...calm });
    assert.equal(tracker.summary(null).saturated, true);
    assert.equal(stepSaturation(tracker.summary(null)), null);
  });
});
