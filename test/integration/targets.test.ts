/**
 * Several targets: a fleet spread over two Mosquitto 2 brokers (as over the nodes of a
 * cluster), device k on broker k mod 2, each broker probed before the run.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startMosquitto, type RunningMosquitto } from '../helpers/mosquitto.js';
import { mosquittoSuite } from '../helpers/mosquitto-suite.js';
import { counter, runScenario } from '../helpers/run.js';

const DEVICES = 30;

describe('a fleet over two Mosquitto 2 brokers', async () => {
  const suite = await mosquittoSuite(['log_type notice']);
  const skip = suite.skip;
  let second: RunningMosquitto | undefined;
  before(async () => {
    if (skip !== false) return;
    const { caCert, serverCert, serverKey } = suite.pki.layout;
    second = await startMosquitto({
      ...{ caFile: caCert, certFile: serverCert, keyFile: serverKey },
      extraConfig: ['log_type notice'],
    });
  });
  after(async () => second?.stop());

  test('devices are spread over both, every round trip exact', { skip }, async () => {
    const other = second ?? assert.fail('second broker not started');
    const scenario = {
      name: 'targets',
      targets: [suite.broker.url, other.url],
      devices: DEVICES,
      workers: 2,
      connect: { ratePerSec: 300 },
      traffic: { qos: 1, intervalMs: 300 },
      durationSec: 1,
      drainMs: 2000,
    };
    const { report } = await runScenario(scenario, suite.pki.dir);
    assert.equal(counter(report, 'connect.ok'), DEVICES);
    assert.equal(counter(report, 'targets.0.connect.ok'), DEVICES / 2);
    assert.equal(counter(report, 'targets.1.connect.ok'), DEVICES / 2);
    assert.equal(counter(report, 'messages.received'), counter(report, 'messages.published'));
    assert.deepEqual(report.options.targets, [suite.broker.url, other.url]);
    // Each broker saw its half of the MQTT clients (the probe before the run stops at TLS).
    for (const broker of [suite.broker, other]) {
      const seen = broker.output().match(/New client connected from/g)?.length ?? 0;
      assert.equal(seen, DEVICES / 2, broker.url);
    }
  });

  test(
    'a target that does not answer stops the run before any device connects',
    { skip },
    async () => {
      const scenario = {
        name: 'targets-bad',
        targets: [suite.broker.url, 'mqtts://127.0.0.1:1'],
        devices: 4,
        durationSec: 0,
      };
      await assert.rejects(runScenario(scenario, suite.pki.dir), /127\.0\.0\.1:1.*ECONNREFUSED/);
    },
  );
});
