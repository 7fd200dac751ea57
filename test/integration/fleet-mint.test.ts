/**
 * Run-time minting (`identity.mint`): the workers sign every device's certificate in memory
 * from the CA key before the start, no file is written, and the broker only trusts the CA.
 * Mosquitto maps each certificate's CN to the username and an ACL lets each device use only
 * its own topics, so a round trip proves the device presented its own certificate: at the
 * first connect, and again after a reconnect storm with `contexts: release`.
 */

import assert from 'node:assert/strict';
import { chmod, readdir, readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';

import { FleetbenchError } from '../../src/errors.js';
import type { ReportDocument } from '../../src/report/document.js';
import { ownTopicFleetSuite } from '../helpers/mosquitto-suite.js';
import { counter, runScenario } from '../helpers/run.js';

const DEVICES = 300;

function phaseCounter(report: ReportDocument, name: string, key: string): number {
  const p = report.phases?.find((ph) => ph.name === name);
  return (p ?? assert.fail(`no phase ${name}`)).metrics.counters[key] ?? 0;
}

describe('minting at run time, against Mosquitto with use_identity_as_username', async () => {
  const fleet = await ownTopicFleetSuite();
  const { skip } = fleet;
  const scenario = (extra: Record<string, unknown> = {}) => ({
    name: 'minted',
    target: fleet.broker.url,
    devices: DEVICES,
    workers: 2,
    identity: {
      ca: fleet.pki.layout.caCert,
      mint: { caKey: fleet.pki.layout.caKey },
      deviceId: 'mint-{i:04}',
    },
    connect: { ratePerSec: 400, maxInFlight: 48 },
    traffic: { topic: 'fleet/{deviceId}/telemetry', qos: 1, intervalMs: 500 },
    durationSec: 1.5,
    drainMs: 2000,
    ...extra,
  });

  test('every minted device connects as itself and its messages come back', { skip }, async () => {
    const { pki } = fleet;
    const filesBefore = await readdir(pki.dir, { recursive: true });
    const { report, reportPath } = await runScenario(scenario(), pki.dir);
    assert.equal(report.partial, null);
    assert.equal(counter(report, 'connect.ok'), DEVICES);
    assert.equal(counter(report, 'subscribe.ok'), DEVICES, 'each may use its own topic only');
    const published = counter(report, 'messages.published');
    assert.ok(published >= DEVICES);
    assert.equal(counter(report, 'messages.received'), published, 'every own round trip');

    // Minting is preparation, reported as such, before the start: not handshake time.
    assert.equal(report.preparation?.minted, DEVICES);
    assert.equal(report.preparation?.contexts, DEVICES);
    assert.ok((report.preparation?.cpuMs ?? 0) > 0);
    assert.equal((report.options.groups as { source: string }[])[0]?.source, 'mint');
    assert.deepEqual(await readdir(pki.dir, { recursive: true }), filesBefore, 'no file written');

    // The CA key's bytes are nowhere in the report; its path is.
    const text = await readFile(reportPath, 'utf8');
    const keyBody = (await readFile(pki.layout.caKey, 'utf8')).split('\n')[1] ?? '';
    assert.ok(keyBody.length > 20);
    assert.ok(!text.includes(keyBody), 'no CA key material in the report');
    assert.doesNotMatch(text, /PRIVATE KEY/);
  });

  test(
    'contexts: release, then a storm: every device reconnects with its own certificate',
    { skip },
    async () => {
      const devices = 120;
      const storm = scenario({
        devices,
        identity: { ...scenario().identity, contexts: 'release' },
        traffic: { topic: 'fleet/{deviceId}/telemetry', qos: 1, intervalMs: 250 },
        reconnect: { initialDelayMs: 100, maxDelayMs: 1000, jitter: 0.5, maxAttempts: 20 },
        phases: [
          { name: 'up', type: 'ramp' },
          { name: 'before', type: 'steady', durationSec: 1 },
          { name: 'outage', type: 'storm', share: 1, maxDurationSec: 20 },
          { name: 'after', type: 'steady', durationSec: 1.5 },
        ],
      });
      const { report } = await runScenario(storm, fleet.pki.dir);
      assert.equal(report.partial, null);
      assert.equal(phaseCounter(report, 'outage', 'storm.dropped'), devices);
      assert.equal(counter(report, 'reconnect.ok'), devices);
      assert.equal(counter(report, 'reconnect.gaveUp'), 0);
      // The ACL lets a device subscribe and receive only under its own CN: each one did so
      // again after the storm, from a secure context rebuilt from its own minted certificate.
      assert.equal(counter(report, 'subscribe.ok'), 2 * devices);
      assert.equal(counter(report, 'subscribe.failed'), 0);
      assert.ok(phaseCounter(report, 'after', 'messages.received') >= devices * 3);
      assert.equal(counter(report, 'messages.unmatched'), 0);
      assert.equal(
        counter(report, 'messages.acked') + counter(report, 'messages.failed'),
        counter(report, 'messages.published'),
      );
    },
  );

  test('a CA key that others can read is refused before anything starts', { skip }, async () => {
    const { pki } = fleet;
    await chmod(pki.layout.caKey, 0o644);
    try {
      await assert.rejects(runScenario(scenario(), pki.dir), (err: unknown) => {
        assert.ok(err instanceof FleetbenchError);
        assert.equal(err.code, 'E_CERTS');
        assert.match(err.message, /identity\.mint\.caKey: .*root_ca\.key .*mode 0644/);
        assert.match(err.hint ?? '', /chmod 600/);
        return true;
      });
    } finally {
      await chmod(pki.layout.caKey, 0o600);
    }
  });
});
