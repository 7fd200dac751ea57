/**
 * The whole path against real brokers on loopback: the embedded one and Mosquitto 2 started
 * with a generated config. A few hundred devices for a few seconds each.
 */

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { SATURATION_LIMITS } from '../../src/metrics/health.js';
import type { ReportDocument } from '../../src/report/document.js';
import { haveMosquitto, startMosquitto, type RunningMosquitto } from '../helpers/mosquitto.js';
import { makeTestPki, type TestPki } from '../helpers/pki.js';
import { counter, histogramCount, runScenario } from '../helpers/run.js';

const DEVICES = 300;
const FOREIGN = 5;

function fleetScenario(pki: TestPki, target?: string): Record<string, unknown> {
  return {
    name: 'integration',
    ...(target ? { target } : {}),
    devices: DEVICES + FOREIGN,
    workers: 2,
    connect: { ratePerSec: 400, maxInFlight: 64 },
    // A loaded CI host can take over 10 s (the default) for a handshake: this test is about
    // counts, not speed.
    mqtt: { connectTimeoutMs: 30_000 },
    traffic: { qos: 1, intervalMs: 500, payloadBytes: 64 },
    durationSec: 2,
    drainMs: 3000,
    groups: [
      { name: 'fleet', devices: DEVICES },
      {
        name: 'foreign',
        devices: FOREIGN,
        expect: 'refuse',
        identity: { ca: pki.layout.caCert, cert: pki.foreign.certFile, key: pki.foreign.keyFile },
      },
    ],
  };
}

/** What every healthy run must show, whatever the broker. */
function assertHealthyRun(report: ReportDocument): void {
  assert.equal(report.partial, null);
  assert.equal(counter(report, 'connect.attempted'), DEVICES + FOREIGN);
  assert.equal(counter(report, 'groups.fleet.connect.ok'), DEVICES);
  assert.equal(counter(report, 'connect.ok'), DEVICES, 'only the foreign devices fail');

  // The foreign devices are refused during the TLS handshake, counted under tls; the run goes on.
  assert.equal(counter(report, 'groups.foreign.connect.failed.tls'), FOREIGN);
  assert.equal(counter(report, 'connect.failed.tls'), FOREIGN);
  assert.ok(report.failures.some((f) => f.category === 'tls' && f.count === FOREIGN));

  // QoS 1 own-topic traffic: everything published came back, and was acknowledged.
  // At least one publish per device on average: on a busy machine devices connect late and
  // the traffic time after the ramp is fixed, so the exact number varies; equality does not.
  const published = counter(report, 'messages.published');
  assert.ok(published >= DEVICES, `published ${published}`);
  assert.equal(counter(report, 'messages.received'), published);
  assert.equal(counter(report, 'messages.acked'), published);

  // Each histogram counts exactly the events it measures.
  const ok = counter(report, 'connect.ok');
  for (const name of ['connect', 'tcp', 'tls', 'connack']) {
    assert.equal(histogramCount(report, name), ok, `${name} histogram count`);
  }
  assert.equal(histogramCount(report, 'suback'), counter(report, 'subscribe.ok'));
  assert.equal(counter(report, 'subscribe.ok'), DEVICES);
  assert.equal(histogramCount(report, 'puback'), counter(report, 'messages.acked'));
  assert.equal(histogramCount(report, 'roundtrip'), counter(report, 'messages.received'));
  assertLoadGeneratorHealth(report);
}

/** Each worker watched itself; the saturation flag and its warning agree. */
function assertLoadGeneratorHealth(report: ReportDocument): void {
  const lg = report.loadGenerator;
  assert.ok(lg, 'report.loadGenerator');
  assert.deepEqual(lg.limits, SATURATION_LIMITS);
  assert.deepEqual(
    lg.workers.map((w) => w.workerId),
    [0, 1],
  );
  for (const w of lg.workers) {
    assert.ok(w.intervals >= 2, `worker ${w.workerId}: ${w.intervals} intervals`);
    assert.ok(w.saturatedIntervals >= 0 && w.saturatedIntervals <= w.intervals);
    assert.ok(w.busyMean > 0 && w.busyMean <= w.busyMax && w.busyMax <= 1, JSON.stringify(w));
    assert.ok(w.loopDelayMaxMs >= w.loopDelayP99MaxMs && w.loopDelayP99MaxMs >= 0);
    assert.equal(w.busySource, process.platform === 'linux' ? 'cpu' : 'loop');
  }
  assert.ok((lg.processCpuCores ?? 0) > 0, `process CPU ${lg.processCpuCores}`);
  const warned = report.warnings.some((w) => w.startsWith('load generator saturated'));
  assert.equal(warned, lg.saturated);
}

describe('a fleet run against the embedded broker', () => {
  let pki: TestPki;
  before(async () => (pki = await makeTestPki()));
  after(async () => pki.cleanup());

  test('every device connects, round trips are exact, the foreign group is refused', async () => {
    const { report, reportPath } = await runScenario(fleetScenario(pki), pki.dir);
    assertHealthyRun(report);
    assert.equal(report.options.embeddedBroker, true);

    // The report on disk is the same document, and it holds no key material.
    const text = await readFile(reportPath, 'utf8');
    assert.deepEqual(JSON.parse(text), report);
    assert.doesNotMatch(text, /PRIVATE KEY/);
  });
});

describe('a fleet run against Mosquitto 2 (require_certificate)', async () => {
  const available = await haveMosquitto();
  let pki: TestPki;
  let broker: RunningMosquitto;
  before(async () => {
    if (!available) return;
    pki = await makeTestPki();
    broker = await startMosquitto({
      caFile: pki.layout.caCert,
      certFile: pki.layout.serverCert,
      keyFile: pki.layout.serverKey,
    });
  });
  after(async () => {
    await broker?.stop();
    await pki?.cleanup();
  });

  test(
    'every device connects, round trips are exact, the foreign group is refused',
    {
      skip: available ? false : 'mosquitto is not installed (.ci/run installs it)',
    },
    async () => {
      const { report } = await runScenario(fleetScenario(pki, broker.url), pki.dir);
      assertHealthyRun(report);
      assert.equal(report.options.embeddedBroker, false);
    },
  );

  test('MQTT 5 works against Mosquitto', { skip: !available }, async () => {
    const scenario = { ...fleetScenario(pki, broker.url), mqtt: { version: 5 } };
    const { report } = await runScenario(scenario, pki.dir);
    assertHealthyRun(report);
  });
});
