/**
 * Negative identities against Mosquitto 2: devices it must refuse (an expired certificate,
 * one from an unknown CA, a revoked one, a client id that is not the certificate's), each
 * counted by the reason the broker gave, and whatever it accepted flagged as a finding.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { initDeviceSet, type DeviceSetResult } from '../../src/fleet/device-set.js';
import { initNegativeSets, type NegativeSetsResult } from '../../src/fleet/negative-sets.js';
import { haveMosquitto, startMosquitto, type RunningMosquitto } from '../helpers/mosquitto.js';
import { makeTestPki, type TestPki } from '../helpers/pki.js';
import { counter, runScenario } from '../helpers/run.js';

const GOOD = 20;
const EACH = 3;

describe('negative identities against Mosquitto 2', async () => {
  const available = await haveMosquitto();
  const skip = available ? false : 'mosquitto is not installed (.ci/run installs it)';
  let pki: TestPki;
  let set: DeviceSetResult;
  let negative: NegativeSetsResult;
  const brokers: RunningMosquitto[] = [];
  before(async () => {
    if (!available) return;
    pki = await makeTestPki();
    set = await initDeviceSet({ dir: pki.dir, devices: GOOD });
    negative = await initNegativeSets({ dir: pki.dir, devices: EACH });
  });
  after(async () => {
    for (const b of brokers) await b.stop();
    await pki?.cleanup();
  });

  async function broker(withCrl: boolean): Promise<RunningMosquitto> {
    const b = await startMosquitto({
      caFile: pki.layout.caCert,
      certFile: pki.layout.serverCert,
      keyFile: pki.layout.serverKey,
      extraConfig: withCrl ? [`crlfile ${negative.crl}`] : [],
    });
    brokers.push(b);
    return b;
  }

  function scenario(target: string) {
    const refuse = (name: keyof NegativeSetsResult['manifests']) => ({
      name,
      devices: EACH,
      expect: 'refuse',
      identity: { manifest: negative.manifests[name] },
    });
    return {
      name: 'negative',
      target,
      devices: GOOD + 4 * EACH,
      workers: 2,
      identity: { manifest: set.manifest },
      connect: { ratePerSec: 200, maxInFlight: 16 },
      traffic: false,
      durationSec: 0.5,
      groups: [
        { name: 'fleet', devices: GOOD },
        refuse('expired'),
        refuse('unknown-ca'),
        refuse('revoked'),
        refuse('mismatch'),
      ],
    };
  }

  test(
    'each is refused for its own reason; the client id mismatch is accepted: a finding',
    { skip },
    async () => {
      const { report } = await runScenario(scenario((await broker(true)).url), pki.dir);
      assert.equal(counter(report, 'groups.fleet.connect.ok'), GOOD);
      const reason = (g: string, r: string) =>
        counter(report, `groups.${g}.connect.refusedBy.${r}`);
      assert.equal(reason('expired', 'certificate-expired'), EACH);
      assert.equal(reason('unknown-ca', 'unknown-ca'), EACH);
      assert.equal(reason('revoked', 'certificate-revoked'), EACH);
      // Stock Mosquitto does not bind the client id to the certificate: it lets these in.
      assert.equal(counter(report, 'groups.mismatch.connect.ok'), EACH);
      assert.deepEqual(
        report.securityFindings?.map((f) => [f.group, f.kind, f.count]),
        [['mismatch', 'connect-accepted', EACH]],
      );
      assert.ok(report.warnings.some((w) => /SECURITY FINDING: .* group mismatch/.test(w)));
    },
  );

  test(
    'a Mosquitto without the CRL lets the revoked devices in: reported as a finding',
    { skip },
    async () => {
      const { report } = await runScenario(scenario((await broker(false)).url), pki.dir);
      assert.equal(counter(report, 'groups.revoked.connect.ok'), EACH);
      assert.equal(counter(report, 'groups.expired.connect.ok'), 0);
      const groups = report.securityFindings?.map((f) => f.group).sort();
      assert.deepEqual(groups, ['mismatch', 'revoked']);
    },
  );
});
