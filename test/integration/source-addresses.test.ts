/**
 * The source-address pool against Mosquitto 2: devices connect from the pool's addresses in
 * turn (Mosquitto logs each connection's peer), and a loopback run records the kernel's TCP
 * counters in the report.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ephemeralPortRange } from '../../src/client/local-ports.js';
import { mosquittoSuite } from '../helpers/mosquitto-suite.js';
import { counter, runScenario } from '../helpers/run.js';

const DEVICES = 30;

describe('source addresses against Mosquitto 2', async () => {
  const suite = await mosquittoSuite(['log_type notice']);
  const skip = suite.skip;

  test('devices bind to the pool in turn; the kernel counters are recorded', { skip }, async () => {
    const scenario = {
      name: 'pool',
      target: suite.broker.url,
      devices: DEVICES,
      workers: 2,
      connect: { ratePerSec: 300, sourceAddresses: '127.0.0.2-127.0.0.4' },
      traffic: { qos: 1, intervalMs: 500 },
      durationSec: 0.5,
      drainMs: 2000,
    };
    const { report } = await runScenario(scenario, suite.pki.dir);
    assert.equal(counter(report, 'connect.ok'), DEVICES);

    const peers = [...suite.broker.output().matchAll(/New connection from ([\d.]+):\d+/g)];
    const byAddress = new Map<string, number>();
    for (const m of peers) byAddress.set(m[1] ?? '', (byAddress.get(m[1] ?? '') ?? 0) + 1);
    // The target probe connects once from the default address before the fleet.
    byAddress.delete('127.0.0.1');
    assert.deepEqual([...byAddress.entries()].sort(), [
      ['127.0.0.2', 10],
      ['127.0.0.3', 10],
      ['127.0.0.4', 10],
    ]);
    // Each worker binds ports of its own share of the ephemeral range (every 2nd with 2
    // workers, by worker), so a device's port parity follows its worker's, hence its number's:
    // the kernel's own picks would not (30 devices).
    const { low, high } = ephemeralPortRange();
    const clients = [
      ...suite.broker
        .output()
        .matchAll(/New client connected from ([\d.]+):(\d+) as device-(\d+)/g),
    ].filter((m) => m[1] !== '127.0.0.1');
    assert.equal(clients.length, DEVICES);
    const parities = new Set<number>();
    for (const m of clients) {
      const port = Number(m[2]);
      assert.ok(port >= low && port <= high, `port ${port} in the ephemeral range`);
      parities.add((port - low + Number(m[3])) % 2);
    }
    assert.equal(parities.size, 1, "ports follow the workers' shares");
    const kernel = report.kernel ?? assert.fail('no kernel counters in a loopback run');
    for (const v of Object.values(kernel)) assert.ok(Number.isInteger(v) && v >= 0);
  });
});
