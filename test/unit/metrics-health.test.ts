import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { brokerHints } from '../../src/metrics/broker-hints.js';
import {
  HealthTracker,
  SATURATION_LIMITS,
  saturationReasons,
  saturationWarning,
  type WorkerHealth,
} from '../../src/metrics/health.js';
import { MetricsRecorder } from '../../src/metrics/recorder.js';
import { SelfMonitor } from '../../src/worker/self-monitor.js';

function health(over: Partial<WorkerHealth> = {}): WorkerHealth {
  return {
    workerId: 0,
    intervalMs: 1000,
    loopDelayP99Ms: 2,
    loopDelayMaxMs: 5,
    loopUtilization: 0.3,
    threadCpuCores: 0.25,
    ...over,
  };
}

describe('the saturation rule', () => {
  it('passes a worker under both limits', () => {
    assert.deepEqual(saturationReasons(health()), []);
    assert.deepEqual(saturationReasons(health({ loopDelayP99Ms: 50, threadCpuCores: 0.9 })), []);
  });

  it('flags an event-loop delay p99 over the limit', () => {
    const reasons = saturationReasons(health({ loopDelayP99Ms: 50.5 }));
    assert.equal(reasons.length, 1);
    assert.match(reasons[0] ?? '', /event-loop delay p99 50\.5 ms > 50 ms/);
  });

  it('flags thread CPU over the limit, and ignores the loop share when CPU is measured', () => {
    assert.match(saturationReasons(health({ threadCpuCores: 0.97 }))[0] ?? '', /CPU 97% of a core/);
    assert.deepEqual(saturationReasons(health({ loopUtilization: 0.99, threadCpuCores: 0.5 })), []);
  });

  it('falls back to event-loop utilisation where thread CPU is not measured', () => {
    const reasons = saturationReasons(health({ threadCpuCores: null, loopUtilization: 0.95 }));
    assert.match(reasons[0] ?? '', /event loop busy 95% of a core > 90%/);
  });

  it('takes other limits when given', () => {
    const limits = { loopDelayP99Ms: 1, busy: 0.1 };
    assert.equal(saturationReasons(health(), limits).length, 2);
  });
});

describe('HealthTracker', () => {
  it('summarises each worker over the run and warns only when one was saturated', () => {
    const t = new HealthTracker();
    t.add(health({ workerId: 1, threadCpuCores: 0.2, intervalMs: 1000 }));
    t.add(health({ workerId: 0, threadCpuCores: 0.4 }));
    t.add(health({ workerId: 1, threadCpuCores: 0.8, intervalMs: 3000, loopDelayMaxMs: 30 }));
    const calm = t.summary(0.7);
    assert.equal(calm.saturated, false);
    assert.equal(saturationWarning(calm), null);
    assert.deepEqual(calm.limits, SATURATION_LIMITS);
    assert.equal(calm.processCpuCores, 0.7);
    assert.deepEqual(
      calm.workers.map((w) => w.workerId),
      [0, 1],
    );
    const w1 = calm.workers[1];
    assert.equal(w1?.intervals, 2);
    // Time-weighted: (0.2 * 1 s + 0.8 * 3 s) / 4 s.
    assert.ok(Math.abs((w1?.busyMean ?? 0) - 0.65) < 1e-9);
    assert.equal(w1?.busyMax, 0.8);
    assert.equal(w1?.loopDelayMaxMs, 30);
    assert.equal(w1?.busySource, 'cpu');

    t.add(health({ workerId: 1, loopDelayP99Ms: 120 }));
    assert.deepEqual(t.currentSaturation(), ['worker 1: event-loop delay p99 120.0 ms > 50 ms']);
    const hot = t.summary(null);
    assert.equal(hot.saturated, true);
    assert.equal(hot.workers[1]?.saturatedIntervals, 1);
    assert.match(saturationWarning(hot) ?? '', /^load generator saturated: worker 1 in 1 of 3/);
    assert.match(
      saturationWarning(hot) ?? '',
      /waited for a core: the\s+machine is oversubscribed/,
    );
    t.add(health({ workerId: 0, threadCpuCores: 0.99 }));
    assert.match(saturationWarning(t.summary(null)) ?? '', /use more workers or machines/);

    // Only the latest interval counts as "now".
    t.add(health({ workerId: 1 }));
    t.add(health({ workerId: 0 }));
    assert.deepEqual(t.currentSaturation(), []);
    assert.equal(t.summary(null).saturated, true);
  });
});

describe('SelfMonitor', () => {
  it('sees a blocked event loop and the CPU it burned', async () => {
    const monitor = new SelfMonitor(3);
    try {
      await new Promise((resolve) => setTimeout(resolve, 30));
      const blockUntil = Date.now() + 150;
      while (Date.now() < blockUntil) {
        // Block the loop on purpose: the sampler's next tick is 150 ms late.
      }
      await new Promise((resolve) => setTimeout(resolve, 30));
      const h = monitor.sample();
      assert.equal(h.workerId, 3);
      assert.ok(h.loopDelayMaxMs >= 100, `max delay ${h.loopDelayMaxMs} ms`);
      assert.ok(h.loopUtilization > 0.3 && h.loopUtilization <= 1, `elu ${h.loopUtilization}`);
      if (process.platform === 'linux') {
        const cores = h.threadCpuCores ?? 0;
        assert.ok(cores > 0 && cores <= 1, `thread cpu ${h.threadCpuCores}`);
      }
      // A sample right after another is a short interval: its CPU figure stays a share of
      // one core (the last long-enough window's), never ticks divided by a sliver of time.
      const next = monitor.sample();
      assert.ok(next.loopDelayMaxMs < h.loopDelayMaxMs, 'each sample starts a new interval');
      assert.ok((next.threadCpuCores ?? 0) <= 1, `short-interval cpu ${next.threadCpuCores}`);
    } finally {
      monitor.stop();
    }
  });
});

describe('broker hints', () => {
  function snapshotWith(name: 'connack' | 'puback', valueUs: number, count: number) {
    const r = new MetricsRecorder({ startNs: 0n });
    for (let i = 0; i < count; i++) r.record(name, valueUs + i);
    const s = r.total(1n);
    r.destroy();
    return s;
  }

  it('names Nagle when the CONNACK median sits at the delayed-ACK timer', () => {
    const hints = brokerHints(snapshotWith('connack', 41_000, 50));
    assert.equal(hints.length, 1);
    assert.match(hints[0] ?? '', /CONNACK median is 41\.\d ms.*Nagle.*set_tcp_nodelay true/);
  });

  it('names a full listen backlog when a tail of TCP connects waits for SYN retransmits', () => {
    const r = new MetricsRecorder({ startNs: 0n });
    for (let i = 0; i < 980; i++) r.record('tcp', 800 + i);
    for (let i = 0; i < 20; i++) r.record('tcp', 1_010_000 + i * 1000);
    const hints = brokerHints(r.total(1n));
    r.destroy();
    assert.equal(hints.length, 1);
    assert.match(hints[0] ?? '', /1% or more of TCP connects took over 1 s.*listen backlog/);
    assert.deepEqual(brokerHints(snapshotWith('connack', 2_000, 50)), []);
  });

  it('says nothing for fast replies, slow ones, or too few values', () => {
    assert.deepEqual(brokerHints(snapshotWith('connack', 2_000, 50)), []);
    assert.deepEqual(brokerHints(snapshotWith('puback', 200_000, 50)), []);
    assert.deepEqual(brokerHints(snapshotWith('puback', 41_000, 5)), []);
  });
});
