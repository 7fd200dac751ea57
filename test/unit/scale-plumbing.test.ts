import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  kernelWarning,
  readTcpCounters,
  tcpCountersDelta,
} from '../../src/coordinator/kernel-counters.js';
import { checkPortRange } from '../../src/coordinator/port-preflight.js';
import { FleetbenchError } from '../../src/errors.js';
import { planScenario } from '../../src/scenario/load.js';
import { expandSourceAddresses } from '../../src/scenario/source-addresses.js';

const plan = (scenario: Record<string, unknown>) =>
  planScenario({ name: 's', ...scenario }, { file: null, sha256: null, label: 'inline' });

describe('source-address pool', () => {
  test('a range and a list expand in order', () => {
    assert.deepEqual(expandSourceAddresses('127.0.0.2-127.0.0.5'), {
      addresses: ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'],
    });
    assert.deepEqual(expandSourceAddresses(['127.0.0.9', '127.0.1.254-127.0.2.1', '::1']), {
      addresses: ['127.0.0.9', '127.0.1.254', '127.0.1.255', '127.0.2.0', '127.0.2.1', '::1'],
    });
    const p = plan({ devices: 10, connect: { sourceAddresses: '127.0.0.2-127.0.0.3' } });
    assert.deepEqual(p.sourceAddresses, ['127.0.0.2', '127.0.0.3']);
    assert.deepEqual(plan({ devices: 1 }).sourceAddresses, []);
  });

  test('bad pools are scenario errors naming the setting', () => {
    for (const [value, why] of [
      ['127.0.0.9-127.0.0.2', /ends before it starts/],
      ['localhost', /is not an IP address or a range/],
      ['127.0.0.1-127.0.9.1', /holds more than 256 addresses/],
    ] as const) {
      assert.throws(
        () => plan({ devices: 1, connect: { sourceAddresses: value } }),
        (e: unknown) =>
          e instanceof FleetbenchError &&
          e.problems.some((p) => p.startsWith('connect.sourceAddresses') && why.test(p)),
        value,
      );
    }
  });
});

describe('ephemeral-port preflight', () => {
  const range = { low: 32768, high: 60999 };

  test('a fleet within one address passes; past it, the exact fix is named', () => {
    checkPortRange(plan({ devices: 28_232 }), range);
    assert.throws(
      () => checkPortRange(plan({ devices: 60_000 }), range),
      (e: unknown) =>
        e instanceof FleetbenchError &&
        e.code === 'E_LIMIT' &&
        /60000 devices need 60000 ephemeral ports from one source address/.test(e.message) &&
        /holds 28232/.test(e.message) &&
        /127\.0\.0\.2-127\.0\.0\.4/.test(e.hint ?? '') &&
        /ip_local_port_range='1024 65535'/.test(e.hint ?? ''),
    );
    const pooled = plan({ devices: 60_000, connect: { sourceAddresses: '127.0.0.2-127.0.0.4' } });
    checkPortRange(pooled, range);
    checkPortRange(plan({ devices: 60_000 }), null);
  });
});

describe('kernel TCP counters', () => {
  test('are read from /proc and differenced; SYN drops make a warning', async () => {
    const now = await readTcpCounters();
    assert.ok(now !== null, 'this test runs on Linux');
    for (const v of Object.values(now)) assert.ok(Number.isInteger(v) && v >= 0);
    const later = { ...now, listenDrops: now.listenDrops + 3, synRetrans: now.synRetrans + 2 };
    const delta = tcpCountersDelta(now, later);
    assert.deepEqual(delta, { listenOverflows: 0, listenDrops: 3, synRetrans: 2, retransSegs: 0 });
    assert.match(kernelWarning(delta) ?? '', /dropped 3 SYN\(s\).*retransmitted 2 SYN\(s\)/);
    assert.equal(kernelWarning(tcpCountersDelta(now, now)), null);
  });
});

describe('several targets', () => {
  test('are parsed in order; --target replaces them; bad ones are named', () => {
    const p = plan({ devices: 4, targets: ['mqtts://127.0.0.1:8883', 'mqtts://127.0.0.2:8884'] });
    assert.deepEqual(
      p.targets.map((t) => `${t.host}:${t.port}`),
      ['127.0.0.1:8883', '127.0.0.2:8884'],
    );
    assert.equal(p.target, p.targets[0]);
    const cli = planScenario(
      { name: 's', devices: 4, targets: ['mqtts://a:1', 'mqtts://b:2'] },
      { file: null, sha256: null, label: 'x', overrides: { target: 'mqtts://c:3' } },
    );
    assert.deepEqual(
      cli.targets.map((t) => t.host),
      ['c'],
    );
    assert.throws(
      () =>
        plan({ devices: 4, target: 'mqtts://a:1', targets: ['mqtts://b:2', 'mqtt://c:3', 'x'] }),
      (e: unknown) => {
        const all = e instanceof FleetbenchError ? e.problems.join('\n') : '';
        return (
          /give target or targets, not both/.test(all) &&
          /targets\[2\]: target must be a URL/.test(all) &&
          /targets must all use the same scheme/.test(all)
        );
      },
    );
  });

  test('ports are counted per source address and target', () => {
    const spread = plan({
      devices: 50_000,
      targets: ['mqtts://127.0.0.1:1', 'mqtts://127.0.0.1:2'],
    });
    checkPortRange(spread, { low: 32768, high: 60999 });
  });
});
