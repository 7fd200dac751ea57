import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { benchFigures, median, type BenchResults } from '../../bench/figures.js';
import { parseBenchOptions } from '../../bench/options.js';
import type { ConnectProbeResult } from '../../bench/protocol.js';
import { FleetbenchError } from '../../src/errors.js';

function connect(cpuUs: number, rssKB: number, brokerCpuUs = 1_500_000) {
  const result: ConnectProbeResult = {
    ...{ connected: 1000, failed: 0, firstError: null, wallMs: 5000, cpuUs },
    ...{ rssBeforeBytes: 0, rssHeldBytes: rssKB * 1024 * 1000, heapBeforeBytes: 0 },
    ...{ heapHeldBytes: 0, heapTotalBeforeBytes: 0, heapTotalHeldBytes: 0 },
    ...{ externalBeforeBytes: 0, externalHeldBytes: 0 },
  };
  return { result, brokerCpuUs };
}

describe('bench figures', () => {
  it('take the median over rounds and judge fleetbench against the same run', () => {
    const results: BenchResults = {
      connect: {
        'bare-tls': [connect(2_000_000, 40), connect(2_200_000, 44), connect(9_000_000, 90)],
        fleetbench: [connect(2_100_000, 50), connect(2_300_000, 46), connect(2_200_000, 48)],
      },
      reconnect: {},
      fanout: {},
      roundtrip: {},
    };
    const figures = benchFigures(results);
    const cpu = figures.find((f) => f.id === 'connect.clientCpuMs');
    assert.deepEqual(cpu?.values, { 'bare-tls': 2.2, fleetbench: 2.2 });
    assert.equal(cpu?.ratio, 1);
    assert.equal(cpu?.met, true);
    const rss = figures.find((f) => f.id === 'held.rssKB');
    assert.equal(rss?.values.fleetbench, 48);
    assert.ok(Math.abs((rss?.ratio ?? 0) - 48 / 44) < 1e-9);
    assert.equal(rss?.met, true);
    // 2.2 ms of client CPU against 1.5 ms of Mosquitto's: above the broker's own cost.
    assert.equal(figures.find((f) => f.id === 'connect.clientOverBroker')?.met, false);
    assert.equal(median([3, 1, 2, Number.NaN]), 2);
    assert.equal(median([]), undefined);
  });
});

describe('bench options', () => {
  it('has bounded defaults', () => {
    const o = parseBenchOptions([]);
    assert.equal(o.rounds, 3);
    assert.equal(o.connections, 1500);
    assert.deepEqual(o.clients, ['bare-tls', 'mqttjs', 'fleetbench']);
    assert.equal(o.tlsMax, 'TLSv1.3');
    assert.equal(o.profileDir, null);
  });

  it('reports every bad flag at once', () => {
    assert.throws(
      () => parseBenchOptions(['--connections', '20001', '--clients', 'emqtt', '--tls-max', '1.1']),
      (err: unknown) =>
        err instanceof FleetbenchError &&
        err.code === 'E_USAGE' &&
        err.problems.length === 3 &&
        err.problems.some((p) => p.includes('--connections must be an integer from 1 to 19900')),
    );
    assert.throws(() => parseBenchOptions(['--nope']), /Unknown option '--nope'/);
  });
});
