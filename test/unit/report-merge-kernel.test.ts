/**
 * Merged reports keep the kernel's TCP counters, per phase and over the run: shards on one host
 * read the same machine's counters (counted once), shards on several hosts are added up.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { KernelTcpCounters, ReportDocument } from '../../src/report/document.js';
import { mergedKernel } from '../../src/report/merge-kernel.js';
import { mergeReports } from '../../src/report/merge-reports.js';
import { sampleReport, sampleSnapshot } from './report-fixture.js';

function counters(listenDrops: number, synRetrans: number, retransSegs = 0): KernelTcpCounters {
  return { listenOverflows: listenDrops, listenDrops, synRetrans, retransSegs };
}

/** Shard `index` of 3 on `hostname`, with kernel counters per phase (`up`, `hold`). */
function shard(
  index: number,
  hostname: string,
  kernel: { up: KernelTcpCounters; hold?: KernelTcpCounters },
): ReportDocument {
  const metrics = sampleSnapshot(30, 300);
  const base = sampleReport({ metrics });
  const phase = (name: string, k: KernelTcpCounters | undefined) => ({
    ...{ name, type: name === 'up' ? 'ramp' : 'hold', startMs: 0, durationMs: 5000, metrics },
    ...(k === undefined ? {} : { kernel: k }),
  });
  const report = sampleReport({
    metrics,
    host: { ...base.host, hostname },
    phases: [phase('up', kernel.up), phase('hold', kernel.hold)],
    kernel: counters(kernel.up.listenDrops + (kernel.hold?.listenDrops ?? 0), 0),
  });
  return {
    ...report,
    run: { id: 'run-k', idSource: 'given', shard: { index, count: 3, devices: 30 } },
  };
}

function merge(reports: ReportDocument[]): ReportDocument {
  return mergeReports(reports.map((report, i) => ({ file: `shard-${i}.json`, report })));
}

describe('merged kernel counters', () => {
  it('counts the counters of one host once, however many shards read them', () => {
    const merged = merge([
      shard(0, 'bench-1', { up: counters(7, 12, 40), hold: counters(0, 1, 5) }),
      shard(1, 'bench-1', { up: counters(7, 13, 38), hold: counters(0, 1, 6) }),
      shard(2, 'bench-1', { up: counters(6, 12, 41), hold: counters(0, 1, 5) }),
    ]);
    // Each counter's largest reading: the shard whose window was widest saw the most.
    assert.deepEqual(
      merged.phases?.map((p) => [p.name, p.kernel]),
      [
        ['up', counters(7, 13, 41)],
        ['hold', counters(0, 1, 6)],
      ],
    );
    assert.deepEqual(merged.kernel, counters(7, 0));
  });

  it('adds up the counters of shards on different hosts', () => {
    const merged = merge([
      shard(0, 'bench-1', { up: counters(7, 12, 40), hold: counters(1, 2, 3) }),
      shard(1, 'bench-2', { up: counters(2, 3, 4), hold: counters(0, 1, 1) }),
      shard(2, 'bench-3', { up: counters(0, 0, 10) }),
    ]);
    assert.deepEqual(
      merged.phases?.map((p) => [p.name, p.kernel]),
      [
        ['up', counters(9, 15, 54)],
        ['hold', counters(1, 3, 4)],
      ],
    );
    assert.deepEqual(merged.kernel, counters(10, 0));
  });

  it('takes the largest reading per host, then adds the hosts', () => {
    const a = { hostname: 'node-a', kernel: counters(4, 4, 4) };
    const a2 = { hostname: 'node-a', kernel: counters(5, 3, 4) };
    const b = { hostname: 'node-b', kernel: counters(1, 1, 1) };
    assert.deepEqual(mergedKernel([a, a2, b]), counters(6, 5, 5));
    assert.deepEqual(
      mergedKernel([a, { hostname: 'node-b', kernel: undefined }]),
      counters(4, 4, 4),
    );
    assert.equal(mergedKernel([{ hostname: 'node-a', kernel: undefined }]), undefined);
  });

  it('leaves a phase no shard read the counters of without them', () => {
    const merged = merge([
      shard(0, 'bench-1', { up: counters(1, 1) }),
      shard(1, 'bench-2', { up: counters(1, 1) }),
      shard(2, 'bench-3', { up: counters(1, 1) }),
    ]);
    assert.equal(merged.phases?.[1]?.name, 'hold');
    assert.equal(merged.phases?.[1]?.kernel, undefined);
    assert.deepEqual(merged.phases?.[0]?.kernel, counters(3, 3));
  });
});
